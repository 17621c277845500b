"""Small factories for gateway tests: the seeded demo province and client assertions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from fastapi.testclient import TestClient

from consent.clients import SCOPES_BY_ROLE, Role
from consent.rfc9068 import AccessToken
from gateway import demo
from gateway.settings import Settings

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_ENDPOINT = "http://127.0.0.1:8000/oauth/token"


def demo_credentials(settings: Settings) -> dict[str, Any]:
    demo.seed_demo(settings)
    credentials: dict[str, Any] = json.loads(
        (settings.var_dir / "demo" / "credentials.json").read_text()
    )
    return credentials


def client_assertion(persona: dict[str, Any], **overrides: object) -> str:
    """A private_key_jwt assertion signed with the persona's demo key; claims overridable."""
    if not overrides:
        return demo.client_assertion(persona, TOKEN_ENDPOINT)
    claims = {
        **jwt.decode(
            demo.client_assertion(persona, TOKEN_ENDPOINT), options={"verify_signature": False}
        ),
        **overrides,
    }
    key = jwt.PyJWK(persona["private_jwk"], algorithm="EdDSA")
    return jwt.encode(claims, key.key, algorithm="EdDSA", headers={"kid": key.key_id})


def assertion_form(persona: dict[str, Any], **overrides: object) -> dict[str, str]:
    return {
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(persona, **overrides),
    }


def access_token(
    client: TestClient,
    persona: dict[str, Any],
    scope: str | None = None,
    authorization_details: str | None = None,
) -> str:
    form = {"grant_type": "client_credentials", **assertion_form(persona)}
    if scope is not None:
        form["scope"] = scope
    if authorization_details is not None:
        form["authorization_details"] = authorization_details
    response = client.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def citizen_caller(account_id: str, acting_for: str | None = None) -> AccessToken:
    """The claims of a citizen's access token for ``account_id`` (acting for an entity when
    ``acting_for`` names one), for calling the services directly."""
    now = datetime.now(UTC)
    return AccessToken(
        issuer="http://127.0.0.1:8000",
        subject=account_id,
        audience="http://127.0.0.1:8000/v1",
        client_id=account_id,
        role=Role.CITIZEN,
        scope=SCOPES_BY_ROLE[Role.CITIZEN],
        jti="test",
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
        acting_for=acting_for,
    )
