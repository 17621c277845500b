"""C2SP tlog-witness: the ``add-checkpoint`` request and the witness that answers it.

A log (or anyone relaying for it) submits its new checkpoint with a consistency proof from
the size the witness last cosigned; the witness cosigns (C2SP tlog-cosignature/v1) only if
the checkpoint is signed by a key it trusts for that origin and extends, by that proof, what
it cosigned before. So two witnesses that each refuse to cosign two different trees of one
log make a fork of the log visible (Art. 61(3): no alteration, no improper deletion).

The request body::

    old <size>\\n
    <base64 hash>\\n          zero to 63 consistency proof lines (RFC 6962 section 2.1.2)
    \\n
    <signed checkpoint>

:meth:`Witness.add_checkpoint` answers with the cosignature lines, or raises, in the order
the specification checks: :class:`WitnessBadRequest` (400) for a malformed request or an old
size above the checkpoint's, :class:`UnknownLog` (404), :class:`UntrustedCheckpoint` (403),
:class:`WitnessConflict` (409, carrying the witness's size) when the old size is not the one
it cosigned last or the same size has another root, :class:`~audit.errors.InvalidProof`
(422) when the proof does not verify. Checking and recording are one atomic step.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from audit.checkpoint import Checkpoint
from audit.errors import MalformedNote, UntrustedNote
from audit.merkle import EMPTY_ROOT, verify_consistency
from audit.note import Cosigner, KeyType, NoteVerifier, decode_base64, open_note, split_note
from problems import Conflict, Forbidden, GatewayError, NotFound

SIZE_MEDIA_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63
_OLD = re.compile(r"old (0|[1-9][0-9]{0,18})")


class WitnessBadRequest(GatewayError):
    """An add-checkpoint request that is not of the protocol's form."""

    status = 400
    title = "Malformed add-checkpoint request"
    slug = "witness-bad-request"


class UnknownLog(NotFound):
    """The witness is not configured for the checkpoint's origin."""

    title = "Unknown log"
    slug = "witness-unknown-log"


class UntrustedCheckpoint(Forbidden):
    """No key the witness trusts for the origin signed the checkpoint."""

    title = "Checkpoint not signed by the log"
    slug = "witness-untrusted-checkpoint"


class WitnessConflict(Conflict):
    """The old size is not the witness's, or the same size has another root (a fork)."""

    title = "Not the witness's latest checkpoint"
    slug = "witness-conflict"
    article = "Art. 61(3)"

    def __init__(self, detail: str, size: int) -> None:
        super().__init__(detail)
        self.size = size


@dataclass(frozen=True)
class AddCheckpoint:
    """One add-checkpoint request: the old size, the proof from it, the signed checkpoint."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str

    def to_body(self) -> str:
        lines = "".join(f"{_b64(hashed)}\n" for hashed in self.proof)
        return f"old {self.old_size}\n{lines}\n{self.note}"

    @classmethod
    def parse(cls, body: str) -> AddCheckpoint:
        head, separator, note = body.partition("\n\n")
        lines = head.split("\n")
        old = _OLD.fullmatch(lines[0])
        if not separator or old is None:
            raise WitnessBadRequest("the body is 'old <size>', proof lines, a blank line, a note")
        if len(lines) - 1 > MAX_PROOF_LINES:
            raise WitnessBadRequest(f"at most {MAX_PROOF_LINES} consistency proof lines")
        try:
            proof = tuple(decode_base64(line) for line in lines[1:])
        except MalformedNote as exc:
            raise WitnessBadRequest("a consistency proof line is not base64") from exc
        return cls(int(old[1]), proof, note)


@dataclass(frozen=True)
class WitnessedHead:
    """The size and root of the latest checkpoint a witness cosigned for one origin."""

    size: int
    root: bytes


class WitnessStore(Protocol):
    """Durable memory of the witness: its latest cosigned head per origin."""

    def latest(self, origin: str) -> WitnessedHead | None: ...

    def record(self, origin: str, head: WitnessedHead) -> None: ...


class Witness:
    """Cosigns checkpoints of the configured logs that extend what it cosigned before."""

    def __init__(
        self,
        cosigner: Cosigner,
        logs: Sequence[NoteVerifier],
        store: WitnessStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._cosigner = cosigner
        self._logs: dict[str, list[NoteVerifier]] = {}
        for key in logs:
            if key.key_type is not KeyType.ED25519:
                raise MalformedNote(f"the log key {key.name} is not an Ed25519 note key")
            self._logs.setdefault(key.name, []).append(key)
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def verifier(self) -> NoteVerifier:
        return self._cosigner.verifier()

    def add_checkpoint(self, request: AddCheckpoint) -> str:
        """The cosignature line on the request's checkpoint, once checked and recorded."""
        head = self._open(request.note)
        if request.old_size > head.size:
            raise WitnessBadRequest(
                f"old size {request.old_size} is above the checkpoint's {head.size}"
            )
        with self._lock:
            latest = self._store.latest(head.origin) or WitnessedHead(0, EMPTY_ROOT)
            if request.old_size != latest.size:
                raise WitnessConflict(
                    f"the witness cosigned size {latest.size}, not {request.old_size}",
                    latest.size,
                )
            if latest.size == head.size and latest.root != head.root:
                raise WitnessConflict(
                    f"the witness cosigned another tree of size {head.size}: the log forked",
                    latest.size,
                )
            verify_consistency(latest.size, head.size, request.proof, latest.root, head.root)
            self._store.record(head.origin, WitnessedHead(head.size, head.root))
        return self._cosigner.signature_line(head.to_body(), int(self._clock()))

    def _open(self, note: str) -> Checkpoint:
        try:
            head = Checkpoint.parse(split_note(note)[0])
        except MalformedNote as exc:
            raise WitnessBadRequest(f"the checkpoint is malformed: {exc.detail}") from exc
        keys = self._logs.get(head.origin)
        if keys is None:
            raise UnknownLog(f"this witness does not witness the log {head.origin}")
        try:
            open_note(note, keys)
        except UntrustedNote as exc:
            raise UntrustedCheckpoint(exc.detail) from exc
        return head


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
