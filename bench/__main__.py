"""``python -m bench [--only NAME] [--quick]``: run the benchmarks, print the table, save JSON."""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from pathlib import Path

from bench import MODULES, REGISTRY, Context
from bench.report import Result, table, write_results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only NAME (repeatable)"
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument(
        "--database-url", help="also measure on this PostgreSQL (in a fresh schema)"
    )
    arguments = parser.parse_args(argv)
    for module in MODULES:
        importlib.import_module(module)
    selected = [b for b in REGISTRY if not arguments.only or b.name in arguments.only]
    unknown = set(arguments.only or ()) - {b.name for b in REGISTRY}
    if unknown:
        parser.error(f"unknown benchmark {sorted(unknown)}; known: {[b.name for b in REGISTRY]}")
    results = []
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as scratch:
        context = Context(arguments.quick, Path(scratch), arguments.database_url)
        for bench in selected:
            print(f"running {bench.name} ...", file=sys.stderr, flush=True)
            measured = bench.run(context)
            results.append(
                Result(
                    bench.name,
                    measured.value,
                    bench.unit,
                    bench.target,
                    bench.higher_is_better,
                    bench.baseline_name,
                    measured.baseline,
                    measured.details,
                    measured.valid,
                )
            )
    if arguments.quick:
        print("quick run: smaller sizes than the targets are stated for; JSON marks it quick")
    print(table(results))
    print(f"\nresults: {write_results(results, quick=arguments.quick)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
