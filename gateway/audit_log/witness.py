"""C2SP tlog-witness over HTTP: the witness's memory, and the client that asks for cosignatures.

* :class:`FileWitnessStore` — the :class:`audit.witness.WitnessStore` of ``gateway audit witness
  serve``: per origin, the size and root it cosigned last, in a JSON state file written
  atomically (mode 0600) before the cosignature leaves.
* :func:`request_cosignature` — ``POST <witness>/add-checkpoint`` with a consistency proof from
  the size the client believes the witness holds; on ``409`` (``text/x.tlog.size``) it proves
  again from the witness's own size, once. The gateway pushes each new checkpoint this way;
  :func:`relay_checkpoint` (``gateway audit witness pull``) relays a gateway's checkpoint to
  a witness the same way.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from audit.checkpoint import Checkpoint
from audit.note import decode_base64, split_note
from audit.witness import SIZE_MEDIA_TYPE, AddCheckpoint, WitnessedHead
from gateway.audit_log.errors import LogUnreachable, MalformedState, WitnessRefused
from gateway.audit_log.http import problem_detail
from gateway.audit_log.statefile import read_state, write_state

if TYPE_CHECKING:  # remote.py imports the service, which imports this module
    from gateway.audit_log.remote import LogClient

ADD_CHECKPOINT = "/add-checkpoint"
TIMEOUT = 10.0

# ``prove(old_size)``: the consistency proof from ``old_size`` to the submitted checkpoint.
Prover = Callable[[int], list[bytes]]


class FileWitnessStore:
    """The witness's latest cosigned head per origin, in ``{"logs": {origin: {size, root}}}``."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def latest(self, origin: str) -> WitnessedHead | None:
        entry = self._logs().get(origin)
        if entry is None:
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("size"), int):
            raise MalformedState(f"the witness state of {origin} is not {{size, root}}")
        root = entry.get("root")
        if not isinstance(root, str):
            raise MalformedState(f"the witness state of {origin} has no root")
        return WitnessedHead(entry["size"], decode_base64(root))

    def record(self, origin: str, head: WitnessedHead) -> None:
        logs = self._logs()
        logs[origin] = {"size": head.size, "root": base64.b64encode(head.root).decode("ascii")}
        write_state(self._path, {"logs": logs})

    def _logs(self) -> dict[str, object]:
        logs = read_state(self._path).get("logs", {})
        if not isinstance(logs, dict):
            raise MalformedState("the witness state's logs are not a JSON object")
        return logs


def request_cosignature(
    http: httpx.Client, witness_url: str, note: str, old_size: int, prove: Prover
) -> str:
    """The witness's cosignature lines on ``note`` (a signed checkpoint), through the protocol."""
    size = Checkpoint.parse(split_note(note)[0]).size
    url = witness_url.rstrip("/") + ADD_CHECKPOINT
    response = _submit(http, url, AddCheckpoint(old_size, tuple(prove(old_size)), note))
    held = _witness_size(response)
    if held is not None and held > size:
        raise WitnessRefused(f"{url} cosigned size {held}, beyond this checkpoint's {size}")
    if held is not None:
        response = _submit(http, url, AddCheckpoint(held, tuple(prove(held)), note))
    if response.status_code != 200:
        raise WitnessRefused(f"{url} answered {response.status_code}: {problem_detail(response)}")
    return response.text


def relay_checkpoint(client: LogClient, witness_url: str) -> str:
    """The gateway's latest checkpoint, cosigned by the witness at ``witness_url``.

    The relay does not know the witness's size: it asks from 0, and the witness's 409 says.
    """
    note = client.checkpoint()
    size = Checkpoint.parse(split_note(note)[0]).size
    return note + request_cosignature(
        client.http, witness_url, note, 0, lambda old: client.consistency(old, size)
    )


def _submit(http: httpx.Client, url: str, request: AddCheckpoint) -> httpx.Response:
    body = request.to_body().encode()
    try:
        return http.post(url, content=body, headers={"Content-Type": "text/plain"})
    except httpx.HTTPError as exc:
        raise LogUnreachable(f"{url}: {type(exc).__name__}") from exc


def _witness_size(response: httpx.Response) -> int | None:
    """The witness's size from a 409 ``text/x.tlog.size`` answer, else ``None``."""
    media = response.headers.get("content-type", "").split(";")[0].strip()
    text = response.text
    if response.status_code != 409 or media != SIZE_MEDIA_TYPE or not text.endswith("\n"):
        return None
    try:
        return int(text[:-1])
    except ValueError:
        return None
