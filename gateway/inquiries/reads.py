"""The one read of the sharing, authority and self inquiries' decisions (Art. 39 para. 2, 4
and 5): the requester's sector, its legal bases or the notes about the citizen, with the
revision of the subject's file and, when it is still to be read, whether the requester's token
is refused - ONE statement, and on PostgreSQL one round trip, where each took its own. The
authorized inquiry's is the grant's
(:meth:`gateway.consents.repository.SqlGrantStore.get_with_file`); a self inquiry reads the
citizen's identifier before it (the subject key is computed from it).

Each is read as before, only together: the rows as :mod:`gateway.parties.repository` selects
them, the revision as :func:`gateway.archive.service.view_for` would read it
(:data:`gateway.archive.repository.FILE_REVISION`), the refusal as
:meth:`gateway.oauth.repository.RevocationCheck.settle` would
(:data:`gateway.oauth.repository.TOKEN_REFUSED`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select
from sqlmodel import Session

from gateway.archive.notes import NOTES_ABOUT, as_shown
from gateway.archive.repository import FILE_REVISION
from gateway.archive.views import FileRevision
from gateway.oauth.repository import TOKEN_REFUSED, RevocationCheck
from gateway.parties.repository import BASES_OF_CLIENT, SECTOR_OF_CLIENT, BasisRow, latest
from gateway.storage.reads import Query, all_in, with_context


def sector_of(
    session: Session, client_id: str, held_by: str, revocation: RevocationCheck | None
) -> tuple[str | None, FileRevision]:
    """The sector the party ``client_id`` serves (None: no such party, or none recorded) and
    the revision of the file held about the subject key ``held_by``."""
    rows, file = _read(session, _SECTOR, held_by, revocation, client_id=client_id)
    return rows[0].sector, file


def current_legal_bases_of(
    session: Session, client_id: str, held_by: str, revocation: RevocationCheck | None
) -> tuple[list[BasisRow], FileRevision]:
    """The latest version of each legal basis of the party ``client_id`` (none: no such party),
    as rows (no model to build: one cost a fifth of an inquiry based on authority) - whether
    each is in force: :func:`gateway.parties.models.in_force` - and the revision of the file
    held about the subject key ``held_by``."""
    rows, file = _read(session, _BASES, held_by, revocation, client_id=client_id)
    bases: list[BasisRow] = [row for row in rows if row.code is not None]
    return latest(bases), file


def notes_about(
    session: Session, person_key: str, revocation: RevocationCheck | None
) -> tuple[list[dict[str, str]], FileRevision]:
    """The notes about the person ``person_key`` whose listing is still displayed, as the self
    report shows them (Art. 32), and the revision of the person's file."""
    rows, file = _read(session, _NOTES, person_key, revocation, person_key=person_key)
    return as_shown(row for row in rows if row.record_id is not None), file


def _read(
    session: Session,
    queries: tuple[Query, Query],
    held_by: str,
    revocation: RevocationCheck | None,
    **parameters: Any,
) -> tuple[Sequence[Any], FileRevision]:
    """The rows of ``queries`` (the first without the token's refusal, the second with it),
    at least one; the refusal reported to ``revocation``."""
    if revocation is None:
        rows = all_in(session, queries[0], held_by=held_by, **parameters)
    else:
        checked = {**parameters, **revocation.parameters()}
        rows = all_in(session, queries[1], held_by=held_by, **checked)
        revocation.found(rows[0].token_refused)
    return rows, FileRevision(rows[0].file_revision)


def _with_file(rows: Select[Any], order_by: Sequence[str] = ()) -> tuple[Query, Query]:
    return (
        Query(with_context(rows, [FILE_REVISION], order_by)),
        Query(with_context(rows, [FILE_REVISION, TOKEN_REFUSED], order_by)),
    )


_SECTOR = _with_file(SECTOR_OF_CLIENT)
_BASES = _with_file(BASES_OF_CLIENT, order_by=("code", "version"))
_NOTES = _with_file(NOTES_ABOUT, order_by=("noted_at",))
