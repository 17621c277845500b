"""Publishing checkpoints: C2SP tlog-checkpoint bodies signed as C2SP signed-notes (Ed25519).

:meth:`CheckpointPublisher.publish_now` signs the checkpoint of the whole log with
:func:`audit.checkpoint.next_checkpoint`, which verifies a consistency proof (RFC 9162
section 2.1.4) from the latest stored checkpoint before it signs, so the log never signs a
checkpoint inconsistent with an earlier one (Art. 61(3)). It runs inside the log's write lock
(:func:`~gateway.audit_log.repository.locked_log`): several gateway processes may publish, and
the stored checkpoints still grow strictly in size. A background thread calls it every
``interval`` seconds and once more when it stops, and reports ``gateway.audit.checkpoint.lag``:
the entries that were not yet covered by a signed checkpoint when it woke up. After each
round it calls ``after`` (the log's witnessing: :meth:`AuditLog.collect_cosignatures`), outside
the lock.

Key rotation: every signer given signs each checkpoint (the current log key first, then the
keys being retired), and an earlier checkpoint is trusted under any of them — so verifiers that
still hold the old key keep verifying during the overlap, and the first checkpoint after the
overlap still proves consistency with those signed by the old key alone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from sqlalchemy import Engine

from audit.checkpoint import Checkpoint, next_checkpoint
from audit.note import NoteSigner, split_note
from gateway.audit_log.repository import (
    ConnectionHashReader,
    insert_checkpoint,
    latest_checkpoint,
    locked_log,
    log_size,
)
from gateway.telemetry import CHECKPOINT_LAG
from problems import GatewayError

log = logging.getLogger("gateway.audit")


def checkpoint_size(note: str) -> int:
    """The tree size of a signed checkpoint the log itself stored (not a trust decision)."""
    return Checkpoint.parse(split_note(note)[0]).size


class CheckpointPublisher:
    """Signs checkpoints of the log with ``signers``, whose name is the log's origin."""

    def __init__(
        self,
        engine: Engine,
        signers: Sequence[NoteSigner],
        interval: float,
        after: Callable[[], object] | None = None,
    ) -> None:
        if not signers or len({signer.name for signer in signers}) != 1:
            raise ValueError("checkpoints are signed by at least one key, all under one origin")
        self._engine = engine
        self._after = after
        self._signers = list(signers)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-checkpoints", daemon=True)

    def publish_now(self) -> str:
        """Sign and store the checkpoint of the whole log; return the latest signed note."""
        with locked_log(self._engine) as connection:
            previous = latest_checkpoint(connection)
            size = log_size(connection)
            note = next_checkpoint(
                origin=self._signers[0].name,
                tree_size=size,
                reader=ConnectionHashReader(connection),
                signers=self._signers,
                previous=previous,
                trusted=[signer.verifier() for signer in self._signers],
            )
            if note != previous:
                insert_checkpoint(connection, size, note)
        CHECKPOINT_LAG.set(size - (checkpoint_size(previous) if previous else 0))
        return note

    def start(self) -> None:
        """Sign the first checkpoint before serving (a client's first read finds one), then
        keep signing - and asking the witnesses - on the thread."""
        try:
            self.publish_now()
        except Exception as exc:  # the storage failed: the thread retries
            log.error("audit checkpoint not published: %s", type(exc).__name__)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread; it signs one last checkpoint first, so a clean stop leaves no lag."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        self._publish_logged()
        while not self._stop.wait(self._interval):
            self._publish_logged()
        self._publish_logged()

    def _publish_logged(self) -> None:
        try:
            self.publish_now()
            if self._after is not None:
                self._after()
        except GatewayError as exc:
            log.error("audit checkpoint not published: %s", exc.detail)
        except Exception as exc:  # the storage failed; the next tick retries
            log.error("audit checkpoint not published: %s", type(exc).__name__)
