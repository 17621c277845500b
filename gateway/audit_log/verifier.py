"""The regulator's verifier: the whole log, over HTTP, from an export or in the local database.

Art. 61(3) forbids altering or deleting the records of Art. 39 para. 3; this is how a
regulator checks it, with :func:`audit.verify.verify_log` doing the work (RFC 9162 roots
recomputed from every leaf, C2SP signed checkpoints opened with the regulator's own key).
:class:`VerifierState` is the verifier's memory: the key it trusts and every checkpoint it
verified before. Each run must find those checkpoints again, so a log that was rolled back,
forked or rewritten since the last run fails even if it is internally consistent.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from audit.checkpoint import Checkpoint, open_checkpoint
from audit.errors import MalformedNote, VerificationFailed
from audit.export import ExportHeader, read_export, verify_export, write_export
from audit.note import NoteVerifier, parse_verifier_key
from audit.tlog import stored_hash_count
from audit.verify import VerificationReport, verify_log
from gateway.audit_log.checkpointer import checkpoint_size
from gateway.audit_log.errors import CheckpointNotPublished
from gateway.audit_log.remote import LogClient
from gateway.audit_log.repository import checkpoint_notes, iter_hashes, iter_leaves
from gateway.audit_log.service import MAX_LEAVES_PAGE
from gateway.audit_log.statefile import optional_string, read_state, strings, write_state

# ``progress(leaves_done, leaves_total)``
Progress = Callable[[int, int], None]


@dataclass
class VerifierState:
    """The trusted key and the checkpoints verified before, kept in a JSON file."""

    path: Path
    verifier_key: str | None = None
    checkpoints: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> VerifierState:
        document = read_state(path)
        return cls(
            path, optional_string(document, "verifier_key"), strings(document, "checkpoints")
        )

    def trusted(self, key: str | None) -> NoteVerifier | None:
        """The key given now, else the key pinned by an earlier run, else ``None``."""
        chosen = key or self.verifier_key
        return None if chosen is None else parse_verifier_key(chosen)

    def seen(self, verifier: NoteVerifier) -> list[tuple[Checkpoint, str]]:
        """The checkpoints verified before, opened again with ``verifier``, smallest first."""
        opened = {}
        for note in self.checkpoints:
            head = open_checkpoint(note, [verifier], verifier.name)
            opened[head.size] = (head, note)
        return [opened[size] for size in sorted(opened)]

    def seen_heads(self, verifier: NoteVerifier) -> list[Checkpoint]:
        return [head for head, _ in self.seen(verifier)]

    def record(self, verifier: NoteVerifier, note: str) -> None:
        """Pin ``verifier`` and remember ``note`` (just verified); write the file."""
        self.verifier_key = verifier.vkey
        if note not in self.checkpoints:
            self.checkpoints.append(note)
        write_state(self.path, {"verifier_key": self.verifier_key, "checkpoints": self.checkpoints})


def verify_remote(
    client: LogClient, verifier: NoteVerifier, state: VerifierState, progress: Progress
) -> VerificationReport:
    """Fetch the latest checkpoint and every leaf below it; recompute and compare everything."""
    latest = client.checkpoint()
    head = open_checkpoint(latest, [verifier], verifier.name)
    seen = state.seen(verifier)
    notes = [note for earlier, note in seen if earlier.size < head.size] + [latest]
    report = verify_log(
        client.iter_leaves(head.size),
        notes,
        [verifier],
        origin=verifier.name,
        seen=[earlier for earlier, _ in seen],
        progress=lambda done: progress(done, head.size),
        progress_every=MAX_LEAVES_PAGE,
    )
    state.record(verifier, latest)
    return report


def verify_export_file(
    path: Path,
    verifier: NoteVerifier,
    state: VerifierState,
    progress: Progress,
    workers: int | None = None,
) -> VerificationReport:
    """Verify an export (:mod:`audit.export`) with the verifier's key, not the file's; its
    leaves hashed on ``workers`` processes (default: one per core)."""
    with path.open("rb") as stream:
        header, _ = read_export(stream)
    total = _claimed_size(header.checkpoints[-1]) if header.checkpoints else 0
    with path.open("rb") as stream:
        report = verify_export(
            stream,
            [verifier],
            seen=state.seen_heads(verifier),
            progress=lambda done: progress(done, total),
            workers=workers,
        )
    state.record(verifier, header.checkpoints[-1])
    return report


def verify_local(
    engine: Engine, verifier: NoteVerifier, state: VerifierState, progress: Progress
) -> VerificationReport:
    """Verify the database itself: leaves, every stored hash, every stored checkpoint."""
    with engine.connect() as connection:
        notes = checkpoint_notes(connection)
    size = _claimed_size(notes[-1]) if notes else 0
    # closing(): a failed check must not leave a page query (and its connection) open.
    with (
        closing(iter_leaves(engine, size)) as leaves,
        closing(iter_hashes(engine, stored_hash_count(size))) as hashes,
    ):
        report = verify_log(
            leaves,
            notes,
            [verifier],
            origin=verifier.name,
            seen=state.seen_heads(verifier),
            stored_hashes=hashes,
            progress=lambda done: progress(done, size),
        )
    state.record(verifier, notes[-1])
    return report


def export_local(engine: Engine, origin: str, verifier_key: str, out: TextIO) -> int:
    """Write the self-contained export of the local log; return how many leaves it holds."""
    with engine.connect() as connection:
        notes = checkpoint_notes(connection)
    if not notes:
        raise CheckpointNotPublished("the log has not signed a checkpoint yet: nothing to export")
    size = checkpoint_size(notes[-1])
    header = ExportHeader(origin, (verifier_key,), tuple(notes))
    with closing(iter_leaves(engine, size)) as leaves:
        write_export(out, header, leaves)
    return size


def _claimed_size(note: str) -> int:
    """The size a stored note claims, to bound what is read; the verifier checks the claim."""
    try:
        return checkpoint_size(note)
    except MalformedNote as exc:
        raise VerificationFailed(f"the latest checkpoint is malformed: {exc.detail}") from exc
