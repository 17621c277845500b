"""The regulator console's pages (``/oversight``): server-rendered like the citizen portal, with
the portal's sessions, CSRF tokens, strict CSP and layout (:mod:`gateway.console.site`).

Regulator officers sign in with a password and a TOTP code (:mod:`gateway.console.officers`),
with a sign-in budget per IP and per account; every other page needs the signed-in officer and
sends anyone else to the sign-in page.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from audit.leaf import Outcome
from gateway.console import officers, service
from gateway.console.alerts import Alert
from gateway.console.charts import bar_length
from gateway.console.deps import Officer
from gateway.console.log_state import log_state_of
from gateway.console.officers import OfficerSignInFailed
from gateway.console.service import EntryFilter, local_today
from gateway.console.site import CONSOLE, CONSOLE_STATIC, ENTRIES, HOME
from gateway.deps import AppSettings, DbEngine, DbSession
from gateway.parties.repository import party_names
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
from gateway.registry.repository import purpose_registry
from gateway.routes.oversight import LOOK_BACK, basis_report, notices_report, objections_report
from gateway.routes.rights import Desk as RightsDesk
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


# -- the dashboard, alerts and the entries behind them ------------------------------------


@router.get("")
def dashboard(pages: PortalPages, _officer: Officer, db: DbSession, engine: DbEngine) -> Response:
    today = local_today(datetime.now(UTC))
    figures = service.overview(engine, db, today)
    registry = purpose_registry(db, retired=True)
    purposes = {purpose.code: purpose.description for purpose in registry}
    return pages.render(
        "dashboard.html", nav="dashboard", figures=figures, bar=bar_length, purposes=purposes
    )


@router.get("/alerts")
def alert_list(
    pages: PortalPages,
    _officer: Officer,
    db: DbSession,
    engine: DbEngine,
    settings: AppSettings,
) -> Response:
    today = local_today(datetime.now(UTC))
    raised = service.current_alerts(engine, db, settings, today)
    names = party_names(db, {alert.requester for alert in raised})
    return pages.render("alerts.html", nav="alerts", alerts=raised, names=names, link=_entries_link)


@router.get("/entries")
def entry_list(
    pages: PortalPages,
    _officer: Officer,
    db: DbSession,
    engine: DbEngine,
    settings: AppSettings,
    requester: Annotated[Identifier | None, Query(max_length=64)] = None,
    day: date | None = None,
    outcome: Outcome | None = None,
    after_hours: bool = False,
    grantless: bool = False,
) -> Response:
    """The inquiries an alert stands on (or any filter of them), oldest first."""
    wanted = EntryFilter(requester, day, outcome.value if outcome else None, after_hours, grantless)
    found = service.entries(engine, db, settings, wanted)
    return pages.render("entries.html", nav="entries", found=found, wanted=wanted)


# -- the log's state and missed deadlines -------------------------------------------------


@router.get("/log")
def log_state(
    pages: PortalPages,
    _officer: Officer,
    db: DbSession,
    settings: AppSettings,
    desk: RightsDesk,
) -> Response:
    """The latest signed checkpoint, the witnesses and their cosignatures, the last local
    verification; the missed deadlines of ``/v1/oversight/*``."""
    state = log_state_of(db.connection(), settings)
    deadlines = {
        "objections": objections_report(desk),
        "notices": notices_report(desk),
        "basis_reports": basis_report(desk, desk.today - LOOK_BACK),
    }
    return pages.render("log.html", nav="log_state", state=state, deadlines=deadlines)


def _entries_link(alert: Alert) -> str:
    return f"{ENTRIES}?{urlencode(alert.filters)}"
