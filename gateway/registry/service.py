"""Changes of the registries the regulator keeps, each an audit leaf (Art. 39 para. 3, Art. 61(3)):
parties (register, disable, rotate keys), agencies' legal bases (register, amend, withdraw;
Art. 39 para. 2, Art. 40 para. 1) and the purposes of consent (add, amend, retire; Art. 61(2)).

Every function takes the acting identity, ``actor``: a regulator's client id (the admin API),
:data:`OPERATOR` (the command line) or :func:`officer` of a console officer's username. A client
id is the leaf's ``requester``; an officer is a natural person, so the leaf names the console
(:data:`OFFICER_REQUESTER`) and the officer only as the leaf's ``actor``, a keyed pseudonym of
the username.

A change is checked first, with reads only; a refusal stores nothing and writes no leaf. The
change is then written in the transaction of its ``registry_change`` leaf (the leaf's
settlement, :data:`gateway.audit_log.repository.Settlement`), so a change is never stored
without its leaf. Should the write fail there (two registrations of one client id racing past
their checks), the leaf stays as the record of an attempt and the caller gets 503.

The leaf holds no personal data: the operation (``reason_code``), the party's client id or the
purpose's code (``purpose``), the basis code (``legal_basis``), the categories, and as
``subject_commitment`` a SHA-256 digest of the change (:func:`change_digest`: the document of
the change, keys sorted, without contact details), which anyone holding the registry's entry
recomputes. A new version of a basis or a purpose keeps the index of the leaf that made it
(``leaf_index``).

Call these before the session writes anything itself: on SQLite the log's transaction needs the
database's one write lock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from hashlib import sha256
from typing import Generic, TypeVar

from pydantic import ValidationError
from sqlmodel import Session, SQLModel

from audit.leaf import AuditEvent, EventKind, Outcome
from audit.sequencer import Appended
from consent.clients import Role
from consent.purposes import Purpose, PurposeRegistry
from gateway.audit_log.service import AuditLog
from gateway.inquiries.service import canonical_json
from gateway.keys import GatewayKeys
from gateway.parties.models import LegalBasis, Party
from gateway.parties.repository import current_legal_bases, party_by_client_id
from gateway.parties.service import Registration, new_party, party_of, rotated_jwks
from gateway.registry.models import PurposeVersion
from gateway.registry.repository import CATEGORIES, latest_purpose
from problems import Conflict, Forbidden, InvalidInput, NotFound
from redaction.pseudonym import pseudonym

OPERATOR = "operator"
"""The actor of the command line (the gateway's operator)."""
OFFICER_PREFIX = "officer:"
OFFICER_REQUESTER = "oversight"
"""The requester of a change a console officer made."""
OFFICER_PSEUDONYMS = "credit-gateway/officer"
CHANGE_DOMAIN = b"credit-gateway/audit/v1/registry-change\x00"
BASIS_CODE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
Row = TypeVar("Row", Party, LegalBasis, PurposeVersion)


class UnknownActor(Forbidden):
    title = "Not a registry actor"
    slug = "registry-unknown-actor"


class InvalidLegalBasis(InvalidInput):
    title = "Invalid legal basis"
    slug = "legal-basis-invalid"


class LegalBasisExists(Conflict):
    title = "Legal basis already registered"
    slug = "legal-basis-exists"


class UnknownLegalBasis(NotFound):
    title = "No such legal basis"
    slug = "legal-basis-unknown"


class InvalidPurpose(InvalidInput):
    title = "Invalid purpose"
    slug = "purpose-invalid"


class PurposeExists(Conflict):
    title = "Purpose already registered"
    slug = "purpose-exists"


class UnknownPurpose(NotFound):
    title = "No such purpose"
    slug = "purpose-unknown"


@dataclass(frozen=True)
class Registrar:
    """One unit of work on the registries: the session, the audit log, the keys, the instant."""

    session: Session
    audit_log: AuditLog
    keys: GatewayKeys
    now: datetime


@dataclass(frozen=True)
class Logged(Generic[Row]):
    """A stored change: the entry as it is now, and where its leaf landed."""

    row: Row
    appended: Appended


@dataclass(frozen=True)
class BasisDraft:
    """A legal basis (or a new version of one): its code, title, the statute it rests on (the
    law and article), its scope, the catalog categories it allows, its validity (dates in
    China Standard Time, ``valid_until`` None: until withdrawn)."""

    code: str
    title: str
    statute: str
    scope: str
    categories: frozenset[str]
    valid_from: date
    valid_until: date | None = None


def officer(username: str) -> str:
    """The ``actor`` of a console officer."""
    return OFFICER_PREFIX + username


# -- parties -------------------------------------------------------------------------------


def register_party(registrar: Registrar, actor: str, registration: Registration) -> Logged[Party]:
    party = new_party(registrar.session, registration)
    return _party_change(registrar, actor, "party_registered", party, new=True)


def disable_party(registrar: Registrar, actor: str, client_id: str) -> Logged[Party]:
    party = _detached_party(registrar, client_id)
    party.disabled = True
    return _party_change(registrar, actor, "party_disabled", party, new=False)


def rotate_party_keys(
    registrar: Registrar,
    actor: str,
    client_id: str,
    new_keys: Sequence[Mapping[str, object]],
    *,
    retire_old: bool,
) -> Logged[Party]:
    """Add ``new_keys`` to the party's JWKS; with ``retire_old``, they replace every other key."""
    party = _detached_party(registrar, client_id)
    party.jwks = rotated_jwks(party, new_keys, retire_old=retire_old)
    return _party_change(registrar, actor, "party_keys_rotated", party, new=False)


# -- legal bases ---------------------------------------------------------------------------


def register_legal_basis(
    registrar: Registrar, actor: str, client_id: str, draft: BasisDraft
) -> Logged[LegalBasis]:
    """A new basis of the agency (a code never used, or one withdrawn: its next version)."""
    agency = _agency(registrar, client_id)
    latest = _latest_basis(registrar, agency, draft.code)
    if latest is not None and latest.withdrawn_at is None:
        raise LegalBasisExists("the agency has this basis code; amend it instead")
    return _new_basis(registrar, actor, agency, draft, latest, "legal_basis_registered")


def amend_legal_basis(
    registrar: Registrar, actor: str, client_id: str, draft: BasisDraft
) -> Logged[LegalBasis]:
    """The next version of a basis not withdrawn; the new version is in force from now on."""
    agency = _agency(registrar, client_id)
    latest = _current_basis(registrar, agency, draft.code)
    return _new_basis(registrar, actor, agency, draft, latest, "legal_basis_amended")


def withdraw_legal_basis(
    registrar: Registrar, actor: str, client_id: str, code: str
) -> Logged[LegalBasis]:
    """Withdraw a basis: no inquiry states it from now on (Art. 40 para. 1)."""
    agency = _agency(registrar, client_id)
    basis = _current_basis(registrar, agency, code)
    registrar.session.expunge(basis)
    basis.withdrawn_at = registrar.now
    document = {"client_id": agency.client_id, "code": code, "version": basis.version}
    change = _Change("legal_basis_withdrawn", agency.client_id, document, basis.categories, code)
    return Logged(basis, _record(registrar, actor, change, changed=basis))


def legal_bases(session: Session, client_id: str) -> list[LegalBasis]:
    """The latest version of each legal basis of the agency, withdrawn or not."""
    return current_legal_bases(session, _agency_of(session, client_id).id)


# -- purposes ------------------------------------------------------------------------------


def add_purpose(
    registrar: Registrar, actor: str, definition: Mapping[str, object]
) -> Logged[PurposeVersion]:
    """A new purpose (a code never used, or one retired: its next version)."""
    purpose = _purpose(definition)
    latest = latest_purpose(registrar.session, purpose.code)
    if latest is not None and latest.retired_at is None:
        raise PurposeExists("this purpose is registered; amend it instead")
    return _new_purpose(registrar, actor, purpose, latest, "purpose_added")


def amend_purpose(
    registrar: Registrar, actor: str, definition: Mapping[str, object]
) -> Logged[PurposeVersion]:
    """The next version of a purpose in force: new consent requests are checked against it."""
    purpose = _purpose(definition)
    latest = _current_purpose(registrar, purpose.code)
    return _new_purpose(registrar, actor, purpose, latest, "purpose_amended")


def retire_purpose(registrar: Registrar, actor: str, code: str) -> Logged[PurposeVersion]:
    """Retire a purpose: no consent is requested for it from now on; granted ones keep it."""
    row = _current_purpose(registrar, code)
    registrar.session.expunge(row)
    row.retired_at = registrar.now
    categories = _purpose(row.definition).categories
    document = {"code": code, "version": row.version}
    change = _Change("purpose_retired", code, document, categories)
    return Logged(row, _record(registrar, actor, change, changed=row))


# -- the change and its leaf ---------------------------------------------------------------


@dataclass(frozen=True)
class _Change:
    operation: str
    target: str
    document: Mapping[str, object]
    categories: Sequence[str] | frozenset[str] = ()
    legal_basis: str = ""


def change_digest(operation: str, document: Mapping[str, object]) -> bytes:
    """SHA-256 of the change's document (with its operation), canonical JSON."""
    return sha256(CHANGE_DOMAIN + canonical_json({**document, "operation": operation})).digest()


def _record(
    registrar: Registrar,
    actor: str,
    change: _Change,
    *,
    new: SQLModel | None = None,
    changed: SQLModel | None = None,
) -> Appended:
    """Append the change's leaf; ``new`` is inserted (stamped with the leaf's index) and
    ``changed`` updated in the transaction of the leaf."""
    requester, pseudonymous_actor = _acting(registrar, actor)
    event = AuditEvent(
        time_ms=int(registrar.now.timestamp() * 1000),
        kind=EventKind.REGISTRY_CHANGE,
        channel=None,
        requester=requester,
        legal_basis=change.legal_basis,
        grant_id="",
        purpose=change.target,
        item_categories=frozenset(change.categories),
        outcome=Outcome.ALLOWED,
        reason_code=change.operation,
        subject_commitment=change_digest(change.operation, change.document),
        actor=pseudonymous_actor,
    )

    def settle(session: Session, leaf_index: int) -> None:
        if isinstance(new, LegalBasis | PurposeVersion):
            new.leaf_index = leaf_index
        if new is not None:
            session.add(new)
        if changed is not None:
            session.merge(changed)
        session.flush()

    return registrar.audit_log.append(event, None, settle)


def _acting(registrar: Registrar, actor: str) -> tuple[str, str]:
    """The leaf's requester and actor for ``actor``; only the operator, an officer or an
    enabled regulator changes a registry."""
    if actor == OPERATOR:
        return OPERATOR, ""
    if actor.startswith(OFFICER_PREFIX) and actor != OFFICER_PREFIX:
        username = actor.removeprefix(OFFICER_PREFIX)
        master_key = registrar.keys.pseudonyms.master_key
        return OFFICER_REQUESTER, pseudonym(master_key, OFFICER_PSEUDONYMS, username, 1)
    party = party_by_client_id(registrar.session, actor)
    if party is None or party.disabled or party.role != Role.REGULATOR.value:
        raise UnknownActor("only the regulator changes the registries")
    return actor, ""


def _party_change(
    registrar: Registrar, actor: str, operation: str, party: Party, *, new: bool
) -> Logged[Party]:
    document = {
        "client_id": party.client_id,
        "role": party.role,
        "name": party.name,
        "credit_code": party.credit_code,
        "sector": party.sector,
        "webhook_url": party.webhook_url,
        "dpop_bound_access_tokens": party.dpop_bound_access_tokens,
        "jwks": party.jwks,
        "disabled": party.disabled,
    }
    change = _Change(operation, party.client_id, document)
    if new:
        return Logged(party, _record(registrar, actor, change, new=party))
    return Logged(party, _record(registrar, actor, change, changed=party))


def _detached_party(registrar: Registrar, client_id: str) -> Party:
    """The party, no longer tracked by the request's session (its change is the leaf's)."""
    party = party_of(registrar.session, client_id)
    registrar.session.expunge(party)
    return party


def _agency_of(session: Session, client_id: str) -> Party:
    party = party_of(session, client_id)
    if party.role != Role.AGENCY.value:
        raise InvalidLegalBasis("legal bases are registered for agencies only")
    return party


def _agency(registrar: Registrar, client_id: str) -> Party:
    agency = _agency_of(registrar.session, client_id)
    if agency.disabled:
        raise InvalidLegalBasis("the agency is disabled")
    return agency


def _latest_basis(registrar: Registrar, agency: Party, code: str) -> LegalBasis | None:
    found = [b for b in current_legal_bases(registrar.session, agency.id) if b.code == code]
    return found[0] if found else None


def _current_basis(registrar: Registrar, agency: Party, code: str) -> LegalBasis:
    latest = _latest_basis(registrar, agency, code)
    if latest is None or latest.withdrawn_at is not None:
        raise UnknownLegalBasis("the agency has no such basis in the registry")
    return latest


def _new_basis(
    registrar: Registrar,
    actor: str,
    agency: Party,
    draft: BasisDraft,
    latest: LegalBasis | None,
    operation: str,
) -> Logged[LegalBasis]:
    _check_basis(draft)
    basis = LegalBasis(
        party_id=agency.id,
        code=draft.code,
        version=latest.version + 1 if latest else 1,
        title=draft.title.strip(),
        statute=draft.statute.strip(),
        scope=draft.scope.strip(),
        categories=sorted(draft.categories),
        valid_from=draft.valid_from,
        valid_until=draft.valid_until,
    )
    document = {
        "client_id": agency.client_id,
        **basis.model_dump(include={"code", "version", "title", "statute", "scope"}),
        "categories": basis.categories,
        "valid_from": basis.valid_from.isoformat(),
        "valid_until": basis.valid_until.isoformat() if basis.valid_until else None,
    }
    change = _Change(operation, agency.client_id, document, basis.categories, basis.code)
    return Logged(basis, _record(registrar, actor, change, new=basis))


def _check_basis(draft: BasisDraft) -> None:
    if not BASIS_CODE.fullmatch(draft.code):
        raise InvalidLegalBasis("a basis code is 1-64 of a-z 0-9 _ . -, starting with a letter")
    for name, text, limit in (
        ("title", draft.title, 300),
        ("statute", draft.statute, 300),
        ("scope", draft.scope, 1000),
    ):
        if not text.strip() or len(text.strip()) > limit:
            raise InvalidLegalBasis(f"a basis states its {name} (at most {limit} characters)")
    if not draft.categories or draft.categories - CATEGORIES:
        raise InvalidLegalBasis(f"categories are some of {', '.join(sorted(CATEGORIES))}")
    if draft.valid_until is not None and draft.valid_until < draft.valid_from:
        raise InvalidLegalBasis("a basis is valid until a day on or after it is valid from")


def _purpose(definition: Mapping[str, object]) -> Purpose:
    try:
        purpose = Purpose.model_validate(definition)
        PurposeRegistry([purpose], CATEGORIES)
    except (ValidationError, ValueError) as exc:
        raise InvalidPurpose(_first_error(exc)) from None
    return purpose


def _first_error(exc: ValidationError | ValueError) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        return f"{where}: {error['msg']}" if where else str(error["msg"])
    return str(exc)


def _current_purpose(registrar: Registrar, code: str) -> PurposeVersion:
    latest = latest_purpose(registrar.session, code)
    if latest is None or latest.retired_at is not None:
        raise UnknownPurpose("no such purpose is in the registry")
    return latest


def _new_purpose(
    registrar: Registrar,
    actor: str,
    purpose: Purpose,
    latest: PurposeVersion | None,
    operation: str,
) -> Logged[PurposeVersion]:
    definition = {
        name: sorted(value) if isinstance(value, list) else value
        for name, value in purpose.model_dump(mode="json").items()
    }
    row = PurposeVersion(
        code=purpose.code,
        version=latest.version + 1 if latest else 1,
        definition=definition,
        registered_at=registrar.now,
    )
    document = {"code": row.code, "version": row.version, "definition": definition}
    change = _Change(operation, purpose.code, document, purpose.categories)
    return Logged(row, _record(registrar, actor, change, new=row))
