"""Rate limits: per client or IP, 429 as problem+json with Retry-After, shared through Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from gateway.storage import migrate
from tests.gateway.factories import access_token, demo_credentials
from tests.gateway.test_problems import assert_problem
from tests.services import redis_url

PROBE = "/.well-known/oauth-authorization-server"


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    settings = Settings(
        var_dir=tmp_path / "var",
        database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
        rate_limit_default="3/minute",
        _env_file=None,
    )
    migrate.upgrade(settings.resolved_database_url)
    return settings


def _clients(settings: Settings, count: int) -> Iterator[TestClient]:
    for _ in range(count):
        yield TestClient(create_app(settings))


def test_the_fourth_call_in_a_minute_is_refused_with_retry_after(sqlite_settings: Settings) -> None:
    with TestClient(create_app(sqlite_settings)) as client:
        assert [client.get(PROBE).status_code for _ in range(3)] == [200, 200, 200]
        response = client.get(PROBE)
    body = assert_problem(response, 429)
    assert "3 per 1 minute" in str(body["detail"])
    assert body["type"] == "https://gateway.example/problems/rate-limited"
    assert 1 <= int(response.headers["retry-after"]) <= 60


def test_in_memory_limits_are_per_process(sqlite_settings: Settings) -> None:
    first, second = _clients(sqlite_settings, 2)
    with first, second:
        assert [first.get(PROBE).status_code for _ in range(3)] == [200] * 3
        assert second.get(PROBE).status_code == 200


@pytest.mark.redis
def test_redis_shares_one_budget_between_gateway_processes(sqlite_settings: Settings) -> None:
    shared = sqlite_settings.model_copy(update={"redis_url": redis_url()})
    first, second = _clients(shared, 2)
    with first, second:
        codes = [client.get(PROBE).status_code for client in (first, second, first, second)]
    assert codes == [200, 200, 200, 429]


def test_authenticated_calls_are_counted_per_client(sqlite_settings: Settings) -> None:
    credentials = demo_credentials(sqlite_settings)
    with TestClient(create_app(sqlite_settings)) as client:
        bank = access_token(client, credentials["establishment"])
        regulator = access_token(client, credentials["regulator"])
        as_bank = {"authorization": f"Bearer {bank}"}
        codes = [client.get(PROBE, headers=as_bank).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        as_regulator = {"authorization": f"Bearer {regulator}"}
        assert client.get(PROBE, headers=as_regulator).status_code == 200


def test_an_unreachable_limit_store_refuses_rather_than_waves_through(
    sqlite_settings: Settings,
) -> None:
    unreachable = sqlite_settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    with TestClient(create_app(unreachable)) as client:
        body = assert_problem(client.get(PROBE), 503)
    assert body["detail"] == "the rate-limit store is unreachable"


def test_health_probes_are_never_limited(sqlite_settings: Settings) -> None:
    unreachable = sqlite_settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    with TestClient(create_app(unreachable)) as client:
        assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5
