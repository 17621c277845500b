"""Fixtures shared by every area: both storage backends from one fixture, the app, a client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.app import create_app
from gateway.settings import Settings
from gateway.storage import migrate
from tests.services import postgres_schema

BACKENDS = ["sqlite", "postgresql"]

# The suite's many in-process apps on SQLite write their logs in a thread: a writer process each
# would cost a second of start-up per app. The served gateways of the proof runs (bench.harness,
# which sets every GATEWAY_ variable itself) and tests/gateway/audit/test_writer.py write through
# one. On PostgreSQL the apps write the batches their event loop awaits on that loop, as served
# gateways do (the settings fixture): it costs no start-up.
os.environ["GATEWAY_AUDIT_WRITER"] = "thread"
# And build each route's state on its first request: built for all of them at start-up, every
# app of the suite paid 0.3 s for routes it never served (tests/gateway/test_health.py builds).
os.environ["GATEWAY_PREPARE_ROUTES"] = "false"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each storage-touching test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    writer = "process" if database_url.startswith("postgresql") else "thread"
    return Settings(
        var_dir=tmp_path / "var", database_url=database_url, audit_writer=writer, _env_file=None
    )


@pytest.fixture
def migrated(settings: Settings) -> Settings:
    migrate.upgrade(settings.resolved_database_url)
    return settings


@pytest.fixture
def app(migrated: Settings) -> FastAPI:
    return create_app(migrated)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


_SPANS = InMemorySpanExporter()


def pytest_configure(config: pytest.Config) -> None:
    """Spans go to memory so tests can read what a request traced."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_SPANS))
    trace.set_tracer_provider(provider)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    _SPANS.clear()
    yield _SPANS
