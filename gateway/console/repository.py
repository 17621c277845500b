"""Queries of the regulator officers. The TOTP counter moves only forward, in ONE conditional
UPDATE committed at once (as a citizen's factor's, :mod:`gateway.factors.repository`): two
sign-ins presenting the same code cannot both be accepted."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from gateway.console.models import RegulatorOfficer
from gateway.factors.repository import advance_step


def officer_by_username(session: Session, username: str) -> RegulatorOfficer | None:
    statement = select(RegulatorOfficer).where(col(RegulatorOfficer.username) == username)
    return session.exec(statement).first()


def add(session: Session, officer: RegulatorOfficer) -> None:
    session.add(officer)
    session.flush()


def accept_step(engine: Engine, officer_id: str, step: int) -> bool:
    """Record ``step`` as the officer's last accepted one, unless it is not after it."""
    officer, last_step = col(RegulatorOfficer.officer_id), col(RegulatorOfficer.last_step)
    return advance_step(engine, RegulatorOfficer, officer, last_step, officer_id, step)
