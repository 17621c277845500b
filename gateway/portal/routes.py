"""The citizen portal: server-rendered pages of the gateway's own real-name verified channel
(Art. 39), the only place besides the citizen API where a consent is decided (Art. 61(2)).

Every action calls the same consent service function as the API, with the signed-in citizen
as the caller, so the rules are the API's: subsets of categories, a separate written consent
per restricted category (Art. 62 para. 2-3), revocation effective for the very next inquiry.
Establishments cannot reach any action: the portal honours only its own session cookie, and
every form carries the session's CSRF token. A decision also takes a second factor, verified
by the API's own service (:mod:`gateway.portal.factors`); a citizen without one is asked to
enrol one after signing in. The credit report page files objections through the same service
as ``POST /v1/me/objections`` and shows their answers (Art. 64).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi import Path as PathParam
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.responses import Response

from consent.errors import GrantNotFoundError, InvalidGrantError, Reason
from consent.grants import GrantState
from consent.rfc9068 import AccessToken
from consent.step_up import Action
from gateway.archive.service import archive_catalog
from gateway.audit_log.bundle import inclusion_bundle
from gateway.consents import service
from gateway.consents.schemas import CitizenConsent, SignedReceiptOut, citizen_consent
from gateway.consents.service import RESTRICTED, CitizenGrant, ConsentDesk
from gateway.consents.written_consent import written_consent_texts
from gateway.deps import AppSettings, AuditService, DbEngine, DbSession
from gateway.factors import service as factors
from gateway.factors.service import FactorDesk, PasskeyCeremony
from gateway.inquiries import service as inquiries
from gateway.inquiries.schemas import SelfReport
from gateway.inquiries.service import InquiryDesk, Statement
from gateway.notifications import service as notifications
from gateway.notifications.messages import Event
from gateway.notifications.schemas import PreferencesIn, PreferencesOut, preferences_out
from gateway.notifications.transports import available_channels
from gateway.oauth.service import verify_bearer
from gateway.parties.citizens import sign_in as citizen_sign_in
from gateway.parties.repository import party_by_client_id, party_names
from gateway.portal import subjects
from gateway.portal.access_log import (
    SEEN_COOKIE,
    check_seen,
    marked_entries,
    opened_head,
    read_seen,
    seen_cookie,
)
from gateway.portal.deps import (
    Caller,
    Password,
    PortalFailure,
    PortalPages,
    PortalRoute,
    SignedInForm,
    Username,
    Visit,
    VisitorForm,
    failure_page,
    secure_cookies,
    start_session,
)
from gateway.portal.factors import FACTORS, Answer, prompter
from gateway.portal.forms import ApprovalForm, approval_form
from gateway.portal.pages import HOME, redirect
from gateway.portal.sessions import COOKIE_PATH
from gateway.portal.site_routes import add_site_routes
from gateway.ratelimit import PORTAL_SIGN_IN, spend_sign_in
from gateway.registry.repository import purpose_registry
from gateway.reports import service as reports
from gateway.reports.schemas import SignedReportOut
from gateway.reports.service import NUMBER_PATTERN, ReportUse
from gateway.rights import objections, restoration
from gateway.rights.objections import Filing, ObjectionKind
from gateway.routes.access_log import bundle_response, whole_access_log
from gateway.routes.consents import Desk
from gateway.routes.factors import Desk as FactorsDesk
from gateway.routes.reports import pdf_response
from gateway.routes.rights import Desk as RightsDesk
from gateway.validation import Identifier, Text
from redaction.catalog import ScopeCategory
from redaction.policies import Channel

CONSENTS = "/portal/consents"
STATIC = Path(__file__).resolve().parent / "static"
SEEN_MAX_AGE = int(timedelta(days=400).total_seconds())  # the longest browsers keep one
GrantId = Annotated[Identifier, PathParam(pattern=r"^cg_[A-Za-z0-9_-]{1,61}$")]
RecordId = Annotated[Identifier, PathParam(pattern=r"^rec_[0-9a-f]{32}$")]
ReportNumber = Annotated[Identifier, PathParam(pattern=NUMBER_PATTERN)]
REPORTS = "/portal/reports"

router = APIRouter(prefix="/portal", include_in_schema=False, route_class=PortalRoute)
add_site_routes(router)


def install_portal(app: FastAPI) -> None:
    """Serve the portal's pages and its stylesheet on ``app``."""
    app.mount("/portal/static", StaticFiles(directory=STATIC), name="portal-static")
    app.add_exception_handler(PortalFailure, failure_page)
    app.include_router(router)
    app.include_router(subjects.router)


# -- signing in and out, language --------------------------------------------------------


@router.get("")
def portal_home() -> Response:
    return redirect(HOME)


def _oidc(request: Request) -> bool:
    """Whether the sign-in page offers the provincial identity provider."""
    return getattr(request.app.state, "identity_provider", None) is not None


@router.get("/sign-in")
def sign_in_page(request: Request, pages: PortalPages, session: Visit) -> Response:
    if session.account_id is not None:
        return redirect(HOME)
    return pages.render("sign_in.html", failed=False, username="", oidc=_oidc(request))


@router.post(PORTAL_SIGN_IN.removeprefix("/portal"))
def sign_in(
    request: Request,
    pages: PortalPages,
    _form: VisitorForm,
    db: DbSession,
    engine: DbEngine,
    username: Username = "",
    password: Password = "",
) -> Response:
    """The citizen signs in with the API's own check (the same answer for an unknown account
    and a wrong password, and the API's budget per account); the session starts afresh, bound
    to the account."""
    spend_sign_in(request, username)
    server = request.app.state.auth_server
    try:
        bearer = citizen_sign_in(db, server, username, password, datetime.now(UTC))
    except InvalidGrantError:
        return pages.render(
            "sign_in.html", status=400, failed=True, username=username, oidc=_oidc(request)
        )
    token = verify_bearer(server, engine, str(bearer["access_token"]))
    start_session(request, token.subject)
    if not factors.has_factor(db, token.subject):
        return redirect(f"{FACTORS}?notice=enrol_factor")
    return redirect(HOME)


# -- pending requests --------------------------------------------------------------------


def _consents(desk: ConsentDesk, caller: AccessToken) -> list[CitizenConsent]:
    return [citizen_consent(grant, desk.now) for grant in service.citizen_consents(desk, caller)]


def _one(consents: Iterable[CitizenConsent], grant_id: str) -> CitizenConsent:
    found = next((consent for consent in consents if consent.grant_id == grant_id), None)
    if found is None:
        raise GrantNotFoundError("no such consent", reason=Reason.NOT_SUBJECT)
    return found


def _credit_codes(desk: ConsentDesk, consents: Iterable[CitizenConsent]) -> dict[str, str]:
    """The unified social credit code of each establishment that asked (Art. 34)."""
    parties = {c.requester: party_by_client_id(desk.session, c.requester) for c in consents}
    return {
        client_id: party.credit_code
        for client_id, party in parties.items()
        if party is not None and party.credit_code
    }


@router.get("/requests")
def pending_requests(
    pages: PortalPages, caller: Caller, desk: Desk, factor_desk: FactorsDesk
) -> Response:
    pending = [c for c in _consents(desk, caller) if c.state == GrantState.PENDING]
    return pages.render(
        "requests.html",
        nav="requests",
        consents=pending,
        credit_codes=_credit_codes(desk, pending),
        restricted=RESTRICTED,
        prompt=prompter(factor_desk, caller),
    )


@router.post("/requests/{grant_id}/approve")
def approve(
    pages: PortalPages,
    caller: Caller,
    _form: SignedInForm,
    desk: Desk,
    factor_desk: FactorsDesk,
    grant_id: GrantId,
    form: Annotated[ApprovalForm, Depends(approval_form)],
    factor: Answer,
) -> Response:
    """Approve the chosen categories; restricted ones go through the written-consent step
    first, one explicit confirmation each, then the same service call as the API, with the
    second factor (asked for on the last step)."""
    if form.unconfirmed:
        consent = _one(_consents(desk, caller), grant_id)
        return pages.render(
            "written_consent.html",
            nav="requests",
            consent=consent,
            credit_codes=_credit_codes(desk, [consent]),
            form=form,
            texts=written_consent_texts(),
            missing=form.from_written_step,
            prompt=prompter(factor_desk, caller),
        )
    proof = factor.proof(factor_desk, caller, Action.APPROVE, grant_id)
    service.approve(desk, caller, grant_id, form.categories, form.confirmations(), proof)
    return redirect(f"{CONSENTS}?notice=approved")


# -- my consents -------------------------------------------------------------------------


@router.get("/consents")
def my_consents(
    pages: PortalPages, caller: Caller, desk: Desk, factor_desk: FactorsDesk
) -> Response:
    decided = [c for c in _consents(desk, caller) if c.state != GrantState.PENDING]
    return pages.render(
        "consents.html",
        nav="consents",
        consents=decided,
        credit_codes=_credit_codes(desk, decided),
        prompt=prompter(factor_desk, caller),
    )


@router.get("/consents/{grant_id}/revoke")
def confirm_revoke(
    pages: PortalPages, caller: Caller, desk: Desk, factor_desk: FactorsDesk, grant_id: GrantId
) -> Response:
    consent = _one(_consents(desk, caller), grant_id)
    return pages.render(
        "revoke.html",
        nav="consents",
        consent=consent,
        credit_codes=_credit_codes(desk, [consent]),
        prompt=prompter(factor_desk, caller),
    )


@router.get("/consents/{grant_id}/receipt")
def download_receipt(caller: Caller, desk: Desk, grant_id: GrantId) -> Response:
    """The signed receipt as a file, in the shape ``GET /v1/me/consents/{id}/receipt`` has."""
    signed = service.receipt(desk, caller, grant_id)
    body = SignedReceiptOut(receipt=signed.receipt, jws=signed.jws).model_dump_json(indent=2)
    disposition = f'attachment; filename="consent-receipt-{grant_id}.json"'
    return Response(
        body, media_type="application/json", headers={"Content-Disposition": disposition}
    )


# -- who looked at my data, my credit report ---------------------------------------------


@router.get("/access-log")
def who_looked(
    request: Request,
    pages: PortalPages,
    caller: Caller,
    db: DbSession,
    audit_log: AuditService,
    settings: AppSettings,
) -> Response:
    """The API's access log of the citizen, each entry checked against the checkpoint, and
    that checkpoint checked against the one the citizen's last visit saw (a cookie)."""
    log = whole_access_log(request, db, audit_log, caller)
    checkpoint = opened_head(log, audit_log, settings.log_origin)
    seen = read_seen(request.cookies.get(SEEN_COOKIE))
    page = pages.render(
        "access_log.html",
        nav="access_log",
        head=log.head,
        entries=marked_entries(log, checkpoint),
        seen=check_seen(audit_log, seen, checkpoint),
        purposes={
            purpose.code: purpose.description for purpose in purpose_registry(db, retired=True)
        },
    )
    if checkpoint is not None:
        page.set_cookie(
            SEEN_COOKIE,
            seen_cookie(checkpoint),
            max_age=SEEN_MAX_AGE,
            path=COOKIE_PATH,
            secure=secure_cookies(request),
            httponly=True,
            samesite="strict",
        )
    return page


@router.get("/access-log/bundle")
def download_access_log_bundle(
    request: Request, caller: Caller, db: DbSession, audit_log: AuditService
) -> Response:
    """The access log as an inclusion bundle, as ``GET /v1/me/access-log/bundle`` serves it,
    with the consistency proof from the checkpoint the last visit saw."""
    seen = read_seen(request.cookies.get(SEEN_COOKIE))
    log = whole_access_log(request, db, audit_log, caller)
    return bundle_response(inclusion_bundle(log, audit_log, seen.size if seen else None))


@router.get("/credit-report")
def my_credit_report(pages: PortalPages, caller: Caller, rights: RightsDesk) -> Response:
    """The citizen's own file through the self inquiry channel, as ``GET /v1/me/credit-report``
    serves it (and registers it), with the citizen's objections and their answers (Art. 64)."""
    desk = InquiryDesk(rights.session, rights.audit_log, rights.keys, rights.now)
    answer = inquiries.inquire(desk, Statement(Channel.SELF, caller, None))
    report = SelfReport.model_validate_json(answer.body)
    sources = party_names(
        desk.session,
        {item.source for item in report.items}
        | {note.source for note in report.responsibility_notes},
    )
    return pages.render(
        "credit_report.html",
        nav="credit_report",
        report=report,
        categories=list(ScopeCategory),
        catalog=archive_catalog(),
        sources=sources,
        objections=objections.objections_of_citizen(rights, caller),
        applications=restoration.applications_of_subject(rights, caller),
        today=rights.today,
    )


@router.post("/credit-report/{record_id}/objection")
def file_objection(
    caller: Caller,
    _form: SignedInForm,
    rights: RightsDesk,
    record_id: RecordId,
    reason: Annotated[Text, Form(max_length=500)] = "",
) -> Response:
    """Object to an item of the file, as ``POST /v1/me/objections`` does (Art. 64)."""
    filing = Filing(ObjectionKind.RECORD, reason, record_id)
    objections.file_objection(rights, caller, filing)
    return redirect("/portal/credit-report?notice=objection_filed")


# -- credit reports (Art. 39 para. 5) -----------------------------------------------------


@router.get("/reports")
def my_reports(
    pages: PortalPages, caller: Caller, rights: RightsDesk, factor_desk: FactorsDesk
) -> Response:
    return pages.render(
        "reports.html",
        nav="reports",
        uses=list(ReportUse),
        categories=list(ScopeCategory),
        reports=reports.reports_of(rights, caller),
        prompt=prompter(factor_desk, caller),
    )


@router.post("/reports")
def issue_report(
    caller: Caller,
    _form: SignedInForm,
    rights: RightsDesk,
    settings: AppSettings,
    factor_desk: FactorsDesk,
    factor: Answer,
    use: Annotated[ReportUse, Form()],
    categories: Annotated[list[ScopeCategory] | None, Form()] = None,
) -> Response:
    """Issue a report as ``POST /v1/me/credit-reports`` does (registered, signed), with the
    second factor."""
    validity = timedelta(days=settings.report_validity_days)
    proof = factor.proof(factor_desk, caller, Action.ISSUE_REPORT)
    reports.issue_report(rights, caller, use, frozenset(categories or ()), validity, proof)
    return redirect(f"{REPORTS}?notice=report_issued")


@router.get("/reports/{number}/pdf")
def download_report_pdf(caller: Caller, rights: RightsDesk, number: ReportNumber) -> Response:
    issued = reports.signed_report_of(rights, caller, number)
    assert issued.payload is not None  # signed_report_of: held
    return pdf_response(issued.payload, issued.row.digest, number)


@router.get("/reports/{number}/json")
def download_report_json(caller: Caller, rights: RightsDesk, number: ReportNumber) -> Response:
    """The signed report as a file, in the shape ``GET /v1/me/credit-reports/{number}`` has."""
    issued = reports.signed_report_of(rights, caller, number)
    assert issued.jws is not None and issued.payload is not None  # signed_report_of: held
    body = SignedReportOut(jws=issued.jws, report=issued.payload).model_dump_json(indent=2)
    disposition = f'attachment; filename="credit-report-{number}.json"'
    return Response(
        body, media_type="application/json", headers={"Content-Disposition": disposition}
    )


@router.post("/reports/{number}/withdraw")
def withdraw_report(
    caller: Caller, _form: SignedInForm, rights: RightsDesk, number: ReportNumber
) -> Response:
    reports.withdraw(rights, caller, number)
    return redirect(f"{REPORTS}?notice=report_withdrawn")


# -- notifications -------------------------------------------------------------------------


def _notification_page(
    pages: PortalPages, chosen: PreferencesOut, *, invalid: bool = False
) -> Response:
    return pages.render(
        "notifications.html",
        nav="notifications",
        chosen=chosen,
        events=list(Event),
        invalid=invalid,
        status=422 if invalid else 200,
    )


@router.get("/notifications")
def notification_preferences(
    pages: PortalPages, caller: Caller, db: DbSession, settings: AppSettings
) -> Response:
    row = notifications.preferences(db, caller.subject)
    return _notification_page(pages, preferences_out(row, available_channels(settings)))


@router.post("/notifications")
def choose_notifications(
    request: Request,
    pages: PortalPages,
    caller: Caller,
    _form: SignedInForm,
    db: DbSession,
    settings: AppSettings,
    email: Annotated[Identifier, Form(max_length=254)] = "",
    phone: Annotated[Identifier, Form(max_length=20)] = "",
    email_enabled: Annotated[bool, Form()] = False,
    sms_enabled: Annotated[bool, Form()] = False,
    events: Annotated[list[Identifier] | None, Form()] = None,
    inquiry_digest: Annotated[bool, Form()] = False,
) -> Response:
    """Save the choice as ``PUT /v1/me/notification-preferences`` does."""
    submitted = {
        "email": email.strip() or None,
        "phone": phone.strip() or None,
        "email_enabled": email_enabled,
        "sms_enabled": sms_enabled,
        "events": events or [],
        "inquiry_digest": inquiry_digest,
    }
    try:
        body = PreferencesIn.model_validate(submitted, strict=False)  # a form: all text
    except ValidationError:
        row = notifications.preferences(db, caller.subject)
        chosen = preferences_out(row, available_channels(settings))
        return _notification_page(pages, chosen, invalid=True)
    keys = request.app.state.keys
    notifications.choose(db, keys, caller.subject, body.to_choice(), datetime.now(UTC))
    return redirect("/portal/notifications?notice=notifications_saved")


# -- second factors ------------------------------------------------------------------------


def _factors_page(
    pages: PortalPages,
    caller: Caller,
    factor_desk: FactorDesk,
    registration: PasskeyCeremony | None,
) -> Response:
    enrolled = factors.factors(factor_desk, caller)
    return pages.render(
        "factors.html",
        nav="factors",
        factors=enrolled,
        passkey_enrolled=any(factor.kind == factors.PASSKEY for factor in enrolled),
        registration=registration,
        prompt=prompter(factor_desk, caller),
    )


@router.get("/factors")
def my_factors(pages: PortalPages, caller: Caller, factor_desk: FactorsDesk) -> Response:
    """The citizen's factors; without one, the enrolment of a passkey or a TOTP app."""
    registration = None
    if not factors.factors(factor_desk, caller):
        registration = factors.passkey_registration(factor_desk, caller, None)
    return _factors_page(pages, caller, factor_desk, registration)


@router.post("/factors/passkeys/options")
def passkey_options(
    pages: PortalPages,
    caller: Caller,
    _form: SignedInForm,
    factor_desk: FactorsDesk,
    factor: Answer,
) -> Response:
    """A passkey for a citizen who has a factor already: that factor first (a password alone
    adds no device), then the page with the options to create it."""
    proof = factor.proof(factor_desk, caller, Action.ENROL)
    registration = factors.passkey_registration(factor_desk, caller, proof)
    return _factors_page(pages, caller, factor_desk, registration)


@router.post("/factors/passkeys")
def register_passkey(
    caller: Caller, _form: SignedInForm, factor_desk: FactorsDesk, factor: Answer
) -> Response:
    """The passkey the browser created with the page's options (as ``POST
    /v1/me/factors/passkeys``)."""
    credential = factor.credential()
    factors.register_passkey(factor_desk, caller, factor.passkey_challenge, credential, "")
    return redirect(f"{HOME}?notice=factor_enrolled")


@router.post("/factors/totp")
def provision_totp(
    pages: PortalPages, caller: Caller, _form: SignedInForm, factor_desk: FactorsDesk
) -> Response:
    """A TOTP secret to add to an authenticator app, with the form for its first code."""
    provisioned = factors.provision_totp(factor_desk, caller, "", None)
    return pages.render("totp.html", nav="factors", provisioned=provisioned)


@router.post("/factors/totp/{factor_id}/confirmation")
def confirm_totp(
    caller: Caller,
    _form: SignedInForm,
    factor_desk: FactorsDesk,
    factor_id: Annotated[Identifier, PathParam(pattern=r"^fa_[A-Za-z0-9_-]{1,37}$")],
    code: Annotated[Identifier, Form(max_length=16)] = "",
) -> Response:
    factors.confirm_totp(factor_desk, caller, factor_id, code.strip())
    return redirect(f"{HOME}?notice=factor_enrolled")


# -- decisions -----------------------------------------------------------------------------

Decision = Callable[[ConsentDesk, AccessToken, str, str | None], CitizenGrant]


def _decision_route(decision: Decision, action: Action, done: str) -> Callable[..., Any]:
    def route(
        caller: Caller,
        _form: SignedInForm,
        desk: Desk,
        factor_desk: FactorsDesk,
        grant_id: GrantId,
        factor: Answer,
    ) -> Response:
        decision(desk, caller, grant_id, factor.proof(factor_desk, caller, action, grant_id))
        return redirect(done)

    return route


for _path, _decision, _action, _done in (
    ("/requests/{grant_id}/reject", service.reject, Action.REJECT, f"{HOME}?notice=rejected"),
    ("/consents/{grant_id}/revoke", service.revoke, Action.REVOKE, f"{CONSENTS}?notice=revoked"),
    ("/consents/{grant_id}/resume", service.resume, Action.RESUME, f"{CONSENTS}?notice=resumed"),
):
    router.add_api_route(_path, _decision_route(_decision, _action, _done), methods=["POST"])


@router.post("/consents/{grant_id}/pause")
def pause(caller: Caller, _form: SignedInForm, desk: Desk, grant_id: GrantId) -> Response:
    service.pause(desk, caller, grant_id)
    return redirect(f"{CONSENTS}?notice=paused")
