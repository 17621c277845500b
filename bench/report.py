"""The benchmark table and the JSON results, with the machine they were measured on."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Result:
    name: str
    value: float
    unit: str
    target: float
    higher_is_better: bool
    baseline_name: str
    baseline: float
    details: Mapping[str, object] = field(default_factory=dict)
    valid: bool = True

    @property
    def passed(self) -> bool:
        if not self.valid:
            return False
        return self.value >= self.target if self.higher_is_better else self.value <= self.target

    @property
    def ratio(self) -> float:
        """How many times better than the baseline (above 1: the gateway is ahead)."""
        if self.higher_is_better:
            return self.value / self.baseline if self.baseline else float("inf")
        return self.baseline / self.value if self.value else float("inf")


def machine() -> dict[str, object]:
    return {
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def table(results: list[Result]) -> str:
    header = ("benchmark", "value", "unit", "target", "status", "baseline", "value", "ratio")
    rows = [header] + [_row(result) for result in results]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def _row(result: Result) -> tuple[str, ...]:
    comparison = ">=" if result.higher_is_better else "<="
    return (
        result.name,
        _figure(result.value),
        result.unit,
        f"{comparison} {_figure(result.target)}",
        ("pass" if result.passed else "SHORT") if result.valid else "INVALID",
        result.baseline_name,
        _figure(result.baseline),
        f"{result.ratio:.1f}x",
    )


def _figure(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def write_results(results: list[Result], *, quick: bool, directory: Path = RESULTS) -> Path:
    """Write ``<timestamp>.json`` and ``latest.json``; return the timestamped file."""
    now = datetime.now(UTC)
    document = {
        "time": now.isoformat(timespec="seconds"),
        "quick": quick,
        "machine": machine(),
        "results": [
            {**asdict(result), "passed": result.passed, "ratio": result.ratio} for result in results
        ],
    }
    directory.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2) + "\n"
    path = directory / f"{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text)
    (directory / "latest.json").write_text(text)
    return path
