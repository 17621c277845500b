"""JWT access tokens (RFC 9068): header ``typ`` ``at+jwt`` (section 2.1), EdDSA over Ed25519
with the ``kid`` of the issuing key ring; claims ``iss``, ``sub``, ``aud`` (the gateway's
resource identifier), ``exp``, ``iat``, ``jti``, ``client_id``, ``scope`` (section 2.2), plus
``role``, for establishments RFC 9396 ``authorization_details``, for a token bound to a
DPoP key ``cnf.jkt`` (RFC 9449 section 6.1), and for a natural person acting for a legal person
or unincorporated organization ``acting_for``, the entity's account id (``sub`` stays the
person who acts). Tokens live :data:`ACCESS_TOKEN_LIFETIME`.

Validation (section 4) is :func:`verify_access_token`: known key, EdDSA only, ``typ``
exactly ``at+jwt``, issuer and audience exact, not expired, not revoked (RFC 7009). Every
failure is ``invalid_token``; scope checks raise ``insufficient_scope``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from consent.clients import Role
from consent.errors import InsufficientScopeError, InvalidTokenError
from consent.jws import Claims, from_timestamp, sign, timestamp, verify
from consent.keys import KeyRing, PublicKeys
from consent.rfc9396 import AuthorizationDetail, details_from_claims
from consent.stores import RevokedTokens

AT_TYP = "at+jwt"
ACCESS_TOKEN_LIFETIME = timedelta(seconds=300)


@dataclass(frozen=True)
class AccessToken:
    """The verified claims of an access token."""

    issuer: str
    subject: str
    audience: str
    client_id: str
    role: Role
    scope: frozenset[str]
    jti: str
    issued_at: datetime
    expires_at: datetime
    authorization_details: tuple[AuthorizationDetail, ...] = ()
    confirmation: str | None = None
    """The RFC 7638 thumbprint of the DPoP key the token is bound to (``cnf.jkt``)."""
    acting_for: str | None = None

    @property
    def named_grants(self) -> frozenset[str] | None:
        """The grants its RFC 9396 ``authorization_details`` limit it to; None: it names none
        (its scope covers every grant of its client)."""
        return frozenset(detail.grant_id for detail in self.authorization_details) or None

    def claims(self) -> dict[str, object]:
        """The JWT claims set (also the active introspection response's members)."""
        claims: dict[str, object] = {
            "iss": self.issuer,
            "sub": self.subject,
            "aud": self.audience,
            "exp": timestamp(self.expires_at),
            "iat": timestamp(self.issued_at),
            "jti": self.jti,
            "client_id": self.client_id,
            "scope": " ".join(sorted(self.scope)),
            "role": self.role.value,
        }
        if self.authorization_details:
            claims["authorization_details"] = [d.as_json() for d in self.authorization_details]
        if self.confirmation is not None:
            claims["cnf"] = {"jkt": self.confirmation}
        if self.acting_for is not None:
            claims["acting_for"] = self.acting_for
        return claims

    def require_scope(self, scope: str) -> None:
        if scope not in self.scope:
            raise InsufficientScopeError(f"the token lacks the scope {scope}")


@dataclass(frozen=True)
class TokenContext:
    """The issuer identifier and the resource identifier (``aud``) tokens are bound to."""

    issuer: str
    resource: str


def issue_access_token(
    keyring: KeyRing,
    context: TokenContext,
    *,
    client_id: str,
    subject: str,
    role: Role,
    scope: frozenset[str],
    now: datetime,
    authorization_details: tuple[AuthorizationDetail, ...] = (),
    confirmation: str | None = None,
    acting_for: str | None = None,
) -> tuple[str, AccessToken]:
    """Sign a new access token; returns the compact JWS and its claims."""
    token = AccessToken(
        issuer=context.issuer,
        subject=subject,
        audience=context.resource,
        client_id=client_id,
        role=role,
        scope=scope,
        jti=secrets.token_urlsafe(16),
        issued_at=now,
        expires_at=now + ACCESS_TOKEN_LIFETIME,
        authorization_details=authorization_details,
        confirmation=confirmation,
        acting_for=acting_for,
    )
    return sign(keyring, AT_TYP, token.claims()), token


def verify_access_token(
    token: str,
    keys: PublicKeys,
    context: TokenContext,
    *,
    now: datetime,
    revoked: RevokedTokens,
) -> AccessToken:
    """The verified access token; raises ``InvalidTokenError`` for anything else."""
    claims = verify(token, keys, AT_TYP, InvalidTokenError)
    if claims.text("iss") != context.issuer:
        raise InvalidTokenError("token from another issuer")
    if claims.single_audience() != context.resource:
        raise InvalidTokenError("token for another audience")
    claims.require_current(now)
    access = _from_claims(claims)
    if revoked.is_revoked(access.jti, access.client_id):
        raise InvalidTokenError("token revoked")
    return access


def _from_claims(claims: Claims) -> AccessToken:
    try:
        role = Role(claims.text("role"))
    except ValueError as exc:
        raise InvalidTokenError("unknown role") from exc
    return AccessToken(
        issuer=claims.text("iss"),
        subject=claims.text("sub"),
        audience=claims.single_audience(),
        client_id=claims.text("client_id"),
        role=role,
        scope=frozenset(claims.text("scope").split()),
        jti=claims.text("jti"),
        issued_at=from_timestamp(claims.integer("iat")),
        expires_at=from_timestamp(claims.integer("exp")),
        authorization_details=details_from_claims(claims),
        confirmation=_confirmation(claims),
        acting_for=claims.optional_text("acting_for"),
    )


def _confirmation(claims: Claims) -> str | None:
    confirmation = claims.optional_object("cnf")
    return None if confirmation is None else confirmation.text("jkt")
