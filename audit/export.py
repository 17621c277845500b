"""A self-contained export of the audit log for offline verification (Art. 39 para. 3, 61(3)).

JSON Lines, UTF-8. The first line is the header object::

    {"format": "credit-gateway-audit-export/v1", "origin": "...",
     "verifier_keys": ["<name>+<hex>+<base64>", ...], "checkpoints": ["<signed note>", ...]}

``checkpoints`` are the log's signed checkpoints, oldest first; the leaves match the last.
Every following line is one leaf, in index order, as a JSON string holding the standard base64
of the exact bytes that were hashed. Streaming both ways: a million leaves never sit in memory.

``verifier_keys`` say which keys the log claims to use; they are NOT a trust anchor. The
verifier trusts the keys it was configured with (:func:`verify_export`).

The leaves are read some megabytes at a time: a block of lines, less its first and last
quotes, is split at every quote-line break-quote and each piece decoded with ``pybase64``
(SIMD, validating: base64 admits no quote and no line break, so the pieces are the insides of
the lines exactly when every piece decodes). Only a block that fails is read again line by
line, to name the line. The verifier decodes and hashes the blocks on several processes
(:class:`audit.verify.LeafBlocks`); of an export in a file, this process only counts a block's
lines, and the worker reads the block itself.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import BinaryIO, TextIO

import pybase64

from audit.checkpoint import Checkpoint
from audit.errors import MalformedExport
from audit.note import NoteVerifier
from audit.verify import PROGRESS_EVERY, LeafBlocks, Progress, VerificationReport, verify_log

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
    return header, (leaf for lines in _numbered_blocks(stream) for leaf in _decode_block(lines))


def verify_export(
    stream: TextIO | BinaryIO,
    trusted: Sequence[NoteVerifier],
    *,
    seen: Sequence[Checkpoint] = (),
    progress: Progress | None = None,
    progress_every: int = PROGRESS_EVERY,
    workers: int | None = None,
) -> VerificationReport:
    """:func:`audit.verify.verify_log` over an export, with the verifier's own trusted keys;
    its blocks decoded and hashed on ``workers`` processes (default: one per core)."""
    header = _header(stream.readline())
    return verify_log(
        LeafBlocks(_numbered_blocks(stream), _decode_block, lambda lines: lines.count),
        header.checkpoints,
        trusted,
        origin=header.origin,
        seen=seen,
        progress=progress,
        progress_every=progress_every,
        workers=workers,
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


@dataclass(frozen=True)
class _Lines:
    """A block of ``count`` whole lines after the header, the first numbered ``first``: their
    bytes, or (``data`` None) where they lie in the export file, for the process that decodes
    them to read again - a worker is sent a few numbers, not megabytes."""

    first: int
    count: int
    data: bytes | None
    fd: int = -1
    offset: int = 0
    size: int = 0


def _numbered_blocks(stream: TextIO | BinaryIO) -> Iterator[_Lines]:
    """The lines after the header, a block at a time: of a binary file, where they lie (counted
    in a buffer used again and again); of any other stream, their bytes."""
    number = 2
    if isinstance(stream, io.BufferedReader) and stream.seekable():
        fd, buffer = stream.fileno(), bytearray(BLOCK)
        while True:
            offset = stream.tell()
            if not (read := stream.readinto(buffer)):
                return
            end = stream.readline()  # up to the end of the block's last line
            last = end[-1:] if end else buffer[read - 1 : read]
            count = buffer.count(b"\n", 0, read) + end.count(b"\n") + (last != b"\n")
            yield _Lines(number, count, None, fd, offset, read + len(end))
            number += count
    while block := stream.read(BLOCK):
        data = _whole_lines(block, stream.readline())
        count = data.count(b"\n") + (not data.endswith(b"\n"))
        yield _Lines(number, count, data)
        number += count


def _whole_lines(block: str | bytes, end: str | bytes) -> bytes:
    if isinstance(block, bytes) and isinstance(end, bytes):
        return block + end
    if isinstance(block, str) and isinstance(end, str):
        # Not ASCII: a "?" in its place fails the line as a JSON string or as base64 (a byte
        # that is not ASCII, in a binary stream, fails base64 as it is).
        return (block + end).encode("ascii", "replace")
    raise TypeError("a stream reads either text or bytes")


def _decode_block(lines: _Lines) -> list[bytes]:
    """The leaves of a block of lines; raises naming the first bad line."""
    data = lines.data if lines.data is not None else os.pread(lines.fd, lines.size, lines.offset)
    leaves = _decode_fast(data)
    if leaves is None:
        text = data[:-1] if data.endswith(b"\n") else data
        numbered = enumerate(text.split(b"\n"), lines.first)
        leaves = [_decode_line(line, number) for number, line in numbered]
    if len(leaves) != lines.count:
        raise MalformedExport("the export file changed while it was verified")
    return leaves


def _decode_fast(data: bytes) -> list[bytes] | None:
    """The leaves of lines that are all well-formed, else None: split at every quote-line
    break-quote (no copy of the block), less the first quote and the last quote and line
    break."""
    pieces = data.split(b'"\n"')
    pieces[-1] = pieces[-1].removesuffix(b"\n")
    if pieces[0][:1] != b'"' or pieces[-1][-1:] != b'"' or pieces == [b'"']:
        return None
    pieces[0] = pieces[0][1:]
    pieces[-1] = pieces[-1][:-1]
    try:
        return list(map(pybase64.b64decode, pieces, repeat(None), repeat(True)))
    except (binascii.Error, ValueError):
        return None


def _decode_line(line: bytes, number: int) -> bytes:
    if len(line) < 2 or line[:1] != b'"' or line[-1:] != b'"':
        raise MalformedExport(f"line {number} is not a JSON string")
    try:
        return base64.b64decode(line[1:-1], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedExport(f"line {number} is not base64") from exc
