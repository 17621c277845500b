"""Who is calling: access tokens (RFC 6750, RFC 9068), DPoP-bound ones with their proof
(RFC 9449), checked once per request.

:func:`screen`, the app's one dependency, runs for every request: ``authenticate``, then the
rate limit. A valid access token puts the verified token on ``request.state`` (and the client
id the rate limit is keyed by); an invalid one is remembered so that a route that needs a
caller refuses it with 401, while anonymous routes ignore it. Routes never parse a token
themselves: they declare one of the typed aliases below, each of which admits exactly one role
and requires its scope, refusing any other caller with 403 ``insufficient_scope`` naming the
article that reserves the route to that role (an establishment deciding for a citizen is
Art. 61(2)) - except the inquiry channels' callers: an inquiry route admits any authenticated
caller, because whether its role may use the channel is the inquiry's own decision, registered
in the audit log and refused naming its article (Art. 39 para. 2-3). A request without valid
credentials at all is only counted there. These callers only read what ``authenticate`` found,
so they are ``async``: FastAPI runs them on the event loop instead of handing each to a worker
thread (the inquiry routes call them themselves: :class:`gateway.routes.inquiries.InquiryRoute`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from consent.clients import Role
from consent.errors import InsufficientScopeError, InvalidTokenError
from consent.rfc9068 import AccessToken
from gateway.oauth.repository import RevocationCheck
from gateway.oauth.service import AuthServer, Presented, verify_presented
from gateway.offload import in_thread
from gateway.ratelimit import RateLimits, enforce_rate_limit
from gateway.storage.bridge import run_on_loop
from gateway.telemetry import UNAUTHENTICATED, count_inquiry
from redaction.policies import Channel

_bearer = HTTPBearer(
    auto_error=False,
    description="An access token from POST /oauth/token; a DPoP-bound one is sent as "
    "`Authorization: DPoP <token>` with a `DPoP` proof header (RFC 9449)",
)


SCHEMES = frozenset({"bearer", "dpop"})


async def screen(request: Request) -> None:
    """App-wide, before any route: who is calling, then whether their budget allows it. On the
    event loop when that only reads (a bearer token's revocation, once this process verified it;
    the in-process budget): on PostgreSQL the read is awaited there
    (:func:`gateway.storage.bridge.run_on_loop`), on SQLite made there (it never waits for a
    writer in WAL mode) - a hand-over to a thread cost more than the read; in one worker thread
    when it may wait for more (:func:`screen_waits`)."""
    if screen_waits(request):
        await in_thread(screen_now, request, defer_revocation=False)
    else:
        await run_on_loop(screen_now, request, defer_revocation=False)


def screen_waits(request: Request) -> bool:
    """Whether screening ``request`` may wait for more than a read, and so runs in a worker
    thread: a DPoP proof (its replay record is a write), a budget kept in Redis."""
    limits: RateLimits = request.app.state.rate_limits
    return bool(limits.shared or request.headers.get("dpop"))


def screen_now(request: Request, *, defer_revocation: bool) -> None:
    """:func:`screen` in the calling thread; with ``defer_revocation``, a bearer token's
    revocation may be left to the request's own reads (:func:`authenticate`)."""
    authenticate(request, defer_revocation=defer_revocation)
    enforce_rate_limit(request)


def authenticate(request: Request, *, defer_revocation: bool) -> None:
    """App-wide: verify an access token when one is sent; never refuses by itself. With
    ``defer_revocation``, a bearer token's revocation may be left to the request's own reads:
    :func:`revocation_of` tells."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() not in SCHEMES or not credentials:
        return
    state = request.app.state
    proofs = tuple(request.headers.getlist("dpop"))
    # The path a proof must name; with none sent it is never read, and the request's URL,
    # parsed from its headers, costs about 3 % of an inquiry.
    path = request.url.path if proofs else ""
    presented = Presented(scheme.lower(), credentials.strip(), proofs, request.method, path)
    server: AuthServer = state.auth_server
    try:
        token, revocation = verify_presented(
            server, state.dpop, state.engine, presented, defer_revocation=defer_revocation
        )
    except InvalidTokenError as exc:
        request.state.token_error = exc
        return
    request.state.access_token = token
    request.state.client_id = token.client_id
    request.state.revocation = revocation


def revocation_of(request: Request) -> RevocationCheck | None:
    """The revocation of the request's token left to its reads by :func:`screen_now`: they
    must settle it (:meth:`RevocationCheck.settle`) before anything is served."""
    revocation = getattr(request.state, "revocation", None)
    return revocation if isinstance(revocation, RevocationCheck) else None


def _caller(request: Request) -> AccessToken:
    token = getattr(request.state, "access_token", None)
    if isinstance(token, AccessToken):
        return token
    error = getattr(request.state, "token_error", None)
    raise (
        error
        if isinstance(error, InvalidTokenError)
        else InvalidTokenError("an access token is required")
    )


def require(role: Role, scope: str, article: str) -> Callable[..., Awaitable[AccessToken]]:
    """A dependency admitting only ``role`` holding ``scope`` (least privilege per route); a
    refusal names ``article``, the provision that reserves the route to that role."""

    async def dependency(
        request: Request,
        _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> AccessToken:
        token = _caller(request)
        if token.role is not role:
            raise InsufficientScopeError(
                f"this endpoint is for the {role.value} role", article=article
            )
        if scope not in token.scope:
            raise InsufficientScopeError(f"the token lacks the scope {scope}", article=article)
        return token

    return dependency


def _route_of(role: Role, scope: str, article: str) -> object:
    return Depends(require(role, scope, article))


# The articles that reserve each kind of route to its role.
REGISTRATION = "Art. 39 para. 3"  # the register of queries: read by regulators
AUTHORIZED_INQUIRY = "Art. 39 para. 2"  # authorized inquiries: made by those authorized
SUBJECT_DECIDES = "Art. 61(2)"  # only the credit subject authorizes: no compelled authorization
PROVIDING_UNITS = "Art. 37 para. 1"  # providing units provide records per the catalog
SUBJECT_KNOWS = "Art. 63"  # the subject's right to know
SUBJECT_STATES = "Art. 37 para. 2"  # the subject's own statements, declarations and pledges
OBJECTIONS = "Art. 64"  # the subject objects; the holder verifies
OVERSIGHT = "Art. 69"  # regulators order corrections of missed duties
DELETION = "Art. 67"  # establishments that used information delete it

RegulatorCaller = Annotated[AccessToken, _route_of(Role.REGULATOR, "audit:read", REGISTRATION)]
EstablishmentCaller = Annotated[
    AccessToken, _route_of(Role.ESTABLISHMENT, "consent:request", AUTHORIZED_INQUIRY)
]
CitizenCaller = Annotated[AccessToken, _route_of(Role.CITIZEN, "consent:decide", SUBJECT_DECIDES)]
ProviderCaller = Annotated[AccessToken, _route_of(Role.PROVIDER, "records:write", PROVIDING_UNITS)]
CitizenReader = Annotated[AccessToken, _route_of(Role.CITIZEN, "report:read", SUBJECT_KNOWS)]
CitizenObjector = Annotated[AccessToken, _route_of(Role.CITIZEN, "objections:write", OBJECTIONS)]
CitizenStater = Annotated[AccessToken, _route_of(Role.CITIZEN, "statements:write", SUBJECT_STATES)]
ObjectionHolder = Annotated[AccessToken, _route_of(Role.PROVIDER, "objections:answer", OBJECTIONS)]
OversightCaller = Annotated[AccessToken, _route_of(Role.REGULATOR, "oversight:read", OVERSIGHT)]
REGISTRIES = "Art. 39 para. 2"  # who may use which channel, on which basis: the regulator's
RegistryKeeper = Annotated[AccessToken, _route_of(Role.REGULATOR, "registry:write", REGISTRIES)]
NoticeRecipient = Annotated[
    AccessToken, _route_of(Role.ESTABLISHMENT, "inquiry:authorized", DELETION)
]
RESTORATION = "Art. 66 para. 1"  # the subject applies for credit restoration
ENROLMENT = "Art. 34"  # archives indexed by verified identity: enrolled by the operator
CitizenApplicant = Annotated[AccessToken, _route_of(Role.CITIZEN, "restoration:apply", RESTORATION)]
OperatorCaller = Annotated[AccessToken, _route_of(Role.OPERATOR, "subjects:enrol", ENROLMENT)]


def inquiry_caller(request: Request, channel: Channel) -> AccessToken:
    """Any authenticated caller of an inquiry through ``channel``; one without valid
    credentials is refused with 401 and counted."""
    try:
        return _caller(request)
    except InvalidTokenError:
        count_inquiry(channel.value, UNAUTHENTICATED)
        raise


@cache
def inquirer(channel: Channel) -> Callable[..., Awaitable[AccessToken]]:
    """The dependency of :func:`inquiry_caller` through ``channel`` (one per channel, so that
    a route can tell it among its dependencies)."""

    async def dependency(
        request: Request,
        _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> AccessToken:
        return inquiry_caller(request, channel)

    return dependency


AuthorizedInquirer = Annotated[AccessToken, Depends(inquirer(Channel.AUTHORIZED))]
SharingInquirer = Annotated[AccessToken, Depends(inquirer(Channel.SHARING))]
AuthorityInquirer = Annotated[AccessToken, Depends(inquirer(Channel.AUTHORITY))]
SelfInquirer = Annotated[AccessToken, Depends(inquirer(Channel.SELF))]
