"""Working days (Art. 64, 65, 67): the official schedules of the ``chinesecalendar`` package,
the operator's YAML files for the years it does not know, counted from the day after the event;
a deadline in a year neither knows is an error naming its article, never weekends-only."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gateway.rights.deadlines import (
    WorkingCalendar,
    load_calendar,
    merged,
    official_calendar,
    parse_calendar,
)
from gateway.rights.errors import CalendarInvalid, WorkingDaysUnknown
from gateway.rights.service import Deadlines

CALENDAR = load_calendar()
ART = "Art. 64"
FIRST_UNKNOWN = max(official_calendar().years) + 1
OPERATOR_YEAR = {
    "year": FIRST_UNKNOWN,
    "holidays": [f"{FIRST_UNKNOWN}-01-01", f"{FIRST_UNKNOWN}-01-04"],
    "working_days": [],
}


@pytest.mark.parametrize(
    ("start", "days", "deadline"),
    [
        (date(2026, 3, 6), 5, date(2026, 3, 13)),  # Friday: over one weekend
        (date(2026, 3, 9), 5, date(2026, 3, 16)),  # Monday: the weekend after the fifth day
        (date(2026, 9, 30), 5, date(2026, 10, 13)),  # National Day, then Saturday 10 Oct worked
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Saturday 14 Feb is a working day
        (date(2026, 2, 13), 2, date(2026, 2, 24)),  # then the Spring Festival
        (date(2026, 4, 3), 1, date(2026, 4, 7)),  # Qingming: Saturday to Monday
        (date(2025, 9, 26), 1, date(2025, 9, 28)),  # Sunday 28 Sep 2025 worked
    ],
)
def test_deadlines_skip_weekends_and_holidays(start: date, days: int, deadline: date) -> None:
    assert CALENDAR.deadline(start, days, ART) == deadline


def test_an_obligation_is_overdue_from_the_day_after_its_deadline() -> None:
    filed = date(2026, 9, 30)  # five working days end on Tuesday 13 October
    assert not CALENDAR.overdue(filed, 5, date(2026, 10, 13), ART)
    assert CALENDAR.overdue(filed, 5, date(2026, 10, 14), ART)
    with pytest.raises(ValueError, match="at least one working day"):
        CALENDAR.deadline(filed, 0, ART)


def test_the_official_schedules_come_from_the_package() -> None:
    assert {2004, 2026} <= CALENDAR.years
    assert not CALENDAR.is_working_day(date(2026, 10, 1), ART)
    assert CALENDAR.is_working_day(date(2026, 9, 20), ART)  # a Sunday worked in exchange
    assert not CALENDAR.is_working_day(date(2026, 11, 28), ART)  # an ordinary Saturday
    assert CALENDAR.is_working_day(date(2026, 11, 27), ART)


@pytest.mark.parametrize("article", ["Art. 64", "Art. 65", "Art. 67"])
def test_a_deadline_in_a_year_no_schedule_knows_is_an_error(article: str) -> None:
    last_known = date(FIRST_UNKNOWN - 1, 12, 28)
    with pytest.raises(WorkingDaysUnknown) as unknown:
        CALENDAR.deadline(last_known, 5, article)
    problem = unknown.value.to_problem()
    assert (problem["status"], problem["article"]) == (503, article)
    assert str(FIRST_UNKNOWN) in str(problem["detail"])
    assert CALENDAR.gap(last_known, 5) is not None
    assert CALENDAR.gap(date(FIRST_UNKNOWN - 1, 6, 1), 5) is None


def test_an_operator_file_covers_a_year_the_package_does_not_know(tmp_path: Path) -> None:
    (tmp_path / f"{FIRST_UNKNOWN}.yaml").write_text(yaml.safe_dump(OPERATOR_YEAR))
    calendar = load_calendar(tmp_path)
    assert FIRST_UNKNOWN in calendar.years
    assert not calendar.is_working_day(date(FIRST_UNKNOWN, 1, 1), ART)
    last_known = date(FIRST_UNKNOWN - 1, 12, 30)
    assert calendar.deadline(last_known, 3, ART).year == FIRST_UNKNOWN
    settings_like = Deadlines(calendar, 5, 5)
    assert settings_like.gap(last_known) is None


def test_the_packages_schedule_wins_for_the_years_it_knows() -> None:
    operator = parse_calendar(
        [{"year": 2026, "holidays": ["2026-03-04"], "working_days": []}, OPERATOR_YEAR]
    )
    calendar = merged(official_calendar(), operator)
    assert calendar.is_working_day(date(2026, 3, 4), ART)  # not the operator's holiday
    assert not calendar.is_working_day(date(FIRST_UNKNOWN, 1, 4), ART)


@given(st.dates(date(2024, 12, 1), date(2026, 12, 15)), st.integers(1, 10))
def test_a_deadline_is_the_nth_working_day_after_the_start(start: date, days: int) -> None:
    deadline = CALENDAR.deadline(start, days, ART)
    between = [start + timedelta(days=n) for n in range(1, (deadline - start).days + 1)]
    assert sum(CALENDAR.is_working_day(day, ART) for day in between) == days
    assert CALENDAR.is_working_day(deadline, ART)


@pytest.mark.parametrize(
    ("documents", "problem"),
    [
        ([{"year": 2026, "holidays": ["2027-01-01"], "working_days": []}], "another year"),
        ([{"year": 2026, "holidays": [], "working_days": ["2026-03-04"]}], "weekday"),
        ([{"year": 2026, "holidays": ["2026-03-07"], "working_days": ["2026-03-07"]}], "both"),
        ([{"year": 2026, "holidays": ["not a date"], "working_days": []}], "malformed"),
        ([{"year": 2026, "holidays": []}], "malformed"),
        ([OPERATOR_YEAR, OPERATOR_YEAR], "two holiday calendar files"),
    ],
)
def test_an_inconsistent_calendar_is_refused(documents: list[object], problem: str) -> None:
    with pytest.raises(CalendarInvalid, match=problem):
        parse_calendar(documents)


def test_no_operator_file_leaves_the_official_schedules(tmp_path: Path) -> None:
    assert load_calendar(tmp_path) == official_calendar()
    assert isinstance(load_calendar(tmp_path), WorkingCalendar)
