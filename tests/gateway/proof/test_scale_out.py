"""The inquiry benchmark's verdict on PostgreSQL's two targets (:func:`bench.inquiry.scale_out`):
two processes serve at least as many authorized inquiries a second as one SQLite worker, and
throughput does not fall from 1 to 2 to 4 processes - judged at the run's connections and at its
capacity load, each from its own medians, and round by round (the settings' rounds of one
number ran in the same minutes)."""

from __future__ import annotations

import statistics
from typing import Any

import pytest

from bench.inquiry import CHANNELS, FULL, PROCESSES, Setting, scale_out

SETTINGS = [Setting("sqlite", 1, CHANNELS)] + [
    Setting("postgresql", n, CHANNELS) for n in PROCESSES
]


def _details(at_16: list[list[float]], at_64: list[list[float]]) -> dict[str, Any]:
    """The rounds of SQLite's one worker, then of PostgreSQL's 1, 2 and 4 processes, at each
    load, as the run records them, and their medians."""
    return {
        setting.name: {
            "rounds": [
                {
                    "channels": {"authorized": {"requests_per_second": low}},
                    "capacity": {"requests_per_second": high},
                    "valid": True,
                }
                for low, high in zip(lows, highs, strict=True)
            ],
            "authorized": {"median_rps": statistics.median(lows)},
            "capacity": {"median_rps": statistics.median(highs)},
        }
        for setting, lows, highs in zip(SETTINGS, at_16, at_64, strict=True)
    }


def _once(at_16: list[float], at_64: list[float]) -> dict[str, Any]:
    """One round per setting."""
    return _details([[rps] for rps in at_16], [[rps] for rps in at_64])


def test_each_load_is_judged_on_its_own_figures() -> None:
    details = _once([2_295, 1_416, 1_443, 1_397], [2_900, 2_200, 3_100, 3_300])
    low, high = scale_out(SETTINGS, details, FULL)
    assert (low["connections"], high["connections"]) == (16, 64)
    assert low["two_against_sqlite"] == pytest.approx(1_443 / 2_295)
    assert not low["two_at_least_sqlite"] and not low["not_falling"]  # 4 below 2
    assert high["two_at_least_sqlite"] and high["not_falling"]
    assert high["postgresql_rps"] == {1: 2_200, 2: 3_100, 4: 3_300}


@pytest.mark.parametrize(
    ("postgresql", "at_least", "not_falling"),
    [
        ([1_000, 2_000, 2_000], True, True),  # equal is not a fall, and equal to SQLite is enough
        ([1_000, 1_999, 2_500], False, True),
        ([2_100, 2_000, 2_500], True, False),  # 2 below 1
        ([1_000, 2_500, 2_400], True, False),  # 4 below 2
    ],
)
def test_the_verdicts(postgresql: list[float], at_least: bool, not_falling: bool) -> None:
    details = _once([2_000, *postgresql], [2_000, *postgresql])
    for verdict in scale_out(SETTINGS, details, FULL):
        assert verdict["two_at_least_sqlite"] is at_least
        assert verdict["not_falling"] is not_falling
        assert verdict["rounds"] == 1
        assert verdict["rounds_two_at_least_sqlite"] == int(at_least)
        assert verdict["rounds_not_falling"] == int(not_falling)


def test_rounds_are_judged_against_the_same_round() -> None:
    """The rounds of one number ran in the same minutes: round 1 slow, rounds 2 and 3 fast.
    Two processes beat SQLite in each round; four fall below two in round 2 only, and at 64
    connections in round 1 only, where their medians do not fall."""
    details = _details(
        [
            [1_500, 2_500, 2_400],
            [1_000, 1_600, 1_500],
            [1_600, 2_600, 2_500],
            [1_700, 2_550, 2_600],
        ],
        [
            [1_500, 2_500, 2_400],
            [1_000, 1_600, 1_500],
            [1_600, 2_600, 2_500],
            [1_550, 2_700, 2_520],
        ],
    )
    low, high = scale_out(SETTINGS, details, FULL)
    assert low["sqlite_1_rps"] == 2_400 and low["postgresql_rps"][2] == 2_500
    assert (low["rounds"], low["rounds_two_at_least_sqlite"], low["rounds_not_falling"]) == (
        3,
        3,
        2,
    )
    assert high["not_falling"]  # medians 1,500 -> 2,500 -> 2,520
    assert (high["rounds"], high["rounds_not_falling"]) == (3, 2)


def test_a_round_invalid_in_any_setting_is_not_paired() -> None:
    """As the medians leave out the rounds whose bare endpoint was bounded, so do the pairs."""
    details = _details(
        [[2_000, 2_000], [1_000, 1_000], [1_500, 2_500], [1_600, 2_600]],
        [[2_000, 2_000], [1_000, 1_000], [1_500, 2_500], [1_600, 2_600]],
    )
    details[SETTINGS[3].name]["rounds"][0]["valid"] = False
    for verdict in scale_out(SETTINGS, details, FULL):
        assert (verdict["rounds"], verdict["rounds_two_at_least_sqlite"]) == (1, 1)
