"""Portal sessions and CSRF tokens as values: sealing, expiry, type separation, comparison."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.responses import Response

from consent.clients import SCOPES_BY_ROLE, Role
from consent.errors import InvalidTokenError
from consent.keys import KeyRing
from consent.rfc9068 import TokenContext, issue_access_token, verify_access_token
from gateway.portal.csrf import CsrfRejected, check_csrf
from gateway.portal.sessions import (
    MAX_LIFETIME,
    PortalSession,
    seal,
    set_session_cookie,
    unseal,
)
from tests.consent.factories import MemoryRevoked

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
IDLE = timedelta(minutes=30)
CONTEXT = TokenContext(issuer="https://gateway.example", resource="https://gateway.example/v1")


@pytest.fixture(scope="module")
def keyring() -> KeyRing:
    return KeyRing.generate()


def test_a_sealed_session_opens_to_the_same_session(keyring: KeyRing) -> None:
    session = PortalSession.start(NOW, IDLE, account_id="c0ffee")
    assert unseal(seal(session, keyring), keyring.public_keys()) == session
    anonymous = PortalSession.start(NOW, IDLE)
    assert unseal(seal(anonymous, keyring), keyring.public_keys()).account_id is None


def test_every_session_has_its_own_id_and_csrf_token() -> None:
    first, second = PortalSession.start(NOW, IDLE), PortalSession.start(NOW, IDLE)
    assert first.sid != second.sid and first.csrf != second.csrf
    assert len(first.csrf) >= 40


def test_a_tampered_or_foreign_cookie_is_refused(keyring: KeyRing) -> None:
    token = seal(PortalSession.start(NOW, IDLE, account_id="c0ffee"), keyring)
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload[:-2]}AA.{signature}"
    other = KeyRing.generate()
    for bad in (forged, seal(PortalSession.start(NOW, IDLE), other), "", "not.a.token"):
        with pytest.raises(InvalidTokenError):
            unseal(bad, keyring.public_keys())


def test_a_session_is_never_an_access_token_nor_the_reverse(keyring: KeyRing) -> None:
    session_token = seal(PortalSession.start(NOW, IDLE, account_id="c0ffee"), keyring)
    with pytest.raises(InvalidTokenError, match="wrong token type"):
        verify_access_token(
            session_token, keyring.public_keys(), CONTEXT, now=NOW, revoked=MemoryRevoked()
        )
    access_token, _ = issue_access_token(
        keyring,
        CONTEXT,
        client_id="c0ffee",
        subject="c0ffee",
        role=Role.CITIZEN,
        scope=SCOPES_BY_ROLE[Role.CITIZEN],
        now=NOW,
    )
    with pytest.raises(InvalidTokenError, match="wrong token type"):
        unseal(access_token, keyring.public_keys())


def test_activity_moves_the_idle_deadline_but_never_past_the_maximum_lifetime() -> None:
    session = PortalSession.start(NOW, IDLE)
    assert session.idle_until == NOW + IDLE
    assert not session.expired(NOW + IDLE - timedelta(seconds=1))
    assert session.expired(NOW + IDLE)
    later = NOW + timedelta(minutes=20)
    assert session.touched(later, IDLE).idle_until == later + IDLE
    near_the_end = NOW + MAX_LIFETIME - timedelta(minutes=5)
    assert session.touched(near_the_end, IDLE).idle_until == NOW + MAX_LIFETIME


def test_the_cookie_is_http_only_strict_and_secure_over_https(keyring: KeyRing) -> None:
    session = PortalSession.start(NOW, IDLE)
    for secure in (False, True):
        response = Response()
        set_session_cookie(response, session, keyring, secure=secure)
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/portal" in cookie
        assert ("Secure" in cookie) is secure


def test_csrf_tokens_must_match_the_session() -> None:
    session = PortalSession.start(NOW, IDLE)
    check_csrf(session, session.csrf)
    for submitted in ("", "x", PortalSession.start(NOW, IDLE).csrf, session.csrf + "x"):
        with pytest.raises(CsrfRejected):
            check_csrf(session, submitted)
