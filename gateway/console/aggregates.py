"""The console's counts over the indexed log (:mod:`gateway.console.index`): inquiries per day by
channel and by outcome, per requester, per purpose, and the daily figures the alert rules read
(:mod:`gateway.console.alerts`). Plain aggregate SQL, the same on SQLite and PostgreSQL; days
are China Standard Time, every count is of inquiries (``kind = 'inquiry'``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, case, func, or_, select

from audit.leaf import Channel, EventKind, Outcome
from gateway.audit_log.models import OPENINGS
from gateway.console.alerts import Daily
from gateway.console.index import ENTRIES

E = ENTRIES.c
INQUIRY = E.kind == EventKind.INQUIRY.value
DENIED = case((E.outcome == Outcome.DENIED.value, 1), else_=0)
GRANTLESS_REASONS = ("no_grant", "other_requester", "other_subject")
"""Authorized inquiries refused because the requester held no grant of its own for the
subject: none at all, another requester's, or one for another subject."""


@dataclass(frozen=True)
class Count:
    """How many inquiries of one group (``key``), and how many of them were refused."""

    key: str
    total: int
    denied: int

    @property
    def refusal_rate(self) -> float:
        return self.denied / self.total if self.total else 0.0


@dataclass(frozen=True)
class DayCount:
    day: date
    key: str
    count: int


@dataclass(frozen=True)
class Hours:
    """Business hours, local time: from ``start`` (inclusive) to ``end`` (exclusive)."""

    start: int
    end: int

    def outside(self) -> ColumnElement[bool]:
        return or_(E.hour < self.start, E.hour >= self.end)


def per_day(connection: Connection, since: date, column: str) -> list[DayCount]:
    """Inquiries per day since ``since`` by ``column`` (``channel`` or ``outcome``)."""
    by = E[column]
    rows = connection.execute(
        select(E.day, by, func.count())
        .where(INQUIRY, E.day >= since)
        .group_by(E.day, by)
        .order_by(E.day, by)
    )
    return [DayCount(day, key, count) for day, key, count in rows]


def per_requester(connection: Connection, since: date, *, limit: int = 10) -> list[Count]:
    """The busiest requesters since ``since``, with their refusals."""
    return _counts(connection, _grouped(E.requester, since).limit(limit))


def refusals_per_establishment(connection: Connection, since: date) -> list[Count]:
    """Every establishment's authorized inquiries since ``since`` and its refusals."""
    statement = _grouped(E.requester, since, E.channel == Channel.AUTHORIZED_INQUIRY.value)
    return sorted(_counts(connection, statement), key=lambda c: (-c.refusal_rate, c.key))


def per_purpose(connection: Connection, since: date) -> list[Count]:
    """Authorized inquiries per purpose since ``since``."""
    statement = _grouped(E.purpose, since, E.channel == Channel.AUTHORIZED_INQUIRY.value)
    return _counts(connection, statement)


def daily_per_requester(connection: Connection, since: date) -> list[Daily]:
    """Each requester's inquiries and refusals per day since ``since``."""
    rows = connection.execute(
        select(E.requester, E.day, func.count(), func.sum(DENIED))
        .where(INQUIRY, E.day >= since)
        .group_by(E.requester, E.day)
    )
    return [Daily(who, day, total, int(denied)) for who, day, total, denied in rows]


def outside_hours(connection: Connection, since: date, hours: Hours) -> list[Daily]:
    """Each requester's inquiries outside business hours per day since ``since``."""
    rows = connection.execute(
        select(E.requester, E.day, func.count())
        .where(INQUIRY, E.day >= since, hours.outside())
        .group_by(E.requester, E.day)
    )
    return [Daily(who, day, count) for who, day, count in rows]


def grantless_subjects(connection: Connection, since: date) -> list[Daily]:
    """How many distinct subjects each requester inquired about without a grant of its own,
    per day since ``since`` (subjects told apart by the key kept beside the leaf's openings;
    an entry whose openings were erased no longer counts)."""
    subjects = func.count(OPENINGS.c.subject_key.distinct())
    rows = connection.execute(
        select(E.requester, E.day, subjects)
        .join(OPENINGS, OPENINGS.c.leaf_index == E.leaf_index)
        .where(
            INQUIRY,
            E.day >= since,
            E.outcome == Outcome.DENIED.value,
            E.reason.in_(GRANTLESS_REASONS),
        )
        .group_by(E.requester, E.day)
    )
    return [Daily(who, day, count) for who, day, count in rows]


def _grouped(by: Any, since: date, *where: ColumnElement[bool]) -> Select[Any]:
    total = func.count()
    return (
        select(by, total, func.sum(DENIED))
        .where(and_(INQUIRY, E.day >= since, *where))
        .group_by(by)
        .order_by(total.desc(), by)
    )


def _counts(connection: Connection, statement: Select[Any]) -> list[Count]:
    return [Count(key, total, int(denied)) for key, total, denied in connection.execute(statement)]
