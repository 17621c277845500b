"""The authorization server over HTTP, with the demo credentials, on both backends."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.auth import EstablishmentCaller, RegulatorCaller
from gateway.settings import Settings
from tests.gateway.factories import (
    ASSERTION_TYPE,
    access_token,
    assertion_form,
    client_assertion,
    demo_credentials,
)
from tests.gateway.test_problems import assert_problem

ROLES = ("establishment", "agency", "provider", "regulator")


@pytest.fixture
def credentials(migrated: Settings) -> dict[str, Any]:
    return demo_credentials(migrated)


@pytest.fixture
def probe(app: FastAPI) -> FastAPI:
    """Two routes guarded by the typed role dependencies the real routes use."""

    @app.get("/probe/establishment")
    def for_establishments(caller: EstablishmentCaller) -> dict[str, str]:
        return {"client_id": caller.client_id}

    @app.get("/probe/regulator")
    def for_regulators(caller: RegulatorCaller) -> dict[str, str]:
        return {"client_id": caller.client_id}

    return app


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=="))
    return decoded


def test_metadata_names_the_endpoints(client: TestClient) -> None:
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["issuer"] == "http://127.0.0.1:8000"
    assert metadata["token_endpoint"] == "http://127.0.0.1:8000/oauth/token"
    assert metadata["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert "none" not in metadata["token_endpoint_auth_signing_alg_values_supported"]


@pytest.mark.parametrize("role", ROLES)
def test_every_demo_persona_gets_a_verifiable_token(
    client: TestClient, credentials: dict[str, Any], role: str
) -> None:
    token = access_token(client, credentials[role])
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt" and header["alg"] == "EdDSA"
    jwks = client.get("/oauth/jwks").json()
    (key,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert "d" not in key
    claims = jwt.decode(
        token,
        jwt.PyJWK(key, algorithm="EdDSA").key,
        algorithms=["EdDSA"],
        audience="http://127.0.0.1:8000/v1",
    )
    assert claims["client_id"] == credentials[role]["client_id"]
    assert claims["role"] == role


def test_an_assertion_is_accepted_once(client: TestClient, credentials: dict[str, Any]) -> None:
    form = {"grant_type": "client_credentials", **assertion_form(credentials["establishment"])}
    assert client.post("/oauth/token", data=form).status_code == 200
    body = assert_problem(client.post("/oauth/token", data=form), 401)
    assert body["error"] == "invalid_client"


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "http://elsewhere.example/oauth/token"},
        {"exp": 4102444800},  # far beyond five minutes
        {"iss": "someone-else"},
    ],
    ids=["audience", "lifetime", "issuer"],
)
def test_bad_assertions_are_refused(
    client: TestClient, credentials: dict[str, Any], overrides: dict[str, object]
) -> None:
    form = {
        "grant_type": "client_credentials",
        **assertion_form(credentials["agency"], **overrides),
    }
    assert assert_problem(client.post("/oauth/token", data=form), 401)["error"] == (
        "invalid_client"
    )


def test_an_unsigned_assertion_is_refused(client: TestClient, credentials: dict[str, Any]) -> None:
    signed = client_assertion(credentials["provider"])
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    unsigned = f"{header}.{signed.split('.')[1]}."
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": unsigned,
    }
    assert_problem(client.post("/oauth/token", data=form), 401)


def test_scopes_are_limited_to_the_role(client: TestClient, credentials: dict[str, Any]) -> None:
    token = access_token(client, credentials["regulator"], scope="audit:read inquiry:authorized")
    assert _claims(token)["scope"] == "audit:read"
    form = {
        "grant_type": "client_credentials",
        "scope": "inquiry:authorized",
        **assertion_form(credentials["regulator"]),
    }
    assert assert_problem(client.post("/oauth/token", data=form), 400)["error"] == "invalid_scope"


def test_only_client_credentials_is_supported(
    client: TestClient, credentials: dict[str, Any]
) -> None:
    form = {"grant_type": "password", **assertion_form(credentials["establishment"])}
    body = assert_problem(client.post("/oauth/token", data=form), 400)
    assert body["error"] == "unsupported_grant_type"


def test_introspection_and_revocation(client: TestClient, credentials: dict[str, Any]) -> None:
    bank, agency = credentials["establishment"], credentials["agency"]
    token = access_token(client, bank)
    active = client.post("/oauth/introspect", data={"token": token, **assertion_form(bank)}).json()
    assert active["active"] is True and active["client_id"] == bank["client_id"]
    foreign = client.post("/oauth/introspect", data={"token": token, **assertion_form(agency)})
    assert foreign.json() == {"active": False}
    revoked = client.post("/oauth/revoke", data={"token": token, **assertion_form(bank)})
    assert revoked.status_code == 200
    after = client.post("/oauth/introspect", data={"token": token, **assertion_form(bank)})
    assert after.json() == {"active": False}


def test_role_dependencies_admit_one_role(
    probe: FastAPI, migrated: Settings, credentials: dict[str, Any]
) -> None:
    with TestClient(probe) as client:
        bank = access_token(client, credentials["establishment"])
        regulator = access_token(client, credentials["regulator"])
        ok = client.get("/probe/establishment", headers={"authorization": f"Bearer {bank}"})
        assert ok.json() == {"client_id": credentials["establishment"]["client_id"]}
        wrong_role = client.get(
            "/probe/establishment", headers={"authorization": f"Bearer {regulator}"}
        )
        assert assert_problem(wrong_role, 403)["error"] == "insufficient_scope"
        missing = client.get("/probe/regulator")
        assert assert_problem(missing, 401)["error"] == "invalid_token"
        assert missing.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        forged = bank[:-4] + ("AAAA" if not bank.endswith("AAAA") else "BBBB")
        bad = client.get("/probe/establishment", headers={"authorization": f"Bearer {forged}"})
        assert assert_problem(bad, 401)["error"] == "invalid_token"


def test_revoked_token_is_refused_on_the_next_request(
    probe: FastAPI, credentials: dict[str, Any]
) -> None:
    bank = credentials["establishment"]
    with TestClient(probe) as client:
        token = access_token(client, bank)
        headers = {"authorization": f"Bearer {token}"}
        assert client.get("/probe/establishment", headers=headers).status_code == 200
        client.post("/oauth/revoke", data={"token": token, **assertion_form(bank)})
        assert_problem(client.get("/probe/establishment", headers=headers), 401)


def test_a_client_assertion_is_no_access_token(probe: FastAPI, credentials: dict[str, Any]) -> None:
    assertion = client_assertion(credentials["establishment"])
    with TestClient(probe) as client:
        response = client.get(
            "/probe/establishment", headers={"authorization": f"Bearer {assertion}"}
        )
    assert assert_problem(response, 401)["error"] == "invalid_token"


def test_an_unknown_client_and_a_wrong_key_get_the_same_answer(
    client: TestClient, credentials: dict[str, Any]
) -> None:
    """The token endpoint tells nobody which client ids are registered."""
    bank, agency = credentials["establishment"], credentials["agency"]
    signed_by_agency = {**agency, "client_id": bank["client_id"]}  # the bank's id, a wrong key
    unknown = {**agency, "client_id": "no-such-client"}
    answers = []
    for persona in (signed_by_agency, unknown):
        form = {"grant_type": "client_credentials", **assertion_form(persona)}
        response = client.post("/oauth/token", data=form)
        answers.append(
            (
                response.status_code,
                response.headers.get("www-authenticate"),
                response.json(),
            )
        )
    assert answers[0] == answers[1]
    assert answers[0][2]["error"] == "invalid_client"


def test_revoking_another_clients_token_says_nothing_and_changes_nothing(
    client: TestClient, credentials: dict[str, Any]
) -> None:
    """RFC 7009 would refuse it with unauthorized_client - which tells the token is live."""
    bank, agency = credentials["establishment"], credentials["agency"]
    token = access_token(client, bank)
    foreign = client.post("/oauth/revoke", data={"token": token, **assertion_form(agency)})
    garbage = client.post("/oauth/revoke", data={"token": "x.y.z", **assertion_form(agency)})
    assert (foreign.status_code, foreign.content) == (garbage.status_code, garbage.content)
    assert foreign.status_code == 200
    still = client.post("/oauth/introspect", data={"token": token, **assertion_form(bank)})
    assert still.json()["active"] is True
