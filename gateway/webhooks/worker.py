"""Delivering the outbox: a background thread per gateway process POSTs due notifications and
retries failures with exponential backoff (:mod:`gateway.webhooks.schedule`). Any process may
deliver any row; claims (:func:`gateway.webhooks.repository.claim_due`) keep two from sending
one row at once, and since the outbox is in the database, retries survive a restart.

Only a 2xx answer counts as delivered; redirects are not followed. Log lines name the
delivery id and the status, never the body.

The same outbox carries the credit subjects' notifications (:mod:`gateway.notifications`):
``email`` and ``sms`` rows are sent through :class:`~gateway.notifications.transports.Transports`;
once one is sent it becomes an audit leaf (kind ``notification``: the event and the channel,
never the address, under the subject's commitment so it is in their access log) and its address
and text are erased. A worker without the audit log or the transports leaves those rows alone.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine

from audit.leaf import AuditEvent, EventKind, Outcome
from gateway.audit_log.service import AuditLog, seal
from gateway.notifications.transports import Transports
from gateway.storage.db import unit_of_work
from gateway.webhooks.repository import Attempt, Claimed, claim_due, record_attempt
from gateway.webhooks.schedule import next_attempt

log = logging.getLogger("gateway.webhooks")

TIMEOUT = 10.0
BATCH = 10
LEASE = timedelta(seconds=BATCH * TIMEOUT + 60)
"""Long enough to send a whole batch at the timeout, so no other worker takes it meanwhile."""
CONTENT_TYPE = "application/jwt"
WEBHOOK = "webhook"
SENDER = "gateway"
"""The requester of a notification's leaf: the gateway itself told the subject."""


class WebhookWorker:
    """Delivers due notifications every ``interval`` seconds on a thread of its own."""

    def __init__(
        self,
        engine: Engine,
        interval: float,
        *,
        audit_log: AuditLog | None = None,
        transports: Callable[[httpx.Client], Transports] | None = None,
    ) -> None:
        self._engine = engine
        self._interval = interval
        self._http = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        self._audit_log = audit_log
        self._transports = transports(self._http) if transports else None
        self.name = f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"[-64:]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-deliveries", daemon=True)

    def deliver_due(self, now: datetime | None = None) -> int:
        """One round: claim what is due at ``now``, send it, record each outcome.

        Returns the number delivered.
        """
        moment = now or datetime.now(UTC)
        with unit_of_work(self._engine) as session:
            claimed = claim_due(session, self.name, moment, LEASE, BATCH)
        return sum(self._deliver(delivery, moment) for delivery in claimed)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._http.close()

    def _deliver(self, delivery: Claimed, now: datetime) -> bool:
        status = self._post(delivery) if delivery.channel == WEBHOOK else self._tell(delivery, now)
        delivered = status is not None and 200 <= status < 300
        attempts = delivery.attempts + 1
        retry = None if delivered else next_attempt(attempts, now)
        attempt = Attempt(now, status, delivered, retry)
        with unit_of_work(self._engine) as session:
            erase = delivery.channel != WEBHOOK
            record_attempt(session, self.name, delivery.id, attempt, erase=erase)
        if not delivered:
            log.warning(
                "webhook %s not delivered: attempt %d, status %s", delivery.id, attempts, status
            )
        return delivered

    def _post(self, delivery: Claimed) -> int | None:
        try:
            response = self._http.post(
                delivery.url, content=delivery.body, headers={"Content-Type": CONTENT_TYPE}
            )
        except httpx.HTTPError:
            return None
        return response.status_code

    def _tell(self, delivery: Claimed, now: datetime) -> int | None:
        """A subject's message: sent, then registered in the audit log (fails closed: a
        message whose leaf cannot be written is tried again)."""
        if self._transports is None or self._audit_log is None or delivery.subject_key is None:
            return None
        status = self._transports.send(delivery.channel, delivery.url, delivery.body)
        if status is None or not 200 <= status < 300:
            return status
        sealed = seal(delivery.subject_key)
        event = AuditEvent(
            time_ms=int(now.timestamp() * 1000),
            kind=EventKind.NOTIFICATION,
            channel=None,
            requester=SENDER,
            legal_basis="",
            grant_id="",
            purpose=delivery.event,
            item_categories=frozenset(),
            outcome=Outcome.ALLOWED,
            reason_code=delivery.channel,
            subject_commitment=sealed.subject_commitment,
        )
        try:
            self._audit_log.append(event, sealed.openings)
        except Exception:  # the log is unavailable: not recorded as delivered, retried
            return None
        return status

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.deliver_due()
            except Exception as exc:  # the database failed; the next round retries
                log.error("webhook round failed: %s", type(exc).__name__)


@contextmanager
def running_webhook_worker(
    engine: Engine,
    interval: float,
    *,
    audit_log: AuditLog,
    transports: Callable[[httpx.Client], Transports],
) -> Iterator[WebhookWorker]:
    """This process's delivery thread, running for the duration of the block."""
    worker = WebhookWorker(engine, interval, audit_log=audit_log, transports=transports)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
