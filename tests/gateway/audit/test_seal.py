"""Sealing an entry about a subject (Art. 63): commitments the openings open, or none kept."""

from __future__ import annotations

from audit.leaf import CommitmentDomain, check_commitment
from gateway.audit_log.service import seal

KEY = "p1-subjectkey"


def test_a_linkable_entry_keeps_the_salts_and_the_subject_key() -> None:
    sealed = seal(KEY, b'{"items":[]}')
    openings = sealed.openings
    assert openings is not None and openings.subject_key == KEY
    assert openings.response_salt is not None
    check_commitment(
        sealed.subject_commitment, CommitmentDomain.SUBJECT, openings.subject_salt, KEY.encode()
    )
    check_commitment(
        sealed.response_commitment,
        CommitmentDomain.RESPONSE,
        openings.response_salt,
        b'{"items":[]}',
    )
    case = sealed.commitment(CommitmentDomain.CASE_REFERENCE, b"case 7")
    check_commitment(case, CommitmentDomain.CASE_REFERENCE, openings.subject_salt, b"case 7")


def test_without_a_response_there_is_no_response_commitment() -> None:
    sealed = seal(KEY)
    assert sealed.response_commitment == b""
    assert sealed.openings is not None and sealed.openings.response_salt is None


def test_an_unlinkable_entry_keeps_nothing_to_open() -> None:
    sealed = seal(KEY, b"served", linkable=False)
    assert sealed.openings is None and sealed.response_commitment == b""
    assert len(sealed.subject_commitment) == 32
    assert seal(KEY, linkable=False).subject_commitment != sealed.subject_commitment
    assert "_salt" not in repr(sealed)  # the salt is never printed
