"""Key rings per kind of document, and the withdrawal of a compromised key.

A retired signing key verifies each kind of document only within that kind's window: access
tokens for their lifetime, portal sessions for a session's longest life, while artefacts and
receipts keep their key in the JWKS. A withdrawn key verifies nothing, on every process
sharing the database - tokens a process verified before included.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from consent.keys import KeyRing, key_id
from gateway.app import create_app
from gateway.cli import app as cli
from gateway.demo import CITIZEN_USERNAME
from gateway.keys import GRANT_LIFE, load_keys, rotate_signing_key
from gateway.parties.repository import citizen_by_username
from gateway.portal.sessions import SESSION_COOKIE, PortalSession, seal
from gateway.settings import Settings
from gateway.storage.db import make_engine, unit_of_work
from tests.gateway.factories import access_token, assertion_form, demo_credentials

UNKNOWN_GRANT = "/v1/consents/cg_no_such_grant"


@pytest.fixture
def credentials(migrated: Settings) -> dict[str, Any]:
    return demo_credentials(migrated)


def _forged(token: str, key: Ed25519PrivateKey) -> str:
    """``token``'s claims, freshly dated, signed with ``key``: what a thief of ``key`` mints."""
    claims = jwt.decode(token, options={"verify_signature": False})
    now = int(datetime.now(UTC).timestamp())
    claims |= {"iat": now, "exp": now + 300, "jti": f"forged-{now}"}
    headers = {"typ": "at+jwt", "kid": key_id(key.public_key())}
    return jwt.encode(claims, key, algorithm="EdDSA", headers=headers)


def _call(client: TestClient, token: str) -> int:
    """The status of an establishment's call: 404 (the token passed) or 401."""
    status: int = client.get(
        UNKNOWN_GRANT, headers={"Authorization": f"Bearer {token}"}
    ).status_code
    return status


def _retire_current(settings: Settings, ago: timedelta) -> Ed25519PrivateKey:
    """Rotate as if ``ago`` in the past; the retired private key (a thief's copy)."""
    retired = load_keys(settings).signing
    rotate_signing_key(settings, datetime.now(UTC) - ago)
    return retired


def _citizen_id(settings: Settings) -> str:
    engine = make_engine(settings.resolved_database_url)
    with unit_of_work(engine) as session:
        citizen = citizen_by_username(session, CITIZEN_USERNAME)
        assert citizen is not None
        citizen_id = citizen.id
    engine.dispose()
    return citizen_id


def _portal(client: TestClient, key: Ed25519PrivateKey, citizen_id: str) -> int:
    """The status of the citizen's consents page with a session cookie signed by ``key``."""
    session = PortalSession.start(datetime.now(UTC), timedelta(minutes=30), citizen_id)
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, seal(session, KeyRing(key)), path="/portal")
    status: int = client.get("/portal/consents", follow_redirects=False).status_code
    return status


def _kids(client: TestClient) -> set[str]:
    return {key["kid"] for key in client.get("/oauth/jwks").json()["keys"]}


def test_a_retired_key_verifies_access_tokens_only_for_their_lifetime(
    migrated: Settings, credentials: dict[str, Any]
) -> None:
    bank = credentials["establishment"]
    recent = _retire_current(migrated, timedelta(minutes=1))
    older = _retire_current(migrated, timedelta(minutes=6))
    with TestClient(create_app(migrated)) as client:
        genuine = access_token(client, bank)
        assert _call(client, _forged(genuine, recent)) == 404  # within five minutes
        stale = _forged(genuine, older)
        assert _call(client, stale) == 401
        introspection = client.post(
            "/oauth/introspect", data={"token": stale, **assertion_form(bank)}
        )
        assert introspection.json() == {"active": False}
        # Third parties still verify the grants and receipts that key signed.
        assert key_id(older.public_key()) in _kids(client)


def test_a_retired_key_verifies_portal_sessions_only_for_their_longest_life(
    migrated: Settings, credentials: dict[str, Any]
) -> None:
    del credentials  # the demo citizen is seeded
    citizen_id = _citizen_id(migrated)
    recent = _retire_current(migrated, timedelta(hours=1))
    older = _retire_current(migrated, timedelta(hours=9))
    with TestClient(create_app(migrated)) as client:
        assert _portal(client, recent, citizen_id) == 200
        assert _portal(client, older, citizen_id) == 303  # to the sign-in page


def test_the_jwks_drops_a_retired_key_after_a_grants_longest_life(migrated: Settings) -> None:
    gone = _retire_current(migrated, GRANT_LIFE + timedelta(days=1))
    kept = _retire_current(migrated, GRANT_LIFE - timedelta(days=1))
    with TestClient(create_app(migrated)) as client:
        kids = _kids(client)
    assert key_id(kept.public_key()) in kids
    assert key_id(gone.public_key()) not in kids


@pytest.fixture
def two_processes(migrated: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    """Two gateway apps on one database and one key directory, both started."""
    with ExitStack() as stack:
        first = stack.enter_context(TestClient(create_app(migrated)))
        second = stack.enter_context(TestClient(create_app(migrated)))
        yield first, second


def test_a_withdrawn_key_verifies_nothing_on_any_process(
    migrated: Settings,
    credentials: dict[str, Any],
    two_processes: tuple[TestClient, TestClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = two_processes
    token = access_token(first, credentials["establishment"])
    assert (_call(first, token), _call(second, token)) == (404, 404)  # both remember it now
    kid = jwt.get_unverified_header(token)["kid"]
    assert kid in _kids(second)
    compromised, citizen_id = load_keys(migrated).signing, _citizen_id(migrated)
    assert _portal(second, compromised, citizen_id) == 200

    monkeypatch.setenv("GATEWAY_VAR_DIR", str(migrated.var_dir))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", migrated.resolved_database_url)
    result = CliRunner().invoke(cli, ["keys", "withdraw", "--", kid])
    assert result.exit_code == 0, result.output
    assert "new signing key" in result.output  # the current key was replaced first

    assert (_call(first, token), _call(second, token)) == (401, 401)
    assert kid not in _kids(first) | _kids(second)
    assert _portal(second, compromised, citizen_id) == 303
    with TestClient(create_app(migrated)) as restarted:
        fresh = access_token(restarted, credentials["establishment"])
        assert jwt.get_unverified_header(fresh)["kid"] != kid
        assert (_call(restarted, fresh), _call(restarted, token)) == (404, 401)
        # A process not yet restarted knows only the withdrawn key: it fails closed.
        assert _call(second, fresh) == 401


def test_a_retired_key_can_be_withdrawn_and_an_unknown_one_cannot(
    migrated: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    retired = _retire_current(migrated, timedelta(days=3))
    monkeypatch.setenv("GATEWAY_VAR_DIR", str(migrated.var_dir))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", migrated.resolved_database_url)
    with TestClient(create_app(migrated)) as client:
        assert key_id(retired.public_key()) in _kids(client)
        result = CliRunner().invoke(cli, ["keys", "withdraw", "--", key_id(retired.public_key())])
        assert result.exit_code == 0, result.output
        assert "new signing key" not in result.output
        assert key_id(retired.public_key()) not in _kids(client)
    unknown = CliRunner().invoke(cli, ["keys", "withdraw", "no-such-kid"])
    assert unknown.exit_code == 2
    assert "no current or retired signing key" in unknown.stderr
