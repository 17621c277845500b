"""DPoP-bound access tokens (RFC 9449, FAPI 2.0), driven by an independent joserfc client
against the app on both stores, with the replay cache in the database or in Redis, and
against a live server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gateway.app import create_app
from gateway.cli import app as cli_app
from gateway.settings import Settings
from tests.gateway.factories import (
    ASSERTION_TYPE,
    access_token,
    assertion_form,
    demo_credentials,
)
from tests.jose_dpop import DPoPClient, proof
from tests.live import free_port, serve
from tests.services import redis_url

PATH = "/v1/consents/cg_no_such_grant"
ALGORITHMS = ["EdDSA", "ES256", "PS256"]


@pytest.fixture
def credentials(migrated: Settings) -> dict[str, Any]:
    return demo_credentials(migrated)


@pytest.fixture
def client(migrated: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(migrated), base_url=migrated.base_url) as test_client:
        yield test_client


def _dpop(client: TestClient, migrated: Settings, persona: dict[str, Any]) -> DPoPClient:
    return DPoPClient(client, migrated.base_url, persona, "ES256")


def _challenge(response: httpx.Response) -> str:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.headers["WWW-Authenticate"]


def test_the_metadata_names_the_proof_algorithms(client: TestClient) -> None:
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["dpop_signing_alg_values_supported"] == ALGORITHMS


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_a_proof_at_the_token_endpoint_binds_the_token_to_its_key(
    client: TestClient, migrated: Settings, credentials: dict[str, Any], alg: str
) -> None:
    bank = DPoPClient(client, migrated.base_url, credentials["establishment"], alg)
    first = bank.token_response()
    assert bank.nonce is not None  # the first proof, without nonce, was answered use_dpop_nonce
    assert first.status_code == 200, first.text
    token = first.json()["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["cnf"] == {
        "jkt": bank.key.thumbprint()
    }
    introspection = client.post(
        "/oauth/introspect", data={"token": token, **assertion_form(credentials["establishment"])}
    ).json()
    assert (introspection["token_type"], introspection["cnf"]) == (
        "DPoP",
        {"jkt": bank.key.thumbprint()},
    )
    assert bank.get(PATH, token).status_code == 404  # accepted: the grant is not found


def test_the_server_asks_for_its_nonce_per_rfc_9449(
    client: TestClient, migrated: Settings, credentials: dict[str, Any]
) -> None:
    bank = _dpop(client, migrated, credentials["establishment"])
    at_token_endpoint = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", **assertion_form(credentials["establishment"])},
        headers={"DPoP": proof(bank.key, "POST", f"{migrated.base_url}/oauth/token")},
    )
    assert at_token_endpoint.status_code == 400
    assert at_token_endpoint.json()["error"] == "use_dpop_nonce"
    bank.nonce = at_token_endpoint.headers["DPoP-Nonce"]
    token = bank.token()
    bank.nonce = None
    refused = client.get(PATH, headers=bank.headers("GET", PATH, token))
    assert _challenge(refused).startswith('DPoP error="use_dpop_nonce"')
    assert refused.json()["error"] == "use_dpop_nonce"
    bank.nonce = refused.headers["DPoP-Nonce"]
    assert client.get(PATH, headers=bank.headers("GET", PATH, token)).status_code == 404


def test_every_proof_rule_is_enforced_at_a_resource(
    client: TestClient, migrated: Settings, credentials: dict[str, Any]
) -> None:
    bank = _dpop(client, migrated, credentials["establishment"])
    token = bank.token()
    other = _dpop(client, migrated, credentials["establishment"])
    other.nonce = bank.nonce
    stale = int(time.time()) - 120
    two = [bank.headers("GET", PATH, token)["DPoP"] for _ in range(2)]
    cases: dict[str, list[tuple[str, str]]] = {
        "wrong htm": list(bank.headers("POST", PATH, token).items()),
        "wrong htu": list(bank.headers("GET", "/v1/consents/cg_other", token).items()),
        "stale iat": list(bank.headers("GET", PATH, token, iat=stale).items()),
        "wrong ath": list(bank.headers("GET", PATH, token, ath="x" * 43).items()),
        "wrong key": list(other.headers("GET", PATH, token).items()),
        "missing proof": [("Authorization", f"DPoP {token}")],
        "two proofs": [("Authorization", f"DPoP {token}"), ("DPoP", two[0]), ("DPoP", two[1])],
    }
    for case, headers in cases.items():
        response = client.get(PATH, headers=headers)
        challenge = _challenge(response)
        assert challenge.startswith('DPoP error="invalid_dpop_proof"'), case
        assert 'algs="EdDSA ES256 PS256"' in challenge, case
        assert response.json()["error"] == "invalid_dpop_proof", case


def test_a_proof_is_accepted_once(
    client: TestClient, migrated: Settings, credentials: dict[str, Any]
) -> None:
    bank = _dpop(client, migrated, credentials["establishment"])
    token = bank.token()
    headers = bank.headers("GET", PATH, token)
    assert client.get(PATH, headers=headers).status_code == 404
    replayed = client.get(PATH, headers=headers)
    assert _challenge(replayed).startswith('DPoP error="invalid_dpop_proof"')
    assert "already used" in replayed.json()["detail"]


def test_a_bound_token_is_no_bearer_token_and_a_bearer_token_no_dpop_one(
    client: TestClient, migrated: Settings, credentials: dict[str, Any]
) -> None:
    bank = _dpop(client, migrated, credentials["establishment"])
    bound = bank.token()
    as_bearer = client.get(PATH, headers={"Authorization": f"Bearer {bound}"})
    assert _challenge(as_bearer).startswith('DPoP error="invalid_token"')
    bearer = access_token(client, credentials["establishment"])
    assert client.get(PATH, headers={"Authorization": f"Bearer {bearer}"}).status_code == 404
    as_dpop = client.get(PATH, headers=bank.headers("GET", PATH, bearer))
    assert _challenge(as_dpop).startswith('DPoP error="invalid_token"')


def test_a_client_registered_for_dpop_gets_no_bearer_token(
    client: TestClient, migrated: Settings, credentials: dict[str, Any]
) -> None:
    persona = credentials["establishment_dpop"]
    form = {"grant_type": "client_credentials", **assertion_form(persona)}
    refused = client.post("/oauth/token", data=form)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_dpop_proof"
    finance = _dpop(client, migrated, persona)
    assert finance.get(PATH, finance.token()).status_code == 404


@pytest.mark.parametrize("replay_cache", ["database", "redis"])
@pytest.mark.redis
def test_a_proof_spent_on_one_process_is_refused_by_another(
    migrated: Settings, credentials: dict[str, Any], replay_cache: str
) -> None:
    settings = migrated
    if replay_cache == "redis":
        settings = migrated.model_copy(update={"redis_url": redis_url()})
    with ExitStack() as stack:
        first, second = (
            stack.enter_context(TestClient(create_app(settings), base_url=settings.base_url))
            for _ in range(2)
        )
        bank = DPoPClient(first, settings.base_url, credentials["establishment"], "EdDSA")
        token = bank.token()
        headers = bank.headers("GET", PATH, token)
        assert first.get(PATH, headers=headers).status_code == 404
        assert second.get(PATH, headers=bank.headers("GET", PATH, token)).status_code == 404
        replayed = second.get(PATH, headers=headers)
        assert _challenge(replayed).startswith('DPoP error="invalid_dpop_proof"')


def test_a_live_server_serves_an_independent_dpop_client(migrated: Settings) -> None:
    port = free_port()
    live = migrated.model_copy(update={"base_url": f"http://127.0.0.1:{port}"})
    credentials = demo_credentials(live)
    with serve(create_app(live), port=port) as base, httpx.Client(base_url=base) as http:
        finance = DPoPClient(http, base, credentials["establishment_dpop"], "PS256")
        token = finance.token()
        assert finance.get(PATH, token).status_code == 404
        headers = finance.headers("GET", PATH, token)
        assert http.get(PATH, headers=headers).status_code == 404
        replayed = http.get(PATH, headers=headers)
        assert replayed.status_code == 401
        assert replayed.headers["WWW-Authenticate"].startswith('DPoP error="invalid_dpop_proof"')


def test_the_proofs_of_gateway_dpop_proof_carry_the_curl_walkthrough(
    client: TestClient, migrated: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's DPoP walkthrough, with ``gateway dpop-proof`` signing every proof."""
    demo_credentials(migrated)
    monkeypatch.setenv("GATEWAY_VAR_DIR", str(migrated.var_dir))
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(cli_app, list(args))
        assert result.exit_code == 0, result.output
        return result.stdout.strip()

    endpoint = f"{migrated.base_url}/oauth/token"
    asked = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"DPoP": cli("dpop-proof", "POST", endpoint)},
    )
    assert asked.json()["error"] == "use_dpop_nonce"
    nonce = asked.headers["DPoP-Nonce"]
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": cli("assertion", "establishment_dpop"),
    }
    issued = client.post(
        "/oauth/token",
        data=form,
        headers={"DPoP": cli("dpop-proof", "POST", endpoint, "--nonce", nonce)},
    )
    assert issued.json()["token_type"] == "DPoP", issued.text
    token = issued.json()["access_token"]
    url = f"{migrated.base_url}{PATH}"
    proof_header = cli("dpop-proof", "GET", url, "--token", token, "--nonce", nonce)
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof_header}
    assert client.get(PATH, headers=headers).status_code == 404
    assert client.get(PATH, headers=headers).status_code == 401
