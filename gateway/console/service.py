"""What the console's pages show, from the log's index (:mod:`gateway.console.index`), caught up
before every read: the dashboard's figures of the last 30 days, the alerts, and the entries
behind an alert. Requesters are client ids (never a natural person's identifier), shown with
their registered names; entries show what the log holds and a link to each one's inclusion
proof against the latest signed checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, Engine, select
from sqlmodel import Session

from audit.leaf import EventKind
from gateway.audit_log.repository import latest_checkpoint_size
from gateway.console import aggregates, alerts
from gateway.console.aggregates import GRANTLESS_REASONS, Count, Hours
from gateway.console.alerts import Alert
from gateway.console.charts import StackedBars, stacked
from gateway.console.index import ENTRIES, PAGE_MOST, catch_up
from gateway.parties.repository import party_names
from gateway.portal.i18n import CHINA_STANDARD_TIME
from gateway.settings import Settings

WINDOW = 30
"""Days the dashboard covers, and the days before each day a burst is judged against."""
MAX_ENTRIES = 500


def local_today(now: datetime) -> date:
    return now.astimezone(CHINA_STANDARD_TIME).date()


def window(today: date, days: int = WINDOW) -> list[date]:
    """The ``days`` days up to ``today``, oldest first."""
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


@dataclass(frozen=True)
class Overview:
    days: list[date]
    by_channel: StackedBars
    by_outcome: StackedBars
    requesters: list[Count]
    establishments: list[Count]
    purposes: list[Count]
    names: dict[str, str]

    @property
    def total(self) -> int:
        return sum(self.by_channel.totals.values())


def overview(engine: Engine, session: Session, today: date) -> Overview:
    catch_up(engine, PAGE_MOST)
    days = window(today)
    connection = session.connection()
    requesters = aggregates.per_requester(connection, days[0])
    establishments = aggregates.refusals_per_establishment(connection, days[0])
    return Overview(
        days=days,
        by_channel=stacked(days, aggregates.per_day(connection, days[0], "channel")),
        by_outcome=stacked(days, aggregates.per_day(connection, days[0], "outcome")),
        requesters=requesters,
        establishments=establishments,
        purposes=aggregates.per_purpose(connection, days[0]),
        names=party_names(session, {c.key for c in [*requesters, *establishments]}),
    )


def current_alerts(
    engine: Engine, session: Session, settings: Settings, today: date
) -> list[Alert]:
    """Every alert of the last 30 days, newest first."""
    catch_up(engine, PAGE_MOST)
    days = window(today)
    connection = session.connection()
    daily = aggregates.daily_per_requester(connection, days[0] - timedelta(days=WINDOW))
    recent = [entry for entry in daily if entry.day >= days[0]]
    hours = Hours(settings.oversight_business_start, settings.oversight_business_end)
    raised = [
        *alerts.bursts(
            daily,
            days,
            factor=settings.oversight_burst_factor,
            minimum=settings.oversight_burst_minimum,
            window=WINDOW,
        ),
        *alerts.refusal_rates(
            recent,
            threshold=settings.oversight_refusal_rate,
            minimum=settings.oversight_refusal_minimum,
        ),
        *alerts.after_hours(
            aggregates.outside_hours(connection, days[0], hours),
            minimum=settings.oversight_after_hours_minimum,
        ),
        *alerts.grantless_subjects(
            aggregates.grantless_subjects(connection, days[0]),
            minimum=settings.oversight_grantless_subjects,
        ),
    ]
    return sorted(raised, key=lambda alert: -alert.day.toordinal())


@dataclass(frozen=True)
class EntryFilter:
    """Which inquiries to list: a requester's, of a day, refused or allowed, outside
    business hours, without a grant of their own (each optional)."""

    requester: str | None = None
    day: date | None = None
    outcome: str | None = None
    after_hours: bool = False
    grantless: bool = False

    def conditions(self, hours: Hours) -> list[ColumnElement[bool]]:
        e = ENTRIES.c
        conditions = [e.kind == EventKind.INQUIRY.value]
        if self.requester is not None:
            conditions.append(e.requester == self.requester)
        if self.day is not None:
            conditions.append(e.day == self.day)
        if self.outcome is not None:
            conditions.append(e.outcome == self.outcome)
        if self.after_hours:
            conditions.append(hours.outside())
        if self.grantless:
            conditions.append(e.reason.in_(GRANTLESS_REASONS))
        return conditions


@dataclass(frozen=True)
class Entry:
    leaf_index: int
    at: datetime
    channel: str
    requester: str
    purpose: str
    outcome: str
    reason: str


@dataclass(frozen=True)
class Entries:
    """The entries found (at most :data:`MAX_ENTRIES`, oldest first), whether there were more,
    and the size of the latest signed checkpoint (entries below it have an inclusion proof)."""

    entries: list[Entry]
    more: bool
    tree_size: int | None
    names: dict[str, str]


def entries(engine: Engine, session: Session, settings: Settings, wanted: EntryFilter) -> Entries:
    catch_up(engine, PAGE_MOST)
    connection = session.connection()
    hours = Hours(settings.oversight_business_start, settings.oversight_business_end)
    found = _entries(connection, wanted.conditions(hours))
    listed = found[:MAX_ENTRIES]
    return Entries(
        entries=listed,
        more=len(found) > MAX_ENTRIES,
        tree_size=latest_checkpoint_size(connection),
        names=party_names(session, {entry.requester for entry in listed}),
    )


def _entries(connection: Connection, conditions: list[ColumnElement[bool]]) -> list[Entry]:
    e = ENTRIES.c
    rows = connection.execute(
        select(e.leaf_index, e.at, e.channel, e.requester, e.purpose, e.outcome, e.reason)
        .where(*conditions)
        .order_by(e.leaf_index)
        .limit(MAX_ENTRIES + 1)
    )
    return [Entry(*row) for row in rows]
