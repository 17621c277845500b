"""Art. 26, 31, 35, 36 and 62: the versioned catalog of public credit information items.

The catalog (the demo province's supplemental catalog ships as ``redaction/catalog.yaml``)
declares, per item: code, name (zh, en), category, sensitivity and restricted class, whether it
is publicly disclosed, its sharing scope (agency sectors), display and retention periods
(:class:`~redaction.periods.Period`), legal basis, the kinds of subject it applies to, and its
fields (name, declared type, whether it is personal data of a natural person, required).
Nothing outside the catalog is accepted or served.

Every item of information on untrustworthiness names its ground - the one of Art. 36 (1)-(6)
that admits it to a local catalog (:class:`Ground`) - and the sectors whose credit management
departments designate it (``designated_by``, Art. 26 para. 1: a providing unit submits only
the items its sector designates); no other item names either. An item that is a list of
seriously untrustworthy entities (``serious_list``) declares, required, the fields Art. 31 has
a listing carry: the day the party was told beforehand (``notified_on``), the end of its
objection window (``objection_window_ends_on``), the removal conditions and the remedies.

Scope categories (:class:`ScopeCategory`) are the vocabulary consents, purposes and legal bases
use: ``basic / untrustworthy / trustworthy / other`` for ordinary items, the restricted class
for restricted ones (Art. 62 para. 2: ``income, savings, securities, commercial_insurance`` are
restricted-financial; ``real_estate, tax`` are restricted-property-tax, Art. 62 para. 3).

Loading refuses (:class:`~redaction.errors.CatalogInvalid`) a catalog that:

* gives an untrustworthiness item no ground or no designating sector, or another item either,
  or makes a list of the seriously untrustworthy without the fields Art. 31 requires;

* declares an item or field of a prohibited category (Art. 62 para. 1, by code, names and field
  names: :class:`~redaction.errors.ProhibitedCategoryDeclared`);
* gives a restricted item no matching restricted class, discloses it publicly, applies it to
  legal persons (Art. 62 concerns natural persons), or shares real estate / tax data with any
  sector (Art. 62 para. 3: only the subject and whom the subject authorized);
* repeats item codes or field names, declares a credit code as personal data or an ID number
  as not, or displays an item longer than it is retained.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    field_serializer,
    model_validator,
)

from redaction.errors import CatalogInvalid, ItemNotInCatalog, ProhibitedCategoryDeclared
from redaction.identifiers import SubjectKind
from redaction.periods import Period
from redaction.prohibited import ProhibitedCategory, find_prohibited

DEMO_CATALOG_PATH = Path(__file__).with_name("catalog.yaml")


class ScopeCategory(StrEnum):
    """What consents, purposes and legal bases are scoped by (Art. 39, 61(2), 62)."""

    BASIC = "basic"
    UNTRUSTWORTHY = "untrustworthy"
    TRUSTWORTHY = "trustworthy"
    OTHER = "other"
    INCOME = "income"
    SAVINGS = "savings"
    SECURITIES = "securities"
    COMMERCIAL_INSURANCE = "commercial_insurance"
    REAL_ESTATE = "real_estate"
    TAX = "tax"


FINANCIAL_CATEGORIES = frozenset(
    {
        ScopeCategory.INCOME,
        ScopeCategory.SAVINGS,
        ScopeCategory.SECURITIES,
        ScopeCategory.COMMERCIAL_INSURANCE,
    }
)
PROPERTY_TAX_CATEGORIES = frozenset({ScopeCategory.REAL_ESTATE, ScopeCategory.TAX})
RESTRICTED_CATEGORIES = FINANCIAL_CATEGORIES | PROPERTY_TAX_CATEGORIES


class Category(StrEnum):
    BASIC = "basic"
    UNTRUSTWORTHY = "untrustworthy"
    TRUSTWORTHY = "trustworthy"
    OTHER = "other"


ANNOUNCED_WHEN_STOPPED = Category.UNTRUSTWORTHY
"""Art. 67: the information whose recipients are told to stop using and delete it when its
display stops - so the only information the gateway keeps a record of having served."""


class Sensitivity(StrEnum):
    ORDINARY = "ordinary"
    RESTRICTED_FINANCIAL = "restricted-financial"
    RESTRICTED_PROPERTY_TAX = "restricted-property-tax"


_RESTRICTED_CLASSES: dict[Sensitivity, frozenset[ScopeCategory]] = {
    Sensitivity.RESTRICTED_FINANCIAL: FINANCIAL_CATEGORIES,
    Sensitivity.RESTRICTED_PROPERTY_TAX: PROPERTY_TAX_CATEGORIES,
}


class Sector(StrEnum):
    """Agency sectors a sharing scope names (Art. 39 para. 2, government affairs sharing)."""

    DEVELOPMENT_REFORM = "development_reform"
    MARKET_REGULATION = "market_regulation"
    TAXATION = "taxation"
    COURTS = "courts"
    HUMAN_RESOURCES = "human_resources"
    HOUSING = "housing"
    FINANCE_REGULATION = "finance_regulation"
    PUBLIC_SECURITY = "public_security"


class Ground(StrEnum):
    """Art. 36: the scope of the information on untrustworthiness a local catalog may hold."""

    ADMINISTRATIVE_ACTIONS = "administrative_actions"
    CREDIT_PLEDGES = "credit_pledges"
    FALSE_CONDUCT = "false_conduct"
    CREDITWORTHY_PRACTICE = "creditworthy_practice"
    LEGAL_OBLIGATIONS = "legal_obligations"
    LOCAL_REGULATIONS = "local_regulations"

    @property
    def article(self) -> str:
        return f"Art. 36({list(Ground).index(self) + 1})"


SERIOUS_LIST_FIELDS = {
    "notified_on": "date",
    "objection_window_ends_on": "date",
    "removal_conditions": "free_text",
    "remedies": "free_text",
}
"""Art. 31: what a listing as seriously untrustworthy carries, with the declared type of each."""


class FieldType(StrEnum):
    NAME = "name"
    ID_NUMBER = "id_number"
    CREDIT_CODE = "credit_code"
    PHONE = "phone"
    BANK_CARD = "bank_card"
    ADDRESS = "address"
    FREE_TEXT = "free_text"
    DATE = "date"
    AMOUNT = "amount"
    STRING = "string"
    CODE = "code"


FREE_CONTENT_TYPES = frozenset({FieldType.FREE_TEXT, FieldType.STRING})
_PERSONAL_BY_TYPE = {FieldType.ID_NUMBER: True, FieldType.CREDIT_CODE: False}

CatalogPeriod = Annotated[
    Period,
    PlainValidator(lambda value: value if isinstance(value, Period) else Period.parse(str(value))),
    PlainSerializer(str, return_type=str),
]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LocalizedName(_Frozen):
    zh: Text
    en: Text


class FieldSpec(_Frozen):
    """A field of an item: its declared type, and whether it is a natural person's data."""

    name: Code
    type: FieldType
    personal: bool
    required: bool = True

    def prohibited_content(
        self, value: str, subject_kind: SubjectKind
    ) -> ProhibitedCategory | None:
        """The prohibited category ``value`` mentions, for fields Art. 62 para. 1 screens.

        Screened: free-text and string fields of natural persons' records, and of any record
        when the field is declared personal data. Names, codes, addresses and numbers are not
        screened (a given name may well contain 信仰).
        """
        if self.type not in FREE_CONTENT_TYPES:
            return None
        if subject_kind is SubjectKind.LEGAL and not self.personal:
            return None
        return find_prohibited(value)


class CatalogItem(_Frozen):
    code: Code
    name: LocalizedName
    category: Category
    sensitivity: Sensitivity = Sensitivity.ORDINARY
    restricted_class: ScopeCategory | None = None
    publicly_disclosed: bool
    sharing_scope: frozenset[Sector]
    display_period: CatalogPeriod
    retention_period: CatalogPeriod
    legal_basis: Text
    applies_to: frozenset[SubjectKind] = Field(min_length=1)
    fields: tuple[FieldSpec, ...] = Field(min_length=1)
    ground: Ground | None = None
    designated_by: frozenset[Sector] = frozenset()
    serious_list: bool = False

    @field_serializer("sharing_scope", "applies_to", "designated_by")
    def _sorted(self, values: frozenset[StrEnum]) -> list[str]:
        return sorted(values)

    @cached_property
    def scope_category(self) -> ScopeCategory:
        return self.restricted_class or ScopeCategory(self.category.value)

    @property
    def restricted(self) -> bool:
        return self.restricted_class is not None

    @cached_property
    def _fields_by_name(self) -> dict[str, FieldSpec]:
        return {spec.name: spec for spec in self.fields}

    def field(self, name: str) -> FieldSpec | None:
        return self._fields_by_name.get(name)

    @model_validator(mode="before")
    @classmethod
    def _no_prohibited_category(cls, data: object) -> object:
        """A prohibited category given as category or class is refused as such, not as a typo."""
        if isinstance(data, dict):
            for key in ("category", "sensitivity", "restricted_class"):
                value = data.get(key)
                if isinstance(value, str) and find_prohibited(value) is not None:
                    raise ProhibitedCategoryDeclared(f"an item declares the {key} '{value}'")
        return data

    @model_validator(mode="after")
    def _lawful(self) -> Self:
        _check_not_prohibited(self)
        _check_restricted(self)
        _check_fields(self)
        _check_designation(self)
        if self.display_period.longer_than(self.retention_period):
            raise CatalogInvalid(f"item '{self.code}' is displayed longer than it is retained")
        return self


def _check_not_prohibited(item: CatalogItem) -> None:
    for text in (item.code, item.name.zh, item.name.en, *(spec.name for spec in item.fields)):
        category = find_prohibited(text)
        if category is not None:
            raise ProhibitedCategoryDeclared(f"item '{item.code}' declares {category} information")


def _check_restricted(item: CatalogItem) -> None:
    allowed = _RESTRICTED_CLASSES.get(item.sensitivity)
    if allowed is None:
        if item.restricted_class is not None:
            raise CatalogInvalid(f"ordinary item '{item.code}' has a restricted class")
        return
    if item.restricted_class not in allowed:
        raise CatalogInvalid(f"item '{item.code}' needs a restricted class of {item.sensitivity}")
    if item.publicly_disclosed or item.applies_to != {SubjectKind.NATURAL}:
        raise CatalogInvalid(
            f"restricted item '{item.code}' applies to natural persons only and is never "
            "publicly disclosed (Art. 62 para. 2)"
        )
    if item.restricted_class in PROPERTY_TAX_CATEGORIES and item.sharing_scope:
        raise CatalogInvalid(
            f"item '{item.code}' goes only to the subject and whom the subject authorized "
            "(Art. 62 para. 3)"
        )


def _check_fields(item: CatalogItem) -> None:
    if len({spec.name for spec in item.fields}) != len(item.fields):
        raise CatalogInvalid(f"item '{item.code}' repeats a field name")
    fixed = (
        _PERSONAL_BY_TYPE.get(spec.type, spec.personal) == spec.personal for spec in item.fields
    )
    if not all(fixed):
        raise CatalogInvalid(
            f"item '{item.code}': ID numbers are always personal data, credit codes never"
        )


def _check_designation(item: CatalogItem) -> None:
    untrustworthy = item.category is Category.UNTRUSTWORTHY
    if untrustworthy != (item.ground is not None) or untrustworthy != bool(item.designated_by):
        raise CatalogInvalid(
            f"item '{item.code}': information on untrustworthiness, and only it, names its "
            "ground (Art. 36) and the sectors that designate it (Art. 26)"
        )
    if not item.serious_list:
        return
    declared = {spec.name: spec for spec in item.fields}
    if not untrustworthy or any(
        name not in declared or declared[name].type != kind or not declared[name].required
        for name, kind in SERIOUS_LIST_FIELDS.items()
    ):
        raise CatalogInvalid(
            f"item '{item.code}': a list of the seriously untrustworthy is untrustworthiness and "
            f"requires the fields {', '.join(SERIOUS_LIST_FIELDS)} (Art. 31)"
        )


class Catalog(_Frozen):
    """A version of the catalog: look items up with :meth:`item` (raises) or :meth:`get`."""

    catalog: Code
    version: Text
    title: LocalizedName
    items: tuple[CatalogItem, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> Self:
        if len(self._items_by_code) != len(self.items):
            raise CatalogInvalid("the catalog repeats an item code")
        return self

    @cached_property
    def _items_by_code(self) -> dict[str, CatalogItem]:
        return {item.code: item for item in self.items}

    def get(self, code: str) -> CatalogItem | None:
        return self._items_by_code.get(code)

    def codes_in(self, categories: Collection[ScopeCategory]) -> frozenset[str]:
        """The codes of the items whose scope category is one of ``categories``."""
        return frozenset(item.code for item in self.items if item.scope_category in categories)

    def item(self, code: str) -> CatalogItem:
        """The item with this code, or raise :class:`ItemNotInCatalog` (Art. 35)."""
        item = self._items_by_code.get(code)
        if item is None:
            raise ItemNotInCatalog("no information item with this code in the catalog")
        return item

    def to_document(self) -> dict[str, object]:
        """The catalog as JSON-ready data, the shape :func:`parse_catalog` reads."""
        return self.model_dump(mode="json")


def parse_catalog(data: object) -> Catalog:
    """Validate catalog data (as read from YAML or JSON)."""
    try:
        return Catalog.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}" for problem in error.errors()
        )
        raise CatalogInvalid(f"malformed catalog: {problems}") from None


def load_catalog(path: Path = DEMO_CATALOG_PATH) -> Catalog:
    """Read and validate a catalog file (default: the demo province's supplemental catalog)."""
    with path.open(encoding="utf-8") as stream:
        return parse_catalog(yaml.safe_load(stream))
