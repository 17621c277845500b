"""Benchmarks of the mission's targets, each next to a baseline doing the same work in the run.

``python -m bench`` (``make bench``) runs every registered benchmark, prints one table and
writes ``bench/results/<timestamp>.json`` and ``bench/results/latest.json`` with a
description of the machine. Timed assertions do not belong in tests; they live here.

A benchmark module registers its measurements with :func:`benchmark`; ``bench.__main__``
imports the modules listed in :data:`MODULES`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

MODULES = (
    "bench.art62",
    "bench.audit_log",
    "bench.tiles",
    "bench.dpop",
    "bench.inquiry",
    "bench.redaction",
    "bench.reports",
    "bench.scale",
)


@dataclass(frozen=True)
class Measurement:
    """What one run measured: the gateway's figure and the baseline's, in the same unit, and
    the figures behind them (written to the JSON results as ``details``)."""

    value: float
    baseline: float
    details: Mapping[str, object] = field(default_factory=dict)
    valid: bool = True
    """False: the run could not measure what it states (the baseline itself was bounded)."""


@dataclass(frozen=True)
class Context:
    """What every benchmark gets: quick mode (smaller sizes), a scratch directory and the
    PostgreSQL to measure as well (None: SQLite only)."""

    quick: bool
    scratch: Path
    database_url: str | None = None


@dataclass(frozen=True)
class Benchmark:
    name: str
    unit: str
    target: float
    higher_is_better: bool
    baseline_name: str
    run: Callable[[Context], Measurement]


REGISTRY: list[Benchmark] = []


def benchmark(
    name: str, *, unit: str, target: float, higher_is_better: bool, baseline: str
) -> Callable[[Callable[[Context], Measurement]], Callable[[Context], Measurement]]:
    """Register the decorated function as the benchmark ``name``."""

    def register(run: Callable[[Context], Measurement]) -> Callable[[Context], Measurement]:
        REGISTRY.append(Benchmark(name, unit, target, higher_is_better, baseline, run))
        return run

    return register


def median_and_p99_ms(call: Callable[[], object], count: int) -> tuple[float, float]:
    """``call`` timed ``count`` times in a row: the median and the 99th percentile, in ms."""
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), statistics.quantiles(timings, n=100)[98]
