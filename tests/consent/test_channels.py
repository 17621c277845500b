"""Who may use which disclosure channel, and what an agency may ask (Art. 39 para. 2, 40, 69)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from consent.channels import (
    ADMISSIONS,
    admit,
    check_authority,
    check_sharing,
    narrow,
    shared_categories,
)
from consent.clients import SCOPES_BY_ROLE, Role
from consent.errors import ChannelDeniedError, Reason
from redaction.catalog import ScopeCategory, Sector
from redaction.demo import demo_records
from redaction.engine import render_view
from redaction.policies import Access, Channel
from tests.redaction.factories import KEYS, demo_catalog, person
from tests.redaction.factories import TODAY as DAY

BASIC, UNTRUSTWORTHY, TRUSTWORTHY = (
    ScopeCategory.BASIC,
    ScopeCategory.UNTRUSTWORTHY,
    ScopeCategory.TRUSTWORTHY,
)
BASES = {
    "inspection": frozenset({BASIC, UNTRUSTWORTHY}),
    "licensing": frozenset({BASIC, UNTRUSTWORTHY, TRUSTWORTHY}),
}


def denial(error: pytest.ExceptionInfo[ChannelDeniedError]) -> tuple[str, str]:
    problem = error.value.to_problem()
    assert problem["status"] == 403
    return str(problem["reason"]), str(problem["article"])


@pytest.mark.parametrize("channel", list(ADMISSIONS))
@pytest.mark.parametrize("role", list(Role))
def test_each_channel_admits_exactly_one_role_with_its_scope(channel: Channel, role: Role) -> None:
    admission = ADMISSIONS[channel]
    if role is admission.role:
        admit(channel, role, SCOPES_BY_ROLE[role])
        with pytest.raises(ChannelDeniedError) as missing:
            admit(channel, role, SCOPES_BY_ROLE[role] - {admission.scope})
        assert denial(missing) == (Reason.SCOPE_MISSING, "Art. 39 para. 2")
        return
    with pytest.raises(ChannelDeniedError) as refused:
        admit(channel, role, SCOPES_BY_ROLE[role] | {admission.scope})
    assert denial(refused) == (Reason.ROLE_NOT_ADMITTED, "Art. 39 para. 2")


def test_regulators_and_providing_units_read_through_no_channel() -> None:
    admitted = {admission.role for admission in ADMISSIONS.values()}
    assert Role.REGULATOR not in admitted and Role.PROVIDER not in admitted


def test_the_public_channel_is_no_inquiry_channel_to_admit_to() -> None:
    with pytest.raises(ChannelDeniedError):
        admit(Channel.PUBLIC, Role.ESTABLISHMENT, SCOPES_BY_ROLE[Role.ESTABLISHMENT])


DUTY = "企业信用分级分类监管"


def test_sharing_serves_the_categories_the_catalog_shares_with_the_sector() -> None:
    shared = shared_categories(demo_catalog(), Sector.MARKET_REGULATION)
    assert {BASIC, UNTRUSTWORTHY, TRUSTWORTHY} <= shared
    assert not shared & {ScopeCategory.REAL_ESTATE, ScopeCategory.TAX}
    sector = check_sharing("market_regulation", DUTY, frozenset({BASIC}), demo_catalog())
    assert sector is Sector.MARKET_REGULATION


def test_art_40_sharing_states_the_duty_it_serves() -> None:
    for duty in ("", "   "):
        with pytest.raises(ChannelDeniedError) as refused:
            check_sharing("market_regulation", duty, frozenset({BASIC}), demo_catalog())
        assert denial(refused) == (Reason.DUTY_MISSING, "Art. 40 para. 1")


@pytest.mark.parametrize(
    ("sector", "asked"),
    [
        (None, frozenset({BASIC})),
        ("no_such_sector", frozenset({BASIC})),
        ("market_regulation", frozenset({ScopeCategory.INCOME})),
        ("market_regulation", frozenset({BASIC, ScopeCategory.TAX})),
        ("market_regulation", frozenset()),
    ],
)
def test_sharing_outside_the_sectors_scope_is_refused(
    sector: str | None, asked: frozenset[ScopeCategory]
) -> None:
    with pytest.raises(ChannelDeniedError) as refused:
        check_sharing(sector, DUTY, asked, demo_catalog())
    assert denial(refused) == (Reason.OUTSIDE_SHARING_SCOPE, "Art. 39 para. 2")


def test_authority_allows_what_the_basis_allows() -> None:
    assert check_authority("inspection", "(2025) case 7", frozenset(), BASES) == BASES["inspection"]
    asked = frozenset({TRUSTWORTHY})
    assert check_authority("licensing", "case 8", asked, BASES) == asked


@pytest.mark.parametrize(
    ("basis", "case", "asked", "reason", "article"),
    [
        (None, "case", frozenset(), Reason.LEGAL_BASIS_MISSING, "Art. 40 para. 1"),
        ("", "case", frozenset(), Reason.LEGAL_BASIS_MISSING, "Art. 40 para. 1"),
        ("another-agencys", "case", frozenset(), Reason.LEGAL_BASIS_FOREIGN, "Art. 39 para. 2"),
        ("inspection", None, frozenset(), Reason.CASE_REFERENCE_MISSING, "Art. 40 para. 1"),
        ("inspection", "  ", frozenset(), Reason.CASE_REFERENCE_MISSING, "Art. 40 para. 1"),
        (
            "inspection",
            "case",
            frozenset({TRUSTWORTHY}),
            Reason.OUTSIDE_LEGAL_BASIS,
            "Art. 40 para. 1",
        ),
    ],
)
def test_authority_without_its_basis_or_case_or_beyond_it_is_refused(
    basis: str | None,
    case: str | None,
    asked: frozenset[ScopeCategory],
    reason: Reason,
    article: str,
) -> None:
    with pytest.raises(ChannelDeniedError) as refused:
        check_authority(basis, case, asked, BASES)
    assert denial(refused) == (reason, article)


def test_a_registered_basis_not_in_force_is_refused_before_anything_else() -> None:
    lapsed = frozenset({"inspection"})
    with pytest.raises(ChannelDeniedError) as refused:
        check_authority("inspection", None, frozenset({TRUSTWORTHY}), BASES, lapsed)
    assert denial(refused) == (Reason.LEGAL_BASIS_NOT_IN_FORCE, "Art. 40 para. 1")
    assert check_authority("licensing", "case 8", frozenset(), BASES, lapsed) == BASES["licensing"]


def test_narrow_keeps_only_the_categories_asked_and_their_redactions() -> None:
    subject = person()
    records = demo_records(demo_catalog(), subject, today=DAY)
    access = Access.sharing("agency", subject, Sector.MARKET_REGULATION)
    view = render_view(
        records,
        access=access,
        catalog=demo_catalog(),
        at=datetime(DAY.year, DAY.month, DAY.day, 4, tzinfo=UTC),
        pseudonym_keys=KEYS,
    )
    assert {item.scope_category for item in view.items} > {UNTRUSTWORTHY}
    narrowed = narrow(view, frozenset({UNTRUSTWORTHY}))
    assert narrowed.items and {item.scope_category for item in narrowed.items} == {UNTRUSTWORTHY}
    kept = {item.record_id for item in narrowed.items}
    assert all(entry.record_id in kept for entry in narrowed.redactions if entry.record_id)
    assert narrowed.subject_ref == view.subject_ref
