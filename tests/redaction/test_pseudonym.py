"""Keyed, per-requester, rotatable pseudonyms (Art. 40 para. 2)."""

from __future__ import annotations

import hashlib

import pytest

from redaction.errors import InvalidPseudonymKey
from redaction.pseudonym import PseudonymKeys, pseudonym

MASTER = bytes(range(32))
SUBJECT = "id_number:11010519491231002X"


def test_stable_for_one_requester_and_version() -> None:
    first = pseudonym(MASTER, "bank-1", SUBJECT, 1)
    assert first == pseudonym(MASTER, "bank-1", SUBJECT, 1)
    assert first.startswith("p1-")
    assert len(first) == len("p1-") + 32


def test_unlinkable_across_requesters_versions_keys_and_subjects() -> None:
    variants = {
        pseudonym(MASTER, "bank-1", SUBJECT, 1),
        pseudonym(MASTER, "bank-2", SUBJECT, 1),
        pseudonym(MASTER, "bank-1", SUBJECT, 2),
        pseudonym(bytes(32), "bank-1", SUBJECT, 1),
        pseudonym(MASTER, "bank-1", "id_number:110105194912310021", 1),
    }
    assert len(variants) == 5


def test_requester_id_is_not_ambiguous_with_the_version() -> None:
    assert pseudonym(MASTER, "1/x", SUBJECT, 1) != pseudonym(MASTER, "x", SUBJECT, 11)


def test_never_a_bare_hash_of_the_identifier() -> None:
    token = pseudonym(MASTER, "bank-1", SUBJECT, 1)
    digests = [
        hashlib.sha256(text.encode()).hexdigest() for text in (SUBJECT, "11010519491231002X")
    ]
    assert "11010519491231002X" not in token
    assert all(token[3:] not in digest for digest in digests)


@pytest.mark.parametrize(("key", "version"), [(b"short", 1), (MASTER, 0)])
def test_weak_keys_are_refused(key: bytes, version: int) -> None:
    with pytest.raises(InvalidPseudonymKey):
        pseudonym(key, "bank-1", SUBJECT, version)
    with pytest.raises(InvalidPseudonymKey):
        PseudonymKeys(key, version)


def test_keys_are_never_printed() -> None:
    keys = PseudonymKeys(MASTER, 3)
    assert MASTER.hex() not in repr(keys)
    assert str(MASTER) not in repr(keys)
    assert keys.pseudonym("bank-1", SUBJECT) == pseudonym(MASTER, "bank-1", SUBJECT, 3)
