"""A witness: cosigns a log's checkpoint only if it extends the last one it cosigned.

C2SP tlog-witness semantics with C2SP tlog-cosignature/v1 signatures: the witness opens the
log's latest checkpoint with the log's key, fetches a consistency proof (RFC 9162 section
2.1.4) from the checkpoint it cosigned last, verifies it, and only then adds its timestamped
cosignature. A log that rewrote history (Art. 61(3)) cannot get a cosignature for the new one.
The state file remembers, per log key, the last cosigned note.
"""

from __future__ import annotations

import time
from pathlib import Path

from audit.checkpoint import open_checkpoint
from audit.errors import InconsistentCheckpoint
from audit.merkle import verify_consistency
from audit.note import Cosigner, NoteVerifier, cosign
from gateway.audit_log.errors import MalformedState
from gateway.audit_log.remote import LogClient
from gateway.audit_log.statefile import optional_string, read_state, write_state


def witness_checkpoint(
    client: LogClient, log_key: NoteVerifier, cosigner: Cosigner, state_path: Path
) -> str:
    """Cosign the log's latest checkpoint after checking it; return the cosigned note."""
    state = read_state(state_path)
    if optional_string(state, "log") not in (None, log_key.vkey):
        raise MalformedState("the witness state file belongs to another log key")
    note = client.checkpoint()
    head = open_checkpoint(note, [log_key], log_key.name)
    last = optional_string(state, "cosigned")
    if last is not None:
        earlier = open_checkpoint(last, [log_key], log_key.name)
        if head.size < earlier.size:
            raise InconsistentCheckpoint(
                f"the log's checkpoint of size {head.size} is older than the cosigned "
                f"one of size {earlier.size}"
            )
        proof = client.consistency(earlier.size, head.size)
        verify_consistency(earlier.size, head.size, proof, earlier.root, head.root)
    cosigned = cosign(note, cosigner, int(time.time()))
    write_state(state_path, {"log": log_key.vkey, "cosigned": cosigned})
    return cosigned
