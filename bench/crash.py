"""``python -m bench.crash`` (``make crash``): kill -9 the gateway again and again under load.

A ``gateway serve`` process serves a freshly seeded province (SQLite, or ``--database-url``)
under the mixed load of :mod:`bench.load`, which keeps running across every crash: requests
that get no answer while the gateway is down are journaled as interrupted. Each round lets the
gateway serve until it answers an inquiry and then a random 1-4 s more (``--up``), kills it
with SIGKILL - no clean stop, nothing flushed - and then, on the database as the crash left
it, checks:

* every inquiry answered 200 so far has its leaf in the log (the stored leaf at the answer's
  ``leaf_index`` hashes to its ``leaf_hash``) - :func:`bench.invariants.answers_in_log`;
* the log verifies, every leaf, stored hash and signed checkpoint (``gateway audit verify
  --local``), the one the restarted gateway signs included, at the next round;
* every consent and record is as the gateway acknowledged it (or as a request whose answer was
  lost in the crash would have left it), and nothing that existed before the load changed.

Then it restarts the gateway and goes on. After the last round the gateway serves the load to
its end, is stopped cleanly, and everything is checked once more. Exit status 1 on any problem;
the report is written to ``bench/results/crash.json``.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import Province, scratch_database, write_report
from bench.invariants import Snapshot, answered, check_all, failures_in, secrets_in
from bench.load import Exchange, Plan, read_journal, start_load

SETTLE = 0.5
"""Seconds after a kill for the load to journal the requests the kill cut off."""
ANSWER_TIMEOUT = 120.0


@dataclass(frozen=True)
class Round:
    """One crash: how long the gateway served, the inquiries it answered 200 in that time, the
    requests the kill cut off (sent, never answered; refused connections while it was down are
    not counted), the log's verification, how long the restart took, the problems found."""

    served_s: float
    answered: int
    interrupted: int
    log: str
    restart_s: float
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CrashReport:
    database: str
    rounds: list[Round]
    final_answered: int
    final_log: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(not r.problems for r in self.rounds)

    def text(self) -> str:
        lines = [
            f"crash: {len(self.rounds)} kill -9 rounds under load, {self.database}",
            f"  {'round':<6}{'served s':>9}{'answered':>10}{'cut off':>9}{'restart s':>11}  log",
        ]
        for number, crash in enumerate(self.rounds, 1):
            lines.append(
                f"  {number:<6}{crash.served_s:>9.1f}{crash.answered:>10}{crash.interrupted:>9}"
                f"{crash.restart_s:>11.1f}  {_first_line(crash.log)}"
            )
            lines += [f"  PROBLEM  {problem}" for problem in crash.problems]
        lines.append(
            f"final: {self.final_answered} inquiries answered 200, every leaf in the log; "
            f"{_first_line(self.final_log)}"
        )
        lines += [f"PROBLEM  {problem}" for problem in self.problems]
        lines.append("crash PASSED" if self.passed else "crash FAILED")
        return "\n".join(lines)


def _first_line(log: str) -> str:
    """The verifier's summary: its first line and the number of leaves."""
    if not log:
        return "NOT verified"
    lines = log.splitlines()
    leaves = next((line.split()[-1] for line in lines if line.strip().startswith("leaves")), "?")
    return f"{lines[0]} ({leaves} leaves)"


def crash(
    directory: Path,
    *,
    rounds: int,
    up: tuple[float, float] = (1.0, 4.0),
    workers: int = 6,
    database_url: str | None = None,
    seed: int = 0,
) -> CrashReport:
    """Seed, serve under load, kill and check ``rounds`` times; see the module docstring."""
    chance = random.Random(seed)
    province = Province.create(directory, database_url=database_url)
    engine = province.engine()
    provider = province.credentials["provider"]["client_id"]
    snapshot = Snapshot.take(engine)
    gateway = province.gateway().start()
    stop_file = directory / "stop"
    plan = Plan([gateway.url], province.credentials, 24 * 3600.0, workers, stop_file=str(stop_file))
    load, journal = start_load(plan, directory)
    done: list[Round] = []
    try:
        for _ in range(rounds):
            served = _under_load(journal, chance.uniform(*up))
            gateway.kill()
            time.sleep(SETTLE)
            exchanges = read_journal(journal)
            problems = check_all(engine, exchanges, provider, snapshot)
            log = _verified(province, problems)
            started = time.monotonic()
            gateway.start()
            restart = time.monotonic() - started
            answers, cut = len(answered(exchanges)), len(_cut_off(exchanges))
            before = (sum(r.answered for r in done), sum(r.interrupted for r in done))
            done.append(Round(served, answers - before[0], cut - before[1], log, restart, problems))
        _under_load(journal, up[0])
    finally:
        stop_file.touch()
        load.wait()
        gateway.stop()
    exchanges = read_journal(journal)
    problems = check_all(engine, exchanges, provider, snapshot)
    problems += [
        f"{e.op} {e.status}: {e.error}" for e in exchanges if not e.ok and not e.interrupted
    ]
    output = gateway.log.read_text()
    problems += secrets_in(output, province.credentials) + failures_in(output)
    engine.dispose()
    final_log = _verified(province, problems)
    database = province.settings.resolved_database_url.split(":", 1)[0]
    return CrashReport(database, done, len(answered(exchanges)), final_log, problems)


def _under_load(journal: Path, seconds: float) -> float:
    """Wait until the (re)started gateway answers an inquiry, then ``seconds`` more: every
    kill hits a gateway serving the load. Returns how long it served."""
    started = time.monotonic()
    known = len(answered(read_journal(journal)))
    while len(answered(read_journal(journal))) == known:
        if time.monotonic() - started > ANSWER_TIMEOUT:
            raise RuntimeError(f"no inquiry answered in {ANSWER_TIMEOUT:.0f} s")
        time.sleep(0.1)
    time.sleep(seconds)
    return time.monotonic() - started


def _cut_off(exchanges: list[Exchange]) -> list[Exchange]:
    """Requests that reached the gateway and got no answer (not refused connections)."""
    return [e for e in exchanges if e.interrupted and not (e.error or "").startswith("Connect")]


def _verified(province: Province, problems: list[str]) -> str:
    """The verifier's report, or "" with the failure added to ``problems``."""
    try:
        return province.verify_log()
    except RuntimeError as failure:
        problems.append(f"the log does not verify: {failure}")
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.crash", description=__doc__)
    parser.add_argument("--rounds", type=int, default=10, help="kill -9 rounds (10)")
    parser.add_argument(
        "--up",
        type=float,
        nargs=2,
        default=(1.0, 4.0),
        metavar=("MIN", "MAX"),
        help="seconds the gateway serves before each kill, drawn uniformly (1 4)",
    )
    parser.add_argument("--workers", type=int, default=6, help="load threads (6)")
    parser.add_argument(
        "--database-url", help="SQLite, or PostgreSQL (a fresh schema); default: scratch SQLite"
    )
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="gateway-crash-") as scratch,
        scratch_database(arguments.database_url) as database_url,
    ):
        report = crash(
            Path(scratch),
            rounds=arguments.rounds,
            up=(arguments.up[0], arguments.up[1]),
            workers=arguments.workers,
            database_url=database_url,
            seed=arguments.seed,
        )
    print(report.text())
    print(f"\nresults: {write_report('crash', report)}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
