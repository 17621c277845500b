"""The console's pages of the registries the regulator keeps (``/oversight/parties``,
``/oversight/legal-bases``, ``/oversight/purposes``): lists and server-rendered forms with the
session's CSRF token, no script. Each form makes one change through
:mod:`gateway.registry.service` as the signed-in officer (:func:`gateway.registry.service.officer`,
the leaf's pseudonymous actor), then sends the officer back to the list with a notice; a refusal
is the console's error page, and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.responses import Response

from consent.clients import Role
from consent.purposes import Frequency
from gateway.console.deps import Officer
from gateway.console.site import CONSOLE, LEGAL_BASES, PARTIES, PURPOSES
from gateway.deps import DbSession
from gateway.parties.service import (
    InvalidRegistration,
    Registration,
    jwk_entries,
    key_ids,
    list_parties,
)
from gateway.portal.deps import PortalPages, SignedInForm, site_route
from gateway.portal.pages import redirect
from gateway.registry import service
from gateway.registry.repository import CATEGORIES, purpose_versions
from gateway.registry.schemas import BasisCode, ClientId, PurposeCode
from gateway.registry.service import BasisDraft, InvalidLegalBasis, officer
from gateway.routes.registry import RegistryDesk as Desk
from gateway.validation import Identifier, Text
from redaction.catalog import Sector
from redaction.periods import local_date

router = APIRouter(prefix="/oversight", include_in_schema=False, route_class=site_route(CONSOLE))

ROLES = tuple(role.value for role in Role if role is not Role.CITIZEN)
SUBJECT_KINDS = ("natural_person", "legal_person")
Short = Annotated[Identifier, Form(max_length=64)]
Optional = Annotated[Identifier, Form(max_length=500)]
Keys = Annotated[Text, Form(min_length=2, max_length=20_000)]
Categories = Annotated[list[Identifier] | None, Form()]


# -- parties -------------------------------------------------------------------------------


@router.get("/parties")
def parties_page(pages: PortalPages, _officer: Officer, db: DbSession) -> Response:
    parties = [(party, key_ids(party)) for party in list_parties(db)]
    return pages.render(
        "registry_parties.html", nav="parties", parties=parties, roles=ROLES, sectors=list(Sector)
    )


@router.post("/parties")
def register_party(
    desk: Desk,
    account: Officer,
    _form: SignedInForm,
    role: Short,
    name: Annotated[Text, Form(min_length=1, max_length=200)],
    client_id: Short,
    jwks: Keys,
    credit_code: Annotated[Identifier, Form(max_length=18)] = "",
    sector: Short = "",
    webhook_url: Optional = "",
) -> Response:
    if role not in ROLES:
        raise InvalidRegistration(f"role is one of {', '.join(ROLES)}")
    registration = Registration(
        role=Role(role),
        name=name,
        client_id=client_id.strip(),
        jwks=_keys(jwks),
        credit_code=credit_code.strip() or None,
        sector=sector or None,
        webhook_url=webhook_url.strip() or None,
    )
    service.register_party(desk, officer(account.username), registration)
    return redirect(f"{PARTIES}?notice=party_registered")


@router.post("/parties/{client_id}/disable")
def disable_party(
    desk: Desk, account: Officer, _form: SignedInForm, client_id: ClientId
) -> Response:
    service.disable_party(desk, officer(account.username), client_id)
    return redirect(f"{PARTIES}?notice=party_disabled")


@router.post("/parties/{client_id}/keys")
def rotate_keys(
    desk: Desk,
    account: Officer,
    _form: SignedInForm,
    client_id: ClientId,
    jwks: Keys,
    retire_old: Annotated[bool, Form()] = False,
) -> Response:
    keys = _keys(jwks)
    service.rotate_party_keys(
        desk, officer(account.username), client_id, keys, retire_old=retire_old
    )
    return redirect(f"{PARTIES}?notice=party_keys_rotated")


# -- legal bases ---------------------------------------------------------------------------


@router.get("/legal-bases")
def legal_bases_page(
    pages: PortalPages, _officer: Officer, db: DbSession, agency: Identifier = ""
) -> Response:
    agencies = [party for party in list_parties(db) if party.role == Role.AGENCY.value]
    chosen = next((party for party in agencies if party.client_id == agency), None)
    chosen = chosen or (agencies[0] if agencies else None)
    bases = service.legal_bases(db, chosen.client_id) if chosen else []
    return pages.render(
        "registry_legal_bases.html",
        nav="legal_bases",
        agencies=agencies,
        agency=chosen,
        bases=bases,
        today=local_date(datetime.now(UTC)),
        categories=sorted(CATEGORIES),
    )


@router.post("/legal-bases")
def register_legal_basis(
    desk: Desk,
    account: Officer,
    _form: SignedInForm,
    agency: Short,
    code: Short,
    title: Annotated[Text, Form(min_length=1, max_length=300)],
    statute: Annotated[Text, Form(min_length=1, max_length=300)],
    scope: Annotated[Text, Form(min_length=1, max_length=1000)],
    valid_from: Annotated[Identifier, Form(max_length=10)],
    valid_until: Annotated[Identifier, Form(max_length=10)] = "",
    categories: Categories = None,
) -> Response:
    draft = BasisDraft(
        code=code.strip(),
        title=title,
        statute=statute,
        scope=scope,
        categories=frozenset(categories or ()),
        valid_from=_day(valid_from),
        valid_until=_day(valid_until) if valid_until else None,
    )
    service.register_legal_basis(desk, officer(account.username), agency, draft)
    return redirect(f"{LEGAL_BASES}?agency={agency}&notice=basis_registered")


@router.post("/legal-bases/{agency}/{code}/withdraw")
def withdraw_legal_basis(
    desk: Desk, account: Officer, _form: SignedInForm, agency: ClientId, code: BasisCode
) -> Response:
    service.withdraw_legal_basis(desk, officer(account.username), agency, code)
    return redirect(f"{LEGAL_BASES}?agency={agency}&notice=basis_withdrawn")


# -- purposes ------------------------------------------------------------------------------


@router.get("/purposes")
def purposes_page(pages: PortalPages, _officer: Officer, db: DbSession) -> Response:
    return pages.render(
        "registry_purposes.html",
        nav="purposes",
        purposes=purpose_versions(db),
        categories=sorted(CATEGORIES),
        frequencies=list(Frequency),
        subject_kinds=SUBJECT_KINDS,
    )


@router.post("/purposes")
def add_purpose(
    desk: Desk,
    account: Officer,
    _form: SignedInForm,
    code: Short,
    description_zh: Annotated[Text, Form(min_length=1, max_length=200)],
    description_en: Annotated[Text, Form(min_length=1, max_length=200)],
    max_validity_days: Annotated[int, Form()],
    max_uses: Annotated[int, Form()],
    frequency: Short,
    categories: Categories = None,
    subject_kinds: Categories = None,
) -> Response:
    definition: Mapping[str, object] = {
        "code": code.strip(),
        "description": {"zh": description_zh, "en": description_en},
        "categories": categories or [],
        "max_validity_days": max_validity_days,
        "max_uses": max_uses,
        "frequency": frequency,
        "subject_kinds": subject_kinds or [],
    }
    service.add_purpose(desk, officer(account.username), definition)
    return redirect(f"{PURPOSES}?notice=purpose_added")


@router.post("/purposes/{code}/retire")
def retire_purpose(
    desk: Desk, account: Officer, _form: SignedInForm, code: PurposeCode
) -> Response:
    service.retire_purpose(desk, officer(account.username), code)
    return redirect(f"{PURPOSES}?notice=purpose_retired")


def _keys(text: str) -> list[Mapping[str, object]]:
    """The public keys pasted into a form: a JWK or a JWK Set."""
    try:
        return jwk_entries(json.loads(text))
    except ValueError:
        raise InvalidRegistration("the keys are not a JWK or a JWK Set (JSON)") from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidLegalBasis("a day is written YYYY-MM-DD") from None
