"""C2SP tlog-tiles benchmarks at 1M leaves, each next to the JSON proof endpoint's service.

* ``audit.tiles.reads.1m`` — hash tiles read per second (:meth:`AuditLog.tile`, what
  ``GET /v1/audit/tlog/tile/0/<N>`` serves: 256 stored hashes, one query), distinct random
  full level-0 tiles of a 1M-leaf SQLite log, none cached yet; baseline: inclusion proofs per
  second through :meth:`AuditLog.prove_inclusion` (what ``GET /v1/audit/proofs/inclusion``
  serves). The details add the same tiles read again (from the tile cache), level-1 tiles
  and entry bundles.
* ``audit.tiles.proof_latency.1m`` — milliseconds for a client with an empty cache to compute
  an inclusion proof from tiles (:class:`audit.tiles.TileHashReader` fetching each tile it
  needs from :meth:`AuditLog.tile`, the server's cache warm as after the first clients),
  random leaves; baseline: the milliseconds of one proof
  from the proof endpoint's service. Neither counts HTTP, which both would pay per request.

``--quick`` uses 100k leaves.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

from audit.tiles import TILE_WIDTH, Tile, TileHashReader
from audit.tlog import prove_record
from bench import Context, Measurement, benchmark
from bench.audit_log import ORIGIN, filled_log, log_key, sizes
from gateway.audit_log.service import AuditLog

READS = 2_000
PROOFS = 500
WARMUP = 50


def signed_log(scratch: Path, size: int) -> AuditLog:
    """The gateway's log over the filled SQLite log, with a checkpoint at ``size``."""
    engine, _ = filled_log(scratch, size)
    audit_log = AuditLog(engine, origin=ORIGIN, log_key=log_key(), interval=60)
    audit_log.publish_now()
    return audit_log


def per_second(count: int, run: Callable[[], object]) -> float:
    started = time.perf_counter()
    for _ in range(count):
        run()
    return count / (time.perf_counter() - started)


@benchmark(
    "audit.tiles.reads.1m",
    unit="tiles/s",
    target=1_000,
    higher_is_better=True,
    baseline="proofs/s of /v1/audit/proofs/inclusion",
)
def tile_reads(context: Context) -> Measurement:
    size = sizes(context).log
    audit_log = signed_log(context.scratch, size)
    chance = random.Random(6962)
    full = size // TILE_WIDTH
    level0 = [Tile(0, n) for n in chance.sample(range(full), min(READS, full))]
    level1 = [Tile(1, n) for n in range(full // TILE_WIDTH)]
    bundles = [Tile(None, tile.n) for tile in level0]
    indexes = [chance.randrange(size) for _ in range(len(level0))]
    cold = iter(level0)
    ours = per_second(len(level0), lambda: audit_log.tile(next(cold)))
    warm = iter(level0)
    proofs = iter(indexes)
    theirs = per_second(len(indexes), lambda: audit_log.prove_inclusion(next(proofs), size))
    upper, entries = iter(level1), iter(bundles)
    details = {
        "leaves": size,
        "distinct_tiles_read": len(level0),
        "cached_tiles_per_s": per_second(len(level0), lambda: audit_log.tile(next(warm))),
        "level1_tiles_per_s": per_second(len(level1), lambda: audit_log.tile(next(upper))),
        "entry_bundles_per_s": per_second(len(bundles), lambda: audit_log.tile(next(entries))),
    }
    audit_log.close()
    return Measurement(ours, theirs, details)


@benchmark(
    "audit.tiles.proof_latency.1m",
    unit="ms",
    target=10.0,
    higher_is_better=False,
    baseline="ms of /v1/audit/proofs/inclusion",
)
def proof_from_tiles(context: Context) -> Measurement:
    size = sizes(context).log
    audit_log = signed_log(context.scratch, size)
    indexes = random.Random(9162).choices(range(size), k=WARMUP + PROOFS)
    fetched = []

    def from_tiles(index: int) -> list[bytes]:
        needed: list[Tile] = []

        def fetch(tile: Tile) -> bytes:
            needed.append(tile)
            return audit_log.tile(tile)

        proof = prove_record(index, size, TileHashReader(size, fetch))  # an empty client cache
        fetched.append(len(needed))
        return proof

    for index in indexes[:WARMUP]:
        assert from_tiles(index) == audit_log.prove_inclusion(index, size)
    fetched.clear()
    measured = iter(indexes[WARMUP:])
    ours = 1000 / per_second(PROOFS, lambda: from_tiles(next(measured)))
    measured = iter(indexes[WARMUP:])
    theirs = 1000 / per_second(PROOFS, lambda: audit_log.prove_inclusion(next(measured), size))
    audit_log.close()
    details = {"leaves": size, "proofs": PROOFS, "tiles_per_proof": sum(fetched) / len(fetched)}
    return Measurement(ours, theirs, details)
