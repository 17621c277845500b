"""When the outbox retries a delivery: exponential backoff from :data:`FIRST_RETRY`, at most
:data:`MAX_BACKOFF` apart, :data:`MAX_ATTEMPTS` attempts in all - so a notification can still
arrive up to :data:`DELIVERY_WINDOW` after its first attempt."""

from __future__ import annotations

from datetime import datetime, timedelta

FIRST_RETRY = timedelta(seconds=10)
MAX_BACKOFF = timedelta(hours=6)
MAX_ATTEMPTS = 15


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """When to retry after ``attempts`` failed attempts: 10 s, 20 s, 40 s ... at most 6 h
    apart; ``None`` (give up) after :data:`MAX_ATTEMPTS`."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + _backoff(attempts)


def _backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (1 << (attempts - 1)), MAX_BACKOFF)


DELIVERY_WINDOW = sum((_backoff(attempts) for attempts in range(1, MAX_ATTEMPTS)), timedelta())
"""From a notification's first attempt to its last retry: as long as it may still arrive."""
