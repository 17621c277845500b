"""Queries of the party registry."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from sqlalchemy import bindparam, tuple_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from gateway.audit_log.models import table
from gateway.parties.models import Citizen, LegalBasis, Party, PersonDocument, Validity
from problems import Conflict


class SecondArchive(Conflict):
    """One person, one archive: another document never indexes a person with an ID number."""

    title = "The person already has an archive"
    slug = "second-archive"
    article = "Art. 34 para. 2"


def party_by_client_id(session: Session, client_id: str) -> Party | None:
    return session.exec(select(Party).where(Party.client_id == client_id)).first()


def party_by_credit_code(session: Session, credit_code: str) -> Party | None:
    return session.exec(select(Party).where(Party.credit_code == credit_code)).first()


def party_names(session: Session, client_ids: Iterable[str]) -> dict[str, str]:
    """Registered names by client id, for the client ids that are registered."""
    statement = select(Party.client_id, Party.name).where(col(Party.client_id).in_(set(client_ids)))
    return dict(session.exec(statement).all())


def legal_bases_of(session: Session, party_id: str) -> list[LegalBasis]:
    """Every version of the party's legal bases, by code and version."""
    statement = (
        select(LegalBasis)
        .where(LegalBasis.party_id == party_id)
        .order_by(col(LegalBasis.code), col(LegalBasis.version))
    )
    return list(session.exec(statement))


def current_legal_bases(session: Session, party_id: str) -> list[LegalBasis]:
    """The latest version of each of the party's legal bases (withdrawn or not), by code."""
    return latest(legal_bases_of(session, party_id))


class BasisRow(Validity, Protocol):
    """A row of the legal bases' table, as an inquiry reads it: what it decides on."""

    @property
    def code(self) -> str: ...
    @property
    def categories(self) -> list[str]: ...


Coded = TypeVar("Coded", LegalBasis, BasisRow)


def latest(versions: Iterable[Coded]) -> list[Coded]:
    """The last of each code's versions, given by code and version."""
    return list({basis.code: basis for basis in versions}.values())


_PARTIES, _BASES = table(Party), table(LegalBasis)
SECTOR_OF_CLIENT = select_columns(_PARTIES.c.sector).where(
    _PARTIES.c.client_id == bindparam("client_id")
)
"""The sector the party ``client_id`` serves: no row, no such party; NULL, none recorded."""
BASES_OF_CLIENT = (
    select_columns(_BASES)
    .join(_PARTIES, _PARTIES.c.id == _BASES.c.party_id)
    .where(_PARTIES.c.client_id == bindparam("client_id"))
)
"""Every version of the legal bases of the party ``client_id`` (:class:`BasisRow`); the
current ones, read by code and version: :func:`latest`."""


def citizen_by_username(session: Session, username: str) -> Citizen | None:
    return session.exec(select(Citizen).where(Citizen.username == username)).first()


def documents_of_indexed_persons(
    session: Session, documents: set[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of these (document type, number) pairs belong to a person with an ID number."""
    if not documents:
        return set()
    pair = tuple_(col(PersonDocument.document_type), col(PersonDocument.number))
    statement = select(PersonDocument.document_type, PersonDocument.number).where(
        pair.in_(documents)
    )
    return {(kind, number) for kind, number in session.exec(statement)}
