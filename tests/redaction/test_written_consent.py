"""Art. 62 para. 2: a written-consent reference resolves to a consent of that providing unit,
for that subject and category, not withdrawn - each condition refused on its own."""

from __future__ import annotations

import pytest

from redaction.errors import WrittenConsentUnknown
from redaction.written_consent import (
    WrittenConsentOnFile,
    WrittenConsentSource,
    check_written_consent,
)

ON_FILE = WrittenConsentOnFile("court", "subject-1", "income", WrittenConsentSource.DOCUMENT, False)
EXPECTED = {"provider": "court", "subject_key": "subject-1", "category": "income"}


def test_art62_2_a_consent_on_file_admits_the_record() -> None:
    check_written_consent(ON_FILE, **EXPECTED)


@pytest.mark.parametrize(
    "on_file",
    [
        None,
        WrittenConsentOnFile("bank", "subject-1", "income", WrittenConsentSource.DOCUMENT, False),
        WrittenConsentOnFile("court", "subject-2", "income", WrittenConsentSource.DOCUMENT, False),
        WrittenConsentOnFile("court", "subject-1", "savings", WrittenConsentSource.DOCUMENT, False),
        WrittenConsentOnFile("court", "subject-1", "income", WrittenConsentSource.COLLECTION, True),
    ],
    ids=["unknown", "another-unit", "another-subject", "another-category", "withdrawn"],
)
def test_art62_2_anything_else_is_refused(on_file: WrittenConsentOnFile | None) -> None:
    with pytest.raises(WrittenConsentUnknown) as refused:
        check_written_consent(on_file, **EXPECTED)
    assert refused.value.article == "Art. 62 para. 2"
    assert "subject-1" not in str(refused.value)
