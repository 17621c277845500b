"""C2SP signed-note (Ed25519, key type 0x01) and C2SP tlog-cosignature/v1 (key type 0x04).

A note is text (non-empty, newline-terminated, no control characters but newline), a blank
line, then one line per signature::

    — <key name> base64(4-byte key id || signature)

* Ed25519 note signatures sign the text; the key id is
  ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``.
* Cosignatures (witnesses) sign ``"cosignature/v1\\ntime <unix seconds>\\n" || text``; the key
  id uses type byte ``0x04`` and the signature line carries ``key id || u64 timestamp ||
  signature``.
* Verifier keys are written ``<name>+<8 hex digits key id>+<base64(type || public key)>``.

:func:`open_note` fails closed: it raises unless at least one trusted key signed the note, and
it raises if any line by a trusted key does not verify. Lines by unknown keys are ignored, so
a note may carry the old and the new log key during a rotation, and witnesses' cosignatures.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit.errors import MalformedNote, UntrustedNote

SIGNATURE_PREFIX = "\u2014 "
MAX_SIGNATURES = 100
_KEY_SIZE = 32
_SIGNATURE_SIZE = 64
_TIMESTAMP = struct.Struct(">Q")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\ud800-\udfff]")
_VKEY = re.compile(r"([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)")


class KeyType(IntEnum):
    """Signature types of C2SP signed-note used here."""

    ED25519 = 0x01
    COSIGNATURE_V1 = 0x04


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted public key: a log key (``ED25519``) or a witness key (``COSIGNATURE_V1``)."""

    name: str
    key_type: KeyType
    public_key: bytes

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.public_key) != _KEY_SIZE:
            raise MalformedNote("an Ed25519 public key is 32 bytes")

    @property
    def key_id(self) -> bytes:
        material = self.name.encode() + b"\n" + bytes([self.key_type]) + self.public_key
        return sha256(material).digest()[:4]

    @property
    def vkey(self) -> str:
        """The verifier key string ``<name>+<hex key id>+<base64(type || key)>``."""
        encoded = _b64(bytes([self.key_type]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, text: str, signature: bytes) -> int | None:
        """Raise :class:`UntrustedNote` unless ``signature`` signs ``text``.

        Returns the cosignature's timestamp for a ``COSIGNATURE_V1`` key, else ``None``.
        """
        timestamp, message, raw = self._message(text, signature)
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(raw, message)
        except InvalidSignature:
            raise UntrustedNote(f"invalid signature by trusted key {self.name}") from None
        return timestamp

    def _message(self, text: str, signature: bytes) -> tuple[int | None, bytes, bytes]:
        if self.key_type is KeyType.ED25519:
            if len(signature) != _SIGNATURE_SIZE:
                raise UntrustedNote(f"signature by {self.name} has the wrong length")
            return None, text.encode(), signature
        if len(signature) != _TIMESTAMP.size + _SIGNATURE_SIZE:
            raise UntrustedNote(f"cosignature by {self.name} has the wrong length")
        (timestamp,) = _TIMESTAMP.unpack_from(signature)
        if timestamp >= 1 << 63:
            raise UntrustedNote(f"cosignature by {self.name} has an invalid timestamp")
        return timestamp, cosigned_message(text, timestamp), signature[_TIMESTAMP.size :]


@dataclass(frozen=True)
class NoteSigner:
    """A log's signing key: Ed25519 signed-note signatures over the note text."""

    name: str
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        _check_name(self.name)

    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, KeyType.ED25519, _public_bytes(self.private_key))

    def signature_line(self, text: str) -> str:
        _check_text(text)
        return _line(self.verifier(), self.private_key.sign(text.encode()))


@dataclass(frozen=True)
class Cosigner:
    """A witness key: C2SP tlog-cosignature/v1 signatures with a timestamp."""

    name: str
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        _check_name(self.name)

    def verifier(self) -> NoteVerifier:
        return NoteVerifier(self.name, KeyType.COSIGNATURE_V1, _public_bytes(self.private_key))

    def signature_line(self, text: str, timestamp: int) -> str:
        _check_text(text)
        if not 0 <= timestamp < 1 << 63:
            raise MalformedNote("a cosignature timestamp must be below 2**63")
        signature = self.private_key.sign(cosigned_message(text, timestamp))
        return _line(self.verifier(), _TIMESTAMP.pack(timestamp) + signature)


@dataclass(frozen=True)
class VerifiedSignature:
    name: str
    key_id: bytes
    timestamp: int | None


@dataclass(frozen=True)
class OpenedNote:
    """A note's text and the signatures by trusted keys that verified on it."""

    text: str
    signatures: tuple[VerifiedSignature, ...]


def parse_verifier_key(vkey: str) -> NoteVerifier:
    """Parse ``<name>+<hex key id>+<base64(type || public key)>``; the key id must match."""
    match = _VKEY.fullmatch(vkey)
    if match is None:
        raise MalformedNote("a verifier key is <name>+<hex key id>+<base64 key>")
    name, key_id, encoded = match.groups()
    material = decode_base64(encoded)
    try:
        key_type = KeyType(material[0])
    except (IndexError, ValueError):
        raise MalformedNote("unsupported verifier key type") from None
    verifier = NoteVerifier(name, key_type, material[1:])
    if verifier.key_id.hex() != key_id:
        raise MalformedNote("the verifier key id does not match its key")
    return verifier


def cosigned_message(text: str, timestamp: int) -> bytes:
    """The message a tlog-cosignature/v1 signs."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """``text``, a blank line, one signature line per signer (several during a key rotation)."""
    if not signers:
        raise MalformedNote("a note needs at least one signer")
    return text + "\n" + "".join(signer.signature_line(text) for signer in signers)


def cosign(note: str, cosigner: Cosigner, timestamp: int) -> str:
    """Append a witness cosignature line to a signed note."""
    text, _ = split_note(note)
    return note + cosigner.signature_line(text, timestamp)


def verify_cosignature(note: str, verifier: NoteVerifier) -> int:
    """Raise unless the witness ``verifier`` cosigned ``note``; return the cosignature time."""
    if verifier.key_type is not KeyType.COSIGNATURE_V1:
        raise MalformedNote("not a cosignature verifier key")
    (signature,) = open_note(note, [verifier]).signatures
    assert signature.timestamp is not None  # a COSIGNATURE_V1 verifier always returns one
    return signature.timestamp


def open_note(note: str, verifiers: Iterable[NoteVerifier]) -> OpenedNote:
    """Verify ``note`` with the trusted ``verifiers``; fail closed (see the module docstring)."""
    text, lines = split_note(note)
    trusted = {(v.name, v.key_id): v for v in verifiers}
    verified: dict[tuple[str, bytes], VerifiedSignature] = {}
    for name, key_id, signature in lines:
        verifier = trusted.get((name, key_id))
        if verifier is not None:
            timestamp = verifier.verify(text, signature)
            verified.setdefault((name, key_id), VerifiedSignature(name, key_id, timestamp))
    if not verified:
        raise UntrustedNote("no trusted key signed the note")
    return OpenedNote(text, tuple(verified.values()))


def split_note(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """The note's text and its signature lines as ``(name, key id, signature)``, unverified."""
    if _CONTROL.search(note):
        raise MalformedNote("a note contains a control character")
    split = note.rfind("\n\n")
    text, block = note[: split + 1], note[split + 2 :]
    if split < 0 or not block.endswith("\n"):
        raise MalformedNote("a note ends with a blank line and signature lines")
    _check_text(text)
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"a note carries at most {MAX_SIGNATURES} signatures")
    return text, [_parse_line(line) for line in lines]


def _parse_line(line: str) -> tuple[str, bytes, bytes]:
    if not line.startswith(SIGNATURE_PREFIX):
        raise MalformedNote("a signature line starts with an em dash and a space")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    _check_name(name)
    payload = decode_base64(encoded)
    if len(payload) < 5:
        raise MalformedNote("a signature is a key id and at least one byte")
    return name, payload[:4], payload[4:]


def _line(verifier: NoteVerifier, signature: bytes) -> str:
    return f"{SIGNATURE_PREFIX}{verifier.name} {_b64(verifier.key_id + signature)}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n") or _CONTROL.search(text):
        raise MalformedNote("note text is non-empty, ends with a newline, has no control bytes")


def _check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() or not c.isprintable() for c in name):
        raise MalformedNote("a key name is non-empty, without spaces or '+'")


def _public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def decode_base64(encoded: str) -> bytes:
    """Strict standard base64 (RFC 4648 section 4): only the canonical encoding is accepted."""
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedNote("invalid base64") from exc
    if _b64(raw) != encoded:
        raise MalformedNote("non-canonical base64")
    return raw
