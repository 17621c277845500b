"""The console's index of the log and its aggregates, on SQLite and PostgreSQL: leaves appended
through the real audit log at chosen times, indexed once, counted by day, channel, outcome,
requester and purpose, and the alerts the service raises from them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session

from audit.leaf import AuditEvent, Channel, EventKind, Outcome
from gateway.audit_log.service import AuditLog, running_audit_log, seal
from gateway.console import aggregates
from gateway.console.aggregates import Count, DayCount, Hours
from gateway.console.alerts import AlertKind
from gateway.console.index import ENTRIES, catch_up
from gateway.console.service import EntryFilter, current_alerts, entries, local_today, overview
from gateway.keys import load_keys
from gateway.portal.i18n import CHINA_STANDARD_TIME
from gateway.settings import Settings
from gateway.storage.db import make_engine

TODAY = local_today(datetime.now(UTC))
AUTHORIZED = Channel.AUTHORIZED_INQUIRY


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), CHINA_STANDARD_TIME)


def register(
    log: AuditLog,
    when: datetime,
    requester: str,
    *,
    channel: Channel = AUTHORIZED,
    kind: EventKind = EventKind.INQUIRY,
    outcome: Outcome = Outcome.ALLOWED,
    reason: str = "",
    subject: str = "p1-subject",
) -> None:
    sealed = seal(subject)
    event = AuditEvent(
        time_ms=int(when.timestamp() * 1000),
        kind=kind,
        channel=channel,
        requester=requester,
        legal_basis="",
        grant_id="cg_test",
        purpose="mortgage_application" if channel is AUTHORIZED else "c0ffee",
        item_categories=frozenset({"basic"}),
        outcome=outcome,
        reason_code=reason,
        subject_commitment=sealed.subject_commitment,
    )
    log.append(event, sealed.openings)


@pytest.fixture
def engine(migrated: Settings) -> Iterator[Engine]:
    """A log of 30 quiet days of the bank (two inquiries a day at noon), then today: a burst
    of the bank (15, five refused, three at 2 a.m.), another requester asking about six
    subjects without a grant, an agency's sharing inquiry and a record change."""
    engine = make_engine(migrated.resolved_database_url)
    with running_audit_log(engine, migrated, load_keys(migrated)) as log:
        for days_ago in range(1, 31):
            for _ in range(2):
                register(log, at(TODAY - timedelta(days=days_ago), 12), "bank")
        for n in range(15):
            hour = 2 if n < 3 else 10
            outcome, reason = (Outcome.DENIED, "exhausted") if n >= 10 else (Outcome.ALLOWED, "")
            register(log, at(TODAY, hour), "bank", outcome=outcome, reason=reason)
        for n in range(7):
            register(
                log,
                at(TODAY, 11),
                "prober",
                outcome=Outcome.DENIED,
                reason="no_grant" if n % 2 else "other_subject",
                subject=f"p1-subject-{min(n, 5)}",
            )
        register(log, at(TODAY, 9), "agency", channel=Channel.GOVERNMENT_AFFAIRS_SHARING)
        register(log, at(TODAY, 9), "provider", channel=None, kind=EventKind.RECORD_CHANGE)  # type: ignore[arg-type]
        log.publish_now()
    yield engine
    engine.dispose()


def test_every_leaf_is_indexed_once_with_what_it_holds(engine: Engine) -> None:
    assert catch_up(engine, 7) == 7  # a page's share, then the rest
    assert catch_up(engine) == 60 + 15 + 7 + 2 - 7
    assert catch_up(engine) == 0
    with engine.connect() as connection:
        columns = set(connection.execute(select(ENTRIES)).keys())
        burst = connection.execute(
            select(ENTRIES.c.day, ENTRIES.c.hour)
            .where(ENTRIES.c.requester == "bank")
            .order_by(ENTRIES.c.leaf_index.desc())
            .limit(15)
        ).all()
    assert columns == {
        "leaf_index", "at", "day", "hour", "kind", "channel", "requester", "purpose",
        "outcome", "reason",
    }  # fmt: skip
    assert {day for day, _ in burst} == {TODAY}
    assert sorted(hour for _, hour in burst)[:4] == [2, 2, 2, 10]


def test_counts_by_day_channel_outcome_requester_and_purpose(engine: Engine) -> None:
    catch_up(engine)
    since = TODAY - timedelta(days=29)
    with engine.connect() as connection:
        channels = aggregates.per_day(connection, since, "channel")
        outcomes = aggregates.per_day(connection, since, "outcome")
        requesters = aggregates.per_requester(connection, since)
        establishments = aggregates.refusals_per_establishment(connection, since)
        purposes = aggregates.per_purpose(connection, since)
    assert [c for c in channels if c.day == TODAY] == [
        DayCount(TODAY, "authorized_inquiry", 22),
        DayCount(TODAY, "government_affairs_sharing", 1),
    ]
    assert [c for c in outcomes if c.day == TODAY] == [
        DayCount(TODAY, "allowed", 11),
        DayCount(TODAY, "denied", 12),
    ]
    assert DayCount(since, "authorized_inquiry", 2) in channels
    assert TODAY - timedelta(days=30) not in {c.day for c in channels}
    assert requesters == [Count("bank", 58 + 15, 5), Count("prober", 7, 7), Count("agency", 1, 0)]
    assert establishments == [Count("prober", 7, 7), Count("bank", 73, 5)]
    assert purposes == [Count("mortgage_application", 80, 12)]


def test_the_daily_figures_the_alerts_read(engine: Engine) -> None:
    catch_up(engine)
    with engine.connect() as connection:
        daily = aggregates.daily_per_requester(connection, TODAY)
        late = aggregates.outside_hours(connection, TODAY, Hours(8, 18))
        grantless = aggregates.grantless_subjects(connection, TODAY)
    assert sorted((d.requester, d.total, d.denied) for d in daily) == [
        ("agency", 1, 0), ("bank", 15, 5), ("prober", 7, 7),
    ]  # fmt: skip
    assert [(d.requester, d.total) for d in late] == [("bank", 3)]
    assert [(d.requester, d.total) for d in grantless] == [("prober", 6)]


def test_the_service_raises_the_alerts_and_lists_the_entries_behind_them(
    engine: Engine, migrated: Settings
) -> None:
    settings = migrated.model_copy(
        update={
            "oversight_burst_minimum": 10,
            "oversight_after_hours_minimum": 3,
            "oversight_refusal_minimum": 5,
        }
    )
    with Session(engine) as session:
        raised = current_alerts(engine, session, settings, TODAY)
        figures = overview(engine, session, TODAY)
        assert {(a.kind, a.requester) for a in raised} == {
            (AlertKind.BURST, "bank"),
            (AlertKind.REFUSAL_RATE, "prober"),
            (AlertKind.AFTER_HOURS, "bank"),
            (AlertKind.GRANTLESS_SUBJECTS, "prober"),
        }
        burst = next(a for a in raised if a.kind is AlertKind.BURST)
        assert (burst.observed, burst.threshold) == (15, 6)
        behind = entries(engine, session, settings, EntryFilter("bank", TODAY))
        late = entries(engine, session, settings, EntryFilter("bank", TODAY, after_hours=True))
        refused = entries(
            engine, session, settings, EntryFilter("prober", TODAY, "denied", grantless=True)
        )
    assert figures.total == 60 - 2 + 23  # the 30th day back is outside the window
    assert len(behind.entries) == 15 and not behind.more
    assert behind.tree_size == 84
    assert all(entry.requester == "bank" for entry in behind.entries)
    assert [entry.at.astimezone(CHINA_STANDARD_TIME).hour for entry in late.entries] == [2, 2, 2]
    assert len(refused.entries) == 7
