"""Queries of report issuance: the reports of a subject, one by number, the basis documents of
the record versions a report shows."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import tuple_, update
from sqlmodel import Session, col, select

from gateway.archive.models import RecordVersionRow
from gateway.reports.models import IssuedReport, ReportStatus


def reports_of(session: Session, subject_key: str) -> list[IssuedReport]:
    statement = (
        select(IssuedReport)
        .where(IssuedReport.subject_key == subject_key)
        .order_by(col(IssuedReport.issued_at).desc(), col(IssuedReport.number).desc())
    )
    return list(session.exec(statement))


def report_by_number(session: Session, number: str) -> IssuedReport | None:
    return session.get(IssuedReport, number)


def supersede(session: Session, subject_key: str, use: str, by: IssuedReport) -> None:
    """Every valid report of the subject for the same use is superseded by ``by``."""
    session.execute(
        update(IssuedReport)
        .where(col(IssuedReport.subject_key) == subject_key)
        .where(col(IssuedReport.use) == use)
        .where(col(IssuedReport.status) == ReportStatus.VALID.value)
        .values(
            status=ReportStatus.SUPERSEDED.value, superseded_by=by.number, changed_at=by.issued_at
        )
    )


def bases_of(
    session: Session, versions: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], dict[str, str]]:
    """The basis document (Art. 27) of each (record id, version) that has one."""
    wanted = set(versions)
    if not wanted:
        return {}
    statement = select(
        RecordVersionRow.record_id, RecordVersionRow.version, RecordVersionRow.basis
    ).where(tuple_(col(RecordVersionRow.record_id), col(RecordVersionRow.version)).in_(wanted))
    return {
        (record_id, version): dict(basis)
        for record_id, version, basis in session.exec(statement)
        if basis
    }
