"""The registry service on both backends: each change is stored in the transaction of its
``registry_change`` leaf, and a refusal stores nothing and writes no leaf."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import select

from audit.leaf import ACTOR_LEAF_VERSION, EventKind, Outcome, encode
from consent.clients import Role
from consent.errors import RefusedRequestError
from consent.keys import public_jwk
from gateway.parties.models import LegalBasis, Party
from gateway.parties.repository import party_by_client_id
from gateway.parties.service import (
    InvalidRegistration,
    PartyExists,
    Registration,
    registered_keys,
)
from gateway.registry.models import PurposeVersion
from gateway.registry.repository import purpose_registry
from gateway.registry.service import (
    OFFICER_REQUESTER,
    OPERATOR,
    InvalidLegalBasis,
    InvalidPurpose,
    LegalBasisExists,
    PurposeExists,
    UnknownActor,
    UnknownLegalBasis,
    UnknownPurpose,
    add_purpose,
    amend_legal_basis,
    amend_purpose,
    change_digest,
    disable_party,
    legal_bases,
    officer,
    register_legal_basis,
    register_party,
    retire_purpose,
    rotate_party_keys,
    withdraw_legal_basis,
)
from gateway.settings import Settings
from problems import GatewayError
from tests.gateway.registry.factories import Province, draft, province_of, purpose_definition


@pytest.fixture
def province(migrated: Settings) -> Iterator[Province]:
    with province_of(migrated) as opened:
        yield opened


def test_a_registered_basis_is_stored_with_its_leaf(province: Province, tmp_path: Path) -> None:
    agency, regulator = province.client_id("agency"), province.client_id("regulator")
    with province.registrar() as registrar:
        logged = register_legal_basis(registrar, regulator, agency, draft())
    event = province.event(logged.appended)
    assert (event.kind, event.requester, event.actor) == (EventKind.REGISTRY_CHANGE, regulator, "")
    assert (event.reason_code, event.purpose, event.legal_basis) == (
        "legal_basis_registered",
        agency,
        "tax-evasion-inspection",
    )
    assert event.item_categories == {"basic"} and event.outcome is Outcome.ALLOWED
    document = {
        "client_id": agency,
        "code": "tax-evasion-inspection",
        "version": 1,
        "title": "Inspection of a suspected market fraud",
        "statute": "Demo Province Market Supervision Regulations, Art. 18",
        "scope": "An open fraud case against a market entity",
        "categories": ["basic"],
        "valid_from": "2026-01-01",
        "valid_until": "2027-12-31",
    }
    assert event.subject_commitment == change_digest("legal_basis_registered", document)
    with province.registrar() as registrar:
        (stored,) = [
            b
            for b in legal_bases(registrar.session, agency)
            if b.version == 1 and b.code == "tax-evasion-inspection"
        ]
    assert (stored.version, stored.leaf_index) == (1, logged.appended.leaf_index)
    assert stored.in_force(date(2026, 12, 2)) and not stored.in_force(date(2028, 1, 1))
    assert province.verify(tmp_path) == province.size()


def test_amend_withdraw_and_register_again_make_versions(province: Province) -> None:
    agency, regulator = province.client_id("agency"), province.client_id("regulator")
    with province.registrar() as registrar:
        register_legal_basis(registrar, regulator, agency, draft())
    with province.registrar() as registrar:
        amended = amend_legal_basis(
            registrar, regulator, agency, draft(categories=frozenset({"basic", "trustworthy"}))
        )
    with province.registrar() as registrar:
        withdrawn = withdraw_legal_basis(registrar, regulator, agency, "tax-evasion-inspection")
    assert (amended.row.version, withdrawn.row.version) == (2, 2)
    assert province.event(withdrawn.appended).reason_code == "legal_basis_withdrawn"
    with province.registrar() as registrar:
        current = {b.code: b for b in legal_bases(registrar.session, agency)}
    assert current["tax-evasion-inspection"].withdrawn_at is not None
    assert not current["tax-evasion-inspection"].in_force(date(2026, 12, 2))
    with province.registrar() as registrar, pytest.raises(UnknownLegalBasis):
        withdraw_legal_basis(registrar, regulator, agency, "tax-evasion-inspection")
    with province.registrar() as registrar:
        again = register_legal_basis(registrar, regulator, agency, draft())
    assert again.row.version == 3 and again.row.withdrawn_at is None


@pytest.mark.parametrize(
    ("persona", "basis", "refusal"),
    [
        ("agency", draft(categories=frozenset({"basic", "horoscope"})), InvalidLegalBasis),
        ("agency", draft(categories=frozenset()), InvalidLegalBasis),
        ("agency", draft(valid_until=date(2025, 12, 31)), InvalidLegalBasis),
        ("agency", draft(statute="  "), InvalidLegalBasis),
        ("agency", draft(code="Bad Code"), InvalidLegalBasis),
        ("agency", draft(code="market-supervision-inspection"), LegalBasisExists),
        ("establishment", draft(), InvalidLegalBasis),
    ],
)
def test_a_refused_basis_stores_nothing_and_logs_nothing(
    province: Province, persona: str, basis: object, refusal: type[GatewayError]
) -> None:
    before = province.size()
    client_id, regulator = province.client_id(persona), province.client_id("regulator")
    with province.registrar() as registrar, pytest.raises(refusal):
        register_legal_basis(registrar, regulator, client_id, basis)  # type: ignore[arg-type]
    with province.registrar() as registrar:
        codes = [b.code for b in registrar.session.exec(select(LegalBasis))]
    assert codes.count("market-supervision-inspection") == 1 and "Bad Code" not in codes
    assert "tax-evasion-inspection" not in codes
    assert province.size() == before


@pytest.mark.parametrize("persona", ["establishment", "agency", "provider"])
def test_only_the_regulator_the_operator_or_an_officer_acts(
    province: Province, persona: str
) -> None:
    before = province.size()
    agency = province.client_id("agency")
    with province.registrar() as registrar, pytest.raises(UnknownActor):
        register_legal_basis(registrar, province.client_id(persona), agency, draft())
    with province.registrar() as registrar, pytest.raises(UnknownActor):
        register_legal_basis(registrar, "no-such-client", agency, draft())
    assert province.size() == before


def test_an_officer_is_the_leafs_pseudonymous_actor(province: Province) -> None:
    with province.registrar() as registrar:
        logged = register_legal_basis(
            registrar, officer("li.officer"), province.client_id("agency"), draft()
        )
    event = province.event(logged.appended)
    assert event.requester == OFFICER_REQUESTER
    assert event.actor.startswith("p1-") and "li.officer" not in event.actor
    assert encode(event)[0] == ACTOR_LEAF_VERSION


def _jwks() -> list[dict[str, object]]:
    return [dict(public_jwk(Ed25519PrivateKey.generate().public_key()))]


def test_party_changes_are_logged_and_the_operator_acts_from_the_command_line(
    province: Province,
) -> None:
    registration = Registration(Role.ESTABLISHMENT, "Lakeside Lending", "lakeside", _jwks())
    with province.registrar() as registrar:
        registered = register_party(registrar, OPERATOR, registration)
    new_keys = _jwks()
    with province.registrar() as registrar:
        rotated = rotate_party_keys(registrar, OPERATOR, "lakeside", new_keys, retire_old=True)
    with province.registrar() as registrar:
        disabled = disable_party(registrar, province.client_id("regulator"), "lakeside")
    events = [province.event(logged.appended) for logged in (registered, rotated, disabled)]
    assert [(e.requester, e.reason_code, e.purpose) for e in events] == [
        (OPERATOR, "party_registered", "lakeside"),
        (OPERATOR, "party_keys_rotated", "lakeside"),
        (province.client_id("regulator"), "party_disabled", "lakeside"),
    ]
    with province.registrar() as registrar:
        party = party_by_client_id(registrar.session, "lakeside")
    assert isinstance(party, Party) and party.disabled
    assert [key["kid"] for key in registered_keys(party)] == [new_keys[0]["kid"]]


def test_a_refused_party_change_logs_nothing(province: Province) -> None:
    before = province.size()
    taken = province.client_id("establishment")
    with province.registrar() as registrar, pytest.raises(PartyExists):
        register_party(
            registrar, OPERATOR, Registration(Role.ESTABLISHMENT, "Copy", taken, _jwks())
        )
    with province.registrar() as registrar, pytest.raises(InvalidRegistration):
        rotate_party_keys(registrar, OPERATOR, taken, [], retire_old=True)
    assert province.size() == before


def test_purposes_added_amended_and_retired(province: Province, tmp_path: Path) -> None:
    regulator = province.client_id("regulator")
    with province.registrar() as registrar:
        seeded = {purpose.code for purpose in purpose_registry(registrar.session)}
        added = add_purpose(registrar, regulator, purpose_definition())
    assert "loan_application" in seeded and "guarantee_review" not in seeded
    with province.registrar() as registrar:
        assert purpose_registry(registrar.session).get("guarantee_review").max_validity_days == 30
        amended = amend_purpose(registrar, regulator, purpose_definition(max_validity_days=60))
    with province.registrar() as registrar:
        assert purpose_registry(registrar.session).get("guarantee_review").max_validity_days == 60
        retired = retire_purpose(registrar, regulator, "guarantee_review")
    with province.registrar() as registrar:
        with pytest.raises(RefusedRequestError):
            purpose_registry(registrar.session).get("guarantee_review")
        kept = purpose_registry(registrar.session, retired=True).get("guarantee_review")
        versions = registrar.session.exec(
            select(PurposeVersion.version).where(PurposeVersion.code == "guarantee_review")
        ).all()
    assert kept.max_validity_days == 60 and sorted(versions) == [1, 2]
    events = [province.event(logged.appended) for logged in (added, amended, retired)]
    assert [(e.reason_code, e.purpose) for e in events] == [
        ("purpose_added", "guarantee_review"),
        ("purpose_amended", "guarantee_review"),
        ("purpose_retired", "guarantee_review"),
    ]
    assert events[0].item_categories == {"basic", "untrustworthy"}
    assert province.verify(tmp_path) == province.size()


@pytest.mark.parametrize(
    ("definition", "refusal"),
    [
        (purpose_definition(categories=["basic", "horoscope"]), InvalidPurpose),
        (purpose_definition(max_validity_days=400), InvalidPurpose),
        (purpose_definition(frequency="one_time", max_uses=3), InvalidPurpose),
        (purpose_definition(extra="member"), InvalidPurpose),
        (purpose_definition(code="loan_application"), PurposeExists),
    ],
)
def test_a_refused_purpose_stores_nothing(
    province: Province, definition: dict[str, object], refusal: type[GatewayError]
) -> None:
    before = province.size()
    with province.registrar() as registrar, pytest.raises(refusal):
        add_purpose(registrar, OPERATOR, definition)
    with province.registrar() as registrar, pytest.raises(UnknownPurpose):
        retire_purpose(registrar, OPERATOR, "guarantee_review")
    assert province.size() == before
