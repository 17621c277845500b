"""What every request of a site (:mod:`gateway.portal.site`) is served with: its session, its
language, pages instead of problem documents; on the portal, the signed-in citizen as the
consent service's caller.

A site's route class (:func:`site_route`; :class:`PortalRoute` for the portal) turns a refusal
raised anywhere in its routes (a gateway error, a form that does not parse) into
:class:`PortalFailure`, so the unit of work still rolls back; :func:`failure_page` then answers
with a page in the visitor's language, or sends them to sign in. Either way :func:`finish`
writes the session cookie and the strict CSP. The dependencies - the visit, the signed-in
session, forms with their CSRF token, the page renderer - serve the site of the route.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar

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
from gateway.portal.sessions import PortalSession, set_session_cookie, unseal
from gateway.portal.site import PORTAL, Site
from gateway.security_headers import PORTAL_CSP
from gateway.settings import Settings
from gateway.validation import Identifier, StrictRoute, Text
from problems import GatewayError, InvalidInput, Unauthenticated

LANGUAGE_MAX_AGE = int(timedelta(days=365).total_seconds())


class SignInRequired(Unauthenticated):
    title = "Sign-in required"
    slug = "sign-in-required"


class PortalFailure(Exception):
    """A refusal on a site's route, carried past the unit of work to :func:`failure_page`."""

    def __init__(self, error: GatewayError, site: Site) -> None:
        super().__init__(error.detail)
        self.error = error
        self.site = site


class PortalRoute(StrictRoute):
    site: ClassVar[Site] = PORTAL

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        site = self.site

        async def portal_handler(request: Request) -> Response:
            request.state.site = site
            try:
                response = await handle(request)
            except GatewayError as exc:
                raise PortalFailure(exc, site) from exc
            except RequestValidationError as exc:
                raise PortalFailure(InvalidInput("the form does not match"), site) from exc
            finish(request, response, site)
            return response

        return portal_handler


def site_route(served: Site) -> type[PortalRoute]:
    """The route class of ``served``'s routers."""
    return type(f"{served.texts.title()}Route", (PortalRoute,), {"site": served})


async def failure_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PortalFailure)
    error, site = exc.error, exc.site
    if isinstance(error, SignInRequired | InvalidTokenError):
        lapsed = getattr(request.state, "portal_lapsed", False)
        start_session(request)
        response: Response = redirect(f"{site.sign_in}?notice=expired" if lapsed else site.sign_in)
    else:
        session = getattr(request.state, "portal_session", None)
        response = _pages(request, site, session).error(error)
    finish(request, response, site)
    return response


def finish(request: Request, response: Response, site: Site) -> None:
    """The strict CSP, and the cookie of the session this request leaves behind."""
    response.headers["Content-Security-Policy"] = PORTAL_CSP
    session = getattr(request.state, "portal_session", None)
    if isinstance(session, PortalSession):
        set_session_cookie(
            response,
            session,
            _server(request).keyring,
            secure=secure_cookies(request),
            cookie=site.cookie,
        )


def keep(request: Request, session: PortalSession) -> None:
    """Make ``session`` the one the response's cookie carries."""
    request.state.portal_session = session


def start_session(request: Request, account_id: str | None = None) -> PortalSession:
    """A new session (a new id and CSRF token) for the response's cookie."""
    session = PortalSession.start(_now(), _idle(request), account_id)
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


def _stored_session(request: Request, site: Site, now: datetime) -> PortalSession | None:
    """The cookie's session if it is still good; a signed-in one that expired or was signed
    out marks the request ``portal_lapsed``."""
    token = request.cookies.get(site.cookie.name)
    if not token:
        return None
    try:
        keys = _server(request).verifying(Document.PORTAL_SESSION, request.app.state.engine, now)
        session = unseal(token, keys, site.cookie)
    except InvalidTokenError:
        return None
    if session.account_id is None:
        return None if session.expired(now) else session
    if session.expired(now) or SqlRevokedTokens(request.app.state.engine).is_revoked(
        session.sid, session.account_id
    ):
        request.state.portal_lapsed = True
        return None
    return session


def served_site(request: Request) -> Site:
    """The site whose route is serving ``request`` (its route class says)."""
    site = request.state.site
    assert isinstance(site, Site)
    return site


def _visit(request: Request) -> PortalSession:
    now = _now()
    stored = _stored_session(request, served_site(request), now)
    if stored is None:
        return start_session(request)
    session = stored.touched(now, _idle(request))
    keep(request, session)
    return session


Visit = Annotated[PortalSession, Depends(_visit)]


def _signed_in(session: Visit) -> PortalSession:
    if session.account_id is None:
        raise SignInRequired("sign in to use this site")
    return session


SignedIn = Annotated[PortalSession, Depends(_signed_in)]
CsrfToken = Annotated[Identifier, Form(max_length=128)]
Username = Annotated[Identifier, Form(max_length=64)]
Password = Annotated[Text, Form(max_length=1024)]


def _signed_in_form(session: SignedIn, csrf_token: CsrfToken = "") -> PortalSession:
    check_csrf(session, csrf_token)
    return session


def _visitor_form(session: Visit, csrf_token: CsrfToken = "") -> PortalSession:
    check_csrf(session, csrf_token)
    return session


SignedInForm = Annotated[PortalSession, Depends(_signed_in_form)]
"""A form posted by the signed-in account, with the session's CSRF token."""
VisitorForm = Annotated[PortalSession, Depends(_visitor_form)]
"""A form posted before sign-in (the sign-in form itself), with the session's CSRF token."""


def language(request: Request) -> Language:
    return Language.chosen(request.cookies.get(LANGUAGE_COOKIE))


def switch_language(request: Request, code: Language, back: str) -> Response:
    """Back to ``back`` (a path of the route's site), in ``code``'s language from now on: a
    cookie of the site's own, outliving its sessions."""
    response = redirect(back)
    response.set_cookie(
        LANGUAGE_COOKIE,
        code.value,
        max_age=LANGUAGE_MAX_AGE,
        path=served_site(request).prefix,
        secure=secure_cookies(request),
        httponly=True,
        samesite="strict",
    )
    return response


def _pages(request: Request, site: Site, session: PortalSession | None) -> Pages:
    return Pages(request, site, language(request), session)


def _visit_pages(request: Request, session: Visit) -> Pages:
    return _pages(request, served_site(request), session)


PortalPages = Annotated[Pages, Depends(_visit_pages)]
"""The page renderer of the route's site, for this visit."""


def _caller(request: Request, session: SignedIn) -> AccessToken:
    """The signed-in citizen as the consent service knows its callers: the same claims an
    access token from ``POST /v1/me/token`` carries (acting for the entity chosen, as one
    from ``POST /v1/me/acting-token``), for the session's lifetime."""
    assert session.account_id is not None
    context = _server(request).context
    return AccessToken(
        issuer=context.issuer,
        subject=session.account_id,
        audience=context.resource,
        client_id=session.account_id,
        role=Role.CITIZEN,
        scope=SCOPES_BY_ROLE[Role.CITIZEN],
        jti=session.sid,
        issued_at=session.started_at,
        expires_at=session.idle_until,
        acting_for=session.acting_for,
    )


Caller = Annotated[AccessToken, Depends(_caller)]
