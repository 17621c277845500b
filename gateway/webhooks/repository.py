"""Queries of the webhook outbox.

Claiming: a worker selects due rows whose lease is free or lapsed - ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so concurrent workers of several processes skip each other's rows
instead of waiting - and sets its own lease on them with one conditional UPDATE that repeats
the condition, so a row is never held by two workers (SQLite serializes the UPDATEs). A worker
that dies holding rows loses them when its lease ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, update
from sqlmodel import Session, col, select

from gateway.webhooks.models import WebhookDelivery


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker holds: where to send what, and how often it was tried."""

    id: str
    url: str
    body: str
    attempts: int
    channel: str
    event: str
    subject_key: str | None


@dataclass(frozen=True)
class Attempt:
    """The outcome of one delivery attempt."""

    at: datetime
    status: int | None
    delivered: bool
    next_attempt_at: datetime | None


def add_delivery(session: Session, delivery: WebhookDelivery) -> None:
    session.add(delivery)
    session.flush()


def _free(now: datetime) -> ColumnElement[bool]:
    return or_(
        col(WebhookDelivery.claimed_until).is_(None), col(WebhookDelivery.claimed_until) < now
    )


def claim_due(
    session: Session, worker: str, now: datetime, lease: timedelta, limit: int
) -> list[Claimed]:
    """Take up to ``limit`` deliveries that are due and not held by a live worker."""
    due = session.exec(
        select(col(WebhookDelivery.id))
        .where(col(WebhookDelivery.next_attempt_at) <= now, _free(now))
        .order_by(col(WebhookDelivery.next_attempt_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return []  # nothing written: an idle worker takes no write lock
    statement = (
        update(WebhookDelivery)
        .where(col(WebhookDelivery.id).in_(due), _free(now))
        .values(claimed_by=worker, claimed_until=now + lease)
        .returning(
            col(WebhookDelivery.id),
            col(WebhookDelivery.url),
            col(WebhookDelivery.body),
            col(WebhookDelivery.attempts),
            col(WebhookDelivery.channel),
            col(WebhookDelivery.event),
            col(WebhookDelivery.subject_key),
        )
    )
    return [Claimed(*row) for row in session.execute(statement).all()]


def record_attempt(
    session: Session, worker: str, delivery_id: str, attempt: Attempt, *, erase: bool = False
) -> None:
    """Count the attempt and release the row (only if ``worker`` still holds it); ``erase``:
    a subject's delivered message, whose address and text are not kept."""
    erased = {"url": "", "body": ""} if erase and attempt.delivered else {}
    session.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.id) == delivery_id, col(WebhookDelivery.claimed_by) == worker)
        .values(
            attempts=col(WebhookDelivery.attempts) + 1,
            last_attempt_at=attempt.at,
            last_status=attempt.status,
            delivered_at=attempt.at if attempt.delivered else None,
            next_attempt_at=attempt.next_attempt_at,
            claimed_by=None,
            claimed_until=None,
            **erased,
        )
    )


def deliveries_to(session: Session, target: str) -> list[WebhookDelivery]:
    """The deliveries to one party, oldest first (the delivery log)."""
    statement = (
        select(WebhookDelivery)
        .where(col(WebhookDelivery.target) == target)
        .order_by(col(WebhookDelivery.created_at), col(WebhookDelivery.id))
    )
    return list(session.exec(statement))
