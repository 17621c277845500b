"""The audit leaf: query registration (Art. 39 para. 3) and change history (Art. 61(3), Art. 63).

Every query, allowed or denied, and every change of a consent, a record, an objection, a
citizen's second factors or the regulator's registries (parties, legal bases, purposes) is one
:class:`AuditEvent`. Its leaf is the canonical byte encoding
:func:`encode` produces; the Merkle tree hashes exactly these bytes (RFC 9162 section 2.1.1).

Leaves never contain personal data. The subject and the response appear only as commitments
``SHA-256(domain || salt || value)`` (:func:`commit`) with a 32-byte random salt
(:func:`new_salt`) kept by the gateway outside the log. The gateway can later open a
commitment to the subject (Art. 63: who queried my data) and, by destroying the salt, make a
commitment unlinkable forever without touching the log. An inquiry based on authority
(Art. 39 para. 2) names its case in ``purpose`` only as a commitment to the case reference,
and government affairs sharing the duty it serves (Art. 40 para. 1) as a commitment to the
stated duty, under the salt of the subject commitment. ``requester`` is an organisation's
client id, never a natural person's identifier; for a citizen's self inquiry it is a role
label.

Encoding, version 1 (``0x01``), every integer big-endian::

    version:u8
    then 12 fields, each as  length:u16 || bytes, in this fixed order:
      time_ms (u64, milliseconds since the Unix epoch, UTC)   kind        channel
      requester   legal_basis   grant_id   purpose
      item_categories (each category as length:u16 || UTF-8, strictly ascending)
      outcome     reason_code   subject_commitment (32)       response_commitment (0 or 32)

Version 2 (``0x02``) is version 1 followed by a 13th field, ``actor``: the keyed pseudonym of
the natural person who acted for the subject - a legal representative or an authorized agent
acting for a legal person or unincorporated organization, the subject. It is used only when
there is such an actor (never empty), so every other event keeps its version-1 leaf.

Text is UTF-8. ``channel`` is empty for events outside the five channels of Art. 39. The
encoding is canonical: :func:`decode` rejects any other version, unknown codes, unsorted or
repeated categories, trailing bytes, so one event has exactly one leaf.
"""

from __future__ import annotations

import secrets
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum, StrEnum
from hashlib import sha256
from hmac import compare_digest
from itertools import pairwise
from typing import TypeVar

from audit.encoding import join_prefixed, split_prefixed
from audit.errors import CommitmentMismatch, InvalidLeaf

LEAF_VERSION = 1
ACTOR_LEAF_VERSION = 2
SALT_SIZE = 32
COMMITMENT_SIZE = 32
_FIELD_COUNT = 12
_U64 = struct.Struct(">Q")
_E = TypeVar("_E", bound=StrEnum)


class EventKind(StrEnum):
    INQUIRY = "inquiry"
    CONSENT_CHANGE = "consent_change"
    RECORD_CHANGE = "record_change"
    OBJECTION = "objection"
    NOTICE = "notice"
    REPORT = "report"
    NOTIFICATION = "notification"
    FACTOR_CHANGE = "factor_change"
    RESTORATION = "restoration"
    RESPONSIBILITY_NOTE = "responsibility_note"
    REGISTRY_CHANGE = "registry_change"


class Channel(StrEnum):
    """The disclosure channels of Art. 39 para. 1."""

    LAWFUL_PUBLIC_DISCLOSURE = "lawful_public_disclosure"
    GOVERNMENT_AFFAIRS_SHARING = "government_affairs_sharing"
    INQUIRY_BASED_ON_AUTHORITY = "inquiry_based_on_authority"
    REAL_NAME_VERIFIED_INQUIRY = "real_name_verified_inquiry"
    AUTHORIZED_INQUIRY = "authorized_inquiry"


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


class CommitmentDomain(Enum):
    """Domain separation for :func:`commit`; NUL-terminated so no domain prefixes another."""

    SUBJECT = b"credit-gateway/audit/v1/subject\x00"
    RESPONSE = b"credit-gateway/audit/v1/response\x00"
    CASE_REFERENCE = b"credit-gateway/audit/v1/case-reference\x00"
    DUTY = b"credit-gateway/audit/v1/duty\x00"


@dataclass(frozen=True)
class AuditEvent:
    """One registered query or change. Text fields are codes and ids, never personal data."""

    time_ms: int
    kind: EventKind
    channel: Channel | None
    requester: str
    legal_basis: str
    grant_id: str
    purpose: str
    item_categories: frozenset[str]
    outcome: Outcome
    reason_code: str
    subject_commitment: bytes
    response_commitment: bytes = b""
    actor: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.time_ms < 1 << 63:
            raise InvalidLeaf("time_ms is outside the representable range")
        if len(self.subject_commitment) != COMMITMENT_SIZE:
            raise InvalidLeaf("subject_commitment must be 32 bytes")
        if len(self.response_commitment) not in (0, COMMITMENT_SIZE):
            raise InvalidLeaf("response_commitment must be empty or 32 bytes")
        if "" in self.item_categories:
            raise InvalidLeaf("an item category is empty")


def encode(event: AuditEvent) -> bytes:
    """The canonical leaf bytes of ``event`` (see the module docstring)."""
    fields = [
        _U64.pack(event.time_ms),
        event.kind.value.encode(),
        (event.channel.value if event.channel else "").encode(),
        event.requester.encode(),
        event.legal_basis.encode(),
        event.grant_id.encode(),
        event.purpose.encode(),
        _joined(sorted(category.encode() for category in event.item_categories)),
        event.outcome.value.encode(),
        event.reason_code.encode(),
        event.subject_commitment,
        event.response_commitment,
    ]
    if event.actor:
        fields.append(event.actor.encode())
    version = ACTOR_LEAF_VERSION if event.actor else LEAF_VERSION
    return bytes([version]) + _joined(fields)


def decode(leaf: bytes) -> AuditEvent:
    """Parse a version-1 or -2 leaf; raise :class:`InvalidLeaf` unless it is canonical."""
    if leaf[:1] not in (bytes([LEAF_VERSION]), bytes([ACTOR_LEAF_VERSION])):
        raise InvalidLeaf("unknown leaf version")
    fields = list(_split_prefixed(leaf[1:]))
    count = _FIELD_COUNT + (leaf[0] == ACTOR_LEAF_VERSION)
    if len(fields) != count:
        raise InvalidLeaf(f"a leaf has {count} fields, found {len(fields)}")
    actor = _text(fields.pop()) if count > _FIELD_COUNT else ""
    if count > _FIELD_COUNT and not actor:
        raise InvalidLeaf("a version-2 leaf names its actor")
    time_ms, kind, channel, requester, legal_basis, grant_id, purpose = fields[:7]
    categories, outcome, reason_code, subject, response = fields[7:]
    if len(time_ms) != _U64.size:
        raise InvalidLeaf("time_ms must be 8 bytes")
    return AuditEvent(
        time_ms=_U64.unpack(time_ms)[0],
        kind=_code(EventKind, kind),
        channel=_code(Channel, channel) if channel else None,
        requester=_text(requester),
        legal_basis=_text(legal_basis),
        grant_id=_text(grant_id),
        purpose=_text(purpose),
        item_categories=_categories(categories),
        outcome=_code(Outcome, outcome),
        reason_code=_text(reason_code),
        subject_commitment=subject,
        response_commitment=response,
        actor=actor,
    )


def new_salt() -> bytes:
    """A fresh 32-byte salt from the operating system's CSPRNG."""
    return secrets.token_bytes(SALT_SIZE)


def commit(domain: CommitmentDomain, salt: bytes, value: bytes) -> bytes:
    """``SHA-256(domain || salt || value)``; ``salt`` must be 32 bytes."""
    if len(salt) != SALT_SIZE:
        raise InvalidLeaf("a commitment salt must be 32 bytes")
    return sha256(domain.value + salt + value).digest()


def check_commitment(
    commitment: bytes, domain: CommitmentDomain, salt: bytes, value: bytes
) -> None:
    """Raise :class:`CommitmentMismatch` unless ``salt`` and ``value`` open ``commitment``."""
    if not compare_digest(commit(domain, salt, value), commitment):
        raise CommitmentMismatch("the value and salt do not open this commitment")


def _joined(fields: Iterable[bytes]) -> bytes:
    return join_prefixed(fields, InvalidLeaf, "a leaf field")


def _split_prefixed(data: bytes) -> Iterator[bytes]:
    return split_prefixed(data, InvalidLeaf, "a leaf field")


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidLeaf("a text field is not UTF-8") from exc


def _code(enum: Callable[[str], _E], raw: bytes) -> _E:
    try:
        return enum(_text(raw))
    except ValueError as exc:
        raise InvalidLeaf("unknown code in a leaf field") from exc


def _categories(raw: bytes) -> frozenset[str]:
    items = list(_split_prefixed(raw))
    if any(a >= b for a, b in pairwise(items)):
        raise InvalidLeaf("item categories must be strictly ascending")
    return frozenset(_text(item) for item in items)
