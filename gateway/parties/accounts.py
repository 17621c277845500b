"""Whose credit subject a signed-in caller acts for (Art. 34, 39, 61(2)).

A natural person signs in to their own account. They act for themselves, or - with an access
token whose ``acting_for`` names an entity - for a legal person or unincorporated organization
they may represent: as its legal representative, or as an agent the representative authorized
(the authorization document's reference, valid today, not withdrawn). The authority is checked
again at every use (:func:`acting_account`), so a withdrawn authorization or a new
representative takes effect at once; a token never outlives it.

Everything done for an entity names both in the audit log: the entity as the subject (its
commitment, so it is in the entity's access log) and the person as the leaf's ``actor``, a keyed
pseudonym of their archive index (:func:`actor_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import bindparam
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, or_, select

from consent.errors import InvalidTokenError
from consent.rfc9068 import AccessToken
from gateway.audit_log.models import table
from gateway.keys import GatewayKeys
from gateway.parties.models import Citizen, Entity, EntityAgent
from gateway.storage.reads import Query, first_in
from gateway.subjects import actor_pseudonym, subject_key
from problems import PolicyDenied
from redaction.identifiers import IdentifierKind, SubjectIdentifier, parse_identifier
from redaction.periods import local_date

REPRESENTATIVE = "legal_representative"
AGENT = "agent"


class NoAuthorityToAct(PolicyDenied):
    """The signed-in person may not act for this entity (not, or no longer, its
    representative or an authorized agent)."""

    title = "No authority to act for the entity"
    slug = "no-authority-to-act"
    article = "Art. 61(2)"


@dataclass(frozen=True)
class Authority:
    """An entity a person may act for, and as what."""

    entity: Entity
    role: str
    agent: EntityAgent | None = None


def authorities_of(session: Session, citizen_id: str, now: datetime) -> list[Authority]:
    """The entities ``citizen_id`` may act for today: as representative, or as an agent."""
    today = local_date(now)
    represented = session.exec(select(Entity).where(Entity.representative_id == citizen_id))
    found = [Authority(entity, REPRESENTATIVE) for entity in represented]
    agencies = session.exec(
        select(EntityAgent, Entity)
        .join(Entity, col(Entity.id) == col(EntityAgent.entity_id))
        .where(
            EntityAgent.citizen_id == citizen_id,
            col(EntityAgent.withdrawn_at).is_(None),
            col(EntityAgent.valid_from) <= today,
            col(EntityAgent.valid_until) >= today,
        )
    )
    found += [Authority(entity, AGENT, agent) for agent, entity in agencies]
    return sorted(found, key=lambda authority: authority.entity.name)


def authority_for(session: Session, citizen_id: str, entity_id: str, now: datetime) -> Authority:
    """The person's current authority for the entity; :class:`NoAuthorityToAct` without."""
    for authority in authorities_of(session, citizen_id, now):
        if authority.entity.id == entity_id:
            return authority
    raise NoAuthorityToAct("you may not act for this entity")


def acting_account(session: Session, caller: AccessToken, now: datetime) -> str:
    """The account the caller acts for: its own, or an entity it has authority for now."""
    if caller.acting_for is None:
        return caller.subject
    return authority_for(session, caller.subject, caller.acting_for, now).entity.id


def account_identifier(session: Session, account_id: str, now: datetime) -> SubjectIdentifier:
    """The archive index (Art. 34) of an account: a person's ID number or other document, an
    entity's credit code."""
    citizen = first_in(session, _DOCUMENTS, account=account_id)
    if citizen is not None:
        return person_identifier(citizen, now)
    entity = first_in(session, _CREDIT_CODE, account=account_id)
    if entity is None:
        raise InvalidTokenError("the account no longer exists")
    return parse_identifier(IdentifierKind.CREDIT_CODE, entity.credit_code, on=now.date())


_CITIZENS, _ENTITIES = table(Citizen), table(Entity)
# At the driver level on an inquiry's path (gateway.storage.reads): the self inquiry's subject.
_DOCUMENTS = Query(
    select_columns(
        _CITIZENS.c.id_number, _CITIZENS.c.document_type, _CITIZENS.c.document_number
    ).where(_CITIZENS.c.id == bindparam("account"))
)
_CREDIT_CODE = Query(
    select_columns(_ENTITIES.c.credit_code).where(_ENTITIES.c.id == bindparam("account"))
)


class Documented(Protocol):
    """A person's archive index as stored: a citizen's row, or the columns read of it."""

    @property
    def id_number(self) -> str | None: ...
    @property
    def document_type(self) -> str | None: ...
    @property
    def document_number(self) -> str | None: ...


def person_identifier(citizen: Documented, now: datetime) -> SubjectIdentifier:
    if citizen.id_number is not None:
        return parse_identifier(IdentifierKind.ID_NUMBER, citizen.id_number, on=now.date())
    return parse_identifier(
        IdentifierKind.OTHER_DOCUMENT,
        citizen.document_number or "",
        document_type=citizen.document_type,
        on=now.date(),
    )


def account_subject_key(session: Session, keys: GatewayKeys, account_id: str, now: datetime) -> str:
    """The internal key of an account's credit subject."""
    return subject_key(keys, account_identifier(session, account_id, now))


def caller_identifier(session: Session, caller: AccessToken, now: datetime) -> SubjectIdentifier:
    """The archive index of the subject the caller acts for (authority checked)."""
    return account_identifier(session, acting_account(session, caller, now), now)


def caller_subject_key(
    session: Session, keys: GatewayKeys, caller: AccessToken, now: datetime
) -> str:
    """The internal key of the subject the caller acts for (authority checked)."""
    return subject_key(keys, caller_identifier(session, caller, now))


def actor_of(session: Session, keys: GatewayKeys, caller: AccessToken, now: datetime) -> str:
    """The leaf's ``actor``: the acting person's pseudonym when they act for an entity, else
    empty (the subject acted itself)."""
    if caller.acting_for is None:
        return ""
    return actor_pseudonym(keys, account_identifier(session, caller.subject, now))


def actor_names(
    session: Session, keys: GatewayKeys, account_id: str, now: datetime
) -> dict[str, str]:
    """For an entity's account: the names of the persons who ever had authority for it, by
    their actor pseudonym (the entity's own access log shows who acted). Empty for a person."""
    entity = session.get(Entity, account_id)
    if entity is None:
        return {}
    agents = select(EntityAgent.citizen_id).where(EntityAgent.entity_id == entity.id)
    people = session.exec(
        select(Citizen).where(
            or_(Citizen.id == entity.representative_id, col(Citizen.id).in_(agents))
        )
    )
    return {
        actor_pseudonym(keys, person_identifier(person, now)): person.full_name or person.id
        for person in people
    }
