"""Internal subject keys and requester pseudonyms never reveal or link identifiers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from gateway.keys import load_keys
from gateway.settings import Settings
from gateway.subjects import requester_pseudonym, subject_key
from redaction.identifiers import parse_identifier
from redaction.pseudonym import PseudonymKeys

PERSON = parse_identifier("id_number", "11010519491231002X", on=date(2026, 1, 1))


def test_keys_are_stable_keyed_and_free_of_the_identifier(tmp_path: Path) -> None:
    keys = load_keys(Settings(var_dir=tmp_path, _env_file=None))
    other = load_keys(Settings(var_dir=tmp_path / "other", _env_file=None))
    internal = subject_key(keys, PERSON)
    assert internal == subject_key(load_keys(Settings(var_dir=tmp_path, _env_file=None)), PERSON)
    assert internal != subject_key(other, PERSON)
    assert "11010519491231002X" not in internal


def test_requester_pseudonyms_are_unlinkable_and_rotate(tmp_path: Path) -> None:
    keys = load_keys(Settings(var_dir=tmp_path, _env_file=None))
    bank = requester_pseudonym(keys, "bank", PERSON)
    assert bank != requester_pseudonym(keys, "lessor", PERSON)
    assert bank != subject_key(keys, PERSON)
    rotated = replace(keys, pseudonyms=PseudonymKeys(keys.pseudonyms.master_key, 2))
    assert requester_pseudonym(rotated, "bank", PERSON) != bank
    assert subject_key(rotated, PERSON) == subject_key(keys, PERSON)
