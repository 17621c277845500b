"""The inquiry benchmark's verdict on PostgreSQL's two targets (:func:`bench.inquiry.scale_out`):
two processes serve at least as many authorized inquiries a second as one SQLite worker, and
throughput does not fall from 1 to 2 to 4 processes - judged at the run's connections and at its
capacity load, each from its own medians."""

from __future__ import annotations

from typing import Any

import pytest

from bench.inquiry import CHANNELS, FULL, PROCESSES, Setting, scale_out

SETTINGS = [Setting("sqlite", 1, CHANNELS)] + [
    Setting("postgresql", n, CHANNELS) for n in PROCESSES
]


def _details(at_16: list[float], at_64: list[float]) -> dict[str, Any]:
    """Medians of SQLite's one worker, then PostgreSQL's 1, 2 and 4 processes, at each load."""
    return {
        setting.name: {"authorized": {"median_rps": low}, "capacity": {"median_rps": high}}
        for setting, low, high in zip(SETTINGS, at_16, at_64, strict=True)
    }


def test_each_load_is_judged_on_its_own_figures() -> None:
    details = _details([2_295, 1_416, 1_443, 1_397], [2_900, 2_200, 3_100, 3_300])
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
    details = _details([2_000, *postgresql], [2_000, *postgresql])
    for verdict in scale_out(SETTINGS, details, FULL):
        assert verdict["two_at_least_sqlite"] is at_least
        assert verdict["not_falling"] is not_falling
