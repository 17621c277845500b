"""The console's alert rules, pure: each fires above its level and not at it."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from gateway.console.alerts import (
    Alert,
    AlertKind,
    Daily,
    after_hours,
    bursts,
    grantless_subjects,
    refusal_rates,
)

DAY = date(2026, 12, 2)


def history(requester: str, per_day: int, days: int = 30) -> list[Daily]:
    return [Daily(requester, DAY - timedelta(days=n), per_day) for n in range(1, days + 1)]


def test_a_burst_is_above_the_factor_times_the_median_of_the_window_before() -> None:
    daily = [*history("bank", 10), Daily("bank", DAY, 31), *history("steady", 10)]
    daily.append(Daily("steady", DAY, 30))  # exactly 3 x 10: not above
    alerts = bursts(daily, [DAY], factor=3, minimum=20, window=30)
    assert alerts == [Alert(AlertKind.BURST, "bank", DAY, 31, 30)]
    assert alerts[0].filters == {"requester": "bank", "day": "2026-12-02"}


def test_a_burst_needs_the_minimum_count_and_days_without_inquiries_count_as_zero() -> None:
    new = [Daily("new", DAY, 19)]
    assert bursts(new, [DAY], factor=3, minimum=20, window=30) == []
    new = [Daily("new", DAY, 20), Daily("new", DAY - timedelta(days=3), 50)]
    assert bursts(new, [DAY], factor=3, minimum=20, window=30) == [
        Alert(AlertKind.BURST, "new", DAY, 20, 0)
    ]


@given(
    st.lists(st.integers(min_value=0, max_value=50), min_size=30, max_size=30),
    st.integers(min_value=0, max_value=400),
)
def test_a_burst_is_raised_exactly_when_the_rule_says(window: list[int], today: int) -> None:
    daily = [Daily("r", DAY - timedelta(days=n + 1), count) for n, count in enumerate(window)]
    daily.append(Daily("r", DAY, today))
    ordered = sorted(window)
    median = (ordered[14] + ordered[15]) / 2
    expected = today >= 5 and today > 3 * median
    assert bool(bursts(daily, [DAY], factor=3, minimum=5, window=30)) is expected


def test_a_refusal_rate_above_the_threshold_out_of_the_minimum() -> None:
    daily = [
        Daily("refused-much", DAY, 10, 6),
        Daily("at-threshold", DAY, 10, 5),
        Daily("too-few", DAY, 4, 4),
    ]
    alerts = refusal_rates(daily, threshold=0.5, minimum=10)
    assert alerts == [Alert(AlertKind.REFUSAL_RATE, "refused-much", DAY, 0.6, 0.5)]
    assert alerts[0].filters["outcome"] == "denied"


def test_after_hours_and_grantless_subjects_fire_from_their_minimum() -> None:
    counts = [Daily("a", DAY, 5), Daily("b", DAY, 4), Daily("c", DAY - timedelta(days=1), 9)]
    late = after_hours(counts, minimum=5)
    assert [(a.requester, a.day) for a in late] == [("a", DAY), ("c", DAY - timedelta(days=1))]
    assert late[0].filters["after_hours"] == "true"
    grantless = grantless_subjects(counts, minimum=5)
    assert [a.kind for a in grantless] == [AlertKind.GRANTLESS_SUBJECTS] * 2
    assert grantless[0].filters == {
        "requester": "a",
        "day": "2026-12-02",
        "outcome": "denied",
        "grantless": "true",
    }
