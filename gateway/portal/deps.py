"""What every portal request is served with: its session, its language, the signed-in
citizen as the consent service's caller, and pages instead of problem documents.

:class:`PortalRoute` turns a refusal raised anywhere in a portal route (a gateway error, a
form that does not parse) into :class:`PortalFailure`, so the unit of work still rolls back;
:func:`failure_page` then answers with a page in the visitor's language, or sends them to
sign in. Either way :func:`finish` writes the session cookie and the portal's strict CSP.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response

from consent.clients import SCOPES_BY_ROLE, Role
from consent.errors import InvalidTokenError
from consent.rfc9068 import AccessToken
from gateway.keys import Document
from gateway.oauth.repository import SqlRevokedTokens
from gateway.oauth.service import AuthServer
from gateway.portal.csrf import check_csrf
from gateway.portal.i18n import LANGUAGE_COOKIE, Language
from gateway.portal.pages import Pages, redirect
from gateway.portal.sessions import SESSION_COOKIE, PortalSession, set_session_cookie, unseal
from gateway.security_headers import PORTAL_CSP
from gateway.settings import Settings
from gateway.validation import Identifier, StrictRoute
from problems import GatewayError, InvalidInput, Unauthenticated

SIGN_IN = "/portal/sign-in"


class SignInRequired(Unauthenticated):
    title = "Sign-in required"
    slug = "sign-in-required"


class PortalFailure(Exception):
    """A refusal on a portal route, carried past the unit of work to :func:`failure_page`."""

    def __init__(self, error: GatewayError) -> None:
        super().__init__(error.detail)
        self.error = error


class PortalRoute(StrictRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def portal_handler(request: Request) -> Response:
            try:
                response = await handle(request)
            except GatewayError as exc:
                raise PortalFailure(exc) from exc
            except RequestValidationError as exc:
                raise PortalFailure(InvalidInput("the form does not match")) from exc
            finish(request, response)
            return response

        return portal_handler


async def failure_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PortalFailure)
    error = exc.error
    if isinstance(error, SignInRequired | InvalidTokenError):
        lapsed = getattr(request.state, "portal_lapsed", False)
        start_session(request)
        response: Response = redirect(f"{SIGN_IN}?notice=expired" if lapsed else SIGN_IN)
    else:
        response = _pages(request, getattr(request.state, "portal_session", None)).error(error)
    finish(request, response)
    return response


def finish(request: Request, response: Response) -> None:
    """The portal's CSP, and the cookie of the session this request leaves behind."""
    response.headers["Content-Security-Policy"] = PORTAL_CSP
    session = getattr(request.state, "portal_session", None)
    if isinstance(session, PortalSession):
        set_session_cookie(
            response, session, _server(request).keyring, secure=secure_cookies(request)
        )


def keep(request: Request, session: PortalSession) -> None:
    """Make ``session`` the one the response's cookie carries."""
    request.state.portal_session = session


def start_session(request: Request, citizen_id: str | None = None) -> PortalSession:
    """A new session (a new id and CSRF token) for the response's cookie."""
    session = PortalSession.start(_now(), _idle(request), citizen_id)
    keep(request, session)
    return session


def secure_cookies(request: Request) -> bool:
    return _settings(request).base_url.startswith("https://")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _server(request: Request) -> AuthServer:
    server: AuthServer = request.app.state.auth_server
    return server


def _now() -> datetime:
    return datetime.now(UTC)


def _idle(request: Request) -> timedelta:
    return timedelta(seconds=_settings(request).portal_session_idle)


def _stored_session(request: Request, now: datetime) -> PortalSession | None:
    """The cookie's session if it is still good; a signed-in one that expired or was signed
    out marks the request ``portal_lapsed``."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        keys = _server(request).verifying(Document.PORTAL_SESSION, request.app.state.engine, now)
        session = unseal(token, keys)
    except InvalidTokenError:
        return None
    if session.citizen_id is None:
        return None if session.expired(now) else session
    if session.expired(now) or SqlRevokedTokens(request.app.state.engine).is_revoked(
        session.sid, session.citizen_id
    ):
        request.state.portal_lapsed = True
        return None
    return session


def _visit(request: Request) -> PortalSession:
    now = _now()
    stored = _stored_session(request, now)
    if stored is None:
        return start_session(request)
    session = stored.touched(now, _idle(request))
    keep(request, session)
    return session


Visit = Annotated[PortalSession, Depends(_visit)]


def _signed_in(session: Visit) -> PortalSession:
    if session.citizen_id is None:
        raise SignInRequired("sign in to use the portal")
    return session


SignedIn = Annotated[PortalSession, Depends(_signed_in)]
CsrfToken = Annotated[Identifier, Form(max_length=128)]


def _signed_in_form(session: SignedIn, csrf_token: CsrfToken = "") -> PortalSession:
    check_csrf(session, csrf_token)
    return session


def _visitor_form(session: Visit, csrf_token: CsrfToken = "") -> PortalSession:
    check_csrf(session, csrf_token)
    return session


SignedInForm = Annotated[PortalSession, Depends(_signed_in_form)]
"""A form posted by the signed-in citizen, with the session's CSRF token."""
VisitorForm = Annotated[PortalSession, Depends(_visitor_form)]
"""A form posted before sign-in (the sign-in form itself), with the session's CSRF token."""


def _caller(request: Request, session: SignedIn) -> AccessToken:
    """The signed-in citizen as the consent service knows its callers: the same claims an
    access token from ``POST /v1/me/token`` carries (acting for the entity chosen, as one
    from ``POST /v1/me/acting-token``), for the session's lifetime."""
    assert session.citizen_id is not None
    context = _server(request).context
    return AccessToken(
        issuer=context.issuer,
        subject=session.citizen_id,
        audience=context.resource,
        client_id=session.citizen_id,
        role=Role.CITIZEN,
        scope=SCOPES_BY_ROLE[Role.CITIZEN],
        jti=session.sid,
        issued_at=session.started_at,
        expires_at=session.idle_until,
        acting_for=session.acting_for,
    )


Caller = Annotated[AccessToken, Depends(_caller)]


def language(request: Request) -> Language:
    return Language.chosen(request.cookies.get(LANGUAGE_COOKIE))


def _pages(request: Request, session: PortalSession | None) -> Pages:
    return Pages(request, language(request), session)


def _visit_pages(request: Request, session: Visit) -> Pages:
    return _pages(request, session)


PortalPages = Annotated[Pages, Depends(_visit_pages)]
