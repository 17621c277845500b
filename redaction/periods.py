"""Art. 41 para. 2: display and retention periods, and the calendar they are counted on.

A :class:`Period` is a calendar duration of years, months and days, written in the catalog as an
ISO 8601 duration (``P3Y``, ``P6M``, ``P1Y6M``, ``P90D``). It runs from a start date; the period
has ended on the day ``period.after(start)`` and every day after it. Adding months keeps the day
of the month, clamped to the month's last day (2024-02-29 + ``P1Y`` is 2025-02-28), then days
are added.

Days are days of the province's calendar: an aware ``datetime`` is converted to a date in China
Standard Time (UTC+08:00, no daylight saving) by :func:`local_date`; naive datetimes are refused.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from redaction.errors import CatalogInvalid, InvalidTimestamp

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")

_ISO_DURATION = re.compile(r"P(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)D)?")


def local_date(at: datetime) -> date:
    """The date in China Standard Time of an aware datetime."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidTimestamp("a point in time must carry its UTC offset")
    return at.astimezone(CHINA_STANDARD_TIME).date()


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar duration; at least one part is positive, none is negative."""

    years: int = 0
    months: int = 0
    days: int = 0

    def __post_init__(self) -> None:
        parts = (self.years, self.months, self.days)
        if min(parts) < 0 or max(parts) == 0:
            raise CatalogInvalid("a period has non-negative parts and is not empty")

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read an ISO 8601 duration made of years, months and days."""
        match = _ISO_DURATION.fullmatch(text)
        if match is None or text == "P":
            raise CatalogInvalid("a period is an ISO 8601 duration such as P3Y or P1Y6M")
        years, months, days = (int(part or 0) for part in match.groups())
        return cls(years, months, days)

    def __str__(self) -> str:
        parts = ((self.years, "Y"), (self.months, "M"), (self.days, "D"))
        return "P" + "".join(f"{count}{unit}" for count, unit in parts if count)

    def after(self, start: date) -> date:
        """The first day on which a period that started on ``start`` has ended."""
        year, month_index = divmod(start.month - 1 + self.months, 12)
        year += start.year + self.years
        month = month_index + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return date(year, month, day) + timedelta(days=self.days)

    def longer_than(self, other: Period) -> bool:
        """Compare by whole months, then days (a catalog sanity check, not calendar exact)."""
        return (self.years * 12 + self.months, self.days) > (
            other.years * 12 + other.months,
            other.days,
        )
