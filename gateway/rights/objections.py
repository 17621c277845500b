"""Art. 64: objections - the credit subject objects, the holder verifies and answers in time.

A citizen signed in to the gateway files an objection (:func:`file_objection`) with its reason
and, optionally, a reference to an attachment of the written application:

* about public credit information in the archive (``record``, para. 1): it names the record,
  which must be in the citizen's own file; its holder is the providing unit that submitted it,
  and the record is labelled ``under_objection`` in every view while the objection is open -
  still disclosed and used, as the article says;
* about an omission (``omission``, para. 1: public credit information that "contains ...
  omissions"): there is no record to name; it names the registered providing unit that should
  hold the information and, optionally, the catalog item missing. Its answer supplements
  (``corrected``: the unit submits the record like any other) or upholds, never deletes;
* about a comprehensive or industry credit assessment (``assessment``, para. 2) or market
  credit information (``market_information``, para. 3): it names the record it concerns, if the
  archive holds one, or the registered providing unit that holds the information.

The holder lists what it must answer and answers once (:func:`answer_objection`): ``corrected``
(a record is corrected by :func:`gateway.archive.service.correct_record`, a new version with its
reason), ``deleted`` (a record is stopped as deleted, :func:`~gateway.archive.service.stop_record`:
served to nobody, the subject told it was deleted) or ``upheld``, always with its reasons. The
label goes with the answer, which the citizen reads with their objections (feedback, para. 4).
The answer is due on the last of ``GATEWAY_OBJECTION_DEADLINE`` working days after the filing
(:mod:`gateway.rights.deadlines`); regulators see those overdue per holder
(:mod:`gateway.rights.oversight`).

Each step is registered before it is written (:func:`gateway.rights.service.register`); an
answer's own leaf comes before the record change's, which the archive writes at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from enum import StrEnum

from audit.leaf import EventKind
from consent.clients import Role
from consent.rfc9068 import AccessToken
from gateway.archive.models import RecordRow
from gateway.archive.repository import label_under_objection
from gateway.archive.service import (
    Correction,
    archive_catalog,
    check_change,
    correct_record,
    own_record,
    stop_record,
)
from gateway.parties.accounts import (
    account_identifier,
    acting_account,
    actor_of,
    caller_subject_key,
)
from gateway.parties.repository import party_by_client_id, party_names
from gateway.rights import repository
from gateway.rights.errors import (
    AlreadyUnderObjection,
    ObjectionAnswered,
    ObjectionInvalid,
    ObjectionNotFound,
)
from gateway.rights.models import Objection, ObjectionState
from gateway.rights.service import RightsDesk, Step, register
from redaction.changes import checked_reason
from redaction.identifiers import SubjectIdentifier
from redaction.periods import local_date
from redaction.records import RecordStatus

CITIZEN = Role.CITIZEN.value
"""A citizen is registered by role, never by an identifier (:mod:`audit.leaf`)."""
FILED = "filed"


class ObjectionKind(StrEnum):
    """What the objection is about (Art. 64 para. 1, 2 and 3)."""

    RECORD = "record"
    OMISSION = "omission"
    ASSESSMENT = "assessment"
    MARKET_INFORMATION = "market_information"


class AnswerOutcome(StrEnum):
    CORRECTED = "corrected"
    DELETED = "deleted"
    UPHELD = "upheld"


@dataclass(frozen=True)
class Filing:
    """An objection as the citizen states it, before any check."""

    kind: ObjectionKind
    reason: str
    record_id: str | None = None
    holder: str | None = None
    attachment_ref: str | None = None
    item_code: str | None = None


@dataclass(frozen=True)
class Answer:
    """The holder's answer; ``correction`` is the corrected record, for ``corrected`` only."""

    outcome: AnswerOutcome
    reason: str
    correction: Correction | None = None


@dataclass(frozen=True)
class FiledObjection:
    """An objection as its subject sees it: with the registered name of its holder."""

    objection: Objection
    holder_name: str


@dataclass(frozen=True)
class HeldObjection:
    """An objection as its holder sees it: with the subject's archive index (Art. 34), which
    the holder needs to verify the information."""

    objection: Objection
    subject: SubjectIdentifier


@dataclass(frozen=True)
class _Target:
    record: RecordRow | None
    holder: str
    item_code: str | None


# -- the credit subject --------------------------------------------------------------------


def file_objection(desk: RightsDesk, caller: AccessToken, filing: Filing) -> FiledObjection:
    """Register and store the objection of the subject the caller acts for (a person, or an
    entity through its representative or agent), labelling its record."""
    account = acting_account(desk.session, caller, desk.now)
    subject_key = caller_subject_key(desk.session, desk.keys, caller, desk.now)
    reason = checked_reason(filing.reason)
    target = _target(desk, subject_key, filing)
    record = target.record
    objection = Objection(
        objection_id=f"obj_{uuid.uuid4().hex}",
        kind=filing.kind.value,
        citizen_id=account,
        subject_key=subject_key,
        record_id=record.record_id if record else None,
        item_code=target.item_code,
        holder=target.holder,
        reason=reason,
        attachment_ref=filing.attachment_ref,
        state=ObjectionState.OPEN.value,
        filed_at=desk.now,
        due_on=desk.deadlines.objection_due(desk.today),
        filed_leaf=0,
    )
    step = objection_step(objection, CITIZEN, FILED)
    actor = actor_of(desk.session, desk.keys, caller, desk.now)
    objection.filed_leaf = register(desk, replace(step, actor=actor))
    repository.add(desk.session, objection)
    if record is not None:
        label_under_objection(desk.session, record.record_id, labelled=True)
    return _filed(desk, [objection])[0]


def objections_of_citizen(desk: RightsDesk, caller: AccessToken) -> list[FiledObjection]:
    """The objections of the subject the caller acts for, with their answers (feedback,
    Art. 64 para. 4), newest first."""
    subject_key = caller_subject_key(desk.session, desk.keys, caller, desk.now)
    return _filed(desk, repository.objections_of(desk.session, subject_key=subject_key))


def _filed(desk: RightsDesk, objections: list[Objection]) -> list[FiledObjection]:
    names = party_names(desk.session, {objection.holder for objection in objections})
    return [
        FiledObjection(objection, names.get(objection.holder, objection.holder))
        for objection in objections
    ]


def _target(desk: RightsDesk, subject_key: str, filing: Filing) -> _Target:
    if filing.record_id is not None:
        if filing.holder is not None or filing.item_code is not None:
            raise ObjectionInvalid("an objection names its record or its holder, not both")
        if filing.kind is ObjectionKind.OMISSION:
            raise ObjectionInvalid("an objection to an omission names its holder, no record")
        record = _own_record(desk, subject_key, filing.record_id)
        return _Target(record, record.provider, record.item_code)
    if filing.kind is ObjectionKind.RECORD:
        raise ObjectionInvalid("an objection to public credit information names its record")
    if filing.holder is None:
        raise ObjectionInvalid("an objection names the record it concerns or its holder")
    party = party_by_client_id(desk.session, filing.holder)
    if party is None or party.disabled or party.role != Role.PROVIDER.value:
        raise ObjectionInvalid("the holder is not a registered providing unit")
    if filing.item_code is not None and archive_catalog().get(filing.item_code) is None:
        raise ObjectionInvalid("the item named is not in the catalog")
    return _Target(None, filing.holder, filing.item_code)


def _own_record(desk: RightsDesk, subject_key: str, record_id: str) -> RecordRow:
    """A record of the subject's file as the subject sees it, not under objection yet."""
    row = own_record(desk.archive(), subject_key, record_id, "Art. 64")
    if repository.open_objection_on(desk.session, record_id) is not None:
        raise AlreadyUnderObjection(f"record {record_id} is already under objection")
    return row


# -- the holder ----------------------------------------------------------------------------


def held_objections(desk: RightsDesk, holder: str) -> list[HeldObjection]:
    """The objections ``holder`` must answer or has answered, newest first."""
    return [_held_view(desk, row) for row in repository.objections_of(desk.session, holder=holder)]


def _held_view(desk: RightsDesk, objection: Objection) -> HeldObjection:
    return HeldObjection(
        objection, account_identifier(desk.session, objection.citizen_id, desk.now)
    )


def answer_objection(
    desk: RightsDesk, holder: str, objection_id: str, answer: Answer
) -> HeldObjection:
    """Register the answer, apply it to the record (if any), store it and lift the label."""
    objection = _held(desk, holder, objection_id)
    reason = checked_reason(answer.reason)
    _check_answer(desk, objection, answer)
    leaf = register(desk, objection_step(objection, holder, answer.outcome.value))
    _apply(desk, objection, answer)
    values = {
        "state": ObjectionState.ANSWERED.value,
        "outcome": answer.outcome.value,
        "answer_reason": reason,
        "answered_at": desk.now,
        "answered_leaf": leaf,
    }
    if not repository.answer(desk.session, objection_id, values):
        raise ObjectionAnswered(f"objection {objection_id} was answered meanwhile")
    if objection.record_id is not None:
        label_under_objection(desk.session, objection.record_id, labelled=False)
    answered = repository.objection(desk.session, objection_id)
    assert answered is not None  # just updated
    return _held_view(desk, answered)


def _held(desk: RightsDesk, holder: str, objection_id: str) -> Objection:
    objection = repository.objection(desk.session, objection_id, lock=True)
    if objection is None or objection.holder != holder:
        raise ObjectionNotFound("no such objection to answer")
    if objection.state != ObjectionState.OPEN.value:
        raise ObjectionAnswered(f"objection {objection_id} was answered already")
    return objection


def _check_answer(desk: RightsDesk, objection: Objection, answer: Answer) -> None:
    """Raise unless the answer can be applied as it stands (nothing is registered before)."""
    if objection.kind == ObjectionKind.OMISSION and answer.outcome is AnswerOutcome.DELETED:
        raise ObjectionInvalid("an omission is supplemented or upheld, never deleted")
    corrects = answer.outcome is AnswerOutcome.CORRECTED and objection.record_id is not None
    if corrects != (answer.correction is not None):
        raise ObjectionInvalid(
            "an answer carries the corrected record exactly when it corrects a record"
        )
    if objection.record_id is not None and answer.outcome is not AnswerOutcome.UPHELD:
        check_change(desk.archive(), objection.holder, objection.record_id, answer.correction)


def _apply(desk: RightsDesk, objection: Objection, answer: Answer) -> None:
    record_id = objection.record_id
    if record_id is None or answer.outcome is AnswerOutcome.UPHELD:
        return
    if answer.correction is not None:
        correct_record(desk.archive(), objection.holder, record_id, answer.correction)
        return
    stop_record(desk.archive(), objection.holder, record_id, RecordStatus.DELETED, answer.reason)


def objection_step(objection: Objection, requester: str, reason: str) -> Step:
    document = {
        "objection_id": objection.objection_id,
        "kind": objection.kind,
        "record_id": objection.record_id,
        "holder": objection.holder,
        "step": reason,
        "filed_on": local_date(objection.filed_at).isoformat(),
        "due_on": objection.due_on.isoformat(),
    }
    return Step(
        EventKind.OBJECTION,
        requester,
        reason,
        objection.kind,
        objection.subject_key,
        objection.item_code,
        document,
    )
