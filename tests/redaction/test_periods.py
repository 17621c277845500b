"""Art. 41 para. 2: periods counted on the China Standard Time calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redaction.errors import CatalogInvalid, InvalidTimestamp
from redaction.periods import Period, local_date
from tests.redaction.strategies import PROPERTY, periods


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("P3Y", Period(3)),
        ("P6M", Period(0, 6)),
        ("P1Y6M10D", Period(1, 6, 10)),
        ("P90D", Period(days=90)),
    ],
)
def test_iso_durations_round_trip(text: str, period: Period) -> None:
    assert Period.parse(text) == period
    assert str(period) == text


@pytest.mark.parametrize("text", ["P", "P0D", "3Y", "P1W", "PT5H", "P-1Y", "P1.5Y"])
def test_malformed_durations(text: str) -> None:
    with pytest.raises(CatalogInvalid):
        Period.parse(text)


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        (Period(1), date(2024, 2, 29), date(2025, 2, 28)),
        (Period(months=1), date(2024, 1, 31), date(2024, 2, 29)),
        (Period(months=13), date(2024, 12, 15), date(2026, 1, 15)),
        (Period(1, 6, 10), date(2023, 8, 31), date(2025, 3, 10)),
    ],
)
def test_period_end_clamps_to_the_month(period: Period, start: date, end: date) -> None:
    assert period.after(start) == end


@PROPERTY
@given(periods, st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)))
def test_a_period_ends_after_it_starts(period: Period, start: date) -> None:
    end = period.after(start)
    assert end > start
    assert end <= start + timedelta(days=366 * period.years + 31 * period.months + period.days)


def test_longer_than_compares_months_then_days() -> None:
    assert Period(1, 1).longer_than(Period(1))
    assert not Period(0, 12).longer_than(Period(1))
    assert Period(0, 12, 1).longer_than(Period(1))


def test_local_date_is_china_standard_time() -> None:
    assert local_date(datetime(2024, 12, 31, 16, 0, tzinfo=UTC)) == date(2025, 1, 1)
    assert local_date(datetime(2024, 12, 31, 15, 59, tzinfo=UTC)) == date(2024, 12, 31)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(InvalidTimestamp):
        local_date(datetime(2025, 1, 1))
