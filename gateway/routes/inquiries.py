"""The five disclosure channels over HTTP (Art. 39 para. 1-2): lawful public disclosure,
government affairs sharing, inquiries based on authority, the real-name verified self inquiry
and authorized inquiries. Each route parses on the event loop; the inquiry then takes the one
path every channel takes (:func:`gateway.inquiries.service.prepare`, then
:func:`~gateway.inquiries.service.register_async`): its reads in their own unit of work (on
the event loop, on PostgreSQL awaited there) and its registration, which awaits
on the event loop until the entry is durable - both in a task a cancelled request does not
stop; the route answers with the bytes it registered. Refusals are
problem+json naming the article (403), and are registered in the audit log like every answer;
a request that does not match its channel's schema is refused with 422 naming Art. 39 and, from
an authenticated caller (or the public's lookup), registered too (:class:`InquiryRoute`). The
public lookup has a per-IP budget of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlmodel import Session
from starlette.datastructures import State

from consent.rfc9068 import AccessToken
from gateway.auth import (
    AuthorityInquirer,
    AuthorizedInquirer,
    SelfInquirer,
    SharingInquirer,
    inquirer,
    inquiry_caller,
    revocation_of,
    screen_now,
    screen_waits,
)
from gateway.inquiries import service
from gateway.inquiries.errors import MalformedInquiry
from gateway.inquiries.schemas import (
    AuthorityAnswer,
    AuthorityInquiryIn,
    AuthorizedAnswer,
    AuthorizedInquiryIn,
    CreditReport,
    SelfReport,
    SharingAnswer,
    SharingInquiryIn,
    public_statement,
)
from gateway.inquiries.service import InquiryDesk, Statement
from gateway.oauth.repository import RevocationCheck
from gateway.offload import in_thread, run_to_the_end
from gateway.problem_handlers import problem_responses, validation_errors
from gateway.ratelimit import PUBLIC_LOOKUP
from gateway.routes import links
from gateway.storage.bridge import run_on_loop
from gateway.storage.db import kept_unit_of_work
from gateway.validation import Identifier, StrictRoute, checked_body, read_checked
from redaction.identifiers import IdentifierKind, OtherDocumentType
from redaction.policies import Channel

INQUIRY_ERRORS = problem_responses(401, 403, 422, 503)
PUBLIC: dict[str, Any] = {"security": []}
CHANNELS = {
    "/v1/inquiries/authorized": Channel.AUTHORIZED,
    "/v1/inquiries/sharing": Channel.SHARING,
    "/v1/inquiries/authority": Channel.AUTHORITY,
    "/v1/me/credit-report": Channel.SELF,
    PUBLIC_LOOKUP: Channel.PUBLIC,
}


class InquiryRoute(StrictRoute):
    """An inquiry route: a request its schema refuses is answered 422 naming Art. 39 and
    registered as a refused inquiry of its channel - by its authenticated caller, or as the
    public's lookup (a caller without valid credentials on another channel is refused 401
    before its body is read, and only counted).

    A route that declares only the request, its channel's caller and a body is served without
    the framework's dependency solving, which cost about an eighth of an inquiry under load:
    once its body is valid, the route class runs what the framework and the endpoint would -
    the app's screen (:func:`gateway.auth.screen`, its one app-wide dependency), the caller
    (:func:`gateway.auth.inquiry_caller`), the inquiry asked (:func:`_asked`) - with the screen
    in the same hand-over to a worker thread as the inquiry's reads where those are handed
    over (PostgreSQL), and the token's revocation read by the inquiry (:func:`_inquiry`). A
    body that is not valid, and a route with parameters (the public lookup), go through the
    framework, which answers them as it answers any route."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        channel = CHANNELS[self.path]
        direct = self.direct_call(channel)
        model = self._strict_body()

        async def registering(request: Request) -> Response:
            try:
                if direct is not None:
                    if model is not None:
                        request = await read_checked(model, request)
                    body = checked_body(request)
                    if model is None or body is not None:
                        return await direct(request, body)
                return await handler(request)
            except RequestValidationError as invalid:
                refusal = MalformedInquiry(
                    "the inquiry does not match the schema",
                    extra={"errors": validation_errors(request, invalid)},
                )
                caller = getattr(request.state, "access_token", None)
                if channel is Channel.PUBLIC:
                    caller = None
                elif not isinstance(caller, AccessToken):
                    raise refusal from None
                statement = Statement(channel, caller, None)
                audit_log = request.app.state.audit_log
                malformed = service.register_malformed(
                    audit_log, datetime.now(UTC), statement, refusal
                )
                await run_to_the_end(malformed)
                raise refusal from None

        return registering

    def direct_call(self, channel: Channel) -> Callable[[Request, Any], Awaitable[Response]] | None:
        """The route answered with its valid body as its endpoint answers (:func:`_answer` of
        :func:`_asked`), the request screened in the inquiry's task; None when the route
        declares anything but the request, its channel's caller and a strict body (the
        validity of another body would be unknown here)."""
        declared = self.dependant
        parameters = [*declared.path_params, *declared.query_params]
        parameters += [*declared.header_params, *declared.cookie_params]
        callers = declared.dependencies
        request_name = declared.request_param_name
        caller_name = callers[0].name if len(callers) == 1 else None
        if (
            parameters
            or request_name is None
            or caller_name is None
            or callers[0].call is not inquirer(channel)
            or len(declared.body_params) > 1
            or (declared.body_params and self._strict_body() is None)
        ):
            return None

        async def direct(request: Request, body: Any) -> Response:
            def asked() -> Statement:
                return _asked(channel, inquiry_caller(request, channel), body)

            return await _answer(request, asked, screened=False)

        return direct


router = APIRouter(tags=["inquiries"], route_class=InquiryRoute)


class _InquiryBody(Protocol):
    def to_statement(self, caller: AccessToken) -> Statement: ...


def _asked(channel: Channel, caller: AccessToken, body: _InquiryBody | None) -> Statement:
    """What ``caller`` asks through ``channel``'s route: its body's inquiry, or, with no body
    (the self inquiry), the caller's own file."""
    return Statement(channel, caller, None) if body is None else body.to_statement(caller)


async def _answer(
    request: Request, asked: Callable[[], Statement], *, screened: bool = True
) -> Response:
    """The inquiry ``asked()`` states, in a task of its own, which finishes - registered - even
    if the client goes away meanwhile. ``screened`` False: the request is screened
    (:func:`gateway.auth.screen_now`, its token's revocation left to the reads) first, in that
    task, and ``asked`` reads its caller then."""
    answer = await run_to_the_end(_inquiry(request, asked, screened))
    return Response(answer.body, media_type="application/json")


async def _inquiry(
    request: Request, asked: Callable[[], Statement], screened: bool
) -> service.Answer:
    """The reads in their unit of work, then the registration, which awaits its entries on the
    event loop (no thread waits for the log). The reads run on the event loop - on PostgreSQL
    each awaited there (:func:`gateway.storage.bridge.run_on_loop`), on SQLite made there: they
    never wait for a writer (WAL) - with the screen when it is still to run and only reads
    (:func:`screen_waits`); else in one worker thread, screen and reads together: one hand-over
    per inquiry. A screen run here leaves the token's revocation to the inquiry's reads
    (:func:`service.prepare`): an authorized inquiry reads it with its grant and its file, in
    one statement."""
    if screened or not screen_waits(request):
        prepared = await run_on_loop(_screened_prepare, request, asked, screened)
    else:
        prepared = await in_thread(_screened_prepare, request, asked, screened)
    return await service.register_async(prepared)


def _screened_prepare(
    request: Request, asked: Callable[[], Statement], screened: bool
) -> service.Prepared:
    """:func:`_prepare`, the request screened first when it is not yet."""
    if not screened:
        screen_now(request, defer_revocation=True)
    return _prepare(request.app.state, asked(), revocation_of(request))


def _prepare(
    state: State, statement: Statement, revocation: RevocationCheck | None
) -> service.Prepared:
    """Decided, read and redacted in a unit of work that ends before the registration."""
    with kept_unit_of_work(state.engine) as session:
        return service.prepare(_desk(state, session, revocation), statement)


def _desk(state: State, session: Session, revocation: RevocationCheck | None) -> InquiryDesk:
    return InquiryDesk(session, state.audit_log, state.keys, datetime.now(UTC), revocation)


@router.post(
    "/v1/inquiries/authorized",
    summary="Authorized inquiry: the categories a consent grants, for its purpose (Art. 61(2))",
    response_model=AuthorizedAnswer,
    responses={**INQUIRY_ERRORS, **links.INQUIRED},
)
async def authorized_inquiry(
    request: Request, caller: AuthorizedInquirer, body: AuthorizedInquiryIn
) -> Response:
    return await _answer(request, partial(_asked, Channel.AUTHORIZED, caller, body))


@router.post(
    "/v1/inquiries/sharing",
    summary="Government affairs sharing within the catalog's sharing scope (Art. 39, 40)",
    response_model=SharingAnswer,
    responses=INQUIRY_ERRORS,
)
async def sharing_inquiry(
    request: Request, caller: SharingInquirer, body: SharingInquiryIn
) -> Response:
    return await _answer(request, partial(_asked, Channel.SHARING, caller, body))


@router.post(
    "/v1/inquiries/authority",
    summary="Inquiry based on authority: a registered legal basis and a case (Art. 39, 40, 69)",
    response_model=AuthorityAnswer,
    responses=INQUIRY_ERRORS,
)
async def authority_inquiry(
    request: Request, caller: AuthorityInquirer, body: AuthorityInquiryIn
) -> Response:
    return await _answer(request, partial(_asked, Channel.AUTHORITY, caller, body))


@router.get(
    "/v1/me/credit-report",
    summary="My whole file with sources, versions and reasons for change (Art. 39, 63)",
    response_model=SelfReport,
    responses=INQUIRY_ERRORS,
    tags=["citizens"],
)
async def my_credit_report(request: Request, caller: SelfInquirer) -> Response:
    return await _answer(request, partial(_asked, Channel.SELF, caller, None))


@router.get(
    PUBLIC_LOOKUP,
    summary="Lawfully public information, desensitized (Art. 39, 40); the same answer for an "
    "unknown subject and one with nothing public",
    response_model=CreditReport,
    responses=problem_responses(422, 429, 503),
    openapi_extra=PUBLIC,
)
async def public_lookup(
    request: Request,
    identifier: Annotated[
        Identifier, Path(min_length=1, max_length=64, description="ID number or credit code")
    ],
    kind: Annotated[IdentifierKind | None, Query(description="Inferred when absent")] = None,
    document_type: Annotated[OtherDocumentType | None, Query()] = None,
) -> Response:
    statement = public_statement(identifier, kind, document_type)
    return await _answer(request, lambda: statement)
