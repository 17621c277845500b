"""The canonical audit leaf: round trip, canonical form, no personal data, commitments."""

from __future__ import annotations

import struct
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.errors import CommitmentMismatch, InvalidLeaf
from audit.leaf import (
    AuditEvent,
    Channel,
    CommitmentDomain,
    EventKind,
    Outcome,
    check_commitment,
    commit,
    decode,
    encode,
    new_salt,
)
from tests.audit.factories import inquiry

digests = st.binary(min_size=32, max_size=32)
text = st.text(max_size=40)
events = st.builds(
    AuditEvent,
    time_ms=st.integers(0, (1 << 63) - 1),
    kind=st.sampled_from(EventKind),
    channel=st.none() | st.sampled_from(Channel),
    requester=text,
    legal_basis=text,
    grant_id=text,
    purpose=text,
    item_categories=st.frozensets(st.text(min_size=1, max_size=20), max_size=8),
    outcome=st.sampled_from(Outcome),
    reason_code=text,
    subject_commitment=digests,
    response_commitment=st.just(b"") | digests,
)


@settings(max_examples=150)
@given(events)
def test_decode_inverts_encode(event: AuditEvent) -> None:
    assert decode(encode(event)) == event


@settings(max_examples=100)
@given(events, events)
def test_distinct_events_have_distinct_leaves(first: AuditEvent, second: AuditEvent) -> None:
    assert (encode(first) == encode(second)) == (first == second)


@settings(max_examples=100)
@given(events, st.binary(min_size=1, max_size=3))
def test_trailing_bytes_are_rejected(event: AuditEvent, extra: bytes) -> None:
    with pytest.raises(InvalidLeaf):
        decode(encode(event) + extra)


def test_every_truncation_is_rejected() -> None:
    leaf = encode(inquiry())
    for end in range(len(leaf)):
        with pytest.raises(InvalidLeaf):
            decode(leaf[:end])


def test_the_encoding_is_fixed() -> None:
    event = replace(inquiry(), item_categories=frozenset({"b", "a"}), response_commitment=b"")
    leaf = encode(event)
    assert leaf[:11] == b"\x01\x00\x08" + struct.pack(">Q", event.time_ms)
    assert b"\x00\x07inquiry\x00\x12authorized_inquiry" in leaf
    assert b"\x00\x06\x00\x01a\x00\x01b\x00\x07allowed" in leaf
    assert leaf.endswith(b"\x00\x20" + event.subject_commitment + b"\x00\x00")


def _with_field(index: int, value: bytes) -> bytes:
    """The leaf of ``inquiry()`` with field ``index`` replaced by ``value``."""
    leaf, offset, fields = encode(inquiry()), 1, []
    while offset < len(leaf):
        (length,) = struct.unpack_from(">H", leaf, offset)
        fields.append(leaf[offset + 2 : offset + 2 + length])
        offset += 2 + length
    fields[index] = value
    return b"\x01" + b"".join(struct.pack(">H", len(f)) + f for f in fields)


@pytest.mark.parametrize(
    ("index", "value"),
    [
        (0, b"\x00" * 7),
        (1, b"lookup"),
        (2, b"back_channel"),
        (3, b"\xff\xfe"),
        (7, b"\x00\x01b\x00\x01a"),
        (7, b"\x00\x01a\x00\x01a"),
        (7, b"\x00\x00"),
        (7, b"\x00\x05a"),
        (8, b"maybe"),
        (10, b"\x00" * 31),
        (11, b"\x00" * 16),
    ],
)
def test_non_canonical_or_unknown_fields_are_rejected(index: int, value: bytes) -> None:
    with pytest.raises(InvalidLeaf):
        decode(_with_field(index, value))


def test_field_replacement_keeps_a_valid_leaf_valid() -> None:
    assert decode(_with_field(1, b"inquiry")) == inquiry()
    assert decode(_with_field(2, b"")) == replace(inquiry(), channel=None)


def test_other_versions_and_field_counts_are_rejected() -> None:
    leaf = encode(inquiry())
    for bad in (b"", b"\x02" + leaf[1:], leaf + b"\x00\x00", b"\x01"):
        with pytest.raises(InvalidLeaf):
            decode(bad)


def test_invalid_events_cannot_be_built() -> None:
    event = inquiry()
    for changes in (
        {"time_ms": -1},
        {"time_ms": 1 << 63},
        {"subject_commitment": b"x" * 31},
        {"response_commitment": b"x" * 33},
        {"item_categories": frozenset({""})},
    ):
        with pytest.raises(InvalidLeaf):
            replace(event, **changes)
    with pytest.raises(InvalidLeaf):
        encode(replace(event, purpose="p" * 0x10000))


def test_commitments_open_only_with_their_salt_value_and_domain() -> None:
    salt = new_salt()
    assert len(salt) == 32 and salt != new_salt()
    sealed = commit(CommitmentDomain.SUBJECT, salt, b"320102199001011234")
    check_commitment(sealed, CommitmentDomain.SUBJECT, salt, b"320102199001011234")
    for domain, key, value in (
        (CommitmentDomain.RESPONSE, salt, b"320102199001011234"),
        (CommitmentDomain.SUBJECT, new_salt(), b"320102199001011234"),
        (CommitmentDomain.SUBJECT, salt, b"320102199001011235"),
    ):
        with pytest.raises(CommitmentMismatch):
            check_commitment(sealed, domain, key, value)
    with pytest.raises(InvalidLeaf):
        commit(CommitmentDomain.SUBJECT, b"short", b"value")


def test_a_leaf_holds_commitments_never_the_subject() -> None:
    salt = new_salt()
    identifier = b"320102199001011234"
    event = replace(
        inquiry(), subject_commitment=commit(CommitmentDomain.SUBJECT, salt, identifier)
    )
    assert identifier not in encode(event)
