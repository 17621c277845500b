"""``python -m bench.soak`` (``make soak``): minutes of mixed traffic against one real gateway.

A ``gateway serve`` process serves a freshly seeded province (SQLite, or ``--database-url``);
the load process (:mod:`bench.load`) plays every scenario - all five channels, consent churn
with revocations, ingestion and corrections, the access log, audit proofs - from ``--workers``
threads for ``--duration`` seconds, while the server's resident memory is sampled every second.

It reports the error rate (every answer the scenario did not expect; target 0), p50 / p99 per
operation, and the server's memory - its processes', the audit log's writer too - after the
warm-up, at the end, at its peak and its trend (MB per minute, least squares over the samples
after the warm-up). Then, with the gateway stopped, it checks what :mod:`bench.invariants`
states - every answer in the log, consents and records as acknowledged, nothing else changed -
verifies the log as a regulator would (``gateway audit verify --local``) and scans the server's
output for secrets. Exit status 1 if anything failed. The report is also written to
``bench/results/soak.json``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import Gateway, Province, scratch_database, write_report
from bench.invariants import Snapshot, answered, check_all, failures_in, secrets_in
from bench.load import Exchange, Latency, Plan, read_journal, start_load

MB = 1024 * 1024
WARMUP = 0.2
"""The fraction of the run after which the server's memory counts as warmed up."""


@dataclass(frozen=True)
class Memory:
    """The serving process's resident set in MB: after the warm-up, at the end, the peak, and
    the trend after the warm-up in MB per minute."""

    warm_mb: float
    end_mb: float
    peak_mb: float
    trend_mb_per_minute: float

    @property
    def growth_mb(self) -> float:
        return self.end_mb - self.warm_mb

    @classmethod
    def of(cls, samples: list[tuple[float, int]], duration: float) -> Memory:
        warm = [(t, rss / MB) for t, rss in samples if t >= WARMUP * duration] or [
            (t, rss / MB) for t, rss in samples[-1:]
        ]
        return cls(warm[0][1], warm[-1][1], max(rss for _, rss in samples) / MB, _trend(warm))


def _trend(points: list[tuple[float, float]]) -> float:
    """The least-squares slope of ``(seconds, MB)`` points, per minute."""
    if len(points) < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / len(points)
    mean_m = sum(m for _, m in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    slope = sum((t - mean_t) * (m - mean_m) for t, m in points) / spread if spread else 0.0
    return slope * 60


@dataclass(frozen=True)
class SoakReport:
    seconds: float
    workers: int
    database: str
    overall: Latency
    operations: dict[str, Latency]
    memory: Memory
    answers_checked: int
    log: str
    problems: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def error_rate(self) -> float:
        return self.overall.errors / self.overall.count if self.overall.count else 0.0

    @property
    def passed(self) -> bool:
        return not self.problems and self.overall.errors == 0

    def text(self) -> str:
        lines = [
            f"soak: {self.seconds:.0f} s, {self.workers} workers, {self.database}",
            f"  {'operation':<22}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}",
        ]
        for name, figures in [*sorted(self.operations.items()), ("all", self.overall)]:
            lines.append(
                f"  {name:<22}{figures.count:>9}{figures.errors:>8}"
                f"{figures.p50_ms:>9.1f}{figures.p99_ms:>9.1f}"
            )
        memory = self.memory
        lines += [
            f"error rate      {self.error_rate:.4%} ({self.overall.errors} of "
            f"{self.overall.count}; {self.overall.count / self.seconds:.0f} requests/s)",
            f"server RSS      {memory.warm_mb:.0f} MB after warm-up, {memory.end_mb:.0f} MB at "
            f"the end (growth {memory.growth_mb:+.1f} MB, trend "
            f"{memory.trend_mb_per_minute:+.2f} MB/min), peak {memory.peak_mb:.0f} MB",
            f"answers in log  {self.answers_checked} inquiries answered 200, each leaf found",
            f"audit log       {self.log.splitlines()[0] if self.log else 'not verified'}",
        ]
        lines += [f"ERROR    {error}" for error in self.errors[:20]]
        lines += [f"PROBLEM  {problem}" for problem in self.problems]
        lines.append("soak PASSED" if self.passed else "soak FAILED")
        return "\n".join(lines)


def soak(
    directory: Path,
    *,
    duration: float,
    workers: int = 6,
    database_url: str | None = None,
    redis_url: str | None = None,
    at_least: int = 0,
) -> SoakReport:
    """Seed, serve, load, sample, stop, check; see the module docstring. The load goes on
    past ``duration`` until ``at_least`` requests are answered, so a short run on a busy
    machine still does the work it is checked for."""
    province = Province.create(directory, database_url=database_url, redis_url=redis_url)
    engine = province.engine()
    snapshot = Snapshot.take(engine)
    gateway = province.gateway().start()
    try:
        plan = Plan([gateway.url], province.credentials, duration, workers, at_least=at_least)
        started = time.monotonic()
        load, journal = start_load(plan, directory)
        samples = _sample_memory(gateway, load)
        seconds = time.monotonic() - started
    finally:
        gateway.stop()
    exchanges = read_journal(journal)
    provider = province.credentials["provider"]["client_id"]
    problems = check_all(engine, exchanges, provider, snapshot)
    engine.dispose()
    output = gateway.log.read_text()
    problems += secrets_in(output, province.credentials) + failures_in(output)
    try:
        log = province.verify_log()
    except RuntimeError as failure:
        log, problems = "", [*problems, f"the log does not verify: {failure}"]
    return SoakReport(
        seconds=seconds,
        workers=workers,
        database=province.settings.resolved_database_url.split(":", 1)[0],
        overall=Latency.of(exchanges),
        operations=_by_operation(exchanges),
        memory=Memory.of(samples, seconds),
        answers_checked=len(answered(exchanges)),
        log=log,
        problems=problems,
        errors=[f"{e.op} {e.status}: {e.error}" for e in exchanges if not e.ok],
    )


def _sample_memory(gateway: Gateway, load: subprocess.Popen[bytes]) -> list[tuple[float, int]]:
    """The server's RSS every second until the load process ends: ``(seconds, bytes)``."""
    started = time.monotonic()
    samples = []
    while load.poll() is None:
        samples.append((time.monotonic() - started, gateway.rss_bytes()))
        time.sleep(1)
    if load.returncode != 0:
        raise RuntimeError("the load process failed")
    return samples or [(0.0, gateway.rss_bytes())]


def _by_operation(exchanges: list[Exchange]) -> dict[str, Latency]:
    names = sorted({e.op for e in exchanges})
    return {name: Latency.of([e for e in exchanges if e.op == name]) for name in names}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--duration", type=float, default=180, help="seconds of load (180)")
    parser.add_argument("--workers", type=int, default=6, help="load threads (6)")
    parser.add_argument(
        "--database-url", help="SQLite, or PostgreSQL (a fresh schema); default: scratch SQLite"
    )
    parser.add_argument("--redis-url", help="default: in-memory rate limits")
    arguments = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="gateway-soak-") as scratch,
        scratch_database(arguments.database_url) as database_url,
    ):
        report = soak(
            Path(scratch),
            duration=arguments.duration,
            workers=arguments.workers,
            database_url=database_url,
            redis_url=arguments.redis_url,
        )
    print(report.text())
    print(f"\nresults: {write_report('soak', report)}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
