"""Working days on the holiday calendar (Art. 64, 65): weekends, public holidays and the
weekend days worked in exchange, counted from the day after the event."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.rights.deadlines import WorkingCalendar, load_calendar, parse_calendar
from gateway.rights.errors import CalendarInvalid

CALENDAR = load_calendar()


@pytest.mark.parametrize(
    ("start", "days", "deadline"),
    [
        (date(2026, 3, 6), 5, date(2026, 3, 13)),  # Friday: over one weekend
        (date(2026, 3, 9), 5, date(2026, 3, 16)),  # Monday: the weekend after the fifth day
        (date(2026, 9, 30), 5, date(2026, 10, 13)),  # National Day, then Saturday 10 Oct worked
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Saturday 14 Feb is a working day
        (date(2026, 2, 13), 2, date(2026, 2, 24)),  # then the Spring Festival
        (date(2026, 4, 3), 1, date(2026, 4, 7)),  # Qingming: Saturday to Monday
    ],
)
def test_deadlines_skip_weekends_and_holidays(start: date, days: int, deadline: date) -> None:
    assert CALENDAR.deadline(start, days) == deadline


def test_an_obligation_is_overdue_from_the_day_after_its_deadline() -> None:
    filed = date(2026, 9, 30)  # five working days end on Tuesday 13 October
    assert not CALENDAR.overdue(filed, 5, date(2026, 10, 13))
    assert CALENDAR.overdue(filed, 5, date(2026, 10, 14))
    assert not WorkingCalendar().overdue(filed, 5, date(2026, 10, 7))  # weekends only
    with pytest.raises(ValueError, match="at least one working day"):
        CALENDAR.deadline(filed, 0)


def test_the_shipped_calendar_knows_2026() -> None:
    assert not CALENDAR.is_working_day(date(2026, 10, 1))
    assert not CALENDAR.is_working_day(date(2026, 1, 1))
    assert CALENDAR.is_working_day(date(2026, 9, 20))  # a Sunday worked in exchange
    assert not CALENDAR.is_working_day(date(2026, 11, 28))  # an ordinary Saturday
    assert CALENDAR.is_working_day(date(2026, 11, 27))


@given(st.dates(date(2025, 12, 1), date(2026, 12, 31)), st.integers(1, 30))
def test_a_deadline_is_the_nth_working_day_after_the_start(start: date, days: int) -> None:
    deadline = CALENDAR.deadline(start, days)
    between = [start + timedelta(days=n) for n in range(1, (deadline - start).days + 1)]
    assert sum(map(CALENDAR.is_working_day, between)) == days
    assert CALENDAR.is_working_day(deadline)


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"year": 2026, "holidays": ["2027-01-01"], "working_days": []}, "another year"),
        ({"year": 2026, "holidays": [], "working_days": ["2026-03-04"]}, "weekday"),
        ({"year": 2026, "holidays": ["2026-03-07"], "working_days": ["2026-03-07"]}, "both"),
        ({"year": 2026, "holidays": ["not a date"], "working_days": []}, "malformed"),
        ({"year": 2026, "holidays": []}, "malformed"),
    ],
)
def test_an_inconsistent_calendar_is_refused(document: dict[str, object], problem: str) -> None:
    with pytest.raises(CalendarInvalid, match=problem):
        parse_calendar([document])


def test_a_folder_without_calendar_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CalendarInvalid, match="no holiday calendar"):
        load_calendar(tmp_path)
