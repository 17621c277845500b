"""Enrolment of credit subjects by the operator (Art. 34, 39): natural persons, and legal
persons and unincorporated organizations with their legal representative; the agents a
representative authorizes.

**Natural persons.** A person is indexed by the citizen ID number (GB 11643) or, only when they
have none, by another identity document (Art. 34 para. 2). One person never gets two archives,
as far as the data can tell: the other documents a person with an ID number holds (e.g. their
passport) are enrolled with them (``person_documents``); such a document is then refused as an
index - for enrolment here and for records a providing unit submits - and a person with an ID
number is refused when one of their documents already indexes an account or an archive
(which must first be merged by the work body, outside the gateway). Nothing else ties a passport
to an ID number: two documents of one person that were never enrolled together stay apart.

Real-name verification is the provincial identity provider's: an enrolled account signs in
through OpenID Connect, its ID token's verified identity number binding it. A local password
(the demo's fallback) is set only by :func:`enrol_person` with a password; imported accounts
have none, so importing needs no password hashing.

**Idempotence.** Enrolling the same person again with the same details is ``unchanged``;
with other details (another name, another document) it is refused with 409: an enrolment never
silently changes who an account is.

**Batches** (:func:`enrol_persons`) validate every row first, look up in one query per chunk
what is already enrolled, and store the rows that pass :data:`CHUNK` a transaction; a row (the
person and their documents) is stored whole or not at all, and a refused row stores nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Engine, tuple_
from sqlmodel import Session, col, select

from gateway.archive.models import CreditSubject
from gateway.keys import GatewayKeys
from gateway.parties.accounts import REPRESENTATIVE, authority_for
from gateway.parties.citizens import citizen_passwords
from gateway.parties.models import Citizen, Entity, EntityAgent, PersonDocument
from gateway.parties.repository import SecondArchive
from gateway.storage.db import unit_of_work
from gateway.subjects import subject_key
from problems import Conflict, GatewayError, InvalidInput, NotFound
from redaction.errors import InvalidIdentifier
from redaction.identifiers import (
    IdentifierKind,
    OtherDocumentType,
    SubjectIdentifier,
    parse_identifier,
)

CHUNK = 1000
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class EntityKind(StrEnum):
    LEGAL_PERSON = "legal_person"
    UNINCORPORATED = "unincorporated_organization"


class EnrolmentOutcome(StrEnum):
    ENROLLED = "enrolled"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


class EnrolmentInvalid(InvalidInput):
    title = "Invalid enrolment"
    slug = "enrolment-invalid"
    article = "Art. 34"


class EnrolmentConflict(Conflict):
    """The subject is enrolled with other details, or would get a second archive."""

    title = "Enrolment conflict"
    slug = "enrolment-conflict"
    article = "Art. 34"


class NotEnrolled(NotFound):
    title = "Not enrolled"
    slug = "not-enrolled"
    article = "Art. 34"


class AgentNotFound(NotFound):
    title = "No such agent authorization"
    slug = "agent-not-found"
    article = "Art. 61(2)"


@dataclass(frozen=True)
class PersonEnrolment:
    """A natural person as the operator enrols them: the ID number, or (only without one)
    another document; ``documents`` are the other documents of a person with an ID number."""

    full_name: str
    id_number: str | None = None
    document_type: str | None = None
    document_number: str | None = None
    documents: tuple[tuple[str, str], ...] = ()
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class CheckedPerson:
    """A validated enrolment: its archive index and its other documents, normalized."""

    full_name: str
    index: SubjectIdentifier
    documents: tuple[SubjectIdentifier, ...]
    username: str | None


@dataclass(frozen=True)
class EnrolmentResult:
    outcome: EnrolmentOutcome
    account_id: str | None = None
    problem: GatewayError | None = None


@dataclass(frozen=True)
class EntityEnrolment:
    credit_code: str
    name: str
    kind: str
    representative: str
    """The representative's ID number (or other document number: ``type:number``)."""


@dataclass(frozen=True)
class AgentGrant:
    """The authorization of an agent: the document's reference and its validity."""

    agent: str
    """The agent's ID number (or other document: ``type:number``); enrolled before."""
    document_reference: str
    valid_from: date
    valid_until: date


# -- natural persons -------------------------------------------------------------------------


def check_person(enrolment: PersonEnrolment, now: datetime) -> CheckedPerson:
    """Validate one enrolment (pure: no lookup); raises :class:`EnrolmentInvalid`."""
    name = enrolment.full_name.strip()
    if not 0 < len(name) <= 100 or _CONTROL.search(name):
        raise EnrolmentInvalid("a full name of 1 to 100 characters is required")
    username = enrolment.username.strip().lower() if enrolment.username else None
    if username is not None and USERNAME.fullmatch(username) is None:
        raise EnrolmentInvalid("a username is 3 to 64 of a-z 0-9 . _ -")
    if enrolment.password is not None and username is None:
        raise EnrolmentInvalid("a local password needs a username")
    try:
        if enrolment.id_number:
            if enrolment.document_type or enrolment.document_number:
                raise EnrolmentConflict(
                    "a person with an ID number is indexed by it; list other documents "
                    "under documents",
                    article="Art. 34 para. 2",
                )
            index = parse_identifier(IdentifierKind.ID_NUMBER, enrolment.id_number, on=now.date())
            documents = tuple(
                parse_identifier(
                    IdentifierKind.OTHER_DOCUMENT, number, document_type=kind, on=now.date()
                )
                for kind, number in enrolment.documents
            )
        else:
            if enrolment.documents:
                raise EnrolmentInvalid("other documents are listed for a person with an ID number")
            index = parse_identifier(
                IdentifierKind.OTHER_DOCUMENT,
                enrolment.document_number or "",
                document_type=enrolment.document_type,
                on=now.date(),
            )
            documents = ()
    except InvalidIdentifier as exc:
        raise EnrolmentInvalid(exc.detail) from None
    if len({document.key for document in documents}) != len(documents):
        raise EnrolmentInvalid("a document is listed twice")
    return CheckedPerson(name, index, documents, username)


def enrol_person(
    session: Session, keys: GatewayKeys, enrolment: PersonEnrolment, now: datetime
) -> EnrolmentResult:
    """Enrol one person (with a local password when one is given); refusals raise."""
    checked = check_person(enrolment, now)
    known = _Known.load(session, keys, [checked])
    existing = known.decide(checked)
    if existing is not None:
        return EnrolmentResult(EnrolmentOutcome.UNCHANGED, existing)
    password_hash = citizen_passwords().hash(enrolment.password) if enrolment.password else None
    citizen = _store(session, checked, now, password_hash)
    return EnrolmentResult(EnrolmentOutcome.ENROLLED, citizen.id)


def enrol_persons(
    engine: Engine,
    keys: GatewayKeys,
    enrolments: Iterable[PersonEnrolment | GatewayError],
    now: datetime,
    progress: Callable[[int], None] = lambda _: None,
) -> list[EnrolmentResult]:
    """Enrol many (an import): one result per row, in order. Each chunk of :data:`CHUNK` rows
    is validated whole, then its passing rows are stored in one transaction; ``progress`` is
    told how many rows each chunk held. Rows never carry a password."""
    results: list[EnrolmentResult] = []
    chunk: list[PersonEnrolment | GatewayError] = []
    for enrolment in enrolments:
        chunk.append(enrolment)
        if len(chunk) == CHUNK:
            results += _enrol_chunk(engine, keys, chunk, now)
            progress(len(chunk))
            chunk = []
    if chunk:
        results += _enrol_chunk(engine, keys, chunk, now)
        progress(len(chunk))
    return results


def _enrol_chunk(
    engine: Engine,
    keys: GatewayKeys,
    rows: Sequence[PersonEnrolment | GatewayError],
    now: datetime,
) -> list[EnrolmentResult]:
    with unit_of_work(engine) as session:
        return enrol_batch(session, keys, rows, now)


def enrol_batch(
    session: Session,
    keys: GatewayKeys,
    rows: Sequence[PersonEnrolment | GatewayError],
    now: datetime,
) -> list[EnrolmentResult]:
    """Enrol the rows in ``session`` (one transaction): every row validated first, then the
    passing ones stored; one result per row, in order. Rows never carry a password."""
    checked: list[CheckedPerson | GatewayError] = []
    for row in rows:
        if isinstance(row, GatewayError):
            checked.append(row)
            continue
        try:
            if row.password is not None:
                raise EnrolmentInvalid("an imported row carries no password")
            checked.append(check_person(row, now))
        except GatewayError as refusal:
            checked.append(refusal)
    valid = [entry for entry in checked if isinstance(entry, CheckedPerson)]
    known = _Known.load(session, keys, valid)
    return [_import_row(session, known, entry, now) for entry in checked]


def _import_row(
    session: Session, known: _Known, entry: CheckedPerson | GatewayError, now: datetime
) -> EnrolmentResult:
    if isinstance(entry, GatewayError):
        return EnrolmentResult(EnrolmentOutcome.REFUSED, problem=entry)
    try:
        existing = known.decide(entry)
    except GatewayError as refusal:
        return EnrolmentResult(EnrolmentOutcome.REFUSED, problem=refusal)
    if existing is not None:
        return EnrolmentResult(EnrolmentOutcome.UNCHANGED, existing)
    citizen = _store(session, entry, now, None)
    known.add(entry, citizen)
    return EnrolmentResult(EnrolmentOutcome.ENROLLED, citizen.id)


def _store(
    session: Session, checked: CheckedPerson, now: datetime, password_hash: str | None
) -> Citizen:
    index = checked.index
    citizen = Citizen(
        username=checked.username,
        id_number=index.value if index.kind is IdentifierKind.ID_NUMBER else None,
        document_type=index.document_type.value if index.document_type else None,
        document_number=index.value if index.document_type else None,
        full_name=checked.full_name,
        password_hash=password_hash,
        real_name_verified=True,
        created_at=now,
    )
    session.add(citizen)
    for document in checked.documents:
        assert document.document_type is not None
        session.add(
            PersonDocument(
                citizen_id=citizen.id,
                document_type=document.document_type.value,
                number=document.value,
            )
        )
    return citizen


def _document_pair(identifier: SubjectIdentifier) -> tuple[str, str]:
    assert identifier.document_type is not None
    return (identifier.document_type.value, identifier.value)


@dataclass
class _Known:
    """What is already enrolled (or archived) that a batch of enrolments touches."""

    keys: GatewayKeys
    by_id_number: dict[str, Citizen] = field(default_factory=dict)
    by_document: dict[tuple[str, str], Citizen] = field(default_factory=dict)
    by_username: dict[str, str] = field(default_factory=dict)
    documents_of: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    document_owner: dict[tuple[str, str], str] = field(default_factory=dict)
    archived: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, session: Session, keys: GatewayKeys, people: Sequence[CheckedPerson]) -> _Known:
        known = cls(keys)
        numbers = {p.index.value for p in people if p.index.kind is IdentifierKind.ID_NUMBER}
        documents = {
            _document_pair(document)
            for person in people
            for document in (*person.documents, person.index)
            if document.kind is IdentifierKind.OTHER_DOCUMENT
        }
        names = {person.username for person in people if person.username}
        if numbers:
            statement = select(Citizen).where(col(Citizen.id_number).in_(numbers))
            known.by_id_number = {c.id_number or "": c for c in session.exec(statement)}
        if documents:
            pair = tuple_(col(Citizen.document_type), col(Citizen.document_number))
            statement = select(Citizen).where(pair.in_(documents))
            known.by_document = {
                (c.document_type or "", c.document_number or ""): c for c in session.exec(statement)
            }
            listed = tuple_(col(PersonDocument.document_type), col(PersonDocument.number))
            for row in session.exec(select(PersonDocument).where(listed.in_(documents))):
                known.document_owner[(row.document_type, row.number)] = row.citizen_id
            document_keys = {
                subject_key(keys, _document_identifier(kind, number)): None
                for kind, number in documents
            }
            archived = select(CreditSubject.subject_key).where(
                col(CreditSubject.subject_key).in_(document_keys)
            )
            known.archived = set(session.exec(archived))
        if names:
            taken = select(Citizen).where(col(Citizen.username).in_(names))
            known.by_username = {c.username or "": c.id for c in session.exec(taken)}
        owners = {citizen.id for citizen in known.by_id_number.values()}
        if owners:
            rows = session.exec(
                select(PersonDocument).where(col(PersonDocument.citizen_id).in_(owners))
            )
            for row in rows:
                known.documents_of.setdefault(row.citizen_id, set()).add(
                    (row.document_type, row.number)
                )
        return known

    def decide(self, person: CheckedPerson) -> str | None:
        """The account id when the person is enrolled exactly so; None when they may be
        enrolled; raises when they may not (other details, a second archive)."""
        index = person.index
        if index.kind is IdentifierKind.ID_NUMBER:
            existing = self.by_id_number.get(index.value)
            wanted = {_document_pair(document) for document in person.documents}
            for pair in wanted:
                owner = self.document_owner.get(pair)
                if pair in self.by_document or (owner is not None and owner != _id(existing)):
                    raise SecondArchive(
                        "a listed document already indexes another account; one person, one archive"
                    )
                if subject_key(self.keys, _document_identifier(*pair)) in self.archived:
                    raise SecondArchive(
                        "a listed document already indexes an archive; one person, one archive"
                    )
            if existing is not None:
                same = (
                    existing.full_name == person.full_name
                    and wanted == self.documents_of.get(existing.id, set())
                    and (person.username is None or existing.username == person.username)
                )
                if not same:
                    raise EnrolmentConflict("the person is enrolled with other details")
                return existing.id
        else:
            pair = _document_pair(index)
            if pair in self.document_owner:
                raise SecondArchive(
                    "the document belongs to a person with an ID number, who is indexed by it "
                    "(Art. 34 para. 2)"
                )
            existing = self.by_document.get(pair)
            if existing is not None:
                if existing.full_name != person.full_name:
                    raise EnrolmentConflict("the person is enrolled with other details")
                return existing.id
        if person.username and person.username in self.by_username:
            raise EnrolmentConflict("the username is taken")
        return None

    def add(self, person: CheckedPerson, citizen: Citizen) -> None:
        """Remember a row stored in this batch (a repeated row is then unchanged)."""
        if citizen.id_number is not None:
            self.by_id_number[citizen.id_number] = citizen
            pairs = {_document_pair(document) for document in person.documents}
            self.documents_of[citizen.id] = pairs
            self.document_owner.update(dict.fromkeys(pairs, citizen.id))
        else:
            self.by_document[_document_pair(person.index)] = citizen
        if citizen.username:
            self.by_username[citizen.username] = citizen.id


def _id(citizen: Citizen | None) -> str | None:
    return None if citizen is None else citizen.id


def _document_identifier(kind: str, number: str) -> SubjectIdentifier:
    return SubjectIdentifier(IdentifierKind.OTHER_DOCUMENT, number, OtherDocumentType(kind))


def person_by_index(session: Session, value: str, now: datetime) -> Citizen:
    """An enrolled person by ID number, or by ``type:number`` of their indexing document."""
    kind, _, number = value.partition(":")
    if number:
        try:
            index = parse_identifier(
                IdentifierKind.OTHER_DOCUMENT, number, document_type=kind, on=now.date()
            )
        except InvalidIdentifier as exc:
            raise EnrolmentInvalid(exc.detail) from None
        assert index.document_type is not None
        statement = select(Citizen).where(
            Citizen.document_type == index.document_type.value,
            Citizen.document_number == index.value,
        )
    else:
        try:
            number = parse_identifier(IdentifierKind.ID_NUMBER, value, on=now.date()).value
        except InvalidIdentifier as exc:
            raise EnrolmentInvalid(exc.detail) from None
        statement = select(Citizen).where(Citizen.id_number == number)
    citizen = session.exec(statement).first()
    if citizen is None:
        raise NotEnrolled("the person is not enrolled; enrol them first")
    return citizen


# -- legal persons and unincorporated organizations ------------------------------------------


def enrol_entity(session: Session, enrolment: EntityEnrolment, now: datetime) -> EnrolmentResult:
    """Enrol an entity with its legal representative (an enrolled person); the same again is
    unchanged, a new representative replaces the old one (the register's change)."""
    try:
        code = parse_identifier(
            IdentifierKind.CREDIT_CODE, enrolment.credit_code, on=now.date()
        ).value
        kind = EntityKind(enrolment.kind)
    except InvalidIdentifier as exc:
        raise EnrolmentInvalid(exc.detail) from None
    except ValueError:
        raise EnrolmentInvalid(
            f"the kind is one of {', '.join(kind.value for kind in EntityKind)}"
        ) from None
    name = enrolment.name.strip()
    if not 0 < len(name) <= 200 or _CONTROL.search(name):
        raise EnrolmentInvalid("a name of 1 to 200 characters is required")
    representative = person_by_index(session, enrolment.representative, now)
    existing = session.exec(select(Entity).where(Entity.credit_code == code)).first()
    if existing is not None:
        if (existing.name, existing.kind, existing.representative_id) == (
            name,
            kind.value,
            representative.id,
        ):
            return EnrolmentResult(EnrolmentOutcome.UNCHANGED, existing.id)
        existing.name, existing.kind = name, kind.value
        existing.representative_id = representative.id
        session.add(existing)
        return EnrolmentResult(EnrolmentOutcome.ENROLLED, existing.id)
    entity = Entity(
        credit_code=code,
        name=name,
        kind=kind.value,
        representative_id=representative.id,
        created_at=now,
    )
    session.add(entity)
    return EnrolmentResult(EnrolmentOutcome.ENROLLED, entity.id)


def grant_agent(
    session: Session, representative_id: str, entity_id: str, grant: AgentGrant, now: datetime
) -> EntityAgent:
    """The legal representative authorizes an enrolled person to act for the entity."""
    _require_representative(session, representative_id, entity_id, now)
    reference = grant.document_reference.strip()
    if not 0 < len(reference) <= 128 or _CONTROL.search(reference):
        raise EnrolmentInvalid("the authorization document's reference is required")
    if grant.valid_until < grant.valid_from:
        raise EnrolmentInvalid("the authorization ends before it begins")
    agent = person_by_index(session, grant.agent, now)
    if agent.id == representative_id:
        raise EnrolmentInvalid("the legal representative acts for the entity without one")
    authorization = EntityAgent(
        entity_id=entity_id,
        citizen_id=agent.id,
        document_reference=reference,
        valid_from=grant.valid_from,
        valid_until=grant.valid_until,
        granted_at=now,
    )
    session.add(authorization)
    return authorization


def withdraw_agent(
    session: Session, representative_id: str, entity_id: str, agent_id: str, now: datetime
) -> EntityAgent:
    """The legal representative withdraws an authorization; it ends at once."""
    _require_representative(session, representative_id, entity_id, now)
    authorization = session.get(EntityAgent, agent_id)
    if authorization is None or authorization.entity_id != entity_id:
        raise AgentNotFound("no such authorization of this entity")
    if authorization.withdrawn_at is None:
        authorization.withdrawn_at = now
        session.add(authorization)
    return authorization


def agents_of(
    session: Session, representative_id: str, entity_id: str, now: datetime
) -> list[tuple[EntityAgent, Citizen]]:
    """Every authorization of the entity, newest first, with the agent (for its representative)."""
    _require_representative(session, representative_id, entity_id, now)
    statement = (
        select(EntityAgent, Citizen)
        .join(Citizen, col(Citizen.id) == col(EntityAgent.citizen_id))
        .where(EntityAgent.entity_id == entity_id)
        .order_by(col(EntityAgent.granted_at).desc())
    )
    return [(agent, citizen) for agent, citizen in session.exec(statement)]


def _require_representative(
    session: Session, person_id: str, entity_id: str, now: datetime
) -> None:
    if authority_for(session, person_id, entity_id, now).role != REPRESENTATIVE:
        raise AgentNotFound("only the legal representative manages the entity's agents")
