"""The console's alert rules: pure functions over the daily figures of the log's index
(:mod:`gateway.console.aggregates`), one per pattern a regulator watches for (Art. 39 para. 3,
Art. 69). Each alert names the requester and the day (China Standard Time) and the filter of
the log entries behind it, which the console links to.

* :func:`bursts` - a requester's inquiries on a day above ``factor`` times the median of its
  daily inquiries over the ``window`` days before (days without any count as zero), and at
  least ``minimum`` of them;
* :func:`refusal_rates` - a requester's refused share of a day's inquiries above ``threshold``,
  out of at least ``minimum``;
* :func:`after_hours` - at least ``minimum`` inquiries of a requester on a day outside business
  hours;
* :func:`grantless_subjects` - at least ``minimum`` distinct subjects a requester inquired about
  on a day without a grant of its own for them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from statistics import median


class AlertKind(StrEnum):
    BURST = "burst"
    REFUSAL_RATE = "refusal_rate"
    AFTER_HOURS = "after_hours"
    GRANTLESS_SUBJECTS = "grantless_subjects"


FILTERS: Mapping[AlertKind, Mapping[str, str]] = {
    AlertKind.BURST: {},
    AlertKind.REFUSAL_RATE: {"outcome": "denied"},
    AlertKind.AFTER_HOURS: {"after_hours": "true"},
    AlertKind.GRANTLESS_SUBJECTS: {"outcome": "denied", "grantless": "true"},
}
"""What narrows the entries behind each kind of alert, beyond its requester and day."""


@dataclass(frozen=True)
class Alert:
    """A pattern seen: ``observed`` against ``threshold`` (the level it had to exceed, or
    reach for the counts with a minimum only)."""

    kind: AlertKind
    requester: str
    day: date
    observed: float
    threshold: float

    @property
    def filters(self) -> dict[str, str]:
        return {"requester": self.requester, "day": self.day.isoformat(), **FILTERS[self.kind]}


@dataclass(frozen=True)
class Daily:
    """One requester's inquiries on one day, and how many were refused."""

    requester: str
    day: date
    total: int
    denied: int = 0


def bursts(
    daily: Iterable[Daily], days: Iterable[date], *, factor: float, minimum: int, window: int
) -> list[Alert]:
    """Bursts on ``days``, each day against the ``window`` days before it."""
    counts: dict[str, dict[date, int]] = defaultdict(dict)
    for entry in daily:
        counts[entry.requester][entry.day] = entry.total
    alerts = []
    for day in days:
        before = [day - timedelta(days=n) for n in range(1, window + 1)]
        for requester, per_day in counts.items():
            observed = per_day.get(day, 0)
            level = factor * median(per_day.get(other, 0) for other in before)
            if observed >= minimum and observed > level:
                alerts.append(Alert(AlertKind.BURST, requester, day, observed, level))
    return _ordered(alerts)


def refusal_rates(daily: Iterable[Daily], *, threshold: float, minimum: int) -> list[Alert]:
    alerts = [
        Alert(
            AlertKind.REFUSAL_RATE,
            entry.requester,
            entry.day,
            entry.denied / entry.total,
            threshold,
        )
        for entry in daily
        if entry.total >= minimum and entry.denied / entry.total > threshold
    ]
    return _ordered(alerts)


def after_hours(outside: Iterable[Daily], *, minimum: int) -> list[Alert]:
    return _at_least(AlertKind.AFTER_HOURS, outside, minimum)


def grantless_subjects(subjects: Iterable[Daily], *, minimum: int) -> list[Alert]:
    return _at_least(AlertKind.GRANTLESS_SUBJECTS, subjects, minimum)


def _at_least(kind: AlertKind, daily: Iterable[Daily], minimum: int) -> list[Alert]:
    alerts = [
        Alert(kind, entry.requester, entry.day, entry.total, minimum)
        for entry in daily
        if entry.total >= minimum
    ]
    return _ordered(alerts)


def _ordered(alerts: list[Alert]) -> list[Alert]:
    """Newest day first, then by requester."""
    return sorted(alerts, key=lambda alert: (-alert.day.toordinal(), alert.requester))
