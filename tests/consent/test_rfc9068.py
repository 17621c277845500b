"""JWT access tokens (RFC 9068): issue, verify, and the refusals."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from consent.clients import Role
from consent.errors import InsufficientScopeError, InvalidTokenError
from consent.keys import KeyRing
from consent.rfc9068 import AccessToken, TokenContext, issue_access_token, verify_access_token
from consent.rfc9396 import AuthorizationDetail
from tests.consent.factories import CONTEXT, NOW, MemoryRevoked, resign_as, tamper

RING = KeyRing.generate()


def issue(ring: KeyRing = RING, context: TokenContext = CONTEXT) -> tuple[str, AccessToken]:
    return issue_access_token(
        ring,
        context,
        client_id="est-bank-001",
        subject="est-bank-001",
        role=Role.ESTABLISHMENT,
        scope=frozenset({"inquiry:authorized"}),
        now=NOW,
        authorization_details=(AuthorizationDetail("cg_1"),),
    )


def check(token: str, ring: KeyRing = RING, revoked: MemoryRevoked | None = None) -> AccessToken:
    return verify_access_token(
        token,
        ring.public_keys(),
        CONTEXT,
        now=NOW + timedelta(seconds=10),
        revoked=revoked or MemoryRevoked(),
    )


def test_issued_token_has_the_rfc_9068_shape_and_verifies() -> None:
    token, issued = issue()
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "typ": "at+jwt", "kid": RING.current_kid}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims) == {
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "jti",
        "client_id",
        "scope",
        "role",
        "authorization_details",
    }
    assert claims["exp"] - claims["iat"] == 300
    assert claims["authorization_details"] == [{"type": "credit_inquiry", "grant_id": "cg_1"}]
    assert check(token) == issued


def test_scope_is_enforced() -> None:
    access = check(issue()[0])
    access.require_scope("inquiry:authorized")
    with pytest.raises(InsufficientScopeError) as refused:
        access.require_scope("audit:read")
    assert refused.value.to_problem()["error"] == "insufficient_scope"


def refused(token: str, ring: KeyRing = RING, revoked: MemoryRevoked | None = None) -> str:
    with pytest.raises(InvalidTokenError) as error:
        check(token, ring, revoked)
    assert error.value.to_problem()["error"] == "invalid_token"
    return error.value.detail


def test_token_for_another_audience_is_refused() -> None:
    token, _ = issue(context=TokenContext(CONTEXT.issuer, "https://other.example/api"))
    assert refused(token) == "token for another audience"


def test_token_from_another_issuer_is_refused() -> None:
    token, _ = issue(context=TokenContext("https://other.example", CONTEXT.resource))
    assert refused(token) == "token from another issuer"


def test_expired_token_is_refused() -> None:
    token, _ = issue()
    with pytest.raises(InvalidTokenError, match="expired"):
        verify_access_token(
            token,
            RING.public_keys(),
            CONTEXT,
            now=NOW + timedelta(seconds=300),
            revoked=MemoryRevoked(),
        )


def test_alg_none_is_refused() -> None:
    assert refused(resign_as(issue()[0], "none", None)) == "signature or algorithm not accepted"


def test_hs256_with_the_public_key_as_secret_is_refused() -> None:
    public = RING.current.public_key()
    for secret in (
        public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(Encoding.Raw, PublicFormat.Raw),
    ):
        assert (
            refused(resign_as(issue()[0], "HS256", secret)) == "signature or algorithm not accepted"
        )


def test_tampered_token_is_refused() -> None:
    forged = tamper(issue()[0], scope="audit:read inquiry:authorized")
    assert refused(forged) == "signature or algorithm not accepted"


def test_wrong_typ_is_refused() -> None:
    claims = jwt.decode(issue()[0], options={"verify_signature": False})
    for typ in ("JWT", "consent+jwt", None):
        headers = {"kid": RING.current_kid, "typ": typ}
        token = jwt.encode(claims, RING.current, algorithm="EdDSA", headers=headers)
        assert refused(token) == "wrong token type"


def test_media_type_form_of_typ_is_accepted() -> None:
    claims = jwt.decode(issue()[0], options={"verify_signature": False})
    headers = {"kid": RING.current_kid, "typ": "application/AT+JWT"}
    token = jwt.encode(claims, RING.current, algorithm="EdDSA", headers=headers)
    assert check(token).client_id == "est-bank-001"


def test_unknown_key_is_refused() -> None:
    other = KeyRing.generate()
    assert refused(issue(other)[0]) == "unknown signing key"


def test_revoked_token_is_refused() -> None:
    token, access = issue()
    revoked = MemoryRevoked()
    revoked.revoke(access.jti, access.expires_at)
    assert refused(token, revoked=revoked) == "token revoked"


def test_tokens_of_a_retired_key_verify_after_rotation() -> None:
    token, _ = issue()
    rotated = RING.rotate(Ed25519PrivateKey.generate(), NOW)
    assert check(token, rotated).client_id == "est-bank-001"
    pruned = rotated.prune(NOW + timedelta(seconds=301), keep_for=timedelta(seconds=300))
    assert refused(token, pruned) == "unknown signing key"


def test_unknown_role_is_refused() -> None:
    claims = jwt.decode(issue()[0], options={"verify_signature": False})
    claims["role"] = "superuser"
    headers = {"kid": RING.current_kid, "typ": "at+jwt"}
    assert (
        refused(jwt.encode(claims, RING.current, algorithm="EdDSA", headers=headers))
        == "unknown role"
    )
