"""OpenTelemetry traces and metrics.

Every request gets a server span named after its route template (never the raw path, which may
hold an identifier), continuing the caller's trace when the request carries a W3C Trace Context
``traceparent`` (and ``tracestate``); the inquiry path opens child spans for the policy decision,
the archive read, redaction and the audit append. Metrics: inquiries by channel and outcome,
audit append latency, checkpoint lag. The exporter is chosen by settings: none, console or
OTLP/HTTP. No span attribute or log line carries personal data.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.settings import Exporter, Settings


class QuietableTracer:
    """The gateway's tracer: the installed provider's, except while nothing records spans
    (no exporter configured: :func:`install` samples none) - then a span costs nothing, no
    context switched, no ids drawn, no sampling decided, on the hot path of every inquiry."""

    def __init__(self) -> None:
        self.quiet = False
        self._tracer = trace.get_tracer("gateway")

    def start_as_current_span(
        self, name: str, **options: Any
    ) -> AbstractContextManager[trace.Span]:
        if self.quiet:
            return _NO_SPAN
        return self._tracer.start_as_current_span(name, **options)


_NO_SPAN = nullcontext(trace.INVALID_SPAN)
tracer = QuietableTracer()
meter = metrics.get_meter("gateway")

INQUIRIES = meter.create_counter(
    "gateway.inquiries", unit="{inquiry}", description="Inquiries by channel and outcome"
)
AUDIT_APPEND_DURATION = meter.create_histogram(
    "gateway.audit.append.duration", unit="s", description="Time until an audit entry is durable"
)
CHECKPOINT_LAG = meter.create_gauge(
    "gateway.audit.checkpoint.lag",
    unit="{entry}",
    description="Log entries not yet covered by a signed checkpoint",
)


UNAUTHENTICATED = "unauthenticated"
"""The outcome of an inquiry refused for its caller's credentials (401: not registered)."""


def count_inquiry(channel: str, outcome: str) -> None:
    """One inquiry through ``channel`` (Art. 39) ended with ``outcome``."""
    INQUIRIES.add(1, {"inquiry.channel": channel, "inquiry.outcome": outcome})


# Span names of the inquiry path, one constant each so traces stay comparable.
SPAN_POLICY = "policy.decide"
SPAN_ARCHIVE = "archive.read"
SPAN_REDACTION = "redaction.apply"
SPAN_AUDIT = "audit.append"


def _exporters(settings: Settings) -> tuple[SpanExporter | None, MetricExporter | None]:
    if settings.otel_exporter is Exporter.console:
        return ConsoleSpanExporter(), ConsoleMetricExporter()
    if settings.otel_exporter is Exporter.otlp:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_endpoint
        return (
            OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces" if endpoint else None),
            OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics" if endpoint else None),
        )
    return None, None


def build_providers(settings: Settings) -> tuple[TracerProvider, MeterProvider | None]:
    """The tracer provider, and the meter provider when an exporter reads the metrics (None:
    the API's own instruments stay no-ops, free on the hot path)."""
    resource = Resource.create({"service.name": "credit-consent-gateway"})
    span_exporter, metric_exporter = _exporters(settings)
    if span_exporter is None:
        # Nothing would read the spans: none is recorded (the tracer is quiet, see install).
        tracer_provider = TracerProvider(resource=resource, sampler=ALWAYS_OFF)
    else:
        tracer_provider = TracerProvider(resource=resource)
        tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))
    if metric_exporter is None:
        return tracer_provider, None
    reader = PeriodicExportingMetricReader(metric_exporter)
    return tracer_provider, MeterProvider(resource=resource, metric_readers=[reader])


def install(settings: Settings) -> None:
    """Install the process-wide providers once; later calls (a second app) keep the first."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    tracer_provider, meter_provider = build_providers(settings)
    tracer.quiet = tracer_provider.sampler is ALWAYS_OFF
    trace.set_tracer_provider(tracer_provider)
    if meter_provider is not None:
        metrics.set_meter_provider(meter_provider)


TRACE_CONTEXT = TraceContextTextMapPropagator()
TRACE_HEADERS = ("traceparent", "tracestate")


class TelemetryMiddleware:
    """A server span per HTTP request, named by method and route template, child of the
    caller's span when it sent one (W3C Trace Context); none while the tracer is quiet."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or tracer.quiet:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        status = 500
        headers = Headers(scope=scope)
        carrier = {name: headers[name] for name in TRACE_HEADERS if name in headers}
        with tracer.start_as_current_span(
            f"HTTP {method}",
            context=TRACE_CONTEXT.extract(carrier) if carrier else None,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method},
        ) as span:

            async def send_with_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            started = time.perf_counter()
            try:
                await self.app(scope, receive, send_with_status)
            finally:
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                span.set_attribute("gateway.duration_ms", (time.perf_counter() - started) * 1000)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
