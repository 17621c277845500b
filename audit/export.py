"""A self-contained export of the audit log for offline verification (Art. 39 para. 3, 61(3)).

JSON Lines, UTF-8. The first line is the header object::

    {"format": "credit-gateway-audit-export/v1", "origin": "...",
     "verifier_keys": ["<name>+<hex>+<base64>", ...], "checkpoints": ["<signed note>", ...]}

``checkpoints`` are the log's signed checkpoints, oldest first; the leaves match the last.
Every following line is one leaf, in index order, as a JSON string holding the standard base64
of the exact bytes that were hashed. Streaming both ways: a million leaves never sit in memory.

``verifier_keys`` say which keys the log claims to use; they are NOT a trust anchor. The
verifier trusts the keys it was configured with (:func:`verify_export`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TextIO

from audit.checkpoint import Checkpoint
from audit.errors import MalformedExport
from audit.note import NoteVerifier
from audit.verify import PROGRESS_EVERY, Progress, VerificationReport, verify_log

EXPORT_FORMAT = "credit-gateway-audit-export/v1"


@dataclass(frozen=True)
class ExportHeader:
    origin: str
    verifier_keys: tuple[str, ...]
    checkpoints: tuple[str, ...]


def write_export(out: TextIO, header: ExportHeader, leaves: Iterable[bytes]) -> None:
    """Write the header line, then one line per leaf."""
    document = {
        "format": EXPORT_FORMAT,
        "origin": header.origin,
        "verifier_keys": list(header.verifier_keys),
        "checkpoints": list(header.checkpoints),
    }
    out.write(json.dumps(document, ensure_ascii=False) + "\n")
    for leaf in leaves:
        out.write('"' + base64.b64encode(leaf).decode("ascii") + '"\n')


def read_export(stream: TextIO) -> tuple[ExportHeader, Iterator[bytes]]:
    """The header, and an iterator over the leaves that reads the stream lazily."""
    return _header(stream.readline()), _leaves(stream)


def verify_export(
    stream: TextIO,
    trusted: Sequence[NoteVerifier],
    *,
    seen: Sequence[Checkpoint] = (),
    progress: Progress | None = None,
    progress_every: int = PROGRESS_EVERY,
) -> VerificationReport:
    """:func:`audit.verify.verify_log` over an export, with the verifier's own trusted keys."""
    header, leaves = read_export(stream)
    return verify_log(
        leaves,
        header.checkpoints,
        trusted,
        origin=header.origin,
        seen=seen,
        progress=progress,
        progress_every=progress_every,
    )


def _header(line: str) -> ExportHeader:
    try:
        document = json.loads(line)
    except json.JSONDecodeError as exc:
        raise MalformedExport("the first line is not a JSON header") from exc
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise MalformedExport(f"the header does not declare format {EXPORT_FORMAT}")
    origin = document.get("origin")
    if not isinstance(origin, str):
        raise MalformedExport("the header has no origin")
    return ExportHeader(
        origin, _strings(document, "verifier_keys"), _strings(document, "checkpoints")
    )


def _strings(document: dict[str, object], key: str) -> tuple[str, ...]:
    values = document.get(key)
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise MalformedExport(f"the header's {key} is not a list of strings")
    return tuple(values)


def _leaves(stream: TextIO) -> Iterator[bytes]:
    for number, line in enumerate(stream, start=2):
        text = line.rstrip("\n")
        if len(text) < 2 or text[0] != '"' or text[-1] != '"':
            raise MalformedExport(f"line {number} is not a JSON string")
        try:
            yield base64.b64decode(text[1:-1], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedExport(f"line {number} is not base64") from exc
