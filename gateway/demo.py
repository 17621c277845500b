"""The fictional demo province: one party of each role, a citizen, and credit subjects with
their records in the archive (:func:`seed_demo_archive`, through the providing units' path).

Seeding is idempotent: a second run keeps every party and key that still matches
``var/demo/credentials.json`` and changes nothing else; a party whose private key is no longer
on disk gets a new key pair (its old public key is replaced). The demo citizen gets a TOTP
second factor (Art. 61(2)) whose secret is printed and kept in the file, so decisions can be
tried with curl; it is seeded, not enrolled, so it has no audit leaf, and one the operator
reset is seeded anew. The credentials file holds private keys, a password and that secret, so
it is written with mode 0600.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlmodel import Session

from consent.clients import Role
from consent.errors import InvalidGrantError
from consent.keys import b64url, public_jwk
from consent.passwords import CitizenPasswords
from consent.rfc6238 import new_secret
from consent.rfc9449 import DPOP_TYP, access_token_hash
from gateway.archive.demo import DemoRecord, demo_archive, seed_archive
from gateway.archive.service import archive_catalog
from gateway.audit_log.service import running_audit_log
from gateway.console.officers import add_officer
from gateway.console.repository import officer_by_username
from gateway.factors import repository as factor_repository
from gateway.factors.models import Factor
from gateway.factors.service import TOTP
from gateway.keys import load_keys, write_private
from gateway.parties.enrolment import EntityEnrolment, enrol_entity
from gateway.parties.models import SEEDED_VALID_FROM, Citizen, LegalBasis, Party
from gateway.parties.repository import citizen_by_username, legal_bases_of, party_by_client_id
from gateway.settings import Settings
from gateway.storage.db import make_engine, unit_of_work
from redaction.identifiers import (
    IdentifierKind,
    SubjectIdentifier,
    credit_code_check_character,
    id_check_character,
    parse_identifier,
)
from redaction.periods import local_date


def demo_id_number(region: str, birth: str, sequence: str) -> str:
    stem = region + birth + sequence
    return stem + id_check_character(stem)


def demo_credit_code(stem: str) -> str:
    return stem + credit_code_check_character(stem)


@dataclass(frozen=True)
class DemoLegalBasis:
    code: str
    title: str
    statute: str
    scope: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class DemoParty:
    persona: str
    role: Role
    client_id: str
    name: str
    credit_code: str | None = None
    sector: str | None = None
    legal_bases: tuple[DemoLegalBasis, ...] = field(default=())
    dpop_bound_access_tokens: bool = False


PARTIES = (
    DemoParty(
        "establishment",
        Role.ESTABLISHMENT,
        "demo-rural-commercial-bank",
        "Demo Province Rural Commercial Bank",
        credit_code=demo_credit_code("91320100MA1X0B2C3"),
    ),
    DemoParty(
        "establishment_dpop",
        Role.ESTABLISHMENT,
        "demo-city-consumer-finance",
        "Demo City Consumer Finance Company",
        credit_code=demo_credit_code("91320106MA1W9D4E5"),
        dpop_bound_access_tokens=True,
    ),
    DemoParty(
        "agency",
        Role.AGENCY,
        "demo-market-regulation-bureau",
        "Demo Province Market Regulation Bureau",
        credit_code=demo_credit_code("11320000MB1234567"),
        sector="market_regulation",
        legal_bases=(
            DemoLegalBasis(
                "market-supervision-inspection",
                "Administrative inspection under the market supervision laws",
                "Demo Province Market Supervision Regulations, Art. 12",
                "Inspection of a market entity the bureau supervises, in an open case",
                ("basic", "untrustworthy"),
            ),
            DemoLegalBasis(
                "licensing-review",
                "Review of an application for an administrative licence",
                "Administrative Licensing Law, Art. 34",
                "Review of the applicant of an administrative licence the bureau grants",
                ("basic", "untrustworthy", "trustworthy"),
            ),
        ),
    ),
    DemoParty(
        "provider",
        Role.PROVIDER,
        "demo-market-regulation-administration",
        "Demo City Administration for Market Regulation",
        credit_code=demo_credit_code("11320100MB7654321"),
        sector="market_regulation",
    ),
    DemoParty(
        "court",
        Role.PROVIDER,
        "demo-intermediate-court",
        "Demo City Intermediate People's Court",
        credit_code=demo_credit_code("11320100MB2468135"),
        sector="courts",
    ),
    DemoParty(
        "tax_bureau",
        Role.PROVIDER,
        "demo-taxation-bureau",
        "Demo City Taxation Bureau",
        credit_code=demo_credit_code("11320100MB1357924"),
        sector="taxation",
    ),
    DemoParty(
        "labour_bureau",
        Role.PROVIDER,
        "demo-human-resources-bureau",
        "Demo City Human Resources and Social Security Bureau",
        credit_code=demo_credit_code("11320100MB9753186"),
        sector="human_resources",
    ),
    DemoParty(
        "regulator",
        Role.REGULATOR,
        "demo-social-credit-office",
        "Demo Province Social Credit Administration Office",
        credit_code=demo_credit_code("11320000MB0000001"),
    ),
    DemoParty(
        "operator",
        Role.OPERATOR,
        "demo-public-credit-centre",
        "Demo Province Public Credit Information Centre",
        credit_code=demo_credit_code("12320000MB0000002"),
    ),
)

CITIZEN_USERNAME = "zhang.wei"
OFFICER_USERNAME = "li.jiancha"
CITIZEN_NAME = "张伟"
CITIZEN_ID_NUMBER = demo_id_number("320102", "19880412", "217")
NATURAL_PERSONS = (
    CITIZEN_ID_NUMBER,
    demo_id_number("320106", "19920730", "048"),
    demo_id_number("320205", "19751102", "331"),
)
LEGAL_PERSONS = (
    demo_credit_code("91320102MA1YQ7K80"),
    demo_credit_code("91320211MA1N3P4R5"),
)
# The demo citizen is the legal representative of the first legal person (Art. 34).
COMPANY_NAME = "示范市明德贸易有限公司"


def client_assertion(persona: dict[str, Any], audience: str, lifetime: int = 120) -> str:
    """A fresh ``private_key_jwt`` assertion (RFC 7523) for a persona of the credentials file."""
    now = int(time.time())
    claims = {
        "iss": persona["client_id"],
        "sub": persona["client_id"],
        "aud": audience,
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    key = jwt.PyJWK(persona["private_jwk"], algorithm="EdDSA")
    return jwt.encode(claims, key.key, algorithm="EdDSA", headers={"kid": key.key_id})


def dpop_proof(
    persona: dict[str, Any],
    method: str,
    url: str,
    *,
    access_token: str | None = None,
    nonce: str | None = None,
) -> str:
    """A fresh DPoP proof (RFC 9449 section 4.2) signed with a persona's demo key: for the
    token endpoint, or with ``access_token`` (its hash is ``ath``) for a resource."""
    claims: dict[str, object] = {
        "jti": uuid.uuid4().hex,
        "htm": method.upper(),
        "htu": url,
        "iat": int(time.time()),
    }
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    if nonce is not None:
        claims["nonce"] = nonce
    jwk = persona["private_jwk"]
    public = {name: value for name, value in jwk.items() if name != "d"}
    key = jwt.PyJWK(jwk, algorithm="EdDSA").key
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"typ": DPOP_TYP, "jwk": public})


def private_jwk(key: Ed25519PrivateKey) -> dict[str, str]:
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return {**public_jwk(key.public_key()), "d": b64url(raw)}


def seed_demo(settings: Settings) -> str:
    """Seed the demo province, write the credentials file and return what to print."""
    path = settings.var_dir / "demo" / "credentials.json"
    previous = read_credentials(path)
    engine = make_engine(settings.resolved_database_url)
    with unit_of_work(engine) as session:
        credentials: dict[str, object] = {"base_url": settings.base_url}
        for party in PARTIES:
            credentials[party.persona] = _seed_party(session, party, previous.get(party.persona))
        citizen = _seed_citizen(session, settings, previous.get("citizen"))
        credentials["citizen"] = citizen
        credentials["legal_person"] = _seed_company(session)
        credentials["regulator_officer"] = _seed_officer(
            session, settings, previous.get("regulator_officer")
        )
    engine.dispose()
    credentials["subjects"] = {
        "natural_persons": list(NATURAL_PERSONS),
        "legal_persons": list(LEGAL_PERSONS),
    }
    text = json.dumps(credentials, indent=2, ensure_ascii=False) + "\n"
    write_private(path, text.encode())
    return _report(settings, path, str(citizen["totp_secret"]))


def demo_subjects(on: date) -> list[SubjectIdentifier]:
    """The demo credit subjects, natural persons first (their order fixes the demo record ids)."""
    return [
        *(parse_identifier(IdentifierKind.ID_NUMBER, number, on=on) for number in NATURAL_PERSONS),
        *(parse_identifier(IdentifierKind.CREDIT_CODE, code, on=on) for code in LEGAL_PERSONS),
    ]


def seed_demo_archive(settings: Settings) -> str:
    """Submit the demo subjects' records as the demo providing units do - each item of
    information on untrustworthiness by the unit whose sector designates it (Art. 26), the
    others by the first - (idempotent; every change audited, so the log must be writable) and
    return what to print."""
    providers = [party for party in PARTIES if party.role is Role.PROVIDER]
    now = datetime.now(UTC)
    catalog = archive_catalog()
    records = demo_archive(catalog, demo_subjects(now.date()), local_date(now))
    by_provider: dict[str, list[DemoRecord]] = {party.client_id: [] for party in providers}
    for record in records:
        item = catalog.item(record.submission.item_code)
        designating = [party for party in providers if party.sector in item.designated_by]
        by_provider[(designating or providers)[0].client_id].append(record)
    engine = make_engine(settings.resolved_database_url)
    keys = load_keys(settings)
    with running_audit_log(engine, settings, keys) as audit_log:
        added = sum(
            seed_archive(engine, audit_log, keys, provider, entries, now)
            for provider, entries in by_provider.items()
        )
    engine.dispose()
    units = sum(1 for entries in by_provider.values() if entries)
    return (
        f"demo archive: {len(records)} records from {units} providing units "
        f"({added} submitted now)\n"
    )


def read_credentials(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _usable_key(stored: Party | None, previous: dict[str, object] | None) -> dict[str, str] | None:
    """The private JWK from the last run, if the registry still holds its public key."""
    if stored is None or previous is None:
        return None
    jwk = previous.get("private_jwk")
    if not isinstance(jwk, dict):
        return None
    keys = stored.jwks.get("keys")
    registered = (
        {key.get("kid") for key in keys if isinstance(key, dict)}
        if isinstance(keys, list)
        else set()
    )
    return jwk if jwk.get("kid") in registered else None


def _seed_party(
    session: Session, party: DemoParty, previous: dict[str, object] | None
) -> dict[str, object]:
    stored = party_by_client_id(session, party.client_id)
    jwk = _usable_key(stored, previous)
    if jwk is None:
        jwk = private_jwk(Ed25519PrivateKey.generate())
        public = {name: value for name, value in jwk.items() if name != "d"}
        if stored is None:
            stored = Party(
                role=party.role,
                name=party.name,
                client_id=party.client_id,
                credit_code=party.credit_code,
                sector=party.sector,
                jwks={"keys": [public]},
            )
        else:
            stored.jwks = {"keys": [public]}
    assert stored is not None
    stored.dpop_bound_access_tokens = party.dpop_bound_access_tokens
    session.add(stored)
    session.flush()
    entry: dict[str, object] = {"client_id": party.client_id, "private_jwk": jwk}
    if party.legal_bases:
        entry["legal_bases"] = _seed_legal_bases(session, stored.id, party.legal_bases)
    return entry


def _seed_legal_bases(
    session: Session, party_id: str, bases: tuple[DemoLegalBasis, ...]
) -> list[str]:
    existing = {basis.code for basis in legal_bases_of(session, party_id)}
    for basis in bases:
        if basis.code not in existing:
            session.add(
                LegalBasis(
                    party_id=party_id,
                    code=basis.code,
                    title=basis.title,
                    statute=basis.statute,
                    scope=basis.scope,
                    categories=list(basis.categories),
                    valid_from=SEEDED_VALID_FROM,
                )
            )
    return [basis.code for basis in bases]


def _seed_citizen(
    session: Session, settings: Settings, previous: dict[str, object] | None
) -> dict[str, object]:
    passwords = CitizenPasswords()
    stored = citizen_by_username(session, CITIZEN_USERNAME)
    password = _previous_password(passwords, stored.password_hash if stored else None, previous)
    if password is None:
        password = _new_password(settings)
        if stored is None:
            stored = Citizen(
                username=CITIZEN_USERNAME,
                id_number=CITIZEN_ID_NUMBER,
                full_name=CITIZEN_NAME,
                password_hash=passwords.hash(password),
                real_name_verified=True,
            )
        else:
            stored.password_hash = passwords.hash(password)
        session.add(stored)
        session.flush()
    assert stored is not None
    if stored.full_name is None:  # seeded before names were kept
        stored.full_name = CITIZEN_NAME
        session.add(stored)
    return {
        "username": CITIZEN_USERNAME,
        "password": password,
        "id_number": CITIZEN_ID_NUMBER,
        "totp_secret": _seed_totp(session, stored.id, (previous or {}).get("totp_secret")),
    }


def _seed_totp(session: Session, citizen_id: str, previous: object) -> str:
    """The demo citizen's TOTP secret: the previous one while it is still enrolled."""
    enrolled = [f for f in factor_repository.factors_of(session, citizen_id) if f.kind == TOTP]
    if any(factor.totp_secret == previous for factor in enrolled):
        assert isinstance(previous, str)
        return previous
    secret = new_secret()
    now = datetime.now(UTC)
    factor_repository.add(
        session,
        Factor(
            factor_id=f"fa_{secrets.token_urlsafe(16)}",
            citizen_id=citizen_id,
            kind=TOTP,
            label="demo authenticator",
            totp_secret=secret,
            created_at=now,
            confirmed_at=now,
        ),
    )
    return secret


def _seed_company(session: Session) -> dict[str, object]:
    """The first demo legal person, enrolled with the demo citizen as legal representative."""
    session.flush()
    enrolment = EntityEnrolment(LEGAL_PERSONS[0], COMPANY_NAME, "legal_person", CITIZEN_ID_NUMBER)
    result = enrol_entity(session, enrolment, datetime.now(UTC))
    return {
        "entity_id": result.account_id,
        "credit_code": LEGAL_PERSONS[0],
        "name": COMPANY_NAME,
        "representative": CITIZEN_USERNAME,
    }


def _seed_officer(
    session: Session, settings: Settings, previous: dict[str, object] | None
) -> dict[str, object]:
    """The demo regulator officer of the console: the previous password while it still
    verifies, and the enrolled TOTP secret."""
    passwords = CitizenPasswords()
    stored = officer_by_username(session, OFFICER_USERNAME)
    password = _previous_password(passwords, stored.password_hash if stored else None, previous)
    if password is None:
        password = _new_password(settings)
        if stored is None:
            stored = add_officer(session, OFFICER_USERNAME, password, datetime.now(UTC)).officer
        else:
            stored.password_hash = passwords.hash(password)
            session.add(stored)
    assert stored is not None
    return {"username": OFFICER_USERNAME, "password": password, "totp_secret": stored.totp_secret}


def _new_password(settings: Settings) -> str:
    configured = settings.demo_password
    return configured.get_secret_value() if configured else secrets.token_urlsafe(12)


def _previous_password(
    passwords: CitizenPasswords, stored_hash: str | None, previous: dict[str, object] | None
) -> str | None:
    password = (previous or {}).get("password")
    if stored_hash is None or not isinstance(password, str):
        return None
    try:
        passwords.verify(stored_hash, password)
    except InvalidGrantError:
        return None
    return password


def _report(settings: Settings, path: Path, totp_secret: str) -> str:
    base = settings.base_url
    personas = "\n".join(
        f"  {party.persona:<19} {party.client_id:<32} {party.name}"
        + (" (DPoP-bound tokens)" if party.dpop_bound_access_tokens else "")
        for party in PARTIES
    )
    return (
        f"demo province seeded; credentials in {path} (mode 0600)\n"
        f"  gateway       {base}\n"
        f"  API docs      {base}/docs\n"
        f"  health        {base}/healthz   readiness {base}/readyz\n"
        f"personas (OAuth clients, private_key_jwt):\n{personas}\n"
        f"  citizen             {CITIZEN_USERNAME:<32} password in the credentials file\n"
        f"  second factor       TOTP secret {totp_secret} (RFC 6238; citizen.totp_secret)\n"
        f"  legal person        {LEGAL_PERSONS[0]:<32} {COMPANY_NAME}, represented by the citizen\n"
        f"  regulator officer   {OFFICER_USERNAME:<32} console {base}/oversight; password and "
        "TOTP secret in the credentials file (regulator_officer)\n"
    )
