"""A self-contained export of the audit log for offline verification (Art. 39 para. 3, 61(3)).

JSON Lines, UTF-8. The first line is the header object::

    {"format": "credit-gateway-audit-export/v1", "origin": "...",
     "verifier_keys": ["<name>+<hex>+<base64>", ...], "checkpoints": ["<signed note>", ...]}

``checkpoints`` are the log's signed checkpoints, oldest first; the leaves match the last.
Every following line is one leaf, in index order, as a JSON string holding the standard base64
of the exact bytes that were hashed. Streaming both ways: a million leaves never sit in memory.

``verifier_keys`` say which keys the log claims to use; they are NOT a trust anchor. The
verifier trusts the keys it was configured with (:func:`verify_export`).

The leaves are read some megabytes at a time: a block of lines is checked for its framing with
one count of its quotes, decoded with ``pybase64`` (SIMD) and handed to the verifier as one
chunk; only a block that fails is read again line by line, to name the line.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO, TextIO

import pybase64

from audit.checkpoint import Checkpoint
from audit.errors import MalformedExport
from audit.note import NoteVerifier
from audit.verify import PROGRESS_EVERY, LeafChunks, Progress, VerificationReport, verify_log

EXPORT_FORMAT = "credit-gateway-audit-export/v1"
BLOCK = 1 << 22  # characters of leaf lines read at once


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


def read_export(stream: TextIO | BinaryIO) -> tuple[ExportHeader, Iterator[bytes]]:
    """The header, and an iterator over the leaves that reads the stream (text or binary,
    binary is faster) lazily."""
    header = _header(stream.readline())
    return header, (leaf for chunk in _leaf_chunks(stream) for leaf in chunk)


def verify_export(
    stream: TextIO | BinaryIO,
    trusted: Sequence[NoteVerifier],
    *,
    seen: Sequence[Checkpoint] = (),
    progress: Progress | None = None,
    progress_every: int = PROGRESS_EVERY,
) -> VerificationReport:
    """:func:`audit.verify.verify_log` over an export, with the verifier's own trusted keys."""
    header = _header(stream.readline())
    return verify_log(
        LeafChunks(_leaf_chunks(stream)),
        header.checkpoints,
        trusted,
        origin=header.origin,
        seen=seen,
        progress=progress,
        progress_every=progress_every,
    )


def _header(line: str | bytes) -> ExportHeader:
    try:
        document = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
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


def _leaf_chunks(stream: TextIO | BinaryIO) -> Iterator[list[bytes]]:
    """The leaves of the lines after the header, a block of lines at a time."""
    number = 2
    for data in _blocks(stream):
        lines = data.split(b"\n")
        if not lines[-1]:  # the last line's line break
            lines.pop()
        yield _decode_block(lines, data.count(b'"'), number)
        number += len(lines)


def _blocks(stream: TextIO | BinaryIO) -> Iterator[bytes]:
    """The rest of the stream in blocks of whole lines, as bytes."""
    while block := stream.read(BLOCK):
        end = stream.readline()  # up to the end of the block's last line
        if isinstance(block, bytes) and isinstance(end, bytes):
            yield block + end
        elif isinstance(block, str) and isinstance(end, str):
            # Not ASCII: a "?" in its place fails the line as a JSON string or as base64 (a
            # byte that is not ASCII, in a binary stream, fails base64 as it is).
            yield (block + end).encode("ascii", "replace")


def _decode_block(lines: list[bytes], quotes: int, first: int) -> list[bytes]:
    """The leaves of complete lines (line ``first`` onwards); raises naming the first bad one.

    ``quotes`` is the number of quotes in the lines. Base64 admits no quote, so a line whose
    inside decodes holds at most two, its first and last characters: twice as many quotes as
    lines means every line is framed as a JSON string.
    """
    if quotes == 2 * len(lines):
        try:
            return [pybase64.b64decode(line[1:-1], validate=True) for line in lines]
        except (binascii.Error, ValueError):
            pass
    return [_decode_line(line, number) for number, line in enumerate(lines, start=first)]


def _decode_line(line: bytes, number: int) -> bytes:
    if len(line) < 2 or line[:1] != b'"' or line[-1:] != b'"':
        raise MalformedExport(f"line {number} is not a JSON string")
    try:
        return base64.b64decode(line[1:-1], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedExport(f"line {number} is not base64") from exc
