"""Queries of the purposes registry."""

from __future__ import annotations

from sqlmodel import Session, col, select

from consent.purposes import Purpose, PurposeRegistry
from gateway.registry.models import PurposeVersion
from redaction.catalog import ScopeCategory

CATEGORIES = frozenset(category.value for category in ScopeCategory)


def purpose_versions(session: Session) -> list[PurposeVersion]:
    """The latest version of every purpose (retired or not), by code."""
    statement = select(PurposeVersion).order_by(
        col(PurposeVersion.code), col(PurposeVersion.version)
    )
    return list({row.code: row for row in session.exec(statement)}.values())


def latest_purpose(session: Session, code: str) -> PurposeVersion | None:
    statement = (
        select(PurposeVersion)
        .where(PurposeVersion.code == code)
        .order_by(col(PurposeVersion.version).desc())
    )
    return session.exec(statement).first()


def purpose_registry(session: Session, *, retired: bool = False) -> PurposeRegistry:
    """The purposes in force (consent requests are checked against them); with ``retired``,
    the retired ones too (to describe the consents already granted for them)."""
    rows = [row for row in purpose_versions(session) if retired or row.retired_at is None]
    return PurposeRegistry([Purpose.model_validate(row.definition) for row in rows], CATEGORIES)
