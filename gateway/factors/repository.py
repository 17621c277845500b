"""Queries of the citizens' second factors.

The two counters - a TOTP factor's last accepted step and a passkey's signature counter - move
only forward, each in ONE conditional UPDATE committed at once in a transaction of its own:
two requests presenting the same code cannot both be accepted, and a request that fails later
cannot roll an accepted code back.
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, or_, update
from sqlalchemy.orm import Mapped
from sqlmodel import Session, SQLModel, col, select

from gateway.factors.models import Factor


def factors_of(session: Session, citizen_id: str) -> list[Factor]:
    """The citizen's confirmed factors, oldest first."""
    statement = (
        select(Factor)
        .where(col(Factor.citizen_id) == citizen_id, col(Factor.confirmed_at).is_not(None))
        .order_by(col(Factor.created_at), col(Factor.factor_id))
    )
    return list(session.exec(statement))


def factor_of(session: Session, citizen_id: str, factor_id: str) -> Factor | None:
    """One of the citizen's factors (confirmed or not); another's is ``None``."""
    factor = session.get(Factor, factor_id)
    return factor if factor is not None and factor.citizen_id == citizen_id else None


def passkey_of(session: Session, citizen_id: str, credential_id: str) -> Factor | None:
    factor = session.exec(select(Factor).where(col(Factor.credential_id) == credential_id)).first()
    return factor if factor is not None and factor.citizen_id == citizen_id else None


def add(session: Session, factor: Factor) -> None:
    session.add(factor)
    session.flush()


def drop_unconfirmed(session: Session, citizen_id: str) -> None:
    session.execute(
        delete(Factor).where(
            col(Factor.citizen_id) == citizen_id, col(Factor.confirmed_at).is_(None)
        )
    )


def remove_all(session: Session, citizen_id: str) -> int:
    """Remove every factor of the citizen; how many there were."""
    statement = delete(Factor).where(col(Factor.citizen_id) == citizen_id)
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def accept_step(engine: Engine, factor_id: str, step: int) -> bool:
    """Record ``step`` as the TOTP factor's last accepted one, unless it is not after it."""
    key, last_step = col(Factor.factor_id), col(Factor.last_step)
    return advance_step(engine, Factor, key, last_step, factor_id, step)


def advance_step(
    engine: Engine,
    model: type[SQLModel],
    key: Mapped[str],
    last_step: Mapped[int | None],
    value: str,
    step: int,
) -> bool:
    """Move the TOTP counter ``last_step`` of the row ``key == value`` to ``step`` in one
    conditional UPDATE committed at once, so two uses of one code cannot both be accepted."""
    statement = (
        update(model)
        .where(key == value, or_(last_step.is_(None), last_step < step))
        .values({last_step: step})
        .returning(key)
    )
    with engine.begin() as connection:
        return connection.execute(statement).first() is not None


def count_signature(engine: Engine, factor_id: str, sign_count: int) -> None:
    """Move a passkey's signature counter forward (authenticators that keep none send 0)."""
    with engine.begin() as connection:
        connection.execute(
            update(Factor)
            .where(col(Factor.factor_id) == factor_id, col(Factor.sign_count) < sign_count)
            .values(sign_count=sign_count)
        )
