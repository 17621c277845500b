"""An inclusion bundle: entries of the log with their proofs, checkable offline (Art. 63).

A citizen downloads the entries of the log about them as one JSON document::

    {"format": "credit-gateway-inclusion-bundle/v1",
     "checkpoint": "<signed checkpoint note>",
     "entries": [{"leaf_index": 7, "leaf": "<base64 leaf>", "inclusion": ["<base64>", ...]}],
     "previous": {"checkpoint": "<signed note>", "consistency": ["<base64>", ...]} | null}

Everything in it is standard: C2SP signed-note checkpoints, the exact leaf bytes the tree
hashes, RFC 9162 inclusion proofs against the checkpoint and, when the citizen saw an earlier
checkpoint, the RFC 9162 consistency proof from it. :func:`verify_bundle` checks all of it with
a key the citizen trusts - not the gateway's word - and raises
:class:`~audit.errors.VerificationFailed` naming what failed.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass

from audit.checkpoint import Checkpoint, open_checkpoint
from audit.errors import InvalidProof, MalformedNote, UntrustedNote, VerificationFailed
from audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from audit.note import NoteVerifier, decode_base64

BUNDLE_FORMAT = "credit-gateway-inclusion-bundle/v1"


@dataclass(frozen=True)
class BundleEntry:
    leaf_index: int
    leaf: bytes
    inclusion: tuple[bytes, ...]


@dataclass(frozen=True)
class Previous:
    """An earlier checkpoint (signed note) and the consistency proof from it."""

    checkpoint: str
    consistency: tuple[bytes, ...]


@dataclass(frozen=True)
class BundleReport:
    checkpoint: Checkpoint
    entries: int
    previous: Checkpoint | None


def write_bundle(checkpoint: str, entries: Sequence[BundleEntry], previous: Previous | None) -> str:
    document = {
        "format": BUNDLE_FORMAT,
        "checkpoint": checkpoint,
        "entries": [
            {
                "leaf_index": entry.leaf_index,
                "leaf": _b64(entry.leaf),
                "inclusion": [_b64(h) for h in entry.inclusion],
            }
            for entry in entries
        ],
        "previous": None
        if previous is None
        else {
            "checkpoint": previous.checkpoint,
            "consistency": [_b64(h) for h in previous.consistency],
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def verify_bundle(text: str, trusted: NoteVerifier) -> BundleReport:
    """Check every signature and proof of a bundle with ``trusted`` (the log's key)."""
    try:
        checkpoint, entries, previous = _parse(text)
    except (ValueError, KeyError, TypeError, MalformedNote) as exc:
        raise VerificationFailed(f"the bundle is not a {BUNDLE_FORMAT} document") from exc
    head = _open(checkpoint, trusted, "the checkpoint")
    for entry in entries:
        try:
            verify_inclusion(
                leaf_hash(entry.leaf), entry.leaf_index, head.size, entry.inclusion, head.root
            )
        except InvalidProof as exc:
            raise VerificationFailed(f"entry {entry.leaf_index}: {exc.detail}") from exc
    earlier = None
    if previous is not None:
        earlier = _open(previous.checkpoint, trusted, "the previous checkpoint")
        try:
            verify_consistency(
                earlier.size, head.size, previous.consistency, earlier.root, head.root
            )
        except InvalidProof as exc:
            raise VerificationFailed(
                f"the checkpoint of size {head.size} is not consistent with the one of size "
                f"{earlier.size} seen before: {exc.detail}"
            ) from exc
    return BundleReport(head, len(entries), earlier)


def _open(note: str, trusted: NoteVerifier, what: str) -> Checkpoint:
    try:
        return open_checkpoint(note, [trusted], trusted.name)
    except (MalformedNote, UntrustedNote) as exc:
        raise VerificationFailed(f"{what}: {exc.detail}") from exc


def _parse(text: str) -> tuple[str, list[BundleEntry], Previous | None]:
    document = json.loads(text)
    if document["format"] != BUNDLE_FORMAT:
        raise ValueError("unknown format")
    entries = [
        BundleEntry(
            _index(item["leaf_index"]),
            decode_base64(item["leaf"]),
            tuple(decode_base64(h) for h in item["inclusion"]),
        )
        for item in document["entries"]
    ]
    raw = document["previous"]
    previous = (
        None
        if raw is None
        else Previous(_text(raw["checkpoint"]), tuple(decode_base64(h) for h in raw["consistency"]))
    )
    return _text(document["checkpoint"]), entries, previous


def _index(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError("a leaf index is a non-negative integer")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("a checkpoint is a string")
    return value


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
