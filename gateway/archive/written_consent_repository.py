"""Queries of the written consents records rest on (Art. 62 para. 2)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from gateway.archive.models import WrittenConsentRow
from redaction.written_consent import WrittenConsentOnFile, WrittenConsentSource


def written_consent(session: Session, provider: str, reference: str) -> WrittenConsentRow | None:
    return session.get(WrittenConsentRow, (provider, reference))


def on_file(session: Session, provider: str, reference: str) -> WrittenConsentOnFile | None:
    """What :func:`redaction.written_consent.check_written_consent` needs of a reference."""
    row = written_consent(session, provider, reference)
    if row is None:
        return None
    return WrittenConsentOnFile(
        row.provider,
        row.subject_key,
        row.category,
        WrittenConsentSource(row.source),
        row.withdrawn_at is not None,
    )


def subject_written_consents(session: Session, subject_key: str) -> list[WrittenConsentRow]:
    """Every written consent about the subject, newest first."""
    statement = (
        select(WrittenConsentRow)
        .where(WrittenConsentRow.subject_key == subject_key)
        .order_by(col(WrittenConsentRow.given_at).desc(), col(WrittenConsentRow.reference))
    )
    return list(session.exec(statement))


def subject_written_consent(
    session: Session, subject_key: str, provider: str, reference: str
) -> WrittenConsentRow | None:
    """The subject's written consent by providing unit and reference; another's is None."""
    row = written_consent(session, provider, reference)
    return row if row is not None and row.subject_key == subject_key else None
