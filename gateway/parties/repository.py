"""Queries of the party registry."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from gateway.parties.models import Citizen, LegalBasis, Party


def party_by_client_id(session: Session, client_id: str) -> Party | None:
    return session.exec(select(Party).where(Party.client_id == client_id)).first()


def party_by_credit_code(session: Session, credit_code: str) -> Party | None:
    return session.exec(select(Party).where(Party.credit_code == credit_code)).first()


def party_names(session: Session, client_ids: Iterable[str]) -> dict[str, str]:
    """Registered names by client id, for the client ids that are registered."""
    statement = select(Party.client_id, Party.name).where(col(Party.client_id).in_(set(client_ids)))
    return dict(session.exec(statement).all())


def legal_bases_of(session: Session, party_id: str) -> list[LegalBasis]:
    return list(session.exec(select(LegalBasis).where(LegalBasis.party_id == party_id)))


def citizen_by_username(session: Session, username: str) -> Citizen | None:
    return session.exec(select(Citizen).where(Citizen.username == username)).first()
