"""Audit log benchmarks (Art. 39 para. 3, RFC 9162 section 2.1), each next to ``pymerkle``.

* ``audit.append.sqlite`` — durable appends per second: leaves submitted one by one to the
  :class:`~audit.sequencer.Sequencer` (group commit, up to 8,192 leaves per transaction, each
  caller answered after its batch's commit) into
  :class:`~gateway.audit_log.repository.SqlLogStore` on SQLite (WAL, ``synchronous=FULL``:
  every commit is synced to the disk, the gateway's engine); pymerkle:
  ``SqliteTree.append_entries`` in chunks of the same 8,192, one transaction each, with the
  same journal pragmas. (pymerkle stores leaf hashes only; the gateway also writes every
  interior node of the tlog layout and the leaf's time.)
* ``audit.inclusion_proofs.1m`` — inclusion proofs per second at 1M leaves, random indexes,
  read from the SQLite store; pymerkle: ``SqliteTree.prove_inclusion`` on the same leaves,
  its subroot cache warmed by the same number of proofs first.
* ``audit.verify.1m`` — seconds to verify an export of 1M leaves
  (:func:`audit.export.verify_export` of the file opened in binary, as ``gateway audit
  verify --export`` does: parse and hash on one worker process per core, recompute the root,
  open the signed checkpoint); pymerkle:
  ``InmemoryTree.init_from_entries`` over the same file's leaves and ``get_root``, compared
  with the checkpoint's root.

Each records the load average of the machine and the CPU time the gateway spent (``details``
of the JSON results; for verify, that of its worker processes too, one per core): on a shared
machine the wall-clock figures follow the load, the CPU time much less.

``--quick`` uses 100k leaves instead of 1M and fewer appends and proofs.
"""

from __future__ import annotations

import os
import random
import resource
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pymerkle
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from audit.checkpoint import open_checkpoint
from audit.export import read_export, verify_export
from audit.leaf import AuditEvent, Channel, EventKind, Outcome, encode
from audit.merkle import leaf_hash
from audit.note import NoteSigner
from audit.sequencer import MAX_BATCH, Batch, Sequencer
from audit.tlog import prove_record
from bench import Context, Measurement, benchmark
from gateway.audit_log.checkpointer import CheckpointPublisher
from gateway.audit_log.repository import SqlLogStore
from gateway.audit_log.verifier import export_local
from gateway.storage import migrate
from gateway.storage.db import make_engine

ORIGIN = "bench.gateway.example/credit-audit"
FILL_BATCH = 10_000
WARMUP = 100


@dataclass(frozen=True)
class Sizes:
    log: int
    appends: int
    proofs: int
    pymerkle_proofs: int


FULL = Sizes(log=1_000_000, appends=200_000, proofs=20_000, pymerkle_proofs=500)
QUICK = Sizes(log=100_000, appends=20_000, proofs=2_000, pymerkle_proofs=100)


def sizes(context: Context) -> Sizes:
    return QUICK if context.quick else FULL


def leaves(count: int, start: int = 0) -> list[bytes]:
    """Canonical inquiry leaves (:mod:`audit.leaf`) that differ in their time field."""
    template = encode(
        AuditEvent(
            time_ms=0,
            kind=EventKind.INQUIRY,
            channel=Channel.AUTHORIZED_INQUIRY,
            requester="bench-establishment",
            legal_basis="",
            grant_id="grant-0123456789abcdef",
            purpose="loan_application",
            item_categories=frozenset({"basic", "untrustworthy"}),
            outcome=Outcome.ALLOWED,
            reason_code="",
            subject_commitment=bytes(range(32)),
            response_commitment=bytes(range(32, 64)),
        )
    )
    head, tail = template[:3], template[11:]  # version, u16 length, then the u64 time
    return [head + number.to_bytes(8, "big") + tail for number in range(start, start + count)]


def sql_log(directory: Path) -> tuple[Engine, SqlLogStore]:
    directory.mkdir(parents=True)
    url = f"sqlite:///{directory / 'gateway.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    return engine, SqlLogStore(engine)


@cache
def log_key() -> Ed25519PrivateKey:
    """One log key for the run: every benchmark that signs a checkpoint of the cached log
    (the verification here, the tiles) signs with it, so each trusts the others' checkpoints."""
    return Ed25519PrivateKey.generate()


@cache
def filled_log(scratch: Path, size: int) -> tuple[Engine, SqlLogStore]:
    """A SQLite log of ``size`` leaves, written in large batches (set-up, not measured)."""
    engine, store = sql_log(scratch / f"filled-{size}")
    for start in range(0, size, FILL_BATCH):
        chunk = tuple(leaves(min(FILL_BATCH, size - start), start))
        store.append_batch(Batch(chunk, tuple(leaf_hash(leaf) for leaf in chunk)))
    return engine, store


@cache
def pymerkle_sqlite(scratch: Path, size: int) -> pymerkle.SqliteTree:
    tree = wal_tree(scratch / f"pymerkle-{size}.db")
    tree.append_entries(leaves(size))
    return tree


def wal_tree(path: Path) -> pymerkle.SqliteTree:
    """pymerkle's SQLite tree with the gateway's journal settings (WAL, synchronous FULL: a
    commit survives a power loss)."""
    tree = pymerkle.SqliteTree(str(path))
    connection: sqlite3.Connection = tree.con
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    return tree


def per_second(count: int, seconds: float) -> float:
    return count / seconds


@benchmark(
    "audit.append.sqlite",
    unit="appends/s",
    target=50_000,
    higher_is_better=True,
    baseline="pymerkle SqliteTree",
)
def durable_appends(context: Context) -> Measurement:
    count = sizes(context).appends
    entries = leaves(count)
    _, store = sql_log(context.scratch / "appends")
    load = os.getloadavg()[0]
    with Sequencer(store) as sequencer:
        started, cpu = time.perf_counter(), time.process_time()
        receipts = [sequencer.submit(leaf) for leaf in entries]
        last = max(receipt.result().leaf_index for receipt in receipts)
        ours, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert last == count - 1
    tree = wal_tree(context.scratch / "pymerkle-appends.db")
    started = time.perf_counter()
    for start in range(0, count, MAX_BATCH):
        tree.append_entries(entries[start : start + MAX_BATCH])
    theirs = time.perf_counter() - started
    tree.close()
    details = {"load_average": load, "appends_per_cpu_second": per_second(count, cpu)}
    return Measurement(per_second(count, ours), per_second(count, theirs), details)


@benchmark(
    "audit.inclusion_proofs.1m",
    unit="proofs/s",
    target=10_000,
    higher_is_better=True,
    baseline="pymerkle SqliteTree",
)
def inclusion_proofs(context: Context) -> Measurement:
    plan = sizes(context)
    _, store = filled_log(context.scratch, plan.log)
    tree = pymerkle_sqlite(context.scratch, plan.log)
    indexes = random.Random(6962).choices(range(plan.log), k=WARMUP + plan.proofs)
    for index in indexes[:WARMUP]:
        prove_record(index, plan.log, store)
        tree.prove_inclusion(index + 1, plan.log)
    load, cpu = os.getloadavg()[0], time.process_time()
    ours = timed(lambda index: prove_record(index, plan.log, store), indexes[WARMUP:])
    cpu = time.process_time() - cpu
    theirs = timed(
        lambda index: tree.prove_inclusion(index + 1, plan.log),
        indexes[WARMUP : WARMUP + plan.pymerkle_proofs],
    )
    details = {"load_average": load, "proofs_per_cpu_second": per_second(plan.proofs, cpu)}
    return Measurement(
        per_second(plan.proofs, ours), per_second(plan.pymerkle_proofs, theirs), details
    )


def cpu_with_children() -> float:
    """CPU seconds of this process and of its children that have ended (the verifier's worker
    processes, joined before it returns)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(prove: Callable[[int], object], indexes: list[int]) -> float:
    started = time.perf_counter()
    for index in indexes:
        prove(index)
    return time.perf_counter() - started


@benchmark(
    "audit.verify.1m",
    unit="s",
    target=2.0,
    higher_is_better=False,
    baseline="pymerkle InmemoryTree",
)
def full_verification(context: Context) -> Measurement:
    size = sizes(context).log
    engine, _ = filled_log(context.scratch, size)
    signer = NoteSigner(ORIGIN, log_key())
    note = CheckpointPublisher(engine, [signer], interval=60).publish_now()
    export = context.scratch / f"export-{size}.jsonl"
    with export.open("w") as out:
        export_local(engine, ORIGIN, signer.verifier().vkey, out)

    load = os.getloadavg()[0]
    started, cpu = time.perf_counter(), cpu_with_children()
    with export.open("rb") as stream:
        report = verify_export(stream, [signer.verifier()])
    ours, cpu = time.perf_counter() - started, cpu_with_children() - cpu
    assert report.checkpoint.size == size

    started = time.perf_counter()
    with export.open() as stream:
        tree = pymerkle.InmemoryTree.init_from_entries(list(read_export(stream)[1]))
    root = tree.get_root()
    theirs = time.perf_counter() - started
    assert root == open_checkpoint(note, [signer.verifier()], ORIGIN).root
    details = {"load_average": load, "cpu_seconds": cpu, "workers": os.cpu_count()}
    return Measurement(ours, theirs, details)
