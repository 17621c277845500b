"""Art. 65: regulators see, per providing unit, the reports of a revoked basis document that
reached the gateway more than five working days after the document was revoked."""

from __future__ import annotations

from datetime import date, timedelta

from gateway.rights.deadlines import load_calendar
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
        "due_on": load_calendar().deadline(changed_on, 5).isoformat(),
        "notice_on": entry["notice_on"],
    }
    since = (today + timedelta(days=2)).isoformat()
    later = rights.get(f"/v1/oversight/late-basis-reports?since={since}", "regulator")
    assert later["parties"] == []
