"""Art. 65: regulators see, per providing unit, the reports of a revoked basis document that
reached the gateway more than five working days after the document was revoked."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from gateway.parties.repository import citizen_by_username
from gateway.rights.deadlines import load_calendar, official_calendar
from gateway.rights.errors import WorkingDaysUnknown
from gateway.rights.objections import Filing, ObjectionKind, file_objection
from gateway.rights.scheduler import run_once
from gateway.rights.schemas import OverdueNotice, Oversight, overdue_notice, oversight_out
from gateway.rights.service import Deadlines
from gateway.storage.db import unit_of_work
from redaction.periods import CHINA_STANDARD_TIME
from tests.gateway.factories import citizen_caller
from tests.gateway.rights.factories import Rights


def revoke(rights: Rights, record_id: str, changed_on: date) -> None:
    body = {
        "reason": "复议撤销",
        "basis_status": "voided",
        "basis_changed_on": changed_on.isoformat(),
    }
    response = rights.client.post(
        f"/v1/records/{record_id}/revocation", json=body, headers=rights.world.headers("provider")
    )
    assert response.status_code == 200, response.text


def test_late_basis_reports_are_listed_per_providing_unit(rights: Rights) -> None:
    today = date.today()
    late, timely = rights.record(), rights.record()
    revoke(rights, late, today - timedelta(days=30))
    revoke(rights, timely, today - timedelta(days=1))
    report = rights.get("/v1/oversight/late-basis-reports", "regulator")
    (party,) = report["parties"]
    assert (party["client_id"], party["count"]) == (rights.client_id("provider"), 1)
    (entry,) = party["entries"]
    changed_on = today - timedelta(days=30)
    assert entry == {
        "record_id": late,
        "item_code": "administrative_penalty",
        "basis_status": "voided",
        "basis_changed_on": changed_on.isoformat(),
        "due_on": load_calendar().deadline(changed_on, 5, "Art. 65").isoformat(),
        "notice_on": entry["notice_on"],
    }
    since = (today + timedelta(days=2)).isoformat()
    later = rights.get(f"/v1/oversight/late-basis-reports?since={since}", "regulator")
    assert later["parties"] == []


def test_working_days_a_deadline_no_schedule_covers_is_an_error_regulators_see(
    rights: Rights,
) -> None:
    """Without the operator's file for the year after the package's last, a deadline counted
    at the end of that last year fails: the request, the job and the regulators' lists say
    so, naming the deadline's article - nothing is counted as weekends only."""
    official = Deadlines(official_calendar(), 5, 5)
    year_end = datetime(max(official.calendar.years), 12, 28, 10, tzinfo=CHINA_STANDARD_TIME)
    bank, grant_id = rights.bank()
    record_id = rights.record()
    assert record_id in rights.inquire(bank, grant_id)
    stop = rights.client.post(
        f"/v1/records/{record_id}/revocation",
        json={"reason": "复议撤销", "basis_status": "revoked", "basis_changed_on": "2026-01-05"},
        headers=rights.world.headers("provider"),
    )
    assert stop.status_code == 200, stop.text
    jobs = replace(rights.jobs(), deadlines=official)
    (result,) = run_once(jobs, ["display-stops"], year_end).values()
    assert isinstance(result, WorkingDaysUnknown) and result.instance_article == "Art. 67"
    assert rights.notices(record_id) == []  # nothing sent with a made-up deadline
    with unit_of_work(rights.engine) as session:
        desk = jobs.rights(session, year_end)
        citizen = citizen_by_username(session, rights.flow.credentials["citizen"]["username"])
        assert citizen is not None
        omission = Filing(ObjectionKind.OMISSION, "遗漏", holder=rights.client_id("provider"))
        with pytest.raises(WorkingDaysUnknown) as filing:
            file_objection(desk, citizen_caller(citizen.id), omission)
        assert filing.value.instance_article == "Art. 64"
        listed = oversight_out(Oversight[OverdueNotice], official, desk.today, [], overdue_notice)
    assert listed.calendar_gap is not None and listed.calendar_gap.status == 503
    assert str(year_end.year + 1) in listed.calendar_gap.detail
    assert rights.run("display-stops", now=year_end) == {"display-stops": 1}  # the operator's
    served = rights.get("/v1/oversight/overdue-deletion-notices", "regulator")
    assert served["calendar_gap"] is None
