"""Queries of the credit archive (Art. 34, 37, 41, 61(3), 63, 65).

Read side: :class:`SqlCreditArchive` is :class:`redaction.engine.CreditArchive` on the
request's session — a subject's records, every version with them, in one indexed query (the
records by subject key joined to their versions) that the database answers as one JSON row,
then what the subject stated about them (Art. 37 para. 2) when the file holds any record;
purged records are left out, nothing about them is served any more (Art. 41 para. 2).

Write side: subjects are inserted once (a concurrent insert of the same subject is ignored);
records and their first version are added together; a new version is written after ONE
conditional UPDATE of the record (it applies only if the record is still at the version the
change was decided on), so two concurrent changes cannot both land. The retention purge empties
the content of versions, marks the records purged and removes subjects nothing refers to.

Subject rights (Art. 64, 65): a record of a subject's own file, the objection label set and
lifted, and the Art. 65 reports of changed basis documents for regulators.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Engine,
    Row,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    or_,
    update,
)
from sqlalchemy import select as select_columns
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from gateway.archive.errors import ConcurrentChange
from gateway.archive.models import ArchiveFile, CreditSubject, RecordRow, RecordVersionRow
from gateway.archive.models import SubjectStatement as StatementRow
from gateway.audit_log.models import LEAVES, OPENINGS, table
from gateway.keys import GatewayKeys
from gateway.storage.reads import Query, first_in
from gateway.subjects import subject_key
from redaction.changes import BasisChange
from redaction.identifiers import SubjectIdentifier
from redaction.ingest import (
    AcceptedRecord,
    BasisDocument,
    BasisKind,
    Lenient,
    SubjectReference,
)
from redaction.periods import local_date
from redaction.records import CreditRecord, RecordStatus
from redaction.statements import StatementKind, SubjectStatement

SUBJECTS, STATEMENTS = table(CreditSubject), table(StatementRow)
RECORDS, VERSIONS, FILES = table(RecordRow), table(RecordVersionRow), table(ArchiveFile)


@dataclass(frozen=True)
class VersionContent:
    """What one version of a record says, normalized as it is stored and compared."""

    fields: Mapping[str, str]
    occurred_on: date
    decided_on: date | None
    basis: BasisDocument | None
    written_consent_ref: str | None
    corrected_on: date | None = None
    lenient: frozenset[Lenient] = frozenset()

    @classmethod
    def of(cls, accepted: AcceptedRecord) -> VersionContent:
        return cls(
            dict(accepted.fields),
            accepted.occurred_on,
            accepted.decided_on,
            accepted.basis,
            accepted.written_consent_ref,
            accepted.corrected_on,
            accepted.lenient,
        )

    @property
    def period_start(self) -> date:
        return self.decided_on or self.occurred_on

    def document(self) -> dict[str, object]:
        """JSON-ready, the shape a commitment to the version is computed over (the lenient
        designation's members only when it applies)."""
        lenient: dict[str, object] = {}
        if self.lenient or self.corrected_on:
            lenient = {
                "corrected_on": self.corrected_on.isoformat() if self.corrected_on else None,
                "lenient": sorted(self.lenient),
            }
        return {
            "fields": dict(sorted(self.fields.items())),
            "occurred_on": self.occurred_on.isoformat(),
            "decided_on": self.decided_on.isoformat() if self.decided_on else None,
            "basis": basis_json(self.basis),
            "written_consent_ref": self.written_consent_ref,
            **lenient,
        }


@dataclass(frozen=True)
class StoredRecord:
    """A record as a change starts from: its row, current content and subject as submitted."""

    row: RecordRow
    current: VersionContent
    subject: SubjectReference

    @property
    def status(self) -> RecordStatus:
        return RecordStatus(self.row.status)


@dataclass(frozen=True)
class NewVersion:
    """A version about to be written, with the audit leaf that registered it."""

    record_id: str
    version: int
    status: RecordStatus
    content: VersionContent
    source: str
    changed_at: datetime
    leaf_index: int | None = None
    reason: str | None = None
    basis_change: BasisChange | None = None

    def committed(self) -> bytes:
        """The exact bytes its audit leaf's response commitment is computed over."""
        return committed_version(self.record_id, self.version, self.status.value, self.content)

    def row(self) -> RecordVersionRow:
        change = self.basis_change
        return RecordVersionRow(
            record_id=self.record_id,
            version=self.version,
            status=self.status.value,
            fields=dict(self.content.fields),
            occurred_on=self.content.occurred_on,
            decided_on=self.content.decided_on,
            basis=basis_json(self.content.basis),
            written_consent_ref=self.content.written_consent_ref,
            corrected_on=self.content.corrected_on,
            lenient=sorted(self.content.lenient) or None,
            reason=self.reason,
            source=self.source,
            basis_status=change.status.value if change else None,
            basis_changed_on=change.changed_on if change else None,
            notice_on=change.notice_on if change else None,
            leaf_index=self.leaf_index,
            changed_at=self.changed_at,
        )


def committed_version(record_id: str, version: int, status: str, content: VersionContent) -> bytes:
    """A version as canonical JSON: what the audit leaf registering it commits to (Art. 61(3)).

    Written from a new version by the service, and from a stored row by the archive's
    integrity check (:mod:`gateway.archive.integrity`): one encoding for both.
    """
    document = {"record_id": record_id, "version": version, "status": status, **content.document()}
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def basis_json(basis: BasisDocument | None) -> dict[str, str] | None:
    if basis is None:
        return None
    return {
        "kind": basis.kind.value,
        "number": basis.number,
        "issuer": basis.issuer,
        "issued_on": basis.issued_on.isoformat(),
    }


def _basis(document: Mapping[str, str] | None) -> BasisDocument | None:
    if document is None:
        return None
    return BasisDocument(
        BasisKind(document["kind"]),
        document["number"],
        document["issuer"],
        date.fromisoformat(document["issued_on"]),
    )


def stored_content(version: RecordVersionRow | Row[Any]) -> VersionContent:
    """The content of a stored version (an ORM row or a Core row of ``record_versions``)."""
    return VersionContent(
        dict(version.fields or {}),
        version.occurred_on,
        version.decided_on,
        _basis(version.basis),
        version.written_consent_ref,
        version.corrected_on,
        frozenset(Lenient(flag) for flag in version.lenient or ()),
    )


@dataclass(frozen=True)
class ArchivedVersion:
    """A stored version with what the integrity check compares it to: its record's current
    version, purge mark and subject, and its audit leaf with the leaf's openings."""

    record_id: str
    current_version: int
    purged: bool
    subject_key: str | None
    version: int | None
    status: str | None
    content: VersionContent | None
    leaf_index: int | None
    leaf: bytes | None
    subject_salt: bytes | None
    response_salt: bytes | None


def iter_archived_versions(
    engine: Engine, page: int = 10_000
) -> Generator[ArchivedVersion, None, None]:
    """Every record with each of its versions (none: ``version`` None), by record id and
    version, one query per page of records; leaves and openings joined on the leaf index."""
    after = ""
    while True:
        with engine.connect() as connection:
            rows = connection.execute(_archived_page(after, page)).all()
        if not rows:
            return
        for row in rows:
            yield _archived(row)
        after = rows[-1].record_id


def _archived_page(after: str, page: int) -> Select[Any]:
    records = (
        select_columns(RECORDS.c.record_id)
        .where(RECORDS.c.record_id > after)
        .order_by(RECORDS.c.record_id)
        .limit(page)
        .subquery()
    )
    return (
        select_columns(
            RECORDS.c.record_id,
            RECORDS.c.version.label("current_version"),
            RECORDS.c.purged_at,
            RECORDS.c.subject_key,
            VERSIONS.c.version,
            VERSIONS.c.status,
            VERSIONS.c.fields,
            VERSIONS.c.occurred_on,
            VERSIONS.c.decided_on,
            VERSIONS.c.basis,
            VERSIONS.c.written_consent_ref,
            VERSIONS.c.corrected_on,
            VERSIONS.c.lenient,
            VERSIONS.c.leaf_index,
            LEAVES.c.leaf,
            OPENINGS.c.subject_salt,
            OPENINGS.c.response_salt,
        )
        .join(records, records.c.record_id == RECORDS.c.record_id)
        .outerjoin(VERSIONS, VERSIONS.c.record_id == RECORDS.c.record_id)
        .outerjoin(LEAVES, LEAVES.c.leaf_index == VERSIONS.c.leaf_index)
        .outerjoin(OPENINGS, OPENINGS.c.leaf_index == VERSIONS.c.leaf_index)
        .order_by(RECORDS.c.record_id, VERSIONS.c.version)
    )


def _archived(row: Row[Any]) -> ArchivedVersion:
    present = row.version is not None
    return ArchivedVersion(
        record_id=row.record_id,
        current_version=row.current_version,
        purged=row.purged_at is not None,
        subject_key=row.subject_key,
        version=row.version,
        status=row.status,
        content=stored_content(row) if present and row.purged_at is None else None,
        leaf_index=row.leaf_index,
        leaf=row.leaf,
        subject_salt=row.subject_salt,
        response_salt=row.response_salt,
    )


# -- read side -----------------------------------------------------------------------------


class SqlCreditArchive:
    """:class:`redaction.engine.CreditArchive` on the request's session."""

    def __init__(self, session: Session, keys: GatewayKeys) -> None:
        self._session = session
        self._keys = keys

    def records_of(
        self, subject: SubjectIdentifier, item_codes: Collection[str] | None = None
    ) -> Sequence[CreditRecord]:
        """Every record held about ``subject`` with its history, latest period start first;
        only the items of ``item_codes`` when given (nothing else is built or redacted)."""
        return self.file_of(subject, item_codes).records

    def file_of(
        self, subject: SubjectIdentifier, item_codes: Collection[str] | None = None
    ) -> HeldFile:
        """:meth:`records_of` with the file's revision, read in the same statement."""
        held = _HELD_FILE[self._session.get_bind().dialect.name]
        document = first_in(self._session, held, held_by=subject_key(self._keys, subject))
        assert document is not None  # a row of three subqueries: always one
        held_versions, held_statements, revision = document
        versions = [
            row
            for row in json.loads(held_versions or "[]")
            if item_codes is None or row[_ITEM_CODE] in item_codes
        ]
        versions.sort(key=_served_order)
        stated = _statements(json.loads(held_statements or "[]"))
        records = tuple(
            _credit_record(list(record), stated.get(record_id, ()))
            for record_id, record in groupby(versions, itemgetter(_RECORD_ID))
        )
        return HeldFile(records, revision)

    def revision(self, subject: SubjectIdentifier) -> int | None:
        """The revision of ``subject``'s file (None: nothing was ever held about it)."""
        held_by = subject_key(self._keys, subject)
        row = first_in(self._session, _REVISION, held_by=held_by)
        return None if row is None else int(row.revision)


@dataclass(frozen=True)
class HeldFile:
    """A subject's records and the revision of the file they were read from (see
    :class:`~gateway.archive.models.ArchiveFile`)."""

    records: tuple[CreditRecord, ...]
    revision: int | None


def _statements(rows: list[list[str]]) -> dict[str, tuple[SubjectStatement, ...]]:
    """The subject's statements (Art. 37 para. 2) by record, oldest first."""
    found: dict[str, list[tuple[datetime, SubjectStatement]]] = {}
    for record_id, kind, text, made in rows:
        moment = datetime.fromisoformat(made)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        statement = SubjectStatement(StatementKind(kind), text, local_date(moment))
        found.setdefault(record_id, []).append((moment, statement))
    return {
        record_id: tuple(statement for _, statement in sorted(entries, key=itemgetter(0)))
        for record_id, entries in found.items()
    }


def add_statement(session: Session, row: StatementRow) -> None:
    session.add(row)
    session.flush()


def statements_of(session: Session, key: str) -> list[StatementRow]:
    """The subject's statements, newest first."""
    statement = (
        select(StatementRow)
        .where(col(StatementRow.subject_key) == key)
        .order_by(col(StatementRow.made_at).desc(), col(StatementRow.statement_id))
    )
    return list(session.exec(statement))


# A subject's file is read as ONE row: its versions aggregated into a JSON array by the
# database, each version an array in this order. On SQLite every row of a result costs a step
# that hands the interpreter lock over; one row keeps a busy gateway from queueing on it.
_VERSION_COLUMNS = (
    RECORDS.c.record_id,
    RECORDS.c.item_code,
    RECORDS.c.under_objection,
    VERSIONS.c.version,
    VERSIONS.c.status,
    VERSIONS.c.fields,
    VERSIONS.c.source,
    VERSIONS.c.occurred_on,
    VERSIONS.c.decided_on,
    VERSIONS.c.reason,
    RECORDS.c.period_start,
)
_RECORD_ID, _ITEM_CODE, _VERSION, _PERIOD_START = 0, 1, 3, 10


_STATEMENT_COLUMNS = (
    STATEMENTS.c.record_id,
    STATEMENTS.c.kind,
    STATEMENTS.c.text,
    STATEMENTS.c.made_at,
)


def _json_rows(dialect: str, columns: Sequence[ColumnElement[Any]]) -> ColumnElement[str | None]:
    """An aggregate of ``columns`` per row, as one JSON array (text), in ``dialect``."""
    if dialect == "postgresql":
        return cast(func.json_agg(func.json_build_array(*columns)), Text)
    # SQLite keeps JSON as text: the fields column is parsed to be nested as JSON
    parsed = [func.json(c) if c is VERSIONS.c.fields else c for c in columns]
    return func.json_group_array(func.json_array(*parsed), type_=Text)


def _held_file(dialect: str) -> Query:
    """The subject's versions, and what the subject stated about them, as two JSON arrays
    (text), and the file's revision, in ONE row (read at the driver level)."""
    held_by: BindParameter[str] = bindparam("held_by")
    versions = (
        select_columns(_json_rows(dialect, _VERSION_COLUMNS))
        .select_from(RECORDS.join(VERSIONS, VERSIONS.c.record_id == RECORDS.c.record_id))
        .where(RECORDS.c.subject_key == held_by, RECORDS.c.purged_at.is_(None))
        .scalar_subquery()
    )
    statements = (
        select_columns(_json_rows(dialect, _STATEMENT_COLUMNS))
        .where(STATEMENTS.c.subject_key == held_by)
        .scalar_subquery()
    )
    revision = select_columns(FILES.c.revision).where(FILES.c.subject_key == held_by)
    held: list[ColumnElement[Any]] = [
        versions.label("versions"),
        statements.label("statements"),
        revision.scalar_subquery().label("revision"),
    ]
    return Query(select_columns(*held), dialect)


_REVISION_HELD = select_columns(FILES.c.revision).where(FILES.c.subject_key == bindparam("held_by"))
_REVISION = Query(_REVISION_HELD)
FILE_REVISION = _REVISION_HELD.scalar_subquery().label("file_revision")
"""A column another read can carry: the revision of the file held about the subject key
``held_by`` (NULL: nothing was ever held), read in the same statement
(:class:`gateway.archive.views.FileRevision`)."""
_HELD_FILE = {dialect: _held_file(dialect) for dialect in ("sqlite", "postgresql")}


def _served_order(version: list[Any]) -> tuple[int, str, int]:
    """Latest period start first; a record's versions together, oldest first."""
    start = date.fromisoformat(version[_PERIOD_START][:10]).toordinal()
    return (-start, version[_RECORD_ID], version[_VERSION])


def _credit_record(
    versions: Sequence[list[Any]], statements: tuple[SubjectStatement, ...]
) -> CreditRecord:
    *history, current = versions
    served = _version(current, tuple(_version(version) for version in history))
    return replace(served, statements=statements) if statements else served


def _version(row: list[Any], history: tuple[CreditRecord, ...] | None = None) -> CreditRecord:
    """A version; with ``history``, the record's current one (which carries the label)."""
    record_id, item_code, labelled, version, status, fields, source, occurred, decided, reason = (
        row[:_PERIOD_START]
    )
    return CreditRecord(
        record_id=record_id,
        item_code=item_code,
        version=version,
        fields=fields or {},
        source=source,
        occurred_on=date.fromisoformat(occurred[:10]),
        decided_on=date.fromisoformat(decided[:10]) if decided else None,
        status=RecordStatus(status),
        under_objection=history is not None and bool(labelled),
        change_reason=reason,
        history=history or (),
    )


# -- write side ----------------------------------------------------------------------------


def first_versions(
    session: Session, provider: str, provider_record_ids: Iterable[str]
) -> dict[str, tuple[RecordRow, VersionContent | None]]:
    """The provider's records with these ids, each with its first version's content (None once
    purged), for recognizing a replayed submission."""
    ids = set(provider_record_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(RecordRow, RecordVersionRow)
        .join(
            RecordVersionRow,
            and_(
                col(RecordVersionRow.record_id) == col(RecordRow.record_id),
                col(RecordVersionRow.version) == 1,
            ),
        )
        .where(
            col(RecordRow.provider) == provider,
            col(RecordRow.provider_record_id).in_(ids),
        )
    )
    return {
        row.provider_record_id: (row, None if row.purged_at else stored_content(first))
        for row, first in rows
    }


def owned_record(
    session: Session, provider: str, record_id: str, *, lock: bool = False
) -> StoredRecord | None:
    """The provider's record with its current content; None for another provider's, a purged
    or an unknown one. With ``lock`` the record row stays locked (``FOR UPDATE`` on PostgreSQL)."""
    row = session.get(RecordRow, record_id, populate_existing=True, with_for_update=lock)
    if row is None or row.provider != provider or row.subject_key is None:
        return None
    version = session.get(RecordVersionRow, (record_id, row.version))
    subject = session.get(CreditSubject, row.subject_key)
    assert version is not None and subject is not None  # kept together until the purge
    reference = SubjectReference(
        subject.identifier_kind, subject.identifier_value, subject.document_type
    )
    return StoredRecord(row, stored_content(version), reference)


def add_subjects(
    session: Session, subjects: Mapping[str, SubjectIdentifier], now: datetime
) -> None:
    """Insert the subjects (by subject key) not held yet; a concurrent insert is ignored."""
    if not subjects:
        return
    rows = [
        {
            "subject_key": key,
            "identifier_kind": identifier.kind.value,
            "identifier_value": identifier.value,
            "document_type": identifier.document_type.value if identifier.document_type else None,
            "subject_kind": identifier.subject_kind.value,
            "created_at": now,
        }
        for key, identifier in subjects.items()
    ]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(SUBJECTS).values(rows).on_conflict_do_nothing())


def add_records(session: Session, records: Sequence[tuple[RecordRow, NewVersion]]) -> None:
    """Add new records with their first version; a provider record id submitted meanwhile by a
    concurrent request is :class:`ConcurrentChange`."""
    session.add_all(row for row, _ in records)
    _flush(session)
    session.add_all(version.row() for _, version in records)
    _flush(session)


def add_version(session: Session, version: NewVersion, catalog_version: str) -> None:
    """Make ``version`` the record's current one, if the record is still at the one before."""
    values: dict[str, object] = {
        "version": version.version,
        "status": version.status.value,
        "period_start": version.content.period_start,
        "catalog_version": catalog_version,
        "updated_at": version.changed_at,
    }
    statement = (
        update(RecordRow)
        .where(
            col(RecordRow.record_id) == version.record_id,
            col(RecordRow.version) == version.version - 1,
        )
        .values(values)
        .returning(col(RecordRow.record_id))
    )
    if session.execute(statement).first() is None:
        raise ConcurrentChange("the record changed meanwhile; read it again")
    session.add(version.row())
    _flush(session)


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError:
        raise ConcurrentChange(
            "a concurrent request stored the same record first; nothing of this one was stored"
        ) from None


# -- retention (Art. 41) -------------------------------------------------------------------


@dataclass(frozen=True)
class Expired:
    """A record whose retention period has ended."""

    record_id: str
    subject_key: str
    item_code: str


def past_retention(
    session: Session, latest_starts: Mapping[str, date], limit: int
) -> list[Expired]:
    """Records not purged yet whose period started on or before their item's date in
    ``latest_starts``, oldest first, locked until the transaction ends; rows another
    transaction holds are skipped (PostgreSQL)."""
    if not latest_starts:
        return []
    due = or_(
        *(
            and_(col(RecordRow.item_code) == code, col(RecordRow.period_start) <= start)
            for code, start in latest_starts.items()
        )
    )
    rows = session.exec(
        select(RecordRow)
        .where(col(RecordRow.purged_at).is_(None), due)
        .order_by(col(RecordRow.period_start), col(RecordRow.record_id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [
        Expired(row.record_id, row.subject_key, row.item_code)
        for row in rows
        if row.subject_key is not None
    ]


def purge(session: Session, expired: Sequence[Expired], now: datetime) -> None:
    """Empty every version of the records, delete what their subjects stated about them and
    the openings of the leaves that registered the versions (their commitments can no longer be
    linked to the subject; the leaves stay and verify), mark the records purged, and remove the
    subjects that no record with content refers to any more."""
    record_ids = [record.record_id for record in expired]
    session.execute(delete(StatementRow).where(col(StatementRow.record_id).in_(record_ids)))
    registered = select_columns(VERSIONS.c.leaf_index).where(VERSIONS.c.record_id.in_(record_ids))
    session.execute(delete(OPENINGS).where(OPENINGS.c.leaf_index.in_(registered)))
    session.execute(
        update(RecordVersionRow)
        .where(col(RecordVersionRow.record_id).in_(record_ids))
        .values(fields=None, basis=None, written_consent_ref=None, reason=None)
    )
    session.execute(
        update(RecordRow)
        .where(col(RecordRow.record_id).in_(record_ids))
        .values(purged_at=now, updated_at=now, subject_key=None)
    )
    referred = exists().where(col(RecordRow.subject_key) == col(CreditSubject.subject_key))
    session.execute(
        delete(CreditSubject).where(
            col(CreditSubject.subject_key).in_({record.subject_key for record in expired}),
            ~referred,
        )
    )


# -- subject rights (Art. 64, 65) ----------------------------------------------------------


def subject_record(session: Session, subject_key: str, record_id: str) -> RecordRow | None:
    """The record ``record_id`` if it is about the subject and still has content."""
    row = session.get(RecordRow, record_id)
    if row is None or row.subject_key != subject_key:
        return None
    return row


def label_under_objection(session: Session, record_id: str, labelled: bool) -> None:
    """Set or clear the record's objection label (Art. 64: labelled while it is handled)."""
    session.execute(
        update(RecordRow)
        .where(col(RecordRow.record_id) == record_id)
        .values(under_objection=labelled)
    )


@dataclass(frozen=True)
class BasisNotice:
    """A providing unit's Art. 65 report: the document's change and the day it arrived."""

    provider: str
    record_id: str
    item_code: str
    basis_status: str
    basis_changed_on: date
    notice_on: date


def basis_notices(session: Session, since: date) -> list[BasisNotice]:
    """The Art. 65 reports that arrived on ``since`` or later, by providing unit."""
    rows = session.exec(
        select(RecordRow, RecordVersionRow)
        .join(RecordRow, col(RecordRow.record_id) == col(RecordVersionRow.record_id))
        .where(col(RecordVersionRow.notice_on) >= since)
        .order_by(col(RecordRow.provider), col(RecordVersionRow.notice_on))
    )
    return [_basis_notice(row, version) for row, version in rows]


def _basis_notice(row: RecordRow, version: RecordVersionRow) -> BasisNotice:
    status, changed_on, notice_on = (
        version.basis_status,
        version.basis_changed_on,
        version.notice_on,
    )
    assert status and changed_on and notice_on  # a version with a notice records all three
    return BasisNotice(row.provider, row.record_id, row.item_code, status, changed_on, notice_on)
