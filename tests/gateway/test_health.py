"""Liveness, readiness, and the refusal to serve an unmigrated database."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from gateway.app import create_app
from gateway.settings import Settings
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
