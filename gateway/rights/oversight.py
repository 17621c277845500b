"""Art. 64, 65, 67, 69(5) and 70(8): the deadlines regulators hold units accountable for.

Per party, with its registered name:

* objections a holder has not answered by their deadline (:func:`overdue_objections`);
* deletion notices an establishment has not acknowledged by theirs (:func:`overdue_notices`);
* reports of a revoked, modified or voided basis document that reached the gateway more than
  five working days after the document changed (:func:`late_basis_notices`, Art. 65 - the
  gateway applies a report at once, so only the providing unit's own deadline can be missed).

:func:`register_overdue` - a job of the scheduler - registers each missed deadline in the audit
log once, as the step ``overdue`` of the objection or notice, by the party that missed it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from gateway.archive.repository import BasisNotice, basis_notices
from gateway.parties.repository import party_names
from gateway.rights import repository
from gateway.rights.models import DeletionNotice, Objection
from gateway.rights.notices import notice_step
from gateway.rights.objections import objection_step
from gateway.rights.service import RightsDesk, register

OVERDUE = "overdue"

T = TypeVar("T")


@dataclass(frozen=True)
class PartyList(Generic[T]):
    """What one party (by client id, with its registered name) is late with."""

    client_id: str
    name: str | None
    entries: list[T]


def overdue_objections(desk: RightsDesk) -> list[PartyList[Objection]]:
    rows = repository.overdue_objections(desk.session, desk.today)
    return _by_party(desk, rows, lambda row: row.holder)


def overdue_notices(desk: RightsDesk) -> list[PartyList[DeletionNotice]]:
    rows = repository.overdue_notices(desk.session, desk.today)
    return _by_party(desk, rows, lambda row: row.recipient)


def late_basis_notices(desk: RightsDesk, since: date) -> list[PartyList[BasisNotice]]:
    deadlines = desk.deadlines
    late = [
        notice
        for notice in basis_notices(desk.session, since)
        if notice.notice_on > deadlines.basis_report_due(notice.basis_changed_on)
    ]
    return _by_party(desk, late, lambda notice: notice.provider)


def _by_party(desk: RightsDesk, rows: Iterable[T], party: Callable[[T], str]) -> list[PartyList[T]]:
    grouped: dict[str, list[T]] = defaultdict(list)
    for row in rows:
        grouped[party(row)].append(row)
    names = party_names(desk.session, grouped)
    return [
        PartyList(client_id, names.get(client_id), entries)
        for client_id, entries in sorted(grouped.items())
    ]


def register_overdue(desk: RightsDesk) -> int:
    """Register every deadline missed since the last round; returns how many."""
    objections = repository.overdue_objections(desk.session, desk.today, unmarked=True)
    notices = repository.overdue_notices(desk.session, desk.today, unmarked=True)
    leaves = [register(desk, objection_step(row, row.holder, OVERDUE)) for row in objections]
    leaves += [register(desk, notice_step(row, OVERDUE)) for row in notices]
    rows: list[Objection | DeletionNotice] = [*objections, *notices]
    for row, leaf in zip(rows, leaves, strict=True):
        repository.mark_overdue(desk.session, row, leaf)
    return len(leaves)
