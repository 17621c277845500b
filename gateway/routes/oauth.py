"""The authorization server's endpoints: RFC 8414 metadata, token, introspection, revocation,
JWKS. Clients authenticate with ``private_key_jwt`` (RFC 7523) on every POST."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, Request, Response

from consent.rfc6749 import TokenRequest
from consent.rfc7523 import ClientAssertion
from gateway.deps import DbEngine, DbSession
from gateway.oauth import service
from gateway.oauth.dpop import DPoPGuard
from gateway.oauth.service import AuthServer
from gateway.problem_handlers import problem_responses
from gateway.validation import Identifier, StrictRoute, Text

router = APIRouter(route_class=StrictRoute, tags=["oauth"])
OAUTH_ERRORS = problem_responses(400, 401)


def _server(request: Request) -> AuthServer:
    server: AuthServer = request.app.state.auth_server
    return server


Server = Annotated[AuthServer, Depends(_server)]


def _dpop(request: Request) -> DPoPGuard:
    guard: DPoPGuard = request.app.state.dpop
    return guard


DPoP = Annotated[DPoPGuard, Depends(_dpop)]


def _assertion(
    client_assertion_type: Annotated[Identifier | None, Form()] = None,
    client_assertion: Annotated[Identifier | None, Form()] = None,
    client_id: Annotated[Identifier | None, Form()] = None,
) -> ClientAssertion:
    return ClientAssertion(client_assertion_type, client_assertion, client_id)


Assertion = Annotated[ClientAssertion, Depends(_assertion)]


@router.get(
    "/.well-known/oauth-authorization-server",
    summary="Authorization server metadata (RFC 8414)",
)
def server_metadata(server: Server) -> dict[str, Any]:
    return server.metadata()


@router.get(
    "/oauth/jwks", summary="Public keys that verify consent artefacts, receipts and webhooks"
)
def jwks(server: Server, engine: DbEngine) -> dict[str, Any]:
    return server.jwks(engine)


@router.post(
    "/oauth/token",
    summary="Client credentials grant with private_key_jwt (RFC 6749 4.4, RFC 7523); "
    "a DPoP proof binds the token (RFC 9449)",
    responses=OAUTH_ERRORS,
)
def token(
    server: Server,
    session: DbSession,
    engine: DbEngine,
    assertion: Assertion,
    dpop: DPoP,
    grant_type: Annotated[Identifier | None, Form()] = None,
    scope: Annotated[Identifier | None, Form()] = None,
    authorization_details: Annotated[Text | None, Form()] = None,
    dpop_proof: Annotated[
        list[Identifier] | None,
        Header(alias="DPoP", description="A DPoP proof (RFC 9449 section 4)"),
    ] = None,
) -> dict[str, Any]:
    request = TokenRequest(grant_type, scope, authorization_details)
    proofs = dpop_proof or []
    return service.issue_token(server, session, engine, assertion, request, dpop, proofs)


@router.post(
    "/oauth/introspect",
    summary="Token introspection (RFC 7662); a client sees only its own tokens",
    responses=OAUTH_ERRORS,
)
def introspect(
    server: Server,
    session: DbSession,
    engine: DbEngine,
    assertion: Assertion,
    token: Annotated[Identifier, Form()],
) -> dict[str, Any]:
    return service.introspect_token(server, session, engine, assertion, token)


@router.post(
    "/oauth/revoke",
    summary="Token revocation (RFC 7009); effective from the next request",
    responses=OAUTH_ERRORS,
    status_code=200,
    response_class=Response,
)
def revoke(
    server: Server,
    session: DbSession,
    engine: DbEngine,
    assertion: Assertion,
    token: Annotated[Identifier, Form()],
) -> Response:
    service.revoke_token(server, session, engine, assertion, token)
    return Response(status_code=200)
