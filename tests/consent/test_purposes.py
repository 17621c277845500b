"""The purposes registry: caps and categories (Art. 61(2), Art. 62)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from consent.errors import Reason, RefusedRequestError
from consent.grants import SubjectKind
from consent.purposes import MAX_VALIDITY_DAYS, Frequency, load_purposes
from tests.consent.factories import CATEGORIES, RESTRICTED, registry


def test_seed_registry_is_within_the_absolute_caps() -> None:
    purposes = list(registry())
    assert len(purposes) >= 7
    for purpose in purposes:
        assert 1 <= purpose.max_validity_days <= MAX_VALIDITY_DAYS
        assert purpose.categories <= CATEGORIES
        assert purpose.description.zh and purpose.description.en
        if purpose.frequency is Frequency.ONE_TIME:
            assert purpose.max_uses == 1


def test_seed_has_the_expected_purposes() -> None:
    mortgage = registry().get("mortgage_application")
    assert {"real_estate", "income", "tax"} <= mortgage.categories
    supplier = registry().get("supplier_due_diligence")
    assert supplier.subject_kinds == {SubjectKind.LEGAL_PERSON}
    assert not supplier.categories & RESTRICTED
    for code in (
        "loan_application",
        "credit_card_review",
        "lease_screening",
        "employment_background_check",
        "insurance_underwriting",
    ):
        assert registry().get(code).code == code


def test_unknown_purpose_is_a_refused_request() -> None:
    with pytest.raises(RefusedRequestError) as refused:
        registry().get("lifetime_monitoring")
    assert refused.value.reason == Reason.UNKNOWN_PURPOSE


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "purposes.yaml"
    path.write_text(body, encoding="utf-8")
    return path


ENTRY = """
  - code: {code}
    description: {{zh: 测试, en: test}}
    categories: [{categories}]
    max_validity_days: {days}
    max_uses: {uses}
    frequency: {frequency}
    subject_kinds: [natural_person]
"""


def entry(
    code: str = "test_purpose",
    categories: str = "basic",
    days: int = 30,
    uses: int = 1,
    frequency: str = "one_time",
) -> str:
    return ENTRY.format(code=code, categories=categories, days=days, uses=uses, frequency=frequency)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("purposes:" + entry(days=366), ValidationError),
        ("purposes:" + entry(uses=2), ValidationError),
        ("purposes:" + entry(categories=""), ValidationError),
        ("purposes:" + entry(categories="genetics"), ValueError),
        ("purposes:" + entry() + entry(), ValueError),
        ("purposes:" + entry().replace("max_uses", "renewal: true\n    max_uses"), ValidationError),
        ("- just a list", ValueError),
    ],
    ids=[
        "over 365 days",
        "one-time with two uses",
        "no category",
        "unknown category",
        "duplicate",
        "unknown field",
        "shape",
    ],
)
def test_bad_registries_do_not_load(tmp_path: Path, body: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        load_purposes(CATEGORIES, write(tmp_path, body))


def test_a_custom_registry_loads(tmp_path: Path) -> None:
    loaded = load_purposes(
        CATEGORIES, write(tmp_path, "purposes:" + entry(uses=4, frequency="periodic"))
    )
    assert [purpose.max_uses for purpose in loaded] == [4]
