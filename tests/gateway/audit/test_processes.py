"""Real processes on one database: two appending at once, and one killed with SIGKILL.

Art. 61(3): whatever happens to a gateway process, the log keeps contiguous indexes, every
acknowledged entry stays where it was acknowledged, and every checkpoint ever published
stays consistent with the log (RFC 9162 section 2.1.4).
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from itertools import combinations, pairwise
from pathlib import Path

from sqlalchemy import Engine

from audit.checkpoint import Checkpoint, open_checkpoint
from audit.merkle import leaf_hash, verify_consistency
from audit.note import NoteSigner, NoteVerifier
from audit.tlog import prove_tree
from audit.verify import VerificationReport
from gateway.audit_log.repository import SqlLogStore, checkpoint_notes, read_leaves
from gateway.audit_log.verifier import VerifierState, verify_local
from gateway.keys import load_keys
from gateway.settings import Settings
from gateway.storage.db import make_engine
from tests.gateway.audit.factories import append_entries, audit_log_of

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Output:
    """What an appender printed: acknowledged appends and the checkpoints it published."""

    appended: dict[int, bytes] = field(default_factory=dict)
    checkpoints: list[str] = field(default_factory=list)

    def read(self, line: str) -> None:
        record = json.loads(line)
        if "ready" in record:
            return
        if "checkpoint" in record:
            self.checkpoints.append(record["checkpoint"])
        else:
            self.appended[record["index"]] = base64.b64decode(record["hash"])


def appender(settings: Settings, count: int, label: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.gateway.audit.appender"]
    arguments = [settings.resolved_database_url, str(settings.var_dir), str(count), label]
    process = subprocess.Popen(
        [*command, *arguments],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert "ready" in json.loads(process.stdout.readline())
    return process


def start(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()


def log_verifier(settings: Settings) -> NoteVerifier:
    return NoteSigner(settings.log_origin, load_keys(settings).log).verifier()


def verify_database(
    settings: Settings, engine: Engine, published: list[str], tmp_path: Path
) -> VerificationReport:
    """The service verifier over leaves, stored hashes and checkpoints, with ``published``
    as the checkpoints seen before."""
    state = VerifierState(tmp_path / "verifier.json", checkpoints=list(published))
    return verify_local(engine, log_verifier(settings), state, lambda done, total: None)


def assert_acknowledged_entries_stayed(engine: Engine, output: Output) -> None:
    with engine.connect() as connection:
        for index, hashed in output.appended.items():
            assert leaf_hash(read_leaves(connection, index, index + 1)[0]) == hashed


def assert_pairwise_consistent(engine: Engine, settings: Settings) -> list[Checkpoint]:
    key = log_verifier(settings)
    with engine.connect() as connection:
        heads = [open_checkpoint(n, [key], key.name) for n in checkpoint_notes(connection)]
    store = SqlLogStore(engine)
    for old, new in combinations(heads, 2):
        proof = prove_tree(old.size, new.size, store)
        verify_consistency(old.size, new.size, proof, old.root, new.root)
    return heads


def test_two_processes_append_concurrently(migrated: Settings, tmp_path: Path) -> None:
    load_keys(migrated)  # both processes sign with the same log key
    processes = [appender(migrated, 120, label) for label in ("north", "south")]
    for process in processes:
        start(process)
    outputs = []
    for process in processes:
        stdout, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        output = Output()
        for line in stdout.splitlines():
            output.read(line)
        outputs.append(output)
    indexes = [index for output in outputs for index in output.appended]
    assert sorted(indexes) == list(range(240))  # contiguous: no gap, no duplicate
    owners = [index in outputs[0].appended for index in range(240)]
    # They did append at the same time: one's entries on both sides of some of the other's.
    # (How often they take turns is the machine's scheduling: 3 times on a busy one.)
    assert sum(a != b for a, b in pairwise(owners)) >= 2

    engine = make_engine(migrated.resolved_database_url)
    for output in outputs:
        assert_acknowledged_entries_stayed(engine, output)
    heads = assert_pairwise_consistent(engine, migrated)
    assert heads[-1].size == 240
    published = [note for output in outputs for note in output.checkpoints]
    report = verify_database(migrated, engine, published, tmp_path)
    assert report.checkpoint.size == 240
    engine.dispose()


def test_kill_9_while_appending_loses_nothing_acknowledged(
    migrated: Settings, tmp_path: Path
) -> None:
    load_keys(migrated)
    process = appender(migrated, 0, "doomed")
    start(process)
    assert process.stdout is not None
    output, deadline = Output(), time.monotonic() + 30
    while len(output.checkpoints) < 4 or len(output.appended) < 150:
        assert time.monotonic() < deadline, "the appender made no progress"
        output.read(process.stdout.readline())
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL

    engine = make_engine(migrated.resolved_database_url)
    assert_acknowledged_entries_stayed(engine, output)
    verify_database(migrated, engine, output.checkpoints, tmp_path)

    with audit_log_of(migrated) as audit_log:  # the restart: the log goes on from where it was
        append_entries(audit_log, 3)
        audit_log.publish_now()
    assert_pairwise_consistent(engine, migrated)
    report = verify_database(migrated, engine, output.checkpoints, tmp_path)
    assert report.checkpoint.size >= max(output.appended) + 4
    engine.dispose()
