"""The consent lifecycle as the gateway runs it (Art. 61(2), 62 para. 2-3, Art. 39 para. 3).

Composes the pure rules of :mod:`consent` with storage, the audit log and the webhooks:

* an establishment requests a consent (:func:`request_consent`) - refused at once when it
  amounts to a single lifetime authorization - and reads its own grants;
* only the credit subject, signed in to the gateway's own channel, approves (a subset of the
  categories, restricted ones each with its written consent), rejects, pauses, resumes or
  revokes (:func:`approve` ...); the artefact is signed at approval. Approving, rejecting,
  resuming and revoking also need a fresh proof of a second factor for that very decision
  (:mod:`gateway.factors.service`): without one the decision is refused (Art. 61(2)), the
  refusal registered, and nothing changes;
* the gateway records deadlines and spent uses (:func:`expire_lapsed`, for the scheduler).

Every change is first appended to the audit log - durable before anything is written, and
before the answer; the leaf holds the grant, the requester, the purpose, the categories and a
commitment to the subject, never the subject - then written with one conditional UPDATE and
queued for the establishment's webhook in the request's unit of work, which commits (nothing
here does). The log goes first because on SQLite a transaction that has written holds the
database's only write lock, which the log's own transaction then waits for. On PostgreSQL the
grant is read ``FOR UPDATE``, so the write after the append cannot meet a concurrent change;
on SQLite one can, and the citizen gets 409 (the log then holds a decision that was not
applied, never the reverse).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from audit.leaf import AuditEvent, Channel, Outcome
from audit.leaf import EventKind as LeafKind
from consent.artefact import issue_artefact
from consent.clients import Role
from consent.errors import (
    CompelledAuthorizationError,
    GrantNotFoundError,
    IllegalTransitionError,
    Reason,
    SecondFactorError,
)
from consent.grants import EventKind, Grant, GrantEvent, GrantState, SubjectKind, Transition
from consent.lifecycle import Actor, Approval, effective_state, exhaust, expire
from consent.lifecycle import approve as approve_grant
from consent.lifecycle import pause as pause_grant
from consent.lifecycle import reject as reject_grant
from consent.lifecycle import resume as resume_grant
from consent.lifecycle import revoke as revoke_grant
from consent.purposes import LocalizedText
from consent.receipt import Controller, ReceiptSource, ReceiptSubject, SignedReceipt, issue_receipt
from consent.requests import ConsentRequestDraft, validate_request
from consent.rfc9068 import AccessToken
from consent.step_up import Action, Binding
from gateway.audit_log.service import AuditLog, seal
from gateway.consents.repository import SqlGrantStore, StoredGrant
from gateway.consents.written_consent import Confirmation, written_consents
from gateway.factors.service import spend_proof
from gateway.keys import GatewayKeys
from gateway.oauth.service import AuthServer
from gateway.parties.accounts import actor_of, caller_subject_key
from gateway.parties.repository import party_by_client_id, party_names
from gateway.registry.repository import purpose_registry
from gateway.subjects import requester_pseudonym, subject_key
from gateway.webhooks.outbox import Outbox
from redaction.catalog import RESTRICTED_CATEGORIES
from redaction.identifiers import SubjectIdentifier, parse_identifier
from redaction.identifiers import SubjectKind as IdentifierSubjectKind

RESTRICTED = frozenset(category.value for category in RESTRICTED_CATEGORIES)
COLLECTION_METHOD = "the credit subject's own real-name verified channel of the gateway (Art. 39)"
SWEEP_LIMIT = 500


@dataclass(frozen=True)
class ConsentDesk:
    """What one unit of work changes consents with, and the instant it acts at."""

    session: Session
    audit_log: AuditLog
    keys: GatewayKeys
    server: AuthServer
    now: datetime

    @property
    def grants(self) -> SqlGrantStore:
        return SqlGrantStore(self.session)


@dataclass(frozen=True)
class SubjectRef:
    """A credit subject as a request names it (Art. 34)."""

    kind: str
    value: str
    document_type: str | None = None


@dataclass(frozen=True)
class ConsentRequest:
    """An establishment's consent request as received, before any check."""

    subjects: tuple[SubjectRef, ...]
    other_requesters: tuple[str, ...]
    purpose: str
    categories: tuple[str, ...]
    validity_days: int | None
    max_uses: int | None
    auto_renew: bool = False


@dataclass(frozen=True)
class CitizenGrant:
    """A grant as its subject sees it: with the establishment that asked and its purpose."""

    stored: StoredGrant
    requester_name: str
    purpose_description: LocalizedText


# -- establishments ------------------------------------------------------------------------


def request_consent(desk: ConsentDesk, requester: str, request: ConsentRequest) -> StoredGrant:
    """Validate and store a pending grant; the answer is the same whether or not the subject
    has an account with the gateway."""
    identifiers = [
        parse_identifier(ref.kind, ref.value, document_type=ref.document_type, on=desk.now.date())
        for ref in request.subjects
    ]
    draft = ConsentRequestDraft(
        requesters=(requester, *request.other_requesters),
        subject_keys=tuple(subject_key(desk.keys, identifier) for identifier in identifiers),
        subject_kind=_subject_kind(identifiers),
        purpose=request.purpose,
        categories=request.categories,
        validity_days=request.validity_days,
        max_uses=request.max_uses,
        auto_renew=request.auto_renew,
    )
    transition = validate_request(draft, purpose_registry(desk.session), now=desk.now)
    stored = StoredGrant(
        transition.grant, requester_pseudonym(desk.keys, requester, identifiers[0])
    )
    _log(desk, stored.grant, transition.event)
    desk.grants.add(stored.grant, stored.subject_pseudonym)
    _notify(desk, stored, transition.event)
    return stored


def requested_consent(desk: ConsentDesk, requester: str, grant_id: str) -> StoredGrant:
    """A grant the establishment requested; any other is "not found", never "forbidden"."""
    stored = desk.grants.find(grant_id)
    if stored is None or stored.grant.requester != requester:
        raise GrantNotFoundError("no such consent", reason=Reason.NO_GRANT)
    return stored


# -- the credit subject --------------------------------------------------------------------


def citizen_consents(desk: ConsentDesk, caller: AccessToken) -> list[CitizenGrant]:
    return _with_requesters(desk, desk.grants.of_subject(_actor(desk, caller).principal))


@dataclass(frozen=True)
class StepUp:
    """The decision a second factor must have been verified for, and the proof sent."""

    action: Action
    proof: str | None
    categories: frozenset[str] = frozenset()


def approve(
    desk: ConsentDesk,
    caller: AccessToken,
    grant_id: str,
    categories: Iterable[str],
    confirmations: Iterable[Confirmation],
    second_factor: str | None,
) -> CitizenGrant:
    """Approve ``categories`` (a subset of those requested); each restricted one needs its
    confirmed written consent (Art. 62). The signed artefact is issued now."""
    approval = Approval(frozenset(categories), written_consents(confirmations, desk.now))

    def change(grant: Grant, actor: Actor, now: datetime) -> Transition:
        return approve_grant(grant, approval, actor=actor, now=now, restricted=RESTRICTED)

    step_up = StepUp(Action.APPROVE, second_factor, approval.categories)
    return _decide(desk, caller, grant_id, change, step_up)


def reject(
    desk: ConsentDesk, caller: AccessToken, grant_id: str, second_factor: str | None
) -> CitizenGrant:
    step_up = StepUp(Action.REJECT, second_factor)
    return _decide(desk, caller, grant_id, _plain(reject_grant), step_up)


def revoke(
    desk: ConsentDesk, caller: AccessToken, grant_id: str, second_factor: str | None
) -> CitizenGrant:
    """Revoke; the next inquiry after this unit of work commits is denied."""
    step_up = StepUp(Action.REVOKE, second_factor)
    return _decide(desk, caller, grant_id, _plain(revoke_grant), step_up)


def resume(
    desk: ConsentDesk, caller: AccessToken, grant_id: str, second_factor: str | None
) -> CitizenGrant:
    """Resume a paused consent: it authorizes inquiries again, so it is decided like an
    approval (Art. 61(2))."""
    step_up = StepUp(Action.RESUME, second_factor)
    return _decide(desk, caller, grant_id, _plain(resume_grant), step_up)


def pause(desk: ConsentDesk, caller: AccessToken, grant_id: str) -> CitizenGrant:
    """Pause: it only withholds, so the signed-in session is enough."""
    return _decide(desk, caller, grant_id, _plain(pause_grant))


def receipt(desk: ConsentDesk, caller: AccessToken, grant_id: str) -> SignedReceipt:
    """The signed consent receipt of one of the caller's approved grants."""
    stored = _subject_grant(desk, _actor(desk, caller), grant_id)
    subject = ReceiptSubject(
        stored.grant, _controller(desk, stored.grant.requester), stored.subject_pseudonym
    )
    issuer = desk.server.context.issuer
    source = ReceiptSource(issuer, COLLECTION_METHOD, f"{issuer}/docs")
    return issue_receipt(
        subject,
        source,
        desk.server.keyring,
        purposes=purpose_registry(desk.session, retired=True),
        restricted=RESTRICTED,
        now=desk.now,
    )


# -- the gateway ---------------------------------------------------------------------------


def expire_lapsed(desk: ConsentDesk, limit: int = SWEEP_LIMIT) -> int:
    """Record every grant whose deadline passed (pending or valid) or whose uses are spent;
    returns how many were recorded. Safe to run in several processes at once."""
    lapses = [
        (stored, _lapse(stored.grant, desk.now)) for stored in desk.grants.lapsed(desk.now, limit)
    ]
    for stored, transition in lapses:
        _log(desk, stored.grant, transition.event)
    return sum(_write(desk, stored, transition) is not None for stored, transition in lapses)


def _lapse(grant: Grant, now: datetime) -> Transition:
    if effective_state(grant, now) is GrantState.EXPIRED:
        return expire(grant, now=now)
    return exhaust(grant, now=now)


# -- composition ---------------------------------------------------------------------------

Change = Callable[[Grant, Actor, datetime], Transition]


def _plain(decision: Callable[..., Transition]) -> Change:
    def change(grant: Grant, actor: Actor, now: datetime) -> Transition:
        return decision(grant, actor=actor, now=now)

    return change


def _decide(
    desk: ConsentDesk,
    caller: AccessToken,
    grant_id: str,
    change: Change,
    step_up: StepUp | None = None,
) -> CitizenGrant:
    actor = _actor(desk, caller)
    stored = _subject_grant(desk, actor, grant_id, lock=True)
    if step_up is not None:
        _require_second_factor(desk, caller, stored.grant, step_up)
    person = actor_of(desk.session, desk.keys, caller, desk.now)
    after = _change(desk, stored, change(stored.grant, actor, desk.now), person)
    return _with_requesters(desk, [after])[0]


def _require_second_factor(
    desk: ConsentDesk, caller: AccessToken, grant: Grant, step_up: StepUp
) -> None:
    """Spend the proof of a second factor verified for this very decision; a decision without
    one is registered as refused and changes nothing (Art. 61(2))."""
    binding = Binding(caller.subject, caller.jti, step_up.action, grant.grant_id)
    try:
        spend_proof(desk.session, desk.server, binding, step_up.proof, desk.now)
    except SecondFactorError as refusal:
        asked = step_up.categories & grant.requested_categories  # never free text in a leaf
        _append(desk, grant, desk.now, asked, Outcome.DENIED, refusal.reason)
        raise


def _actor(desk: ConsentDesk, caller: AccessToken) -> Actor:
    """The signed-in credit subject, by subject key - a natural person, or an entity through
    its legal representative or an agent it authorized; nobody else acts (Art. 61(2))."""
    if caller.role is not Role.CITIZEN:
        raise CompelledAuthorizationError(
            "only the credit subject may decide on a consent",
            reason=Reason.COMPELLED_AUTHORIZATION,
        )
    key = caller_subject_key(desk.session, desk.keys, caller, desk.now)
    return Actor(Role.CITIZEN, key)


def _subject_grant(
    desk: ConsentDesk, actor: Actor, grant_id: str, *, lock: bool = False
) -> StoredGrant:
    """A grant about the acting subject; a missing one and another's answer the same."""
    stored = desk.grants.find(grant_id, lock=lock)
    if stored is None or stored.grant.subject_key != actor.principal:
        raise GrantNotFoundError("no such consent", reason=Reason.NOT_SUBJECT)
    return stored


def _change(
    desk: ConsentDesk, before: StoredGrant, transition: Transition, person: str
) -> StoredGrant:
    """Log, then write the subject's decision (with the artefact when it is an approval);
    ``person``: who decided for an entity (the leaf's actor), else empty."""
    artefact = None
    if transition.event.kind is EventKind.APPROVED:
        artefact = issue_artefact(
            transition.grant,
            desk.server.keyring,
            issuer=desk.server.context.issuer,
            subject_pseudonym=before.subject_pseudonym,
            now=desk.now,
        )
    _log(desk, before.grant, transition.event, person)
    after = _write(desk, before, transition, artefact)
    if after is None:
        raise IllegalTransitionError(
            "the consent changed meanwhile; read it again", reason=Reason.CONCURRENT_CHANGE
        )
    return after


def _write(
    desk: ConsentDesk, before: StoredGrant, transition: Transition, artefact: str | None = None
) -> StoredGrant | None:
    """Write the change unless the grant changed since it was read; queue the webhook."""
    if not desk.grants.record(transition.grant, before.grant.state, artefact):
        return None
    after = StoredGrant(transition.grant, before.subject_pseudonym, artefact or before.artefact)
    _notify(desk, after, transition.event)
    return after


def _log(desk: ConsentDesk, grant: Grant, event: GrantEvent, person: str = "") -> None:
    """Append ``event`` to the audit log; returns once it is durable (fails closed)."""
    categories = frozenset(event.categories)
    _append(desk, grant, event.at, categories, Outcome.ALLOWED, event.kind.value, person)


def _append(
    desk: ConsentDesk,
    grant: Grant,
    at: datetime,
    categories: frozenset[str],
    outcome: Outcome,
    reason: str,
    person: str = "",
) -> None:
    sealed = seal(grant.subject_key)
    desk.audit_log.append(
        AuditEvent(
            time_ms=int(at.timestamp() * 1000),
            kind=LeafKind.CONSENT_CHANGE,
            channel=Channel.AUTHORIZED_INQUIRY,
            requester=grant.requester,
            legal_basis="",
            grant_id=grant.grant_id,
            purpose=grant.purpose,
            item_categories=categories,
            outcome=outcome,
            reason_code=reason,
            subject_commitment=sealed.subject_commitment,
            actor=person,
        ),
        sealed.openings,
    )


def _notify(desk: ConsentDesk, stored: StoredGrant, event: GrantEvent) -> None:
    """Queue ``event`` for the establishment's webhook, named by its own pseudonym only."""
    data = {
        **event.as_json(),
        "state": stored.grant.state.value,
        "subject": stored.subject_pseudonym,
    }
    outbox = Outbox(desk.session, desk.server.keyring, desk.server.context.issuer)
    outbox.notify(stored.grant.requester, f"consent.{event.kind.value}", data, desk.now)


def _with_requesters(desk: ConsentDesk, grants: list[StoredGrant]) -> list[CitizenGrant]:
    """Each grant with the name of the establishment that asked (its client id if unknown) and
    the description of its purpose (retired purposes too)."""
    names = party_names(desk.session, (stored.grant.requester for stored in grants))
    registry = purpose_registry(desk.session, retired=True)
    return [
        CitizenGrant(
            stored,
            names.get(stored.grant.requester, stored.grant.requester),
            registry.get(stored.grant.purpose).description,
        )
        for stored in grants
    ]


def _controller(desk: ConsentDesk, client_id: str) -> Controller:
    """The establishment as the receipt's PII controller; unknown contact details are empty."""
    party = party_by_client_id(desk.session, client_id)
    if party is None:
        return Controller(client_id, client_id, client_id, "", "", "")
    return Controller(
        client_id=client_id,
        name=party.name,
        contact=party.name,
        address=party.postal_address or "",
        email=party.contact_email or "",
        phone=party.contact_phone or "",
    )


def _subject_kind(identifiers: list[SubjectIdentifier]) -> SubjectKind:
    if identifiers and identifiers[0].subject_kind is IdentifierSubjectKind.LEGAL:
        return SubjectKind.LEGAL_PERSON
    return SubjectKind.NATURAL_PERSON
