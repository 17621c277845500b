"""Queries of the regulator officers. The TOTP counter moves only forward, in ONE conditional
UPDATE committed at once (as a citizen's factor's, :mod:`gateway.factors.repository`): two
sign-ins presenting the same code cannot both be accepted."""

from __future__ import annotations

from sqlalchemy import Engine, or_, update
from sqlmodel import Session, col, select

from gateway.console.models import RegulatorOfficer


def officer_by_username(session: Session, username: str) -> RegulatorOfficer | None:
    statement = select(RegulatorOfficer).where(col(RegulatorOfficer.username) == username)
    return session.exec(statement).first()


def add(session: Session, officer: RegulatorOfficer) -> None:
    session.add(officer)
    session.flush()


def accept_step(engine: Engine, officer_id: str, step: int) -> bool:
    """Record ``step`` as the officer's last accepted one, unless it is not after it."""
    statement = (
        update(RegulatorOfficer)
        .where(
            col(RegulatorOfficer.officer_id) == officer_id,
            or_(col(RegulatorOfficer.last_step).is_(None), col(RegulatorOfficer.last_step) < step),
        )
        .values(last_step=step)
        .returning(col(RegulatorOfficer.officer_id))
    )
    with engine.begin() as connection:
        return connection.execute(statement).first() is not None
