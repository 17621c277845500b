"""The authorization server's operations, composed from the pure ``consent`` RFC modules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from consent import rfc7009, rfc7523, rfc7662, rfc8414
from consent.clients import RegisteredClient
from consent.keys import KeyRing
from consent.rfc6749 import TokenRequest, token_response
from consent.rfc7523 import ClientAssertion
from consent.rfc9068 import AccessToken, TokenContext, verify_access_token
from gateway.consents.repository import SqlGrantStore
from gateway.oauth.repository import SqlClientDirectory, SqlJtiStore, SqlRevokedTokens


@dataclass(frozen=True)
class AuthServer:
    """The issuer, its endpoints, the audience of its tokens and the keys it signs with."""

    endpoints: rfc8414.ServerEndpoints
    context: TokenContext
    keyring: KeyRing

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
    return verify_access_token(
        token,
        server.keyring.public_keys(),
        server.context,
        now=_now(),
        revoked=SqlRevokedTokens(engine),
    )
