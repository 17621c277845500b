"""Art. 66: credit restoration - after the unit that designated the untrustworthy conduct
decides to restore the subject's credit, display and sharing of the information stop.

The providing unit that submitted an untrustworthiness record records the restoration decision
(:func:`restore`): the record gets a version with status ``restored`` (the archive's
:func:`~gateway.archive.service.stop_record`, registered in the audit log as the record change
``restored``), and the decision is kept. The channels' policy table then stops displaying and
sharing it (:mod:`redaction.policies`): the subject still sees it, labelled ``restored``, and an
authority acting on a legal basis may read it. The establishments that received it are told at
the display sweep's next round (:mod:`gateway.rights.notices`).

The subject applies (:func:`apply_for_restoration`, Art. 66 para. 1) - a natural person, or an
entity through its legal representative or an agent - naming an untrustworthiness record of its
own file, still displayed, with its reasons; the unit that designated the conduct (the providing
unit that submitted the record) decides once (:func:`decide_application`): approved, with its
restoration decision document, which records the restoration as above; or rejected with reasons,
answered with the remedy of Art. 71. Each step is an audit leaf (kind ``restoration``) in the
subject's access log; an application filed for an entity names the person who filed it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from audit.leaf import EventKind
from consent.rfc9068 import AccessToken
from gateway.archive.errors import RecordNotFound
from gateway.archive.repository import basis_json, owned_record, subject_record
from gateway.archive.service import RecordChange, archive_catalog, stop_record
from gateway.parties.accounts import acting_account, actor_of, caller_subject_key
from gateway.rights import repository
from gateway.rights.errors import (
    ApplicationDecided,
    ApplicationInvalid,
    ApplicationNotFound,
    ApplicationPending,
    RestorationNotApplicable,
)
from gateway.rights.models import ApplicationState, Restoration, RestorationApplication
from gateway.rights.service import RightsDesk, Step, register
from redaction.catalog import Category
from redaction.changes import checked_reason
from redaction.ingest import BasisDocument
from redaction.periods import local_date
from redaction.records import RecordStatus


def restore(
    desk: RightsDesk, provider: str, record_id: str, reason: str, decision: BasisDocument
) -> RecordChange:
    """Stop the display of the provider's untrustworthiness record for its restoration."""
    stored = owned_record(desk.session, provider, record_id)
    item = archive_catalog().get(stored.row.item_code) if stored else None
    if item is not None and item.category is not Category.UNTRUSTWORTHY:
        raise RestorationNotApplicable(
            f"record {record_id} is not information on untrustworthiness"
        )
    change = stop_record(desk.archive(), provider, record_id, RecordStatus.RESTORED, reason)
    document = basis_json(decision)
    assert document is not None  # a decision was given
    restoration = Restoration(
        record_id=record_id, provider=provider, decision=document, recorded_at=desk.now
    )
    repository.add(desk.session, restoration)
    return change


# -- applications (Art. 66 para. 1) ---------------------------------------------------------

APPLICANT = "subject"


@dataclass(frozen=True)
class Application:
    """A subject's application for credit restoration of one of its records."""

    record_id: str
    reason: str
    attachment_ref: str | None = None


@dataclass(frozen=True)
class Decision:
    """The designating unit's decision: approved (with the restoration decision document) or
    rejected, always with reasons."""

    outcome: ApplicationState
    reason: str
    document: BasisDocument | None = None


def apply_for_restoration(
    desk: RightsDesk, caller: AccessToken, application: Application
) -> RestorationApplication:
    """File the application of the subject the caller acts for: an untrustworthiness record of
    its own file, still displayed, and no other application pending on it."""
    account = acting_account(desk.session, caller, desk.now)
    key = caller_subject_key(desk.session, desk.keys, caller, desk.now)
    row = subject_record(desk.session, key, application.record_id)
    if row is None:
        raise RecordNotFound(f"no record {application.record_id} in your file")
    item = archive_catalog().get(row.item_code)
    if item is None or item.category is not Category.UNTRUSTWORTHY:
        raise RestorationNotApplicable(
            f"record {application.record_id} is not information on untrustworthiness"
        )
    if row.status != RecordStatus.ACTIVE.value:
        raise RestorationNotApplicable(f"record {application.record_id} is no longer displayed")
    if repository.pending_application_on(desk.session, row.record_id) is not None:
        raise ApplicationPending(f"an application on record {row.record_id} awaits its decision")
    filed = RestorationApplication(
        application_id=f"ra_{uuid.uuid4().hex}",
        record_id=row.record_id,
        provider=row.provider,
        subject_key=key,
        account_id=account,
        reason=checked_reason(application.reason),
        attachment_ref=application.attachment_ref,
        state=ApplicationState.PENDING.value,
        filed_at=desk.now,
    )
    step = _step(filed, APPLICANT, "applied", row.item_code)
    register(desk, replace(step, actor=actor_of(desk.session, desk.keys, caller, desk.now)))
    repository.add(desk.session, filed)
    return filed


def applications_of_subject(desk: RightsDesk, caller: AccessToken) -> list[RestorationApplication]:
    key = caller_subject_key(desk.session, desk.keys, caller, desk.now)
    return repository.restoration_applications(desk.session, subject_key=key)


def applications_to(desk: RightsDesk, provider: str) -> list[RestorationApplication]:
    """The applications the designating unit must decide or has decided, newest first."""
    return repository.restoration_applications(desk.session, provider=provider)


def decide_application(
    desk: RightsDesk, provider: str, application_id: str, decision: Decision
) -> RestorationApplication:
    """The designating unit decides once: approval records the restoration (display and
    sharing stop, as :func:`restore` does); a rejection keeps the record, with reasons."""
    filed = repository.restoration_application(desk.session, application_id, lock=True)
    if filed is None or filed.provider != provider:
        raise ApplicationNotFound(f"no restoration application {application_id}")
    if filed.state != ApplicationState.PENDING.value:
        raise ApplicationDecided(f"application {application_id} has been decided")
    reason = checked_reason(decision.reason)
    if decision.outcome is ApplicationState.APPROVED:
        if decision.document is None:
            raise ApplicationInvalid("an approval names the restoration decision document")
        restore(desk, provider, filed.record_id, reason, decision.document)
    elif decision.outcome is ApplicationState.REJECTED:
        stored = owned_record(desk.session, provider, filed.record_id)
        item_code = stored.row.item_code if stored else None
        register(desk, _step(filed, provider, "rejected", item_code))
    else:
        raise ApplicationInvalid("the outcome is approved or rejected")
    filed.state = decision.outcome.value
    filed.decided_at = desk.now
    filed.decision_reason = reason
    repository.add(desk.session, filed)
    return filed


def _step(filed: RestorationApplication, requester: str, reason: str, item: str | None) -> Step:
    document = {
        "application_id": filed.application_id,
        "record_id": filed.record_id,
        "step": reason,
        "filed_on": local_date(filed.filed_at).isoformat(),
    }
    return Step(
        EventKind.RESTORATION,
        requester,
        reason,
        "restoration",
        filed.subject_key,
        item,
        document,
    )
