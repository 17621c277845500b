"""Traces name routes by template and carry no personal data; exporters follow settings."""

from __future__ import annotations

from fastapi.testclient import TestClient
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind

from gateway.settings import Exporter, Settings
from gateway.telemetry import build_providers, tracer

PERSON = "11010519491231002X"


def test_every_request_gets_a_server_span_named_by_route(
    client: TestClient, spans: InMemorySpanExporter
) -> None:
    client.get("/healthz")
    client.get(f"/v1/public/credit-subjects/{PERSON}")
    client.get(f"/v9/lookup/{PERSON}")
    every = spans.get_finished_spans()
    finished = {span.name: span for span in every if span.kind is SpanKind.SERVER}
    assert set(finished) == {
        "GET /healthz",
        "GET /v1/public/credit-subjects/{identifier}",
        "GET unmatched",
    }
    health = finished["GET /healthz"]
    assert health.attributes is not None
    assert health.attributes["http.route"] == "/healthz"
    assert health.attributes["http.response.status_code"] == 200
    unmatched = finished["GET unmatched"]
    assert unmatched.attributes is not None
    assert unmatched.attributes["http.response.status_code"] == 404
    for span in every:
        assert PERSON not in span.to_json()


def _exporters(provider: TracerProvider) -> list[object]:
    processors = provider._active_span_processor._span_processors
    return [p.span_exporter for p in processors if isinstance(p, BatchSpanProcessor)]


def test_exporter_is_chosen_by_settings() -> None:
    none, no_meters = build_providers(Settings(otel_exporter=Exporter.none, _env_file=None))
    console, meters = build_providers(Settings(otel_exporter=Exporter.console, _env_file=None))
    assert _exporters(none) == []
    assert no_meters is None  # nothing reads them: the API's instruments stay no-ops
    assert meters is not None
    assert none.sampler is ALWAYS_OFF  # nothing reads them: no span is recorded
    assert console.sampler is not ALWAYS_OFF
    assert [type(e) for e in _exporters(console)] == [ConsoleSpanExporter]
    otlp, _ = build_providers(
        Settings(otel_exporter=Exporter.otlp, otel_endpoint="http://127.0.0.1:4318", _env_file=None)
    )
    (exporter,) = _exporters(otlp)
    assert isinstance(exporter, OTLPSpanExporter)
    assert exporter._endpoint == "http://127.0.0.1:4318/v1/traces"


def test_the_server_span_continues_the_callers_trace(
    client: TestClient, spans: InMemorySpanExporter
) -> None:
    """W3C Trace Context: the caller's trace id, and its span as the parent."""
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    client.get("/healthz", headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
    (server,) = [span for span in spans.get_finished_spans() if span.kind is SpanKind.SERVER]
    assert format(server.context.trace_id, "032x") == trace_id
    assert server.parent is not None
    assert format(server.parent.span_id, "016x") == parent_id


def test_a_malformed_traceparent_starts_a_trace_of_its_own(
    client: TestClient, spans: InMemorySpanExporter
) -> None:
    client.get("/healthz", headers={"traceparent": "00-not-a-trace-01"})
    (server,) = [span for span in spans.get_finished_spans() if span.kind is SpanKind.SERVER]
    assert server.parent is None
    assert server.context.trace_id != 0


def test_a_quiet_tracer_records_no_span_and_the_requests_are_answered(
    client: TestClient, spans: InMemorySpanExporter
) -> None:
    """Quiet (no exporter: nothing would read a span), the gateway opens none - neither the
    server span nor the inquiry path's - and serves as before; loud again, it records."""
    tracer.quiet = True
    try:
        with tracer.start_as_current_span("anything") as span:
            assert not span.is_recording()
        assert client.get("/healthz").status_code == 200
        assert client.get(f"/v1/public/credit-subjects/{PERSON}").status_code == 200
        assert spans.get_finished_spans() == ()
    finally:
        tracer.quiet = False
    client.get("/healthz")
    assert [span.name for span in spans.get_finished_spans()] == ["GET /healthz"]
