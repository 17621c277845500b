"""The five disclosure channels of Art. 39, end to end, along ONE path for every channel:

authenticate (the route's typed caller, :mod:`gateway.auth`) -> decide (the channel's rule:
:mod:`consent.channels` for who may use it and what an agency may ask, :mod:`consent.inquiry`
for a consent grant) -> read the archive and redact (:mod:`gateway.archive`,
:mod:`redaction.engine`) -> register the inquiry in the audit log, durable before anything is
answered (Art. 39 para. 3) -> respond with the leaf's index and hash, whose inclusion proof the
requester fetches once a signed checkpoint covers it.

Every inquiry is registered. An allowed one: the channel, the requester, the grant and purpose
or the legal basis, the categories it was decided on and a commitment to the exact bytes served.
A refused one: what it asked for and the reason code of the refusal (403 with the article, 404,
422 ...) - also one refused for its shape before any of it could be read
(:func:`register_malformed`). A request without valid credentials never gets here: it is only
counted. When the log cannot make the entry durable the inquiry fails with 503 and nothing is
served (fail closed).

Leaves hold no personal data: the subject is a commitment to its internal key, opened (with the
key, for the subject's access log, Art. 63) only inside the gateway; an inquiry based on
authority names its case only as a commitment to the case reference, government affairs sharing
the duty it serves only as a commitment to the stated duty (Art. 40 para. 1), which the answer
carries. Lawful public disclosure
is registered under a subject commitment nobody can open: the public's lookups of public
information count in the log but are never linked to a subject, so the log does not become a
register of whose public record was looked up - and an unknown subject and one with nothing
public get the same answer and the same kind of entry.

The authorized channel counts the grant's use in the transaction that makes its allowed entry
durable (the entry's settlement, :class:`CountedUse`): atomically, under the log's lock, and
with the entry or not at all; the request itself writes nothing, so it never competes with the
log for SQLite's one write lock. A revocation committed after the decision denies the inquiry
then: the count fails, nothing is served and the denial is registered after the allowed entry.
The log may hold an allowed inquiry that was not answered, never an answer that is not in the
log. The same transaction writes which records the establishment received, by the entry's leaf
index, so that it is told when their display stops (Art. 67, :mod:`gateway.rights`).
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import orjson
from sqlmodel import Session

from audit.errors import AuditUnavailable
from audit.leaf import AuditEvent, CommitmentDomain, EventKind, Outcome
from audit.leaf import Channel as LeafChannel
from audit.sequencer import Appended
from consent.channels import USE_RESTRICTION, admit, check_authority, check_sharing
from consent.clients import CITIZEN_REQUESTER, PUBLIC_REQUESTER, Role
from consent.errors import InvalidTokenError
from consent.inquiry import Inquiry, check_inquiry, count_uses
from consent.rfc9068 import AccessToken
from gateway.archive.service import archive_catalog, view_for
from gateway.archive.views import FileRevision
from gateway.audit_log.repository import Openings
from gateway.audit_log.service import AuditLog, Sealed, seal
from gateway.consents.repository import SqlGrantStore, every_use_counted
from gateway.consents.service import RESTRICTED, SubjectRef
from gateway.inquiries.reads import current_legal_bases_of, notes_about, sector_of
from gateway.keys import GatewayKeys
from gateway.oauth.repository import RevocationCheck
from gateway.parties.accounts import actor_of, caller_identifier
from gateway.parties.models import in_force
from gateway.rights.repository import Received, add_disclosures, disclosures
from gateway.storage.reads import Query
from gateway.subjects import subject_key
from gateway.telemetry import SPAN_POLICY, UNAUTHENTICATED, count_inquiry, tracer
from problems import GatewayError
from redaction.catalog import ANNOUNCED_WHEN_STOPPED, RESTRICTED_CATEGORIES, ScopeCategory
from redaction.engine import CreditView
from redaction.identifiers import SubjectIdentifier, parse_identifier
from redaction.periods import local_date
from redaction.policies import Access, Channel

CASE_PREFIX = "case:"
DUTY_PREFIX = "duty:"
ALLOWED, DENIED, UNAVAILABLE = "allowed", "denied", "unavailable"

LEAF_CHANNELS: Mapping[Channel, LeafChannel] = {
    Channel.PUBLIC: LeafChannel.LAWFUL_PUBLIC_DISCLOSURE,
    Channel.SHARING: LeafChannel.GOVERNMENT_AFFAIRS_SHARING,
    Channel.AUTHORITY: LeafChannel.INQUIRY_BASED_ON_AUTHORITY,
    Channel.SELF: LeafChannel.REAL_NAME_VERIFIED_INQUIRY,
    Channel.AUTHORIZED: LeafChannel.AUTHORIZED_INQUIRY,
}


@dataclass(frozen=True)
class InquiryDesk:
    """What one unit of work inquires with, and the instant it acts at; ``revocation``: the
    inquirer's token still to be checked, by the inquiry's reads (:func:`prepare`)."""

    session: Session
    audit_log: AuditLog
    keys: GatewayKeys
    now: datetime
    revocation: RevocationCheck | None = None


@dataclass(frozen=True)
class Statement:
    """An inquiry as the requester made it, before any check. ``subject`` None: the caller's
    own file (self inquiry); ``caller`` None: anonymous (public)."""

    channel: Channel
    caller: AccessToken | None
    subject: SubjectRef | None
    grant_id: str = ""
    purpose: str = ""
    categories: frozenset[ScopeCategory] = frozenset()
    legal_basis: str = ""
    case_reference: str = ""
    duty: str = ""


@dataclass(frozen=True)
class Subject:
    identifier: SubjectIdentifier
    key: str


@dataclass
class CountedUse:
    """The settlement of an authorized inquiry (:data:`gateway.audit_log.repository.Settlement`),
    written in the transaction of its allowed entry: one use of the grant counted atomically
    and the records of information on untrustworthiness the establishment received, by the
    entry's index (``record_ids``: whom Art. 67 has the gateway tell when their display stops,
    :mod:`gateway.rights.notices`; no other record is kept as received) - or, when the grant
    changed since the decision, neither, and the denial naming what changed. The uses of a
    batch's inquiries are settled together (:meth:`settle_all`)."""

    inquiry: Inquiry
    now: datetime
    record_ids: tuple[str, ...]
    denial: GatewayError | None = None

    def __call__(self, session: Session, leaf_index: int) -> None:
        CountedUse.settle_all(session, [(leaf_index, self)])

    @staticmethod
    def settle_all(session: Session, uses: Sequence[tuple[int, CountedUse]]) -> None:
        """The uses counted as one after the other would be (:func:`count_uses`: the grants
        that cover all theirs in one statement), then the records of the inquiries counted, in
        one statement. Run again when another settlement of the batch failed."""
        grants = SqlGrantStore(session, skip_locked=True)
        asked = [(use.inquiry, use.now) for _, use in uses]
        denials = count_uses(grants, asked, restricted=RESTRICTED)
        received = []
        for (leaf_index, use), denial in zip(uses, denials, strict=True):
            use.denial = denial
            if denial is None:
                received.append(Received(leaf_index, use.inquiry.requester, use.record_ids))
        add_disclosures(session, received)

    @staticmethod
    def settle_in_one(uses: Sequence[tuple[int, CountedUse]]) -> list[tuple[Query, Any]]:
        """PostgreSQL, for a transaction sent whole (:meth:`settle_all`'s, in one round trip):
        the uses counted in ONE statement that fails, aborting the transaction, unless every
        grant covered all the uses asked of it - then nothing is denied, as
        :meth:`settle_all` would find - and the disclosures of them all."""
        asked = Counter(use.inquiry.grant_id for _, use in uses)
        instants = [use.now for _, use in uses]
        received = [Received(index, use.inquiry.requester, use.record_ids) for index, use in uses]
        disclosed = disclosures("postgresql", received)
        counted = every_use_counted(asked, min(instants), max(instants))
        return [counted] if disclosed is None else [counted, disclosed]


@dataclass(frozen=True)
class Decision:
    """What the channel's rule allowed: the redaction access, the categories the inquiry is
    registered with (None: those served), the answer's channel members, the settlement of
    the view served (None: nothing to settle) and the revision of the subject's file when the
    decision read it (None: the view reads it)."""

    access: Access
    categories: frozenset[ScopeCategory] | None = None
    terms: Mapping[str, object] = field(default_factory=dict)
    settle: Callable[[CreditView], CountedUse] | None = None
    file: FileRevision | None = None


@dataclass(frozen=True)
class Answer:
    """The served document (see :func:`canonical_json`) with its receipt ``audit``."""

    body: bytes


def inquire(desk: InquiryDesk, statement: Statement) -> Answer:
    """Decide, read, redact, register, answer; every refusal is registered and re-raised."""
    return register(prepare(desk, statement))


@dataclass(frozen=True)
class Prepared:
    """An inquiry decided, read and redacted, not yet registered: what :func:`register`
    writes to the log, without the unit of work it was read in. ``refusal``: the inquiry was
    refused (nothing is served); else ``served`` is the answer, registered with ``categories``
    and counted by ``settlement`` (None: nothing to count)."""

    audit_log: AuditLog
    now: datetime
    statement: Statement
    subject: Subject | None
    refusal: GatewayError | None = None
    served: bytes = b""
    categories: frozenset[ScopeCategory] = frozenset()
    settlement: CountedUse | None = None
    actor: str = ""


def prepare(desk: InquiryDesk, statement: Statement) -> Prepared:
    """Decide, read and redact in ``desk``'s unit of work; a refusal is returned, not raised,
    so that :func:`register` registers it. Reads only: the unit of work can end before the
    inquiry is registered. The inquirer's token, when its revocation is still to check, is
    refused (``InvalidTokenError``, nothing to register) unless a read found it good - the
    authorized inquiry's own, else one of its own here."""
    prepared = _prepared(desk, statement)
    if desk.revocation is not None:
        try:
            desk.revocation.settle(desk.session)
        except InvalidTokenError:
            count_inquiry(statement.channel.value, UNAUTHENTICATED)
            raise
    return prepared


def _prepared(desk: InquiryDesk, statement: Statement) -> Prepared:
    subject: Subject | None = None
    refused = partial(Prepared, desk.audit_log, desk.now, statement)
    try:
        with tracer.start_as_current_span(SPAN_POLICY):
            subject = _named_subject(desk, statement)
            _admit(statement)
            subject = subject or _own_subject(desk, statement)
            decision = _DECISIONS[statement.channel](desk, statement, subject)
        rendered = view_for(
            desk.session, desk.keys, decision.access, desk.now, decision.categories, decision.file
        )
        view = rendered.view
        served = canonical_json({**rendered.document, **decision.terms})
    except GatewayError as refusal:
        return refused(subject, refusal)
    categories = decision.categories
    if categories is None:
        categories = frozenset(item.scope_category for item in view.items)
    return Prepared(
        desk.audit_log,
        desk.now,
        statement,
        subject,
        served=served,
        categories=categories,
        settlement=decision.settle(view) if decision.settle else None,
        actor=_actor(desk, statement),
    )


def register(prepared: Prepared) -> Answer:
    """Register a prepared inquiry, durable before it is answered; a refusal - also the grant's
    use found spent or revoked when it is counted - is registered and raised. Waits in the
    calling thread (:func:`register_async`: on the event loop)."""
    return _at_once(_registration(prepared, _at_once_appending(prepared.audit_log)))


async def register_async(prepared: Prepared) -> Answer:
    """:func:`register` awaiting the log on the event loop, with no thread waiting. The caller
    must let it finish even when its request is cancelled (a denial after a refused settlement
    is registered after the allowed entry): :func:`gateway.offload.run_to_the_end`."""
    return await _registration(prepared, prepared.audit_log.append_async)


async def register_malformed(
    audit_log: AuditLog, now: datetime, statement: Statement, refusal: GatewayError
) -> None:
    """Register an inquiry refused for its shape (nothing of it could be read: no subject),
    awaiting the log on the event loop; the caller lets it finish as :func:`register_async`'s."""
    prepared = Prepared(audit_log, now, statement, None)
    await audit_log.append_async(*_refusal(prepared, None, refusal))


def canonical_json(document: Mapping[str, object]) -> bytes:
    """The bytes an answer's response commitment covers: the answer without its ``audit``
    member, keys sorted, no whitespace, UTF-8 (non-ASCII characters as they are)."""
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


# -- the subject ---------------------------------------------------------------------------


def _named_subject(desk: InquiryDesk, statement: Statement) -> Subject | None:
    """The subject the request names, resolved first so that a refusal is registered against
    it (the subject sees refused inquiries too, Art. 63)."""
    if statement.subject is None:
        return None
    ref = statement.subject
    identifier = parse_identifier(
        ref.kind, ref.value, document_type=ref.document_type, on=desk.now.date()
    )
    return Subject(identifier, subject_key(desk.keys, identifier))


def _own_subject(desk: InquiryDesk, statement: Statement) -> Subject:
    """The signed-in citizen's own file (known once the citizen is admitted)."""
    assert statement.caller is not None  # admitted: a citizen's token
    identifier = caller_identifier(desk.session, statement.caller, desk.now)
    return Subject(identifier, subject_key(desk.keys, identifier))


def _admit(statement: Statement) -> None:
    if statement.channel is Channel.PUBLIC:
        return
    assert statement.caller is not None  # every other channel's route requires a token
    admit(statement.channel, statement.caller.role, statement.caller.scope)


# -- the channels' decisions ---------------------------------------------------------------


def _public(_desk: InquiryDesk, _statement: Statement, subject: Subject) -> Decision:
    return Decision(Access.public(PUBLIC_REQUESTER, subject.identifier))


def _own(desk: InquiryDesk, statement: Statement, subject: Subject) -> Decision:
    """The whole file, or the categories the subject chose (a report of some, Art. 39
    para. 5), with the Art. 32 notes of the entities the person is responsible for."""
    notes, file = notes_about(desk.session, subject.key, desk.revocation)
    return Decision(
        Access.own(CITIZEN_REQUESTER, subject.identifier),
        statement.categories or None,
        {"responsibility_notes": notes},
        file=file,
    )


def _sharing(desk: InquiryDesk, statement: Statement, subject: Subject) -> Decision:
    client_id = _client_id(statement)
    found, file = sector_of(desk.session, client_id, subject.key, desk.revocation)
    sector = check_sharing(found, statement.duty, statement.categories, archive_catalog())
    return Decision(
        Access.sharing(client_id, subject.identifier, sector),
        statement.categories,
        {"sector": sector.value, "duty": statement.duty, "use_restriction": USE_RESTRICTION},
        file=file,
    )


def _authority(desk: InquiryDesk, statement: Statement, subject: Subject) -> Decision:
    client_id = _client_id(statement)
    bases, file = current_legal_bases_of(desk.session, client_id, subject.key, desk.revocation)
    today = local_date(desk.now)
    registered = {
        basis.code: frozenset(ScopeCategory(category) for category in basis.categories)
        for basis in bases
        if in_force(basis, today)
    }
    lapsed = frozenset(basis.code for basis in bases if not in_force(basis, today))
    categories = check_authority(
        statement.legal_basis, statement.case_reference, statement.categories, registered, lapsed
    )
    terms = {
        "legal_basis": statement.legal_basis,
        "case_reference": statement.case_reference,
        "use_restriction": USE_RESTRICTION,
    }
    access = Access.authority(client_id, subject.identifier, categories)
    return Decision(access, categories, terms, file=file)


def _authorized(desk: InquiryDesk, statement: Statement, subject: Subject) -> Decision:
    caller = _caller(statement)
    inquiry = Inquiry(
        grant_id=statement.grant_id,
        requester=caller.client_id,
        subject_key=subject.key,
        purpose=statement.purpose,
        categories=frozenset(category.value for category in statement.categories),
        token_grants=caller.named_grants,
    )
    store = SqlGrantStore(desk.session)
    grant, file = store.get_with_file(inquiry.grant_id, subject.key, desk.revocation)
    check_inquiry(grant, inquiry, now=desk.now, restricted=RESTRICTED)

    def settle(view: CreditView) -> CountedUse:
        announced = (item for item in view.items if item.category is ANNOUNCED_WHEN_STOPPED)
        return CountedUse(inquiry, desk.now, tuple(item.record_id for item in announced))

    access = Access.authorized(
        inquiry.requester,
        subject.identifier,
        statement.categories,
        statement.categories & RESTRICTED_CATEGORIES,
    )
    terms = {"grant_id": inquiry.grant_id, "purpose": inquiry.purpose}
    return Decision(access, statement.categories, terms, settle, file)


_DECISIONS: Mapping[Channel, Callable[[InquiryDesk, Statement, Subject], Decision]] = {
    Channel.PUBLIC: _public,
    Channel.SHARING: _sharing,
    Channel.AUTHORITY: _authority,
    Channel.SELF: _own,
    Channel.AUTHORIZED: _authorized,
}


def _caller(statement: Statement) -> AccessToken:
    assert statement.caller is not None  # admitted
    return statement.caller


def _client_id(statement: Statement) -> str:
    return _caller(statement).client_id


# -- registration --------------------------------------------------------------------------


Entry = tuple[AuditEvent, Openings | None, CountedUse | None]
"""An entry to append: the event, its openings and its settlement."""
Append = Callable[[AuditEvent, Openings | None, CountedUse | None], Awaitable[Appended]]


async def _registration(prepared: Prepared, append: Append) -> Answer:
    """The entries registering ``prepared`` takes, each appended with ``append``: what
    :func:`register` and :func:`register_async` both carry out, each waiting its own way."""
    subject, settlement = prepared.subject, prepared.settlement
    if prepared.refusal is not None:
        await append(*_refusal(prepared, subject, prepared.refusal))
        raise prepared.refusal
    assert subject is not None  # an inquiry is only served about a subject
    try:
        appended = await append(*_answer(prepared, subject))
    except AuditUnavailable:
        count_inquiry(prepared.statement.channel.value, UNAVAILABLE)
        raise
    if settlement is not None and settlement.denial is not None:
        await append(*_refusal(prepared, subject, settlement.denial))
        raise settlement.denial
    count_inquiry(prepared.statement.channel.value, ALLOWED)
    return Answer(_with_receipt(prepared.served, appended))


def _at_once_appending(audit_log: AuditLog) -> Append:
    """:meth:`AuditLog.append` as an awaitable that is complete when it is awaited."""

    async def append(
        event: AuditEvent, openings: Openings | None, settlement: CountedUse | None
    ) -> Appended:
        return audit_log.append(event, openings, settlement)

    return append


def _at_once(coroutine: Coroutine[object, None, Answer]) -> Answer:
    """The outcome of a coroutine whose awaits are all complete when awaited (it never
    suspends), run to its end here, without an event loop."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        answer: Answer = done.value
        return answer
    coroutine.close()
    raise RuntimeError("a registration that waits in its thread was suspended")


def _answer(prepared: Prepared, subject: Subject) -> Entry:
    linkable = prepared.statement.channel is not Channel.PUBLIC
    sealed = seal(subject.key, prepared.served if linkable else None, linkable=linkable)
    return _entry(prepared, sealed, prepared.categories, Outcome.ALLOWED, "")


def _refusal(prepared: Prepared, subject: Subject | None, refusal: GatewayError) -> Entry:
    statement = prepared.statement
    count_inquiry(statement.channel.value, DENIED)
    linkable = subject is not None and statement.channel is not Channel.PUBLIC
    sealed = seal(subject.key if subject else "", linkable=linkable)
    return _entry(prepared, sealed, statement.categories, Outcome.DENIED, refusal.reason)


def _entry(
    prepared: Prepared,
    sealed: Sealed,
    categories: frozenset[ScopeCategory],
    outcome: Outcome,
    reason: str,
) -> Entry:
    statement = prepared.statement
    allowed = outcome is Outcome.ALLOWED
    event = AuditEvent(
        time_ms=int(prepared.now.timestamp() * 1000),
        kind=EventKind.INQUIRY,
        channel=LEAF_CHANNELS[statement.channel],
        requester=_requester(statement),
        legal_basis=statement.legal_basis,
        grant_id=statement.grant_id,
        purpose=_purpose(statement, sealed),
        item_categories=frozenset(category.value for category in categories),
        outcome=outcome,
        reason_code=reason,
        subject_commitment=sealed.subject_commitment,
        response_commitment=sealed.response_commitment,
        actor=prepared.actor if allowed else "",
    )
    return event, sealed.openings, prepared.settlement if allowed else None


def _actor(desk: InquiryDesk, statement: Statement) -> str:
    """The person who read an entity's own report for it (its representative or agent)."""
    if statement.channel is not Channel.SELF or statement.caller is None:
        return ""
    return actor_of(desk.session, desk.keys, statement.caller, desk.now)


def _requester(statement: Statement) -> str:
    caller = statement.caller
    if statement.channel is Channel.PUBLIC or caller is None:
        return PUBLIC_REQUESTER
    return CITIZEN_REQUESTER if caller.role is Role.CITIZEN else caller.client_id


def _purpose(statement: Statement, sealed: Sealed) -> str:
    """The grant's purpose, or as a commitment the case of an inquiry on authority or the duty
    a sharing inquiry serves."""
    if statement.case_reference:
        case = statement.case_reference.encode()
        return CASE_PREFIX + sealed.commitment(CommitmentDomain.CASE_REFERENCE, case).hex()
    if statement.duty:
        duty = statement.duty.encode()
        return DUTY_PREFIX + sealed.commitment(CommitmentDomain.DUTY, duty).hex()
    return statement.purpose


def _with_receipt(served: bytes, appended: Appended) -> bytes:
    """The served document with its ``audit`` member (which the commitment cannot cover)."""
    leaf_hash = base64.b64encode(appended.leaf_hash).decode("ascii")
    receipt = {"leaf_index": appended.leaf_index, "leaf_hash": leaf_hash}
    return served[:-1] + b',"audit":' + canonical_json(receipt) + b"}"
