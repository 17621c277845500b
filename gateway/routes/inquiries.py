"""The five disclosure channels over HTTP (Art. 39 para. 1-2): lawful public disclosure,
government affairs sharing, inquiries based on authority, the real-name verified self inquiry
and authorized inquiries. Each route parses, hands the inquiry to
:func:`gateway.inquiries.service.inquire` - the one path every channel takes - and sends the
bytes it registered. Refusals are problem+json naming the article (403), and are registered
in the audit log like every answer; the public lookup has a per-IP budget of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from gateway.auth import AuthorityInquirer, AuthorizedInquirer, SelfInquirer, SharingInquirer
from gateway.deps import AuditService, DbSession
from gateway.inquiries import service
from gateway.inquiries.schemas import (
    AuthorityAnswer,
    AuthorityInquiryIn,
    AuthorizedAnswer,
    AuthorizedInquiryIn,
    CreditReport,
    SharingAnswer,
    SharingInquiryIn,
    public_statement,
)
from gateway.inquiries.service import Answer, InquiryDesk, Statement
from gateway.problem_handlers import problem_responses
from gateway.ratelimit import PUBLIC_LOOKUP
from redaction.identifiers import IdentifierKind, OtherDocumentType
from redaction.policies import Channel

router = APIRouter(tags=["inquiries"])
INQUIRY_ERRORS = problem_responses(401, 403, 422, 503)
PUBLIC: dict[str, Any] = {"security": []}


def _desk(request: Request, session: DbSession, audit_log: AuditService) -> InquiryDesk:
    return InquiryDesk(session, audit_log, request.app.state.keys, datetime.now(UTC))


Desk = Annotated[InquiryDesk, Depends(_desk)]


def _served(answer: Answer) -> Response:
    return Response(answer.body, media_type="application/json")


@router.post(
    "/v1/inquiries/authorized",
    summary="Authorized inquiry: the categories a consent grants, for its purpose (Art. 61(2))",
    response_model=AuthorizedAnswer,
    responses=INQUIRY_ERRORS,
)
def authorized_inquiry(
    desk: Desk, caller: AuthorizedInquirer, body: AuthorizedInquiryIn
) -> Response:
    return _served(service.inquire(desk, body.to_statement(caller)))


@router.post(
    "/v1/inquiries/sharing",
    summary="Government affairs sharing within the catalog's sharing scope (Art. 39, 40)",
    response_model=SharingAnswer,
    responses=INQUIRY_ERRORS,
)
def sharing_inquiry(desk: Desk, caller: SharingInquirer, body: SharingInquiryIn) -> Response:
    return _served(service.inquire(desk, body.to_statement(caller)))


@router.post(
    "/v1/inquiries/authority",
    summary="Inquiry based on authority: a registered legal basis and a case (Art. 39, 40, 69)",
    response_model=AuthorityAnswer,
    responses=INQUIRY_ERRORS,
)
def authority_inquiry(desk: Desk, caller: AuthorityInquirer, body: AuthorityInquiryIn) -> Response:
    return _served(service.inquire(desk, body.to_statement(caller)))


@router.get(
    "/v1/me/credit-report",
    summary="My whole file with sources, versions and reasons for change (Art. 39, 63)",
    response_model=CreditReport,
    responses=INQUIRY_ERRORS,
    tags=["citizens"],
)
def my_credit_report(desk: Desk, caller: SelfInquirer) -> Response:
    return _served(service.inquire(desk, Statement(Channel.SELF, caller, None)))


@router.get(
    PUBLIC_LOOKUP,
    summary="Lawfully public information, desensitized (Art. 39, 40); the same answer for an "
    "unknown subject and one with nothing public",
    response_model=CreditReport,
    responses=problem_responses(422, 429, 503),
    openapi_extra=PUBLIC,
)
def public_lookup(
    desk: Desk,
    identifier: Annotated[
        str, Path(min_length=1, max_length=64, description="ID number or credit code")
    ],
    kind: Annotated[IdentifierKind | None, Query(description="Inferred when absent")] = None,
    document_type: Annotated[OtherDocumentType | None, Query()] = None,
) -> Response:
    return _served(service.inquire(desk, public_statement(identifier, kind, document_type)))
