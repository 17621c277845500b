"""Queries of the subjects' notifications."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, delete
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from gateway.audit_log.models import LEAVES, OPENINGS
from gateway.consents.models import GrantRow
from gateway.notifications.models import (
    NotificationCursor,
    NotificationDigest,
    NotificationMark,
    NotificationPreferences,
)

CURSOR = "log"
PAGE = 1000


def preferences_of(session: Session, citizen_id: str) -> NotificationPreferences | None:
    return session.get(NotificationPreferences, citizen_id)


def subscribers(session: Session, subject_keys: set[str]) -> dict[str, NotificationPreferences]:
    """The preferences of the subjects among ``subject_keys`` that have any, by subject key."""
    if not subject_keys:
        return {}
    rows = session.exec(
        select(NotificationPreferences).where(
            col(NotificationPreferences.subject_key).in_(subject_keys)
        )
    )
    return {row.subject_key: row for row in rows}


def next_leaf(session: Session) -> int | None:
    """Where the notifier reads on; None before its first round."""
    cursor = session.get(NotificationCursor, CURSOR, with_for_update=True)
    return None if cursor is None else cursor.next_leaf


def move_cursor(session: Session, to: int) -> None:
    cursor = session.get(NotificationCursor, CURSOR) or NotificationCursor(name=CURSOR, next_leaf=0)
    cursor.next_leaf = to
    session.add(cursor)


def leaves_of_subscribers(
    connection: Connection, start: int, end: int
) -> list[tuple[int, bytes, str]]:
    """``(leaf_index, leaf, subject_key)`` in ``[start, end)`` about subjects with notification
    preferences, oldest first."""
    rows = connection.execute(
        core_select(LEAVES.c.leaf_index, LEAVES.c.leaf, OPENINGS.c.subject_key)
        .join(OPENINGS, OPENINGS.c.leaf_index == LEAVES.c.leaf_index)
        .join(
            NotificationPreferences.__table__,  # type: ignore[attr-defined]
            col(NotificationPreferences.subject_key) == OPENINGS.c.subject_key,
        )
        .where(LEAVES.c.leaf_index >= start, LEAVES.c.leaf_index < end)
        .order_by(LEAVES.c.leaf_index)
    )
    return [(int(row.leaf_index), row.leaf, row.subject_key) for row in rows]


def mark(session: Session, subject_key: str, event: str, reference: str, now: datetime) -> bool:
    """Record that ``event`` about ``reference`` was told; False when it already was."""
    values = {"subject_key": subject_key, "event": event, "reference": reference, "told_at": now}
    table = NotificationMark.__table__  # type: ignore[attr-defined]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table).values(**values).on_conflict_do_nothing().returning(table.c.event)
    )
    return session.execute(statement).first() is not None


def count_for_digest(session: Session, subject_key: str, day: date) -> None:
    digest = session.get(NotificationDigest, (subject_key, day)) or NotificationDigest(
        subject_key=subject_key, day=day, inquiries=0
    )
    digest.inquiries += 1
    session.add(digest)
    session.flush()


def digests_before(session: Session, day: date) -> list[NotificationDigest]:
    statement = select(NotificationDigest).where(col(NotificationDigest.day) < day)
    return list(session.exec(statement))


def drop_digest(session: Session, digest: NotificationDigest) -> None:
    session.execute(
        delete(NotificationDigest).where(
            col(NotificationDigest.subject_key) == digest.subject_key,
            col(NotificationDigest.day) == digest.day,
        )
    )


def grant_deadline(session: Session, grant_id: str) -> datetime | None:
    grant = session.get(GrantRow, grant_id)
    return None if grant is None else grant.pending_until


def expiring_grants(session: Session, until: datetime, now: datetime) -> list[GrantRow]:
    """Active grants that expire between ``now`` and ``until``."""
    statement = select(GrantRow).where(
        col(GrantRow.state) == "active",
        col(GrantRow.expires_at) > now,
        col(GrantRow.expires_at) <= until,
    )
    return list(session.exec(statement))
