"""Verified access tokens are remembered by their exact bytes, and served from memory only while
current (RFC 9068 section 4): an expired one is verified in full again, which refuses it. The
revocation and the withdrawal of the signing key, by its remembered id, are read on every
request (``test_endpoints``, ``test_key_rings``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from consent.clients import Role
from consent.rfc9068 import ACCESS_TOKEN_LIFETIME, AccessToken
from gateway.oauth.service import VerifiedTokens

NOW = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
INSTANT = timedelta(microseconds=1)


def _access(jti: str) -> AccessToken:
    return AccessToken(
        issuer="http://gateway.test",
        subject="bank",
        audience="http://gateway.test/v1",
        client_id="bank",
        role=Role.ESTABLISHMENT,
        scope=frozenset({"inquiry:authorized"}),
        jti=jti,
        issued_at=NOW,
        expires_at=NOW + ACCESS_TOKEN_LIFETIME,
    )


def test_a_remembered_token_is_current_only_within_its_lifetime() -> None:
    tokens, access = VerifiedTokens(), _access("a")
    tokens.remember("token a", access, "kid-a")
    assert tokens.current("token a", NOW) == (access, "kid-a")
    assert tokens.current("token a", access.expires_at - INSTANT) == (access, "kid-a")
    assert tokens.current("token a", access.expires_at) is None
    assert tokens.current("token a", NOW - INSTANT) is None
    assert tokens.current("token b", NOW) is None


def test_the_least_recently_used_token_is_forgotten_first() -> None:
    tokens = VerifiedTokens(size=2)
    tokens.remember("a", _access("a"), "kid")
    tokens.remember("b", _access("b"), "kid")
    assert tokens.current("a", NOW) is not None
    tokens.remember("c", _access("c"), "kid")
    assert [tokens.current(t, NOW) is not None for t in ("a", "b", "c")] == [True, False, True]
