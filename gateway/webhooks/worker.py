"""Delivering the outbox: a background thread per gateway process POSTs due notifications and
retries failures with exponential backoff (:func:`next_attempt`). Any process may deliver any
row; claims (:func:`gateway.webhooks.repository.claim_due`) keep two from sending one row at
once, and since the outbox is in the database, retries survive a restart.

Only a 2xx answer counts as delivered; redirects are not followed. Log lines name the
delivery id and the status, never the body.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine

from gateway.storage.db import unit_of_work
from gateway.webhooks.repository import Attempt, Claimed, claim_due, record_attempt

log = logging.getLogger("gateway.webhooks")

FIRST_RETRY = timedelta(seconds=10)
MAX_BACKOFF = timedelta(hours=6)
MAX_ATTEMPTS = 15
TIMEOUT = 10.0
BATCH = 10
LEASE = timedelta(seconds=BATCH * TIMEOUT + 60)
"""Long enough to send a whole batch at the timeout, so no other worker takes it meanwhile."""
CONTENT_TYPE = "application/jwt"


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """When to retry after ``attempts`` failed attempts: 10 s, 20 s, 40 s ... at most 6 h
    apart; ``None`` (give up) after :data:`MAX_ATTEMPTS`."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + min(FIRST_RETRY * (1 << (attempts - 1)), MAX_BACKOFF)


class WebhookWorker:
    """Delivers due notifications every ``interval`` seconds on a thread of its own."""

    def __init__(self, engine: Engine, interval: float) -> None:
        self._engine = engine
        self._interval = interval
        self._http = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
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
        status = self._post(delivery)
        delivered = status is not None and 200 <= status < 300
        attempts = delivery.attempts + 1
        retry = None if delivered else next_attempt(attempts, now)
        with unit_of_work(self._engine) as session:
            record_attempt(session, self.name, delivery.id, Attempt(now, status, delivered, retry))
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

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.deliver_due()
            except Exception as exc:  # the database failed; the next round retries
                log.error("webhook round failed: %s", type(exc).__name__)


@contextmanager
def running_webhook_worker(engine: Engine, interval: float) -> Iterator[WebhookWorker]:
    """This process's delivery thread, running for the duration of the block."""
    worker = WebhookWorker(engine, interval)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
