"""Queries of the consent grants (Art. 61(2)).

Two writes race with each other and each is ONE conditional UPDATE, never read-then-write:
the use count of an inquiry (:meth:`SqlGrantStore.consume_use`, or of a batch of them,
:meth:`SqlGrantStore.consume_uses`) and a lifecycle change
(:meth:`SqlGrantStore.record`), which applies only if the grant is still in the state the
change was decided on and never writes ``uses`` - so a revocation and an inquiry committed
at the same moment lose neither the revocation nor the use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Row, and_, bindparam, or_, text, update
from sqlmodel import Session, col, select

from consent.grants import Grant, GrantState, SubjectKind, WrittenConsent
from consent.jws import from_timestamp
from gateway.archive.repository import FILE_REVISION
from gateway.archive.views import FileRevision
from gateway.audit_log.models import table
from gateway.consents.models import GrantRow
from gateway.oauth.repository import TOKEN_REFUSED, RevocationCheck
from gateway.storage.reads import Query, execute_in, first_in

ACTIVE_OR_PAUSED = (GrantState.ACTIVE.value, GrantState.PAUSED.value)
GRANTS = table(GrantRow)


@dataclass(frozen=True)
class StoredGrant:
    """A grant with what the gateway keeps beside it: the requester's pseudonym of the
    subject and, once approved, the signed artefact."""

    grant: Grant
    subject_pseudonym: str
    artefact: str | None = None


def to_row(grant: Grant, subject_pseudonym: str) -> GrantRow:
    return GrantRow(
        subject_pseudonym=subject_pseudonym,
        grant_id=grant.grant_id,
        requester=grant.requester,
        subject_key=grant.subject_key,
        subject_kind=grant.subject_kind.value,
        purpose=grant.purpose,
        requested_categories=sorted(grant.requested_categories),
        validity_days=grant.validity_days,
        max_uses=grant.max_uses,
        requested_at=grant.requested_at,
        pending_until=grant.pending_until,
        state=grant.state.value,
        granted_categories=sorted(grant.granted_categories),
        written_consents=[consent.as_claim() for consent in grant.written_consents],
        not_before=grant.not_before,
        expires_at=grant.expires_at,
        revoked_at=grant.revoked_at,
        uses=grant.uses,
    )


def from_row(row: GrantRow | Row[*tuple[Any, ...]]) -> Grant:
    """The grant of an ORM row, or of a Core row of the grants table (same names)."""
    return Grant(
        grant_id=row.grant_id,
        requester=row.requester,
        subject_key=row.subject_key,
        subject_kind=SubjectKind(row.subject_kind),
        purpose=row.purpose,
        requested_categories=frozenset(row.requested_categories),
        validity_days=row.validity_days,
        max_uses=row.max_uses,
        requested_at=row.requested_at,
        pending_until=row.pending_until,
        state=GrantState(row.state),
        granted_categories=frozenset(row.granted_categories),
        written_consents=tuple(_written_consent(entry) for entry in row.written_consents),
        not_before=row.not_before,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        uses=row.uses,
    )


def _stored(row: GrantRow) -> StoredGrant:
    return StoredGrant(from_row(row), row.subject_pseudonym, row.artefact)


def _written_consent(entry: dict[str, object]) -> WrittenConsent:
    signed_at = entry["signed_at"]
    assert isinstance(signed_at, int)
    return WrittenConsent(
        category=str(entry["category"]),
        text_version=str(entry["text_version"]),
        signed_at=from_timestamp(signed_at),
    )


class SqlGrantStore:
    """``consent.stores.GrantStore`` on the request's session.

    ``skip_locked``: :meth:`consume_use` and :meth:`consume_uses` do not wait for a grant row
    another transaction holds (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has no row
    locks) - the count fails as if the grant had changed. The audit log counts uses in its own
    transaction (:class:`gateway.audit_log.repository.SqlLogStore`), where waiting would be a
    deadlock: a lifecycle change holds its grant's row until its own entry in the log is
    durable.
    """

    def __init__(self, session: Session, *, skip_locked: bool = False) -> None:
        self._session = session
        self._skip_locked = skip_locked

    def get(self, grant_id: str) -> Grant | None:
        """The grant as stored now (read as a Core row: no ORM object to build; at the driver
        level while the session has begun nothing, :func:`gateway.storage.reads.first_in`)."""
        row = first_in(self._session, _GRANT, read_grant=grant_id)
        return None if row is None else from_row(row)

    def get_with_file(
        self, grant_id: str, held_by: str, revocation: RevocationCheck | None = None
    ) -> tuple[Grant, FileRevision] | tuple[None, None]:
        """The grant (:meth:`get`) and the revision of the file held about the subject
        ``held_by`` (a subject key), in ONE read: an authorized inquiry looks its view up by
        that revision, which would otherwise take a read - on PostgreSQL a round trip - of its
        own. With ``revocation``, the same read finds whether the inquirer's token is refused
        (:meth:`RevocationCheck.found`). Neither the grant nor the revision - and nothing
        about the token - when there is no such grant."""
        if revocation is None:
            row = first_in(self._session, _GRANT_AND_FILE, read_grant=grant_id, held_by=held_by)
        else:
            parameters = {"read_grant": grant_id, "held_by": held_by, **revocation.parameters()}
            row = first_in(self._session, _GRANT_FILE_AND_TOKEN, **parameters)
        if row is None:
            return None, None
        if revocation is not None:
            revocation.found(row.token_refused)
        revision = row.file_revision
        return from_row(row), FileRevision(None if revision is None else int(revision))

    def find(self, grant_id: str, *, lock: bool = False) -> StoredGrant | None:
        """The grant; with ``lock``, its row stays locked until the transaction ends
        (``FOR UPDATE`` on PostgreSQL; SQLite has no row locks)."""
        row = self._session.get(GrantRow, grant_id, populate_existing=True, with_for_update=lock)
        return None if row is None else _stored(row)

    def add(self, grant: Grant, subject_pseudonym: str) -> None:
        self._session.add(to_row(grant, subject_pseudonym))
        self._session.flush()

    def record(self, grant: Grant, expected: GrantState, artefact: str | None = None) -> bool:
        """Write ``grant``'s lifecycle fields if the stored state is still ``expected``.

        ``uses`` is left to :meth:`consume_use`; the artefact is written only when given.
        Returns whether the row matched (``False``: someone changed the grant meanwhile).
        """
        values: dict[str, object] = {
            "state": grant.state.value,
            "granted_categories": sorted(grant.granted_categories),
            "written_consents": [consent.as_claim() for consent in grant.written_consents],
            "not_before": grant.not_before,
            "expires_at": grant.expires_at,
            "revoked_at": grant.revoked_at,
        }
        if artefact is not None:
            values["artefact"] = artefact
        statement = (
            update(GrantRow)
            .where(col(GrantRow.grant_id) == grant.grant_id, col(GrantRow.state) == expected.value)
            .values(values)
            .returning(col(GrantRow.grant_id))
        )
        return self._session.execute(statement).first() is not None

    def of_subject(self, subject_key: str) -> list[StoredGrant]:
        """Every grant about one subject, newest request first."""
        rows = self._session.exec(
            select(GrantRow)
            .where(col(GrantRow.subject_key) == subject_key)
            .order_by(col(GrantRow.requested_at).desc())
        )
        return [_stored(row) for row in rows]

    def lapsed(self, now: datetime, limit: int) -> Sequence[StoredGrant]:
        """Grants whose recorded state a deadline or the use count has overtaken, locked
        until the transaction ends; rows another transaction holds are skipped (PostgreSQL)."""
        rows = self._session.exec(
            select(GrantRow)
            .where(
                or_(
                    and_(
                        col(GrantRow.state) == GrantState.PENDING.value,
                        col(GrantRow.pending_until) <= now,
                    ),
                    and_(
                        col(GrantRow.state).in_(ACTIVE_OR_PAUSED),
                        col(GrantRow.expires_at) <= now,
                    ),
                    and_(
                        col(GrantRow.state) == GrantState.ACTIVE.value,
                        col(GrantRow.uses) >= col(GrantRow.max_uses),
                    ),
                )
            )
            .order_by(col(GrantRow.grant_id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_stored(row) for row in rows]

    def consume_use(self, grant_id: str, now: datetime) -> int | None:
        statement = _COUNT_USE_SKIP_LOCKED if self._skip_locked else _COUNT_USE
        row = execute_in(self._session, statement, counted_grant=grant_id, now=now)
        return int(row[0].remaining) if row else None

    def consume_uses(self, uses: Mapping[str, int], first: datetime, last: datetime) -> set[str]:
        dialect = self._session.get_bind().dialect.name
        statement = _count_uses(dialect, skip_locked=self._skip_locked)
        return {row[0] for row in execute_in(self._session, statement, **_asked(uses, first, last))}


def every_use_counted(
    uses: Mapping[str, int], first: datetime, last: datetime
) -> tuple[Query, dict[str, Any]]:
    """PostgreSQL: ONE statement that counts the uses asked of each grant as
    :meth:`SqlGrantStore.consume_uses` does in a settlement (skipping the grants another
    transaction holds), and fails - dividing by zero, which aborts its transaction - unless it
    counted every grant asked: for a transaction whose COMMIT is sent with it, before its
    answer is read (a batch of the log written in one round trip), so that a grant that could
    not cover its uses rolls back the transaction instead of being committed uncounted."""
    return _EVERY_USE_COUNTED, {"grants": len(uses), **_asked(uses, first, last)}


def _asked(uses: Mapping[str, int], first: datetime, last: datetime) -> dict[str, Any]:
    """The parameters of :func:`_count_uses`' statements: the uses as a JSON object."""
    return {"asked": orjson.dumps(uses).decode(), "first": first, "last": last}


def _count_use(*, skip_locked: bool) -> Query:
    """The ONE conditional statement of :meth:`SqlGrantStore.consume_use`, built once."""
    now = bindparam("now", type_=GRANTS.c.expires_at.type)
    usable = and_(
        GRANTS.c.grant_id == bindparam("counted_grant"),
        GRANTS.c.state == GrantState.ACTIVE.value,
        GRANTS.c.uses < GRANTS.c.max_uses,
        GRANTS.c.not_before <= now,
        GRANTS.c.expires_at > now,
    )
    if skip_locked:
        free = select(GRANTS.c.grant_id).where(usable).with_for_update(skip_locked=True)
        usable = and_(usable, GRANTS.c.grant_id.in_(free.scalar_subquery()))
    return Query(
        update(GRANTS)
        .where(usable)
        .values(uses=GRANTS.c.uses + 1)
        .returning((GRANTS.c.max_uses - GRANTS.c.uses).label("remaining"))
    )


@cache
def _count_uses(dialect: str, *, skip_locked: bool) -> Query:
    """The ONE conditional statement of :meth:`SqlGrantStore.consume_uses`, built once: the
    uses asked of each grant are a JSON object (grant id: uses) the database unfolds, and each
    grant is reached by its key alone, whatever the planner's statistics say. The conditions on
    state and expiry are never a path to the grants: the index on them would let a planner that
    expects few active grants (a table never analyzed) read them all for every batch. On SQLite
    the state is compared as ``+state``, which no index serves (and there are no row locks to
    skip). On PostgreSQL the grants asked are first locked by key (``FOR UPDATE``, skipping
    those another transaction holds when ``skip_locked``) and whether each covers its uses is
    decided on the row so locked - the latest version, re-read once a concurrent change
    committed - then the usable ones are counted; both steps name the grants as an array of
    keys (``= ANY(ARRAY(...))``), which the planner expects to be short, where a join with the
    unfolded JSON, which it expects to hold a hundred rows, let it read a few thousand grants
    whole."""
    return _uses_query(_COUNT_USES[dialect].format(skip=_SKIP[skip_locked]), dialect)


def _uses_query(statement: str, dialect: str) -> Query:
    instant = GRANTS.c.expires_at.type
    return Query(
        text(statement).bindparams(
            bindparam("active", GrantState.ACTIVE.value),
            bindparam("first", type_=instant),
            bindparam("last", type_=instant),
        ),
        dialect,
    )


_COUNT_USES = {
    "sqlite": (
        "UPDATE consent_grants SET uses = consent_grants.uses + asked.value"
        " FROM json_each(:asked) AS asked WHERE consent_grants.grant_id = asked.key"
        " AND +consent_grants.state = :active"
        " AND consent_grants.uses + asked.value <= consent_grants.max_uses"
        " AND consent_grants.not_before <= :first AND consent_grants.expires_at > :last"
        " RETURNING consent_grants.grant_id"
    ),
    "postgresql": (
        "WITH asked AS MATERIALIZED (SELECT key AS grant_id, CAST(value AS integer) AS uses"
        " FROM json_each_text(CAST(:asked AS json))),"
        " locked AS MATERIALIZED (SELECT held.grant_id, asked.uses,"
        " held.state = :active AND held.uses + asked.uses <= held.max_uses"
        " AND held.not_before <= :first AND held.expires_at > :last AS usable"
        " FROM consent_grants AS held JOIN asked ON held.grant_id = asked.grant_id"
        " WHERE held.grant_id = ANY(ARRAY(SELECT grant_id FROM asked))"
        " FOR UPDATE OF held{skip})"
        " UPDATE consent_grants SET uses = consent_grants.uses + locked.uses FROM locked"
        " WHERE consent_grants.grant_id = locked.grant_id AND locked.usable"
        " AND consent_grants.grant_id = ANY(ARRAY(SELECT grant_id FROM locked))"
        " RETURNING consent_grants.grant_id"
    ),
}
_SKIP = {True: " SKIP LOCKED", False: ""}
_COUNTED_ALL = (
    "WITH counted AS ({count}) SELECT 1 / CAST(count(*) = :grants AS integer) FROM counted"
)
_EVERY_USE_COUNTED = _uses_query(
    _COUNTED_ALL.format(count=_COUNT_USES["postgresql"].format(skip=_SKIP[True])), "postgresql"
)
_GRANT = Query(GRANTS.select().where(GRANTS.c.grant_id == bindparam("read_grant")))
_WITH_FILE = (
    GRANTS.select().add_columns(FILE_REVISION).where(GRANTS.c.grant_id == bindparam("read_grant"))
)
_GRANT_AND_FILE = Query(_WITH_FILE)
_GRANT_FILE_AND_TOKEN = Query(_WITH_FILE.add_columns(TOKEN_REFUSED))
_COUNT_USE, _COUNT_USE_SKIP_LOCKED = _count_use(skip_locked=False), _count_use(skip_locked=True)
