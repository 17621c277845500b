"""Art. 35, 36, 62: the demo province's catalog and what a catalog may not declare."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from redaction.catalog import (
    FINANCIAL_CATEGORIES,
    PROPERTY_TAX_CATEGORIES,
    RESTRICTED_CATEGORIES,
    Category,
    Ground,
    ScopeCategory,
    Sector,
    Sensitivity,
    parse_catalog,
)
from redaction.errors import CatalogInvalid, ItemNotInCatalog, ProhibitedCategoryDeclared
from redaction.identifiers import SubjectKind
from tests.redaction.factories import demo_catalog

Document = dict[str, object]


def _document() -> Document:
    return demo_catalog().to_document()


def _item(document: Document, index: int) -> dict[str, object]:
    items = document["items"]
    assert isinstance(items, list)
    item = items[index]
    assert isinstance(item, dict)
    return item


def _index_of(document: Document, code: str) -> int:
    items = document["items"]
    assert isinstance(items, list)
    return next(index for index, item in enumerate(items) if item["code"] == code)


def test_demo_catalog_is_realistic() -> None:
    catalog = demo_catalog()
    assert 20 <= len(catalog.items) <= 25
    assert {item.category for item in catalog.items} == set(Category)
    assert {
        item.restricted_class for item in catalog.items if item.restricted
    } == RESTRICTED_CATEGORIES
    assert {kind for item in catalog.items for kind in item.applies_to} == set(SubjectKind)
    assert catalog.item("dishonest_judgment_debtor").publicly_disclosed


def test_scope_vocabulary() -> None:
    assert RESTRICTED_CATEGORIES == FINANCIAL_CATEGORIES | PROPERTY_TAX_CATEGORIES
    assert {ScopeCategory.REAL_ESTATE, ScopeCategory.TAX} == PROPERTY_TAX_CATEGORIES
    assert demo_catalog().item("personal_income").scope_category is ScopeCategory.INCOME
    assert demo_catalog().item("tax_arrears").scope_category is ScopeCategory.UNTRUSTWORTHY


def test_round_trip_through_its_document() -> None:
    assert parse_catalog(_document()) == demo_catalog()


def test_unknown_items_raise() -> None:
    with pytest.raises(ItemNotInCatalog) as raised:
        demo_catalog().item("religious_faith")
    assert raised.value.to_problem()["article"] == "Art. 35"
    assert demo_catalog().get("religious_faith") is None


def _set(key: str, value: object) -> Callable[[dict[str, object]], None]:
    return lambda item: item.__setitem__(key, value)


def _drop_field(name: str) -> Callable[[dict[str, object]], None]:
    def drop(item: dict[str, object]) -> None:
        fields = item["fields"]
        assert isinstance(fields, list)
        item["fields"] = [spec for spec in fields if spec["name"] != name]

    return drop


def _rename_first_field(name: str) -> Callable[[dict[str, object]], None]:
    def change(item: dict[str, object]) -> None:
        fields = item["fields"]
        assert isinstance(fields, list)
        fields[0]["name"] = name

    return change


@pytest.mark.parametrize(
    "change",
    [
        _set("code", "religious_faith"),
        _set("code", "blood_type_register"),
        _set("name", {"zh": "指纹信息", "en": "Prints"}),
        _set("name", {"zh": "档案", "en": "Medical history"}),
        _rename_first_field("genetic_markers"),
        _rename_first_field("illness"),
        _set("category", "religious_faith"),
        _set("restricted_class", "blood_type"),
    ],
)
def test_prohibited_categories_cannot_be_declared(
    change: Callable[[dict[str, object]], None],
) -> None:
    document = _document()
    change(_item(document, 0))
    with pytest.raises(ProhibitedCategoryDeclared) as raised:
        parse_catalog(document)
    assert raised.value.to_problem()["article"] == "Art. 62 para. 1"


@pytest.mark.parametrize(
    ("code", "change"),
    [
        ("personal_income", _set("restricted_class", None)),
        ("personal_income", _set("restricted_class", "tax")),
        ("personal_income", _set("publicly_disclosed", True)),
        ("personal_income", _set("applies_to", ["natural", "legal"])),
        ("real_estate", _set("sharing_scope", ["housing"])),
        ("tax_arrears", _set("restricted_class", "tax")),
        ("tax_arrears", _set("display_period", "P6Y")),
        ("tax_arrears", _set("sharing_scope", ["tax_bureau"])),
        ("tax_arrears", _set("display_period", "3 years")),
        ("tax_arrears", _set("fields", [])),
        ("tax_arrears", _set("applies_to", [])),
        ("tax_arrears", _set("surprise", True)),
        ("enterprise_registration", _rename_first_field("credit_code")),
    ],
)
def test_unlawful_or_malformed_items_are_refused(
    code: str, change: Callable[[dict[str, object]], None]
) -> None:
    document = _document()
    change(_item(document, _index_of(document, code)))
    with pytest.raises(CatalogInvalid):
        parse_catalog(document)


@pytest.mark.parametrize(
    ("code", "field", "personal"),
    [("enterprise_registration", 1, True), ("natural_person_identity", 1, False)],
)
def test_personal_data_flags_of_identifiers_are_fixed(
    code: str, field: int, personal: bool
) -> None:
    document = _document()
    fields = _item(document, _index_of(document, code))["fields"]
    assert isinstance(fields, list)
    fields[field]["personal"] = personal
    with pytest.raises(CatalogInvalid, match="ID numbers are always personal"):
        parse_catalog(document)


def test_item_codes_are_unique() -> None:
    document = _document()
    items = document["items"]
    assert isinstance(items, list)
    items.append(items[0])
    with pytest.raises(CatalogInvalid, match="repeats an item code"):
        parse_catalog(document)


def test_restricted_items_name_their_class() -> None:
    item = demo_catalog().item("real_estate")
    assert item.sensitivity is Sensitivity.RESTRICTED_PROPERTY_TAX
    assert item.restricted
    assert not item.sharing_scope
    assert not item.publicly_disclosed


def test_art_36_every_untrustworthiness_item_names_its_ground_and_designating_sectors() -> None:
    catalog = demo_catalog()
    untrustworthy = [item for item in catalog.items if item.category is Category.UNTRUSTWORTHY]
    assert untrustworthy
    for item in catalog.items:
        named = item.ground is not None and bool(item.designated_by)
        assert named == (item in untrustworthy), item.code
    assert catalog.item("dishonest_judgment_debtor").designated_by == {Sector.COURTS}
    assert catalog.item("breached_credit_pledge").ground is Ground.CREDIT_PLEDGES
    assert Ground.CREDIT_PLEDGES.article == "Art. 36(2)"
    assert [ground.article for ground in Ground][-1] == "Art. 36(6)"


@pytest.mark.parametrize(
    ("code", "change"),
    [
        ("tax_arrears", _set("ground", None)),
        ("tax_arrears", _set("designated_by", [])),
        ("tax_arrears", _set("ground", "hearsay")),
        ("honour_award", _set("ground", "administrative_actions")),
        ("honour_award", _set("designated_by", ["courts"])),
        ("honour_award", _set("serious_list", True)),
        ("serious_untrustworthy_list", _drop_field("remedies")),
        ("serious_untrustworthy_list", _drop_field("notified_on")),
    ],
)
def test_art_26_and_31_a_catalog_without_grounds_designators_or_listing_fields_is_refused(
    code: str, change: Callable[[dict[str, object]], None]
) -> None:
    document = _document()
    change(_item(document, _index_of(document, code)))
    with pytest.raises(CatalogInvalid):
        parse_catalog(document)
