"""The authorization server's operations, composed from the pure ``consent`` RFC modules.

A bearer token is verified in full (RFC 9068 section 4) the first time this process sees it;
its signature, issuer, audience and claims never change, so later requests with the same
token only check what does: that it is still current and that it is not revoked - the
revocation is read on every request, never cached (RFC 7009: refused from the next request on).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from consent import rfc7009, rfc7523, rfc7662, rfc8414
from consent.clients import RegisteredClient
from consent.errors import InvalidTokenError
from consent.keys import KeyRing
from consent.rfc6749 import TokenRequest, token_response
from consent.rfc7523 import ClientAssertion
from consent.rfc9068 import AccessToken, TokenContext, verify_access_token
from gateway.consents.repository import SqlGrantStore
from gateway.oauth.repository import SqlClientDirectory, SqlJtiStore, SqlRevokedTokens

VERIFIED_TOKENS = 4096
"""How many verified access tokens a process remembers (the least recently used go first)."""


class VerifiedTokens:
    """Access tokens this process verified in full, by their exact compact serialization."""

    def __init__(self, size: int = VERIFIED_TOKENS) -> None:
        self._size = size
        self._tokens: OrderedDict[str, AccessToken] = OrderedDict()
        self._lock = threading.Lock()

    def current(self, token: str, now: datetime) -> AccessToken | None:
        """The verified token if it is remembered and current at ``now`` (the bounds the full
        check applies to ``iat`` and ``exp``); None: verify it in full."""
        with self._lock:
            access = self._tokens.get(token)
            if access is not None:
                self._tokens.move_to_end(token)
        if access is None or not access.issued_at <= now < access.expires_at:
            return None
        return access

    def remember(self, token: str, access: AccessToken) -> None:
        with self._lock:
            self._tokens[token] = access
            self._tokens.move_to_end(token)
            if len(self._tokens) > self._size:
                self._tokens.popitem(last=False)


@dataclass(frozen=True)
class AuthServer:
    """The issuer, its endpoints, the audience of its tokens and the keys it signs with."""

    endpoints: rfc8414.ServerEndpoints
    context: TokenContext
    keyring: KeyRing
    verified: VerifiedTokens = field(default_factory=VerifiedTokens, compare=False, repr=False)

    @classmethod
    def for_issuer(cls, issuer: str, keyring: KeyRing) -> AuthServer:
        endpoints = rfc8414.ServerEndpoints.under(issuer)
        resource = f"{endpoints.issuer}/v1"
        return cls(endpoints, TokenContext(issuer=endpoints.issuer, resource=resource), keyring)

    def metadata(self) -> dict[str, object]:
        return rfc8414.metadata(self.endpoints)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return self.keyring.jwks()


def _now() -> datetime:
    return datetime.now(UTC)


def _authenticate(
    server: AuthServer, session: Session, engine: Engine, assertion: ClientAssertion
) -> RegisteredClient:
    return rfc7523.authenticate_client(
        assertion,
        clients=SqlClientDirectory(session),
        jti_store=SqlJtiStore(engine),
        endpoints=server.endpoints,
        now=_now(),
    )


def issue_token(
    server: AuthServer,
    session: Session,
    engine: Engine,
    assertion: ClientAssertion,
    request: TokenRequest,
) -> dict[str, object]:
    client = _authenticate(server, session, engine, assertion)
    return token_response(
        request,
        client,
        server.keyring,
        server.context,
        grants=SqlGrantStore(session),
        now=_now(),
    )


def introspect_token(
    server: AuthServer, session: Session, engine: Engine, assertion: ClientAssertion, token: str
) -> dict[str, object]:
    client = _authenticate(server, session, engine, assertion)
    return rfc7662.introspect(
        token,
        client,
        server.keyring.public_keys(),
        server.context,
        now=_now(),
        revoked=SqlRevokedTokens(engine),
    )


def revoke_token(
    server: AuthServer, session: Session, engine: Engine, assertion: ClientAssertion, token: str
) -> None:
    client = _authenticate(server, session, engine, assertion)
    rfc7009.revoke_token(
        token,
        client,
        server.keyring.public_keys(),
        server.context,
        now=_now(),
        revoked=SqlRevokedTokens(engine),
    )


def verify_bearer(server: AuthServer, engine: Engine, token: str) -> AccessToken:
    """The verified access token; raises ``InvalidTokenError`` for anything else."""
    now, revoked = _now(), SqlRevokedTokens(engine)
    access = server.verified.current(token, now)
    if access is None:
        keys = server.keyring.public_keys()
        access = verify_access_token(token, keys, server.context, now=now, revoked=revoked)
        server.verified.remember(token, access)
    elif revoked.is_revoked(access.jti):
        raise InvalidTokenError("token revoked")
    return access
