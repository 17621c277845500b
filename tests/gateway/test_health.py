"""Liveness, readiness, and the refusal to serve an unmigrated database."""

from __future__ import annotations

from typing import Any

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import literal, select, text
from sqlalchemy.dialects import sqlite

from gateway.app import create_app
from gateway.archive.service import archive_catalog
from gateway.settings import Settings
from gateway.storage import reads
from gateway.storage.db import make_engine
from gateway.storage.migrate import SchemaNotCurrent
from tests.gateway.test_problems import assert_problem


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_each_condition(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "database": "reachable",
        "migrations": "current",
        "signing_keys": "loaded",
    }


def test_app_refuses_to_start_on_an_unmigrated_database(settings: Settings) -> None:
    app = create_app(settings)
    with pytest.raises(SchemaNotCurrent, match="run `gateway db upgrade` first"), TestClient(app):
        pass


def test_a_process_builds_before_it_serves_what_its_first_requests_would_build(
    migrated: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalog in force, the routes' state and the driver-level statements are built at
    start-up: a request that would build one of them fails here. FastAPI's route state is
    watched where FastAPI builds it (a private name: a release that renames it fails this test
    at ``setattr``, and the warm-up must be checked against it)."""
    app = create_app(migrated.model_copy(update={"prepare_routes": True}))
    archive_catalog.cache_clear()
    made_before = reads.Query(select(literal(1)))  # as each module's queries are, at import
    dialect = make_engine(migrated.resolved_database_url).dialect

    def built_on_a_request(*_: object, **__: object) -> None:
        raise AssertionError("built on a request, not before serving")

    with TestClient(app) as client:
        assert archive_catalog.cache_info().currsize == 1
        monkeypatch.setattr(reads._Compiled, "of", built_on_a_request)
        monkeypatch.setattr(
            fastapi.routing._EffectiveRouteContext, "from_api_route", built_on_a_request
        )
        made_before.compiled(dialect)
        assert client.get("/nowhere").status_code == 404  # matched against every route
        assert client.get("/healthz").status_code == 200


def test_without_prepare_routes_a_route_is_built_on_its_first_request(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``GATEWAY_PREPARE_ROUTES=false`` (the suite's apps): a route's state waits for it."""
    assert app.state.settings.prepare_routes is False
    built = fastapi.routing._EffectiveRouteContext.from_api_route
    calls: list[object] = []

    def counted(**kwargs: Any) -> object:
        calls.append(kwargs["original_route"])
        return built(**kwargs)

    with TestClient(app) as client:
        monkeypatch.setattr(fastapi.routing._EffectiveRouteContext, "from_api_route", counted)
        assert client.get("/healthz").status_code == 200
    assert calls


def test_only_the_queries_written_for_the_dialect_in_use_are_built_before_serving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A query written for one dialect alone (the other's twin is chosen by dialect name) is
    neither compiled nor checked with the other at start-up."""
    for_any = reads.Query(select(literal(1)))
    for_postgresql = reads.Query(text("SELECT CAST(:value AS jsonb)"), "postgresql")
    dialect = sqlite.dialect()
    reads.Query.compile_all(dialect)

    def built_now(*_: object, **__: object) -> None:
        raise AssertionError("built now, not before")

    monkeypatch.setattr(reads._Compiled, "of", built_now)
    for_any.compiled(dialect)
    with pytest.raises(AssertionError, match="built now"):
        for_postgresql.compiled(dialect)


def test_readyz_is_503_when_the_schema_falls_behind(client: TestClient, migrated: Settings) -> None:
    engine = make_engine(migrated.resolved_database_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
    engine.dispose()
    body = assert_problem(client.get("/readyz"), 503)
    assert "migration" in str(body["detail"])


def test_security_headers_on_every_answer(client: TestClient) -> None:
    for response in (client.get("/healthz"), client.get("/nowhere")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert response.headers["cache-control"] == "no-store"
