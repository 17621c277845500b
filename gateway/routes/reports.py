"""Report issuance over HTTP (Art. 39 para. 5): the subject issues, lists, downloads (JSON or
PDF) and withdraws reports of its own file; anyone holding a report's number and code asks
whether it is genuine (rate limited like the public lookup). Another subject's report is 404.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from gateway.auth import CitizenReader
from gateway.deps import AppSettings
from gateway.problem_handlers import problem_responses
from gateway.ratelimit import REPORT_VERIFICATION
from gateway.reports import service
from gateway.reports.pdf import render_pdf
from gateway.reports.schemas import (
    ReportIn,
    ReportOut,
    ReportsOut,
    SignedReportOut,
    VerificationOut,
    report_out,
    verification_out,
)
from gateway.reports.service import CODE_PATTERN, NUMBER_PATTERN
from gateway.routes.rights import Desk
from gateway.validation import Identifier, StrictRoute

router = APIRouter(route_class=StrictRoute, tags=["reports"])
ReportNumber = Annotated[
    Identifier, Path(pattern=NUMBER_PATTERN, description="R<yyyymmdd>-<8 chars>")
]
PUBLIC: dict[str, Any] = {"security": []}
PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The PDF"}
}


@router.post(
    "/v1/me/credit-reports",
    status_code=201,
    summary="Issue a signed report of my own file, for a stated use, with a second factor "
    "(Art. 39 para. 5, 61(2))",
    responses=problem_responses(401, 403, 422, 503),
    tags=["citizens"],
)
def issue_report(
    desk: Desk, caller: CitizenReader, settings: AppSettings, body: ReportIn
) -> ReportOut:
    validity = timedelta(days=settings.report_validity_days)
    categories = frozenset(body.categories)
    issued = service.issue_report(desk, caller, body.use, categories, validity, body.second_factor)
    return report_out(issued)


@router.get(
    "/v1/me/credit-reports",
    summary="My issued reports, newest first (Art. 39 para. 5)",
    responses=problem_responses(401, 403),
    tags=["citizens"],
)
def my_reports(desk: Desk, caller: CitizenReader) -> ReportsOut:
    return ReportsOut(reports=[report_out(issued) for issued in service.reports_of(desk, caller)])


@router.get(
    "/v1/me/credit-reports/{number}",
    summary="One of my reports, signed (JWS credit-report+jwt; verify with /oauth/jwks)",
    responses=problem_responses(401, 403, 404, 409, 422),
    tags=["citizens"],
)
def my_signed_report(desk: Desk, caller: CitizenReader, number: ReportNumber) -> SignedReportOut:
    issued = service.signed_report_of(desk, caller, number)
    assert issued.jws is not None and issued.payload is not None  # signed_report_of: held
    return SignedReportOut(jws=issued.jws, report=issued.payload)


@router.get(
    "/v1/me/credit-reports/{number}/pdf",
    summary="One of my reports as PDF, printing its number, code and JWS digest",
    response_class=Response,
    responses={**PDF, **problem_responses(401, 403, 404, 409, 422, 503)},
    tags=["citizens"],
)
def my_report_pdf(desk: Desk, caller: CitizenReader, number: ReportNumber) -> Response:
    issued = service.signed_report_of(desk, caller, number)
    assert issued.payload is not None  # signed_report_of: held
    return pdf_response(issued.payload, issued.row.digest, number)


@router.post(
    "/v1/me/credit-reports/{number}/withdrawal",
    summary="Withdraw one of my reports: verifiers are told, its content is deleted",
    responses=problem_responses(401, 403, 404, 422, 503),
    tags=["citizens"],
)
def withdraw_report(desk: Desk, caller: CitizenReader, number: ReportNumber) -> ReportOut:
    return report_out(service.withdraw(desk, caller, number))


@router.get(
    REPORT_VERIFICATION,
    summary="Is this report genuine? Its status, digest and time of issue, never its content",
    responses=problem_responses(404, 422, 429),
    openapi_extra=PUBLIC,
)
def verify_report(
    desk: Desk,
    number: ReportNumber,
    code: Annotated[Identifier, Query(pattern=CODE_PATTERN, description="The printed code")],
) -> VerificationOut:
    return verification_out(service.verify_report_code(desk, number, code))


def pdf_response(payload: dict[str, Any], digest: str, number: str) -> Response:
    disposition = f'attachment; filename="credit-report-{number}.pdf"'
    return Response(
        render_pdf(payload, digest),
        media_type="application/pdf",
        headers={"Content-Disposition": disposition},
    )
