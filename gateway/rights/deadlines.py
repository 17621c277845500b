"""Art. 64, 65 and 67: deadlines counted in working days, on the official holiday schedules.

Art. 64 has providing units verify an objection "within the time provided" and Art. 65 gives
them five working days to report a revoked basis document; the gateway's own deadline for a
deletion notice's acknowledgement (Art. 67) is counted the same way. A working day is a day
that is neither a weekend day nor a public holiday, plus the weekend days worked in exchange
for a holiday (调休上班).

A period of ``n`` working days after an event starts the next day (the day of the event is not
counted): :meth:`WorkingCalendar.deadline` is its last day, on which the obligation may still be
met; on the day after it, it is overdue (:meth:`WorkingCalendar.overdue`).

The schedules are data. The State Council's yearly schedules come from the ``chinesecalendar``
package (:func:`official_calendar`); for a year it does not know yet the operator adds one YAML
file per year to a folder (``GATEWAY_HOLIDAY_CALENDAR``, by default ``gateway/rights/holidays/``)
with its ``year``, its ``holidays`` and its ``working_days``. The package's schedule wins for
the years it knows. A day of a year neither knows is never counted as weekends only: counting
across it raises :class:`~gateway.rights.errors.WorkingDaysUnknown` (503) naming the article of
the deadline - the answer the request gets, the error a job reports and what regulators see on
their oversight lists (:meth:`WorkingCalendar.gap`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import chinese_calendar
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from gateway.rights.errors import CalendarInvalid, WorkingDaysUnknown

SHIPPED_CALENDAR = Path(__file__).with_name("holidays")
SATURDAY = 5


class _YearFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    year: int
    holidays: list[date]
    working_days: list[date]


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """The years whose schedule is known: their public holidays, and the weekend days that are
    working days."""

    years: frozenset[int]
    holidays: frozenset[date] = frozenset()
    working_weekend_days: frozenset[date] = frozenset()

    def is_working_day(self, day: date, article: str) -> bool:
        """Whether ``day`` is a working day; raise for a day of a year no schedule covers."""
        if day.year not in self.years:
            raise WorkingDaysUnknown(
                f"no official or operator holiday schedule covers {day.year}: the deadline "
                f"cannot be counted until the operator adds the {day.year} schedule",
                article=article,
            )
        if day in self.working_weekend_days:
            return True
        return day.weekday() < SATURDAY and day not in self.holidays

    def deadline(self, start: date, working_days: int, article: str) -> date:
        """The last day of a period of ``working_days`` working days after ``start``."""
        if working_days < 1:
            raise ValueError("a period has at least one working day")
        day, counted = start, 0
        while counted < working_days:
            day += timedelta(days=1)
            counted += self.is_working_day(day, article)
        return day

    def overdue(self, start: date, working_days: int, today: date, article: str) -> bool:
        """Whether an obligation of ``working_days`` after ``start`` is late on ``today``."""
        return today > self.deadline(start, working_days, article)

    def gap(self, today: date, working_days: int) -> WorkingDaysUnknown | None:
        """The error a deadline of ``working_days`` counted from ``today`` would meet, if any."""
        try:
            self.deadline(today, working_days, "Art. 64, 65, 67")
        except WorkingDaysUnknown as unknown:
            return unknown
        return None


def merged(official: WorkingCalendar, operator: WorkingCalendar) -> WorkingCalendar:
    """The official schedules, and the operator's for the years they do not know."""
    added = operator.years - official.years
    return WorkingCalendar(
        official.years | added,
        official.holidays | {day for day in operator.holidays if day.year in added},
        official.working_weekend_days
        | {day for day in operator.working_weekend_days if day.year in added},
    )


@cache
def official_calendar() -> WorkingCalendar:
    """The State Council's schedules as the ``chinesecalendar`` package knows them."""
    holidays: frozenset[date] = frozenset(chinese_calendar.holidays)
    worked: frozenset[date] = frozenset(chinese_calendar.workdays)
    years = range(min(holidays).year, max(holidays).year + 1)
    return WorkingCalendar(frozenset(years), holidays, worked)


def parse_calendar(years: Iterable[object]) -> WorkingCalendar:
    """A calendar from parsed year files; raise :class:`CalendarInvalid` on any inconsistency."""
    known: set[int] = set()
    holidays: set[date] = set()
    working: set[date] = set()
    for document in years:
        try:
            year = _YearFile.model_validate(document)
        except ValidationError as exc:
            problems = exc.error_count()
            raise CalendarInvalid(f"a holiday calendar file is malformed ({problems})") from None
        _check_year(year, known)
        known.add(year.year)
        holidays.update(year.holidays)
        working.update(year.working_days)
    return WorkingCalendar(frozenset(known), frozenset(holidays), frozenset(working))


def _check_year(year: _YearFile, known: set[int]) -> None:
    if year.year in known:
        raise CalendarInvalid(f"two holiday calendar files are of {year.year}")
    if any(day.year != year.year for day in (*year.holidays, *year.working_days)):
        raise CalendarInvalid(f"the {year.year} calendar lists a day of another year")
    if set(year.holidays) & set(year.working_days):
        raise CalendarInvalid(f"the {year.year} calendar lists a day as both holiday and workday")
    if any(day.weekday() < SATURDAY for day in year.working_days):
        raise CalendarInvalid(f"the {year.year} calendar lists a weekday as an exchanged day")


@cache
def load_calendar(directory: Path = SHIPPED_CALENDAR) -> WorkingCalendar:
    """The official schedules, with those of every ``*.yaml`` file in ``directory`` for the
    years they do not know."""
    files = sorted(directory.glob("*.yaml"))
    operator = parse_calendar(yaml.safe_load(path.read_text(encoding="utf-8")) for path in files)
    return merged(official_calendar(), operator)
