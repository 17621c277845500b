"""The regulator console's pages (``/oversight``): server-rendered like the citizen portal, with
the portal's sessions, CSRF tokens, strict CSP and layout (:mod:`gateway.console.site`).

Regulator officers sign in with a password and a TOTP code (:mod:`gateway.console.officers`),
with a sign-in budget per IP and per account; every other page needs the signed-in officer and
sends anyone else to the sign-in page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from gateway.console import officers
from gateway.console.deps import Officer
from gateway.console.officers import OfficerSignInFailed
from gateway.console.site import CONSOLE, CONSOLE_STATIC, HOME
from gateway.deps import DbEngine, DbSession
from gateway.portal.deps import (
    Password,
    PortalPages,
    Username,
    Visit,
    VisitorForm,
    site_route,
    start_session,
)
from gateway.portal.pages import redirect
from gateway.portal.site_routes import add_site_routes
from gateway.ratelimit import OFFICER_SIGN_IN, OVERSIGHT_SIGN_IN, spend_sign_in
from gateway.validation import Identifier

router = APIRouter(prefix="/oversight", include_in_schema=False, route_class=site_route(CONSOLE))
add_site_routes(router)


def install_console(app: FastAPI) -> None:
    """Serve the console's pages and its stylesheet on ``app``."""
    app.mount("/oversight/static", StaticFiles(directory=CONSOLE_STATIC), name="console-static")
    app.include_router(router)


# -- signing in --------------------------------------------------------


@router.get("/sign-in")
def sign_in_page(pages: PortalPages, session: Visit) -> Response:
    if session.account_id is not None:
        return redirect(HOME)
    return pages.render("sign_in.html", failed=False, username="")


@router.post(OVERSIGHT_SIGN_IN.removeprefix("/oversight"))
def sign_in(
    request: Request,
    pages: PortalPages,
    _form: VisitorForm,
    db: DbSession,
    engine: DbEngine,
    username: Username = "",
    password: Password = "",
    code: Annotated[Identifier, Form(max_length=10)] = "",
) -> Response:
    """The officer signs in with the password and a code of the authenticator; one answer for
    every failure. The session starts afresh, bound to the officer."""
    spend_sign_in(request, username, OFFICER_SIGN_IN)
    try:
        officer = officers.sign_in(db, engine, username, password, code, datetime.now(UTC))
    except OfficerSignInFailed:
        return pages.render("sign_in.html", status=400, failed=True, username=username)
    start_session(request, officer.officer_id)
    return redirect(HOME)


# -- the dashboard -----------------------------------------------------------------------


@router.get("")
def dashboard(pages: PortalPages, officer: Officer) -> Response:
    return pages.render("dashboard.html", nav="dashboard", officer=officer)
