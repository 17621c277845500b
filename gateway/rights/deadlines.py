"""Art. 64 and 65: deadlines counted in working days, on the province's holiday calendar.

Art. 64 has providing units verify an objection "within the time provided" and Art. 65 gives
them five working days to report a revoked basis document; the gateway's own deadline for a
deletion notice's acknowledgement (Art. 67) is counted the same way. A working day is a day
that is neither a weekend day nor a public holiday, plus the weekend days worked in exchange
for a holiday (调休上班).

A period of ``n`` working days after an event starts the next day (the day of the event is not
counted): :meth:`WorkingCalendar.deadline` is its last day, on which the obligation may still be
met; on the day after it, it is overdue (:meth:`WorkingCalendar.overdue`).

The calendar is data: one YAML file per year in a directory (the gateway ships
``gateway/rights/holidays/``; ``GATEWAY_HOLIDAY_CALENDAR`` names another), each with its
``year``, its ``holidays`` and its ``working_days``. A year without a file has weekends only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from gateway.rights.errors import CalendarInvalid

SHIPPED_CALENDAR = Path(__file__).with_name("holidays")
SATURDAY = 5


class _YearFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    year: int
    holidays: list[date]
    working_days: list[date]


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Public holidays, and the weekend days that are working days."""

    holidays: frozenset[date] = frozenset()
    working_weekend_days: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if day in self.working_weekend_days:
            return True
        return day.weekday() < SATURDAY and day not in self.holidays

    def deadline(self, start: date, working_days: int) -> date:
        """The last day of a period of ``working_days`` working days after ``start``."""
        if working_days < 1:
            raise ValueError("a period has at least one working day")
        day, counted = start, 0
        while counted < working_days:
            day += timedelta(days=1)
            counted += self.is_working_day(day)
        return day

    def overdue(self, start: date, working_days: int, today: date) -> bool:
        """Whether an obligation of ``working_days`` after ``start`` is late on ``today``."""
        return today > self.deadline(start, working_days)


def parse_calendar(years: Iterable[object]) -> WorkingCalendar:
    """A calendar from parsed year files; raise :class:`CalendarInvalid` on any inconsistency."""
    holidays: set[date] = set()
    working: set[date] = set()
    for document in years:
        try:
            year = _YearFile.model_validate(document)
        except ValidationError as exc:
            problems = exc.error_count()
            raise CalendarInvalid(f"a holiday calendar file is malformed ({problems})") from None
        _check_year(year)
        holidays.update(year.holidays)
        working.update(year.working_days)
    return WorkingCalendar(frozenset(holidays), frozenset(working))


def _check_year(year: _YearFile) -> None:
    if any(day.year != year.year for day in (*year.holidays, *year.working_days)):
        raise CalendarInvalid(f"the {year.year} calendar lists a day of another year")
    if set(year.holidays) & set(year.working_days):
        raise CalendarInvalid(f"the {year.year} calendar lists a day as both holiday and workday")
    if any(day.weekday() < SATURDAY for day in year.working_days):
        raise CalendarInvalid(f"the {year.year} calendar lists a weekday as an exchanged day")


@cache
def load_calendar(directory: Path = SHIPPED_CALENDAR) -> WorkingCalendar:
    """The calendar of every ``*.yaml`` file in ``directory``."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise CalendarInvalid(f"no holiday calendar file in {directory}")
    return parse_calendar(yaml.safe_load(path.read_text(encoding="utf-8")) for path in files)
