"""The console's charts, drawn on the server as SVG (the pages run no script): the geometry of
a stacked bar chart of counts per day, and of a bar per row of a table. Templates draw what
these compute - rectangles with a class per series, sized in attributes, never in inline
style, so the pages hold under the strict CSP."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from gateway.console.aggregates import DayCount

WIDTH = 720
HEIGHT = 220
LEFT = 44
RIGHT = 24
BOTTOM = 22
TOP = 8
BAR_WIDTH = 120
"""The longest bar of a table's row bars."""


@dataclass(frozen=True)
class Segment:
    day: date
    key: str
    series: int
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Tick:
    label: str
    x: float
    y: float


@dataclass(frozen=True)
class StackedBars:
    """Counts per day stacked by key: the rectangles, the axes' ticks, the legend's keys."""

    keys: list[str]
    segments: list[Segment]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    totals: dict[date, int]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: int = HEIGHT - BOTTOM


def stacked(days: Sequence[date], counts: Iterable[DayCount]) -> StackedBars:
    """The chart of ``counts`` over ``days`` (oldest first), keys in a fixed (sorted) order."""
    by_day: dict[date, dict[str, int]] = {day: {} for day in days}
    for count in counts:
        if count.day in by_day:
            by_day[count.day][count.key] = count.count
    keys = sorted({key for per_key in by_day.values() for key in per_key})
    totals = {day: sum(per_key.values()) for day, per_key in by_day.items()}
    peak = _round_up(max(totals.values(), default=0))
    plot = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT - RIGHT) / max(len(days), 1)
    segments = []
    for position, day in enumerate(days):
        y = float(HEIGHT - BOTTOM)
        for series, key in enumerate(keys):
            value = by_day[day].get(key, 0)
            if not value:
                continue
            height = plot * value / peak
            y -= height
            x = LEFT + position * slot + slot * 0.15
            segments.append(Segment(day, key, series, value, x, y, slot * 0.7, height))
    x_ticks = [
        Tick(day.strftime("%m-%d"), LEFT + (position + 0.5) * slot, HEIGHT - 6)
        for position, day in enumerate(days)
        if (len(days) - 1 - position) % 7 == 0
    ]
    y_ticks = [
        Tick(str(value), LEFT - 6, HEIGHT - BOTTOM - plot * value / peak)
        for value in (0, peak // 2, peak)
    ]
    return StackedBars(keys, segments, x_ticks, y_ticks, totals)


def bar_length(value: float, largest: float) -> int:
    """The length of a row's bar, ``value`` of the table's ``largest``."""
    return round(BAR_WIDTH * value / largest) if largest > 0 else 0


def _round_up(peak: int) -> int:
    """A tidy top of the y axis at or above ``peak``: 2, 4, 10, 20, 40, 100, ..."""
    top = 2
    while top < peak:
        top = top * 5 // 2 if str(top).startswith("4") else top * 2
    return top
