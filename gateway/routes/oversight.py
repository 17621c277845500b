"""Regulators' view of the deadlines (Art. 64, 65, 67, 69(5), 70(8)): objections not answered
in time per holder, deletion notices not acknowledged in time per establishment, and reports of
changed basis documents that came later than five working days, per providing unit."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from gateway.auth import OversightCaller
from gateway.problem_handlers import problem_responses
from gateway.rights import oversight
from gateway.rights.schemas import (
    LateBasisNotice,
    OverdueNotice,
    OverdueObjection,
    Oversight,
    late_basis_notice,
    overdue_notice,
    overdue_objection,
    oversight_out,
)
from gateway.rights.service import RightsDesk
from gateway.routes.rights import Desk
from gateway.validation import StrictRoute

router = APIRouter(route_class=StrictRoute, prefix="/v1/oversight", tags=["oversight"])
ERRORS = problem_responses(401, 403, 503)
LOOK_BACK = timedelta(days=366)


@router.get(
    "/overdue-objections",
    summary="Objections not answered by their deadline, per holder (Art. 64, 69(5))",
    responses=ERRORS,
)
def overdue_objections(desk: Desk, _caller: OversightCaller) -> Oversight[OverdueObjection]:
    return objections_report(desk)


@router.get(
    "/overdue-deletion-notices",
    summary="Deletion notices not acknowledged by their deadline, per establishment (Art. 67)",
    responses=ERRORS,
)
def overdue_notices(desk: Desk, _caller: OversightCaller) -> Oversight[OverdueNotice]:
    return notices_report(desk)


@router.get(
    "/late-basis-reports",
    summary="Revoked basis documents reported later than five working days (Art. 65)",
    responses=ERRORS,
)
def late_basis_reports(
    desk: Desk,
    _caller: OversightCaller,
    since: Annotated[
        date | None, Query(description="Reports received on this day or later; a year back")
    ] = None,
) -> Oversight[LateBasisNotice]:
    return basis_report(desk, since or desk.today - LOOK_BACK)


# The lists themselves, for these routes and the regulator console's log page.


def objections_report(desk: RightsDesk) -> Oversight[OverdueObjection]:
    parties = oversight.overdue_objections(desk)
    model = Oversight[OverdueObjection]
    return oversight_out(model, desk.deadlines, desk.today, parties, overdue_objection)


def notices_report(desk: RightsDesk) -> Oversight[OverdueNotice]:
    parties = oversight.overdue_notices(desk)
    model = Oversight[OverdueNotice]
    return oversight_out(model, desk.deadlines, desk.today, parties, overdue_notice)


def basis_report(desk: RightsDesk, since: date) -> Oversight[LateBasisNotice]:
    parties = oversight.late_basis_notices(desk, since)
    convert = late_basis_notice(desk.deadlines)
    model = Oversight[LateBasisNotice]
    return oversight_out(model, desk.deadlines, desk.today, parties, convert)
