"""The periodic jobs of the gateway, run in process (Art. 41, 61(2), 64, 67, 70(8)).

Each round runs, in this order, each job in a unit of work of its own:

* ``consent-expiry`` - pending requests and valid grants whose deadline passed, or whose uses
  are spent, are recorded as such (:func:`gateway.consents.service.expire_lapsed`);
* ``display-stops`` - deletion notices for records whose display stopped
  (:func:`gateway.rights.notices.announce_stopped`), before the purge empties any of them;
* ``retention-purge`` - the content of records past their retention period is purged
  (:func:`gateway.archive.service.purge_past_retention`);
* ``deadlines`` - every objection or notice deadline missed is registered once
  (:func:`gateway.rights.oversight.register_overdue`);
* ``notifications`` - the subjects' messages for the log's new entries, the consents about to
  expire and the daily digests are queued (:mod:`gateway.notifications.service`);
* ``replay-purge`` - client assertion and DPoP proof ids too old to be replayed are forgotten
  (:func:`gateway.oauth.repository.purge_replay_caches`);
* ``oversight-index`` - the log's new leaves are indexed for the regulator console
  (:func:`gateway.console.index.catch_up`).

Notices and messages are delivered, and retried, by the webhook worker
(:mod:`gateway.webhooks.worker`), not here. Every job is safe to run twice; leases keep several
processes from running one at once all the same: a process runs a job only after claiming its
row in ``job_leases`` (:func:`gateway.rights.repository.claim_lease`) until the next round, so
on several gateway processes each job runs about once per ``GATEWAY_SCHEDULER_INTERVAL``. The
thread (:func:`running_scheduler`) waits one interval before its first round; ``gateway jobs
run-once`` runs a round by hand (:func:`run_once`), releasing its leases when done, and reports
a job that failed with its problem - a deadline in a year no holiday schedule covers, say - next
to the others. Log lines name the job, the type of a failure and a gateway error's detail (which
never holds personal data), never data.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from gateway.archive.service import ArchiveDesk, purge_past_retention
from gateway.audit_log.service import AuditLog
from gateway.consents.service import ConsentDesk, expire_lapsed
from gateway.console.index import catch_up
from gateway.keys import GatewayKeys
from gateway.notifications.service import (
    NoticeDesk,
    remind_expiring,
    send_digests,
    tell_from_log,
)
from gateway.oauth.repository import purge_replay_caches
from gateway.oauth.service import AuthServer
from gateway.rights.notices import announce_stopped
from gateway.rights.oversight import register_overdue
from gateway.rights.repository import claim_lease, release_lease
from gateway.rights.service import Deadlines, RightsDesk
from gateway.settings import Settings
from gateway.storage.db import unit_of_work
from problems import GatewayError

log = logging.getLogger("gateway.scheduler")

RUN_ONCE_HOLD = timedelta(minutes=10)
"""How long ``gateway jobs run-once`` may hold a job's lease (it releases it when done)."""


@dataclass(frozen=True)
class JobContext:
    """What the jobs run with."""

    engine: Engine
    audit_log: AuditLog
    keys: GatewayKeys
    server: AuthServer
    deadlines: Deadlines
    settings: Settings

    def rights(self, session: Session, now: datetime) -> RightsDesk:
        return RightsDesk(session, self.audit_log, self.keys, self.server, self.deadlines, now)

    def notices(self, session: Session, now: datetime) -> NoticeDesk:
        return NoticeDesk(session, self.keys, self.settings, now)


Job = Callable[[Session, JobContext, datetime], int]


def _consent_expiry(session: Session, context: JobContext, now: datetime) -> int:
    desk = ConsentDesk(session, context.audit_log, context.keys, context.server, now)
    return expire_lapsed(desk)


def _display_stops(session: Session, context: JobContext, now: datetime) -> int:
    return announce_stopped(context.rights(session, now))


def _retention_purge(session: Session, context: JobContext, now: datetime) -> int:
    return purge_past_retention(ArchiveDesk(session, context.audit_log, context.keys, now))


def _deadlines(session: Session, context: JobContext, now: datetime) -> int:
    return register_overdue(context.rights(session, now))


def _notifications(session: Session, context: JobContext, now: datetime) -> int:
    desk = context.notices(session, now)
    return tell_from_log(desk) + remind_expiring(desk) + send_digests(desk)


def _replay_purge(session: Session, context: JobContext, now: datetime) -> int:
    return purge_replay_caches(context.engine, now)


def _oversight_index(session: Session, context: JobContext, now: datetime) -> int:
    return catch_up(context.engine)


JOBS: Mapping[str, Job] = {
    "consent-expiry": _consent_expiry,
    "display-stops": _display_stops,
    "retention-purge": _retention_purge,
    "deadlines": _deadlines,
    "notifications": _notifications,
    "replay-purge": _replay_purge,
    "oversight-index": _oversight_index,
}


def run_job(
    context: JobContext, name: str, holder: str, hold: timedelta, now: datetime | None = None
) -> int | None:
    """Run job ``name`` as of ``now`` (default: the present) if ``holder`` can lease it for
    ``hold`` from the present: how much it did, or None when another process holds it."""
    leased_at = datetime.now(UTC)
    with unit_of_work(context.engine) as session:
        if not claim_lease(session, name, holder, leased_at, leased_at + hold):
            return None
    with unit_of_work(context.engine) as session:
        return JOBS[name](session, context, now or leased_at)


JobResult = int | GatewayError | None
"""How much a job did, the problem it failed with, or None when another process held it."""


def run_once(
    context: JobContext, names: Iterable[str], now: datetime | None = None
) -> dict[str, JobResult]:
    """Run the named jobs once, in order, as of ``now``, releasing each lease when done; a job
    that fails with a gateway error reports it and the others still run."""
    holder: str = process_name()
    results: dict[str, JobResult] = {}
    for name in names:
        try:
            results[name] = run_job(context, name, holder, RUN_ONCE_HOLD, now)
        except GatewayError as problem:
            log.error("job %s failed: %s", name, problem.detail)
            results[name] = problem
        finally:
            with unit_of_work(context.engine) as session:
                release_lease(session, name, holder, datetime.now(UTC))
    return results


def process_name() -> str:
    """This process and thread of this host, as a lease holder."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"[-64:]


class Scheduler:
    """Runs a round of every job each ``interval`` seconds on a thread of its own."""

    def __init__(self, context: JobContext, interval: float) -> None:
        self._context = context
        self._hold = timedelta(seconds=interval)
        self._interval = interval
        self.name = process_name()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)

    def run_round(self) -> None:
        """Every job this process can lease; a failing job does not stop the others."""
        for name in JOBS:
            try:
                run_job(self._context, name, self.name, self._hold)
            except GatewayError as problem:  # e.g. a deadline no schedule covers
                log.error("job %s failed: %s", name, problem.detail)
            except Exception as exc:  # the next round retries
                log.error("job %s failed: %s", name, type(exc).__name__)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.run_round()


@contextmanager
def running_scheduler(context: JobContext, interval: float, *, enabled: bool) -> Iterator[None]:
    """This process's scheduler thread, running for the duration of the block if enabled."""
    if not enabled:
        yield
        return
    scheduler = Scheduler(context, interval)
    scheduler.start()
    try:
        yield
    finally:
        scheduler.stop()
