"""Rate limits: per client or IP, 429 as problem+json with Retry-After, shared through Redis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from bench.harness import Province
from gateway.app import create_app
from gateway.cli import proxy_options
from gateway.settings import Settings
from gateway.storage import migrate
from tests.gateway.factories import access_token, demo_credentials
from tests.gateway.portal.factories import csrf_token
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


# -- the client's address, and the sign-in budget per account --------------------------------

SIGN_IN = "/v1/me/token"


def _attempts(url: str, usernames: list[str]) -> list[int]:
    """One failed sign-in per username, each claiming another client address."""
    return [
        httpx.post(
            f"{url}{SIGN_IN}",
            data={"username": username, "password": "wrong"},
            headers={"x-forwarded-for": f"203.0.113.{number}"},
        ).status_code
        for number, username in enumerate(usernames, start=1)
    ]


@pytest.mark.parametrize("trusted", [[], ["127.0.0.1"]], ids=["no proxy", "loopback proxy"])
def test_gateway_serve_reads_forwarded_for_only_from_a_trusted_proxy(
    tmp_path: Path, database_url: str, trusted: list[str]
) -> None:
    """uvicorn trusts X-Forwarded-For from any loopback peer by default: a client behind no
    proxy would pick the address its budget is counted under."""
    seeded = Province.create(
        tmp_path / "province",
        database_url=database_url,
        rate_limit_sign_in="2/minute",
        scheduler_enabled="false",
    )
    # The variable as an operator sets it: a JSON list in the serving process's environment.
    province = replace(seeded, values={**seeded.values, "trusted_proxies": json.dumps(trusted)})
    with province.gateway() as gateway:
        codes = _attempts(gateway.url, ["nobody-1", "nobody-2", "nobody-3"])
    assert codes == ([400, 400, 400] if trusted else [400, 400, 429])


def test_serve_passes_the_trusted_proxies_to_uvicorn() -> None:
    none = proxy_options(Settings(_env_file=None))
    assert none == {"proxy_headers": False, "forwarded_allow_ips": []}
    some = proxy_options(Settings(trusted_proxies=["10.0.0.7", "10.1.0.0/16"], _env_file=None))
    assert some == {"proxy_headers": True, "forwarded_allow_ips": ["10.0.0.7/32", "10.1.0.0/16"]}


def test_a_trusted_proxy_must_be_an_address_or_a_network() -> None:
    for value in (["*"], ["proxy.internal"]):
        with pytest.raises(ValidationError):
            Settings(trusted_proxies=value, _env_file=None)


def test_one_account_has_one_sign_in_budget_over_every_address_api_and_portal(
    migrated: Settings,
) -> None:
    """Guessing one citizen's password from many addresses, through the API and the portal,
    spends one budget."""
    settings = migrated.model_copy(
        update={"rate_limit_sign_in": "3/minute", "trusted_proxies": ["192.0.2.1/32"]}
    )
    username = demo_credentials(settings)["citizen"]["username"]
    with TestClient(create_app(settings), client=("192.0.2.1", 40000)) as client:

        def api(address: str) -> int:
            form = {"username": username, "password": "wrong"}
            headers = {"x-forwarded-for": address}
            status: int = client.post(SIGN_IN, data=form, headers=headers).status_code
            return status

        def portal(address: str) -> int:
            headers = {"x-forwarded-for": address}
            page = client.get("/portal/sign-in", headers=headers).text
            csrf = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            form = {"csrf_token": csrf, "username": username, "password": "wrong"}
            status: int = client.post("/portal/session", data=form, headers=headers).status_code
            return status

        codes = [api("203.0.113.1"), portal("203.0.113.2"), api("203.0.113.3")]
        assert codes == [400, 400, 400]
        assert api("203.0.113.4") == 429
        assert portal("203.0.113.5") == 429
        other = {"username": "someone-else", "password": "wrong"}
        headers = {"x-forwarded-for": "203.0.113.6"}
        assert client.post(SIGN_IN, data=other, headers=headers).status_code == 400


def test_an_officer_has_a_sign_in_budget_of_its_own_over_every_address(
    migrated: Settings,
) -> None:
    """Guessing an officer's password or code from many addresses is bounded; the console's
    budget is not the citizens' (their sign-in still answers)."""
    settings = migrated.model_copy(
        update={"rate_limit_sign_in": "3/minute", "trusted_proxies": ["192.0.2.1/32"]}
    )
    credentials = demo_credentials(settings)
    officer = credentials["regulator_officer"]["username"]
    with TestClient(create_app(settings), client=("192.0.2.1", 40000)) as client:

        def console(address: str) -> int:
            headers = {"x-forwarded-for": address}
            page = client.get("/oversight/sign-in", headers=headers).text
            form = {"csrf_token": csrf_token(page), "username": officer, "password": "wrong"}
            form["code"] = "123456"
            status: int = client.post("/oversight/session", data=form, headers=headers).status_code
            return status

        assert [console(f"203.0.113.{n}") for n in range(1, 5)] == [400, 400, 400, 429]
        citizen = {"username": credentials["citizen"]["username"], "password": "wrong"}
        headers = {"x-forwarded-for": "203.0.113.9"}
        assert client.post(SIGN_IN, data=citizen, headers=headers).status_code == 400
