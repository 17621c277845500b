"""The consent core and the redaction catalog speak the same vocabulary."""

from __future__ import annotations

from consent.artefact import require_pseudonym
from consent.purposes import load_purposes
from redaction.catalog import RESTRICTED_CATEGORIES, ScopeCategory
from redaction.pseudonym import pseudonym
from tests.consent.factories import CATEGORIES, RESTRICTED, SUBJECT


def test_category_codes_match_the_catalog() -> None:
    assert frozenset(ScopeCategory) == CATEGORIES
    assert RESTRICTED_CATEGORIES == RESTRICTED


def test_seed_purposes_load_against_the_catalog_categories() -> None:
    assert list(load_purposes(frozenset(ScopeCategory)))


def test_redaction_pseudonyms_are_accepted_in_signed_documents() -> None:
    value = pseudonym(b"k" * 32, "est-bank-001", SUBJECT, 1)
    assert require_pseudonym(value) == value
