"""Rotating the signing key: new tokens use the new key, old tokens and grants keep verifying."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.keys import GRANT_LIFE, Document, load_keys, rotate_signing_key
from gateway.settings import Settings
from tests.gateway.factories import access_token, assertion_form, demo_credentials


@pytest.fixture
def credentials(migrated: Settings) -> dict[str, Any]:
    return demo_credentials(migrated)


def _kid(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


def test_tokens_signed_before_a_rotation_still_verify(
    migrated: Settings, credentials: dict[str, Any]
) -> None:
    bank = credentials["establishment"]
    with TestClient(create_app(migrated)) as before:
        old_token = access_token(before, bank)
    old_kid, new_kid = rotate_signing_key(migrated, datetime.now(UTC))
    assert _kid(old_token) == old_kid != new_kid
    with TestClient(create_app(migrated)) as after:
        kids = {key["kid"] for key in after.get("/oauth/jwks").json()["keys"]}
        assert kids == {old_kid, new_kid}
        assert _kid(access_token(after, bank)) == new_kid
        introspection = after.post(
            "/oauth/introspect",
            data={"token": old_token, **assertion_form(bank)},
        ).json()
        assert introspection["active"] is True


def test_retired_keys_are_dropped_after_their_keep_period(migrated: Settings) -> None:
    long_ago = datetime.now(UTC) - GRANT_LIFE - timedelta(days=1)
    old_kid, _ = rotate_signing_key(migrated, long_ago)
    recent_kid, current_kid = rotate_signing_key(migrated, datetime.now(UTC))
    rings = load_keys(migrated).signing_rings()
    kept = rings.verifying(Document.CONSENT_ARTEFACT, datetime.now(UTC), frozenset())
    assert set(kept) == {current_kid, recent_kid}
    assert old_kid in rings.known()  # still on file, no longer verifying
    retired = json.loads((migrated.resolved_keys_dir / "retired-signing-keys.json").read_text())
    assert len(retired) == 2
    assert (
        oct((migrated.resolved_keys_dir / "retired-signing-keys.json").stat().st_mode)[-3:] == "600"
    )
