"""Hypothesis strategies: random catalogs, records, accesses, and text salted with identifiers
and terms of prohibited categories (the test's own list, independent of the module's)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import settings
from hypothesis import strategies as st

from redaction.catalog import (
    PROPERTY_TAX_CATEGORIES,
    RESTRICTED_CATEGORIES,
    Catalog,
    CatalogItem,
    Category,
    FieldSpec,
    FieldType,
    ScopeCategory,
    Sector,
    Sensitivity,
)
from redaction.identifiers import SubjectIdentifier, SubjectKind, id_check_character
from redaction.masking import luhn_valid
from redaction.periods import Period
from redaction.policies import Access, Channel
from redaction.records import CreditRecord, RecordStatus
from tests.redaction.factories import TODAY, make_catalog, make_item

PROPERTY = settings(max_examples=150, deadline=None)

PROHIBITED_SAMPLES = (
    "宗教信仰",
    "血型",
    "指纹",
    "基因检测",
    "既往病史",
    "religion",
    "blood type",
    "fingerprint",
    "DNA",
    "medical history",
    "diagnosis",
)
REGIONS = ("110105", "110108", "310101")
BENIGN_WORDS = (
    "经核查",
    "当事人",
    "履行",
    "罚款",
    "通知",
    "note",
    "paid",
    "late",
    " ",
    "。",
    "2024",
)

birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31))


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    """Valid GB 11643 numbers (regions python-stdnum knows for every year)."""
    born = draw(birth_dates)
    sequence = draw(st.integers(0, 999))
    body = f"{draw(st.sampled_from(REGIONS))}{born:%Y%m%d}{sequence:03d}"
    return body + id_check_character(body)


mobiles = st.builds(
    lambda second, rest: f"1{second}{rest:09d}",
    st.sampled_from("3456789"),
    st.integers(0, 10**9 - 1),
)


@st.composite
def bank_cards(draw: st.DrawFn) -> str:
    body = draw(st.text("0123456789", min_size=15, max_size=18))
    return next(body + digit for digit in "0123456789" if luhn_valid(body + digit))


identifiers_in_text = st.one_of(id_numbers(), mobiles, bank_cards())


@st.composite
def free_content(draw: st.DrawFn) -> str:
    """Benign words, identifiers and prohibited terms, separated by spaces."""
    pieces = st.one_of(
        st.sampled_from(BENIGN_WORDS), st.sampled_from(PROHIBITED_SAMPLES), identifiers_in_text
    )
    return " ".join(draw(st.lists(pieces, min_size=1, max_size=5)))


plain_values = st.text("ABCdefg张王李示范省区市路号-（）", min_size=1, max_size=12)


def values_for(field_type: FieldType) -> st.SearchStrategy[str]:
    special = {
        FieldType.FREE_TEXT: free_content(),
        FieldType.STRING: free_content(),
        FieldType.ID_NUMBER: id_numbers(),
        FieldType.PHONE: mobiles,
        FieldType.BANK_CARD: bank_cards(),
    }
    return special.get(field_type, plain_values)


CONTENT_TYPES = (
    FieldType.FREE_TEXT,
    FieldType.STRING,
    FieldType.ID_NUMBER,
    FieldType.NAME,
    FieldType.PHONE,
    FieldType.BANK_CARD,
)
periods = (
    st.tuples(st.integers(0, 2), st.integers(0, 11), st.integers(0, 40))
    .filter(any)
    .map(lambda parts: Period(*parts))
)


@st.composite
def field_specs(draw: st.DrawFn) -> tuple[FieldSpec, ...]:
    count = draw(st.integers(2, 6))
    specs = []
    for index in range(count):
        field_type = draw(st.one_of(st.sampled_from(CONTENT_TYPES), st.sampled_from(FieldType)))
        fixed = {FieldType.ID_NUMBER: True, FieldType.CREDIT_CODE: False}.get(field_type)
        personal = draw(st.booleans()) if fixed is None else fixed
        specs.append(FieldSpec(name=f"f{index}", type=field_type, personal=personal))
    return tuple(specs)


@st.composite
def catalog_items(draw: st.DrawFn, code: str) -> CatalogItem:
    restricted_class = draw(
        st.one_of(st.none(), st.none(), st.sampled_from(sorted(RESTRICTED_CATEGORIES)))
    )
    sharing = frozenset(draw(st.sets(st.sampled_from(Sector), max_size=3)))
    display = draw(periods)
    if restricted_class is None:
        sensitivity = Sensitivity.ORDINARY
        applies_to = draw(
            st.sampled_from([set(SubjectKind), {SubjectKind.NATURAL}, {SubjectKind.LEGAL}])
        )
        public = draw(st.booleans())
    else:
        property_tax = restricted_class in PROPERTY_TAX_CATEGORIES
        sensitivity = (
            Sensitivity.RESTRICTED_PROPERTY_TAX
            if property_tax
            else Sensitivity.RESTRICTED_FINANCIAL
        )
        applies_to = {SubjectKind.NATURAL}
        public = False
        sharing = frozenset() if property_tax else sharing
    return make_item(
        code,
        category=draw(st.sampled_from(Category)),
        sensitivity=sensitivity,
        restricted_class=restricted_class,
        publicly_disclosed=public,
        sharing_scope=sharing,
        display_period=display,
        retention_period=Period(
            display.years + draw(st.one_of(st.just(1), st.integers(0, 2))),
            display.months,
            display.days,
        ),
        applies_to=frozenset(applies_to),
        fields=draw(field_specs()),
    )


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    count = draw(st.integers(1, 5))
    return make_catalog(*(draw(catalog_items(f"item_{index}")) for index in range(count)))


@st.composite
def record_fields(draw: st.DrawFn, item: CatalogItem | None) -> dict[str, str]:
    fields = {
        spec.name: draw(values_for(spec.type))
        for spec in (item.fields if item else ())
        if draw(st.integers(0, 4))
    }
    if draw(st.integers(0, 4)) == 0:
        fields["undeclared"] = draw(free_content())
    return fields


statuses = st.one_of(st.just(RecordStatus.ACTIVE), st.sampled_from(RecordStatus))


@st.composite
def records(draw: st.DrawFn, catalog: Catalog, record_id: str, item_code: str) -> CreditRecord:
    """A record of the item (declared or not), with up to two earlier versions."""
    item = catalog.get(item_code)
    recent = st.integers(-30, 366)
    days_ago = draw(st.one_of(recent, recent, st.integers(0, 4 * 366)))
    decided_on = TODAY - timedelta(days=days_ago)
    occurred_on = decided_on - timedelta(days=draw(st.integers(0, 60)))

    def version(number: int, history: tuple[CreditRecord, ...] = ()) -> CreditRecord:
        return CreditRecord(
            record_id=record_id,
            item_code=item_code,
            version=number,
            fields=draw(record_fields(item)),
            source="provider",
            occurred_on=occurred_on,
            decided_on=decided_on,
            status=draw(statuses),
            under_objection=draw(st.booleans()),
            history=history,
        )

    earlier = tuple(version(number) for number in range(1, draw(st.integers(1, 3))))
    return version(len(earlier) + 1, earlier)


@st.composite
def archives(draw: st.DrawFn, catalog: Catalog) -> tuple[CreditRecord, ...]:
    """One or two records of every catalog item, and sometimes one of an undeclared item."""
    codes = [item.code for item in catalog.items for _ in range(draw(st.integers(1, 2)))]
    if draw(st.integers(0, 4)) == 0:
        codes.append("undeclared_item")
    return tuple(draw(records(catalog, f"r{index}", code)) for index, code in enumerate(codes))


scope_sets = st.one_of(
    st.just(frozenset(ScopeCategory)), st.frozensets(st.sampled_from(ScopeCategory), min_size=1)
)


@st.composite
def accesses(draw: st.DrawFn, subject: SubjectIdentifier, channel: Channel) -> Access:
    if channel is Channel.PUBLIC:
        return Access.public("anyone", subject)
    if channel is Channel.SHARING:
        return Access.sharing("agency", subject, draw(st.sampled_from(Sector)))
    if channel is Channel.AUTHORITY:
        return Access.authority("agency", subject, draw(scope_sets))
    if channel is Channel.SELF:
        return Access.own("citizen", subject)
    granted = draw(scope_sets)
    restricted = sorted(granted & RESTRICTED_CATEGORIES)
    written = draw(st.frozensets(st.sampled_from(restricted))) if restricted else frozenset()
    return Access.authorized("bank", subject, granted, written)
