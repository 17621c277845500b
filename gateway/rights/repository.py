"""Queries of the subject rights (Art. 64-67, 70(8)) and of the scheduler's leases.

Changes of state are conditional UPDATEs that repeat the state they start from (an objection
still open, a notice not acknowledged yet, an overdue mark not set yet), so two concurrent
requests or sweeps never both apply one. The display sweep reads the records it announces
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent sweeps skip each other's records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import ColumnElement, and_, exists, or_, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from gateway.archive.models import RecordRow
from gateway.rights.models import (
    ApplicationState,
    DeletionNotice,
    Disclosure,
    JobLease,
    Objection,
    ObjectionState,
    RestorationApplication,
)
from gateway.storage.reads import Query, execute_in
from redaction.records import RecordStatus

OPEN = ObjectionState.OPEN.value
MAX_APPLICATIONS = 500

# -- objections (Art. 64) ------------------------------------------------------------------


def add(session: Session, row: SQLModel) -> None:
    session.add(row)
    session.flush()


def objection(session: Session, objection_id: str, *, lock: bool = False) -> Objection | None:
    return session.get(Objection, objection_id, populate_existing=True, with_for_update=lock)


def open_objection_on(session: Session, record_id: str) -> Objection | None:
    return session.exec(
        select(Objection).where(col(Objection.record_id) == record_id, col(Objection.state) == OPEN)
    ).first()


def objections_of(
    session: Session, *, subject_key: str | None = None, holder: str | None = None
) -> list[Objection]:
    """A subject's objections, or those a holder must answer; newest first."""
    condition = (
        col(Objection.subject_key) == subject_key
        if holder is None
        else col(Objection.holder) == holder
    )
    statement = select(Objection).where(condition).order_by(col(Objection.filed_at).desc())
    return list(session.exec(statement))


def answer(session: Session, objection_id: str, values: Mapping[str, object]) -> bool:
    """Record the answer if the objection is still open."""
    statement = (
        update(Objection)
        .where(col(Objection.objection_id) == objection_id, col(Objection.state) == OPEN)
        .values(dict(values))
        .returning(col(Objection.objection_id))
    )
    return session.execute(statement).first() is not None


def overdue_objections(session: Session, today: date, *, unmarked: bool = False) -> list[Objection]:
    """Open objections whose deadline passed before ``today`` (``unmarked``: not yet
    registered as overdue), oldest deadline first."""
    conditions = [col(Objection.state) == OPEN, col(Objection.due_on) < today]
    if unmarked:
        conditions.append(col(Objection.overdue_leaf).is_(None))
    statement = select(Objection).where(*conditions).order_by(col(Objection.due_on))
    return list(session.exec(statement))


# -- disclosures and deletion notices (Art. 67, 70(8)) -------------------------------------


class Received(NamedTuple):
    """The records a requester received in the inquiry registered at ``leaf_index``."""

    leaf_index: int
    requester: str
    record_ids: Iterable[str]


def add_disclosures(session: Session, received: Iterable[Received]) -> None:
    """Who received which records, for inquiries registered together: ONE statement."""
    disclosed = disclosures(session.get_bind().dialect.name, received)
    if disclosed is not None:
        statement, parameters = disclosed
        execute_in(session, statement, **parameters)


def disclosures(dialect: str, received: Iterable[Received]) -> tuple[Query, dict[str, Any]] | None:
    """The ONE statement of :func:`add_disclosures` and its parameters; None when no record
    was received."""
    inquiries = [
        (leaf_index, requester, sorted(set(record_ids)))
        for leaf_index, requester, record_ids in received
    ]
    if not any(record_ids for _, _, record_ids in inquiries):
        return None
    return _ADD_DISCLOSURES[dialect], {"received": orjson.dumps(inquiries).decode()}


# Written for the authorized inquiries of a batch of the log, in its transaction: ONE statement,
# each inquiry as a JSON array [leaf index, requester, [record ids]] the database unfolds (on
# SQLite each row of an executemany would hand the interpreter lock over, in the transaction
# every inquiry waits for). On PostgreSQL as jsonb, parsed once: ``->>`` on json text parses the
# inquiry again for every record it unfolds (measured under load: 7 % of the database server's
# CPU, 0.5 % as jsonb).
_DISCLOSED = (
    "INSERT INTO disclosures (leaf_index, record_id, requester) SELECT {columns} FROM {unfold}"
)
_ADD_DISCLOSURES = {
    "sqlite": Query(
        text(
            _DISCLOSED.format(
                columns="json_extract(inquiry.value, '$[0]'), record.value, "
                "json_extract(inquiry.value, '$[1]')",
                unfold="json_each(:received) AS inquiry, "
                "json_each(inquiry.value, '$[2]') AS record",
            )
        ),
        "sqlite",
    ),
    "postgresql": Query(
        text(
            _DISCLOSED.format(
                columns="CAST(inquiry ->> 0 AS BIGINT), record, inquiry ->> 1",
                unfold="jsonb_array_elements(CAST(:received AS jsonb)) AS inquiry, "
                "jsonb_array_elements_text(inquiry -> 2) AS record",
            )
        ),
        "postgresql",
    ),
}


def _unannounced() -> ColumnElement[bool]:
    """A disclosure whose recipient has no notice of its record yet."""
    return ~exists().where(
        col(DeletionNotice.record_id) == col(Disclosure.record_id),
        col(DeletionNotice.recipient) == col(Disclosure.requester),
    )


def recipients(session: Session, record_ids: Sequence[str]) -> dict[str, list[str]]:
    """The establishments that received each record and were not told of it yet, by record."""
    statement = (
        select(Disclosure.record_id, Disclosure.requester)
        .where(col(Disclosure.record_id).in_(record_ids), _unannounced())
        .distinct()
        .order_by(col(Disclosure.record_id), col(Disclosure.requester))
    )
    found: dict[str, list[str]] = defaultdict(list)
    for record_id, requester in session.exec(statement):
        found[record_id].append(requester)
    return found


@dataclass(frozen=True)
class Stopped:
    """A disclosed record whose display stopped and that was not announced yet."""

    record_id: str
    subject_key: str | None
    item_code: str
    status: RecordStatus


def stopped_unannounced(
    session: Session, latest_starts: Mapping[str, date], limit: int
) -> list[Stopped]:
    """Records of the items of ``latest_starts`` that are no longer active, or whose period
    started on or before their item's date there, and that an establishment received without a
    notice yet - also one whose disclosure committed after an earlier round announced the
    record to the others; locked until the end of the transaction, rows another transaction
    holds skipped (PostgreSQL)."""
    display_ended = [
        and_(col(RecordRow.item_code) == code, col(RecordRow.period_start) <= start)
        for code, start in latest_starts.items()
    ]
    statement = (
        select(RecordRow)
        .where(
            col(RecordRow.item_code).in_(latest_starts),
            or_(col(RecordRow.status) != RecordStatus.ACTIVE.value, *display_ended),
            exists().where(col(Disclosure.record_id) == col(RecordRow.record_id), _unannounced()),
        )
        .order_by(col(RecordRow.record_id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [
        Stopped(row.record_id, row.subject_key, row.item_code, RecordStatus(row.status))
        for row in session.exec(statement)
    ]


def add_notices(session: Session, notices: Sequence[DeletionNotice]) -> None:
    session.add_all(notices)
    session.flush()


def notice_to(
    session: Session, recipient: str, notice_id: str, *, lock: bool = False
) -> DeletionNotice | None:
    """The notice if it was sent to ``recipient``."""
    notice = session.get(DeletionNotice, notice_id, populate_existing=True, with_for_update=lock)
    return notice if notice is not None and notice.recipient == recipient else None


def notices_to(session: Session, recipient: str, *, pending: bool) -> list[DeletionNotice]:
    """The notices sent to ``recipient`` (``pending``: unacknowledged only), newest first."""
    conditions = [col(DeletionNotice.recipient) == recipient]
    if pending:
        conditions.append(col(DeletionNotice.acknowledged_at).is_(None))
    statement = (
        select(DeletionNotice)
        .where(*conditions)
        .order_by(col(DeletionNotice.created_at).desc(), col(DeletionNotice.notice_id))
    )
    return list(session.exec(statement))


def acknowledge(session: Session, notice_id: str, at: datetime, leaf_index: int) -> None:
    """Record the acknowledgement unless the notice was acknowledged meanwhile."""
    session.execute(
        update(DeletionNotice)
        .where(
            col(DeletionNotice.notice_id) == notice_id,
            col(DeletionNotice.acknowledged_at).is_(None),
        )
        .values(acknowledged_at=at, acknowledged_leaf=leaf_index)
    )


def overdue_notices(
    session: Session, today: date, *, unmarked: bool = False
) -> list[DeletionNotice]:
    """Unacknowledged notices whose deadline passed before ``today`` (``unmarked``: not yet
    registered as overdue), oldest deadline first."""
    conditions = [col(DeletionNotice.acknowledged_at).is_(None), col(DeletionNotice.due_on) < today]
    if unmarked:
        conditions.append(col(DeletionNotice.overdue_leaf).is_(None))
    statement = select(DeletionNotice).where(*conditions).order_by(col(DeletionNotice.due_on))
    return list(session.exec(statement))


def mark_overdue(session: Session, row: Objection | DeletionNotice, leaf_index: int) -> None:
    """Keep the leaf that registered the missed deadline, unless one was kept meanwhile."""
    if isinstance(row, Objection):
        statement = update(Objection).where(
            col(Objection.objection_id) == row.objection_id, col(Objection.overdue_leaf).is_(None)
        )
    else:
        statement = update(DeletionNotice).where(
            col(DeletionNotice.notice_id) == row.notice_id,
            col(DeletionNotice.overdue_leaf).is_(None),
        )
    session.execute(statement.values(overdue_leaf=leaf_index))


# -- the scheduler's leases ----------------------------------------------------------------


def claim_lease(session: Session, name: str, holder: str, now: datetime, until: datetime) -> bool:
    """Hold the job ``name`` until ``until`` if its lease is free, lapsed or already ours: one
    conditional UPDATE, or the INSERT of a first lease (a concurrent one wins)."""
    claimable: ColumnElement[bool] = or_(
        col(JobLease.expires_at) <= now, col(JobLease.holder) == holder
    )
    updated = session.execute(
        update(JobLease)
        .where(col(JobLease.name) == name, claimable)
        .values(holder=holder, expires_at=until)
        .returning(col(JobLease.name))
    ).first()
    if updated is not None:
        return True
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.execute(
        dialect.insert(JobLease)
        .values(name=name, holder=holder, expires_at=until)
        .on_conflict_do_nothing()
        .returning(col(JobLease.name))
    ).first()
    return inserted is not None


def release_lease(session: Session, name: str, holder: str, now: datetime) -> None:
    session.execute(
        update(JobLease)
        .where(col(JobLease.name) == name, col(JobLease.holder) == holder)
        .values(expires_at=now)
    )


def pending_application_on(session: Session, record_id: str) -> RestorationApplication | None:
    statement = select(RestorationApplication).where(
        RestorationApplication.record_id == record_id,
        RestorationApplication.state == ApplicationState.PENDING.value,
    )
    return session.exec(statement).first()


def restoration_application(
    session: Session, application_id: str, *, lock: bool = False
) -> RestorationApplication | None:
    return session.get(
        RestorationApplication, application_id, populate_existing=True, with_for_update=lock
    )


def restoration_applications(
    session: Session, *, subject_key: str | None = None, provider: str | None = None
) -> list[RestorationApplication]:
    """A subject's or a designating unit's applications, newest first."""
    statement = select(RestorationApplication)
    if subject_key is not None:
        statement = statement.where(RestorationApplication.subject_key == subject_key)
    if provider is not None:
        statement = statement.where(RestorationApplication.provider == provider)
    order = col(RestorationApplication.filed_at).desc()
    return list(session.exec(statement.order_by(order).limit(MAX_APPLICATIONS)))
