"""The rules of the party registry: an establishment, agency, providing unit or regulator with
its public keys (RFC 7517 JWKs, used for ``private_key_jwt``, RFC 7523), its key rotation, the
list. Changes are made by :mod:`gateway.registry.service`, which logs each of them;
:func:`register_party` here only seeds (the demo province, fixtures).

Only public keys are accepted: a JWK with any private member is refused, so a registry never
holds a client's secret. An Ed25519 key without a ``kid`` gets its RFC 7638 thumbprint; other
key types must carry a ``kid``. Credit codes are checked (Art. 34, GB 32100) and name one party
only; an agency's sector is checked against the catalog's sectors, webhook URLs are ``http`` or
``https``. The audit log's requester labels (``citizen``, ``public``) are no client id. A
disabled party can no longer authenticate, every token it holds is refused from the next
request on (the revocation check reads the party's status), and it gets no webhooks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
from sqlmodel import Session, col, select

from consent.clients import RESERVED_CLIENT_IDS, Role
from consent.keys import keys_from_jwks, public_jwk
from gateway.parties.models import Party
from gateway.parties.repository import party_by_client_id, party_by_credit_code
from problems import Conflict, InvalidInput, NotFound
from redaction.catalog import Sector
from redaction.identifiers import validate_credit_code

CLIENT_ID = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
KEY_TYPES = frozenset({"OKP", "EC", "RSA"})


class InvalidRegistration(InvalidInput):
    title = "Invalid party registration"
    slug = "party-invalid-registration"


class PartyExists(Conflict):
    title = "Party already registered"
    slug = "party-exists"


class UnknownParty(NotFound):
    title = "No such party"
    slug = "party-unknown"


@dataclass(frozen=True)
class Registration:
    """A party to register; ``jwks`` are its public keys."""

    role: Role
    name: str
    client_id: str
    jwks: Sequence[Mapping[str, object]]
    credit_code: str | None = None
    sector: str | None = None
    webhook_url: str | None = None
    postal_address: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    dpop_bound_access_tokens: bool = False


def new_party(session: Session, registration: Registration) -> Party:
    """The party ``registration`` describes, checked; not stored."""
    if registration.role is Role.CITIZEN:
        raise InvalidRegistration("citizens have accounts, not client registrations")
    if not CLIENT_ID.fullmatch(registration.client_id):
        raise InvalidRegistration("a client id is 3-64 of a-z 0-9 . _ -, starting alphanumeric")
    if registration.client_id in RESERVED_CLIENT_IDS:
        raise InvalidRegistration("this client id is a label of the audit log, not a client's")
    if not registration.name.strip():
        raise InvalidRegistration("a party has a name")
    if party_by_client_id(session, registration.client_id) is not None:
        raise PartyExists("a party with this client id is already registered")
    credit_code = _credit_code(registration.credit_code)
    if credit_code is not None and party_by_credit_code(session, credit_code) is not None:
        raise PartyExists("a party with this unified social credit code is already registered")
    return Party(
        role=registration.role.value,
        name=registration.name.strip(),
        client_id=registration.client_id,
        credit_code=credit_code,
        sector=_sector(registration.role, registration.sector),
        webhook_url=_webhook_url(registration.webhook_url),
        postal_address=registration.postal_address,
        contact_email=registration.contact_email,
        contact_phone=registration.contact_phone,
        dpop_bound_access_tokens=registration.dpop_bound_access_tokens,
        jwks={"keys": public_keys(registration.jwks)},
    )


def register_party(session: Session, registration: Registration) -> Party:
    """Seed a party (no audit leaf: the demo province, fixtures)."""
    party = new_party(session, registration)
    session.add(party)
    session.flush()
    return party


def rotated_jwks(
    party: Party, new_keys: Sequence[Mapping[str, object]], *, retire_old: bool
) -> dict[str, object]:
    """The party's JWKS with ``new_keys`` added; with ``retire_old``, only ``new_keys``."""
    added = public_keys(new_keys)
    kept = [] if retire_old else registered_keys(party)
    new_kids = {key["kid"] for key in added}
    return {"keys": [key for key in kept if key.get("kid") not in new_kids] + added}


def party_of(session: Session, client_id: str) -> Party:
    party = party_by_client_id(session, client_id)
    if party is None:
        raise UnknownParty("no party has this client id")
    return party


def list_parties(session: Session) -> list[Party]:
    return list(session.exec(select(Party).order_by(col(Party.role), col(Party.client_id))))


def registered_keys(party: Party) -> list[dict[str, object]]:
    keys = party.jwks.get("keys")
    return [dict(key) for key in keys if isinstance(key, dict)] if isinstance(keys, list) else []


def key_ids(party: Party) -> list[str]:
    return [str(key.get("kid")) for key in registered_keys(party)]


def jwk_entries(document: object) -> list[Mapping[str, object]]:
    """The keys of a JWK Set (``{"keys": [...]}``) or of a single JWK."""
    if isinstance(document, dict) and isinstance(document.get("keys"), list):
        return [key for key in document["keys"] if isinstance(key, dict)]
    if isinstance(document, dict):
        return [document]
    raise InvalidRegistration("expected a JWK or a JWK Set")


def public_keys(entries: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
    """Validated public JWKs, each with a unique ``kid``."""
    if not entries:
        raise InvalidRegistration("a party registers at least one public key")
    keys = [_public_key(entry) for entry in entries]
    if len({key["kid"] for key in keys}) != len(keys):
        raise InvalidRegistration("key ids must be unique")
    return keys


def _public_key(entry: Mapping[str, object]) -> dict[str, object]:
    if PRIVATE_MEMBERS & entry.keys():
        raise InvalidRegistration("a private key was given; register the public key only")
    if entry.get("kty") not in KEY_TYPES:
        raise InvalidRegistration("keys are OKP (Ed25519), EC (P-256) or RSA")
    ed25519 = keys_from_jwks({"keys": [{**entry, "kid": "-"}]})
    if ed25519:
        return {**public_jwk(ed25519["-"]), **entry}
    if not isinstance(entry.get("kid"), str) or not entry["kid"]:
        raise InvalidRegistration("EC and RSA keys need a kid")
    try:
        jwt.PyJWK(dict(entry))
    except jwt.PyJWTError as exc:
        raise InvalidRegistration("the key cannot be read") from exc
    return dict(entry)


def _credit_code(value: str | None) -> str | None:
    return None if value is None else validate_credit_code(value)


def _sector(role: Role, value: str | None) -> str | None:
    """An agency's sector names its sharing scope (Art. 39); a providing unit's, the items of
    information on untrustworthiness it designates (Art. 26); others' is descriptive."""
    if value is None or role not in (Role.AGENCY, Role.PROVIDER):
        return value
    try:
        return Sector(value).value
    except ValueError:
        raise InvalidRegistration(f"unknown sector; one of {', '.join(Sector)}") from None


def _webhook_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or len(value) > 500:
        raise InvalidRegistration("a webhook URL is an http or https URL of at most 500 characters")
    return value
