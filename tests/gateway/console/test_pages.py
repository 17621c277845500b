"""The console's pages over HTTP on both backends: the dashboard charts the traffic, a burst of
an establishment's inquiries raises an alert whose link lists exactly its entries, and the log
page shows the checkpoint and the last local verification."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

from gateway.audit_log.repository import Verification, record_verification
from tests.gateway.consents.factories import Flow, consent_request
from tests.gateway.console.factories import signed_in_officer
from tests.gateway.portal.factories import assert_accessible_page

BURST = 21  # at least GATEWAY_OVERSIGHT_BURST_MINIMUM (20); 5 allowed, then refused (uses spent)


def burst_of_inquiries(flow: Flow) -> None:
    grant_id = flow.active(consent_request())
    body = {
        "grant_id": grant_id,
        "subject": {"kind": "id_number", "value": flow.citizen_id_number},
        "purpose": "post_loan_management",
        "categories": ["basic"],
    }
    headers = flow.headers("establishment")
    answers = [
        flow.client.post("/v1/inquiries/authorized", json=body, headers=headers).status_code
        for _ in range(BURST)
    ]
    assert answers == [200] * 5 + [403] * (BURST - 5)


def test_a_burst_shows_in_the_charts_raises_an_alert_and_links_to_its_entries(
    flow: Flow,
) -> None:
    burst_of_inquiries(flow)
    establishment = flow.credentials["establishment"]["client_id"]
    client = signed_in_officer(flow)

    dashboard = client.get("/oversight")
    assert dashboard.status_code == 200
    assert_accessible_page(dashboard.text)
    assert dashboard.text.count('<rect class="series-') >= 4  # two charts, legend and bars
    assert "授权查询" in dashboard.text and "已拒绝" in dashboard.text
    assert establishment in dashboard.text

    alerts = client.get("/oversight/alerts")
    assert_accessible_page(alerts.text)
    assert "查询量激增" in alerts.text
    links = [
        unescape(link) for link in re.findall(r'href="(/oversight/entries\?[^"]+)"', alerts.text)
    ]
    burst_link = next(
        link for link in links if f"requester={establishment}" in link and "outcome" not in link
    )

    entries = client.get(burst_link)
    assert entries.status_code == 200
    assert_accessible_page(entries.text)
    rows = re.findall(r'<th scope="row" class="number">(\d+)</th>', entries.text)
    assert len(rows) >= BURST
    assert flow.citizen_id_number not in entries.text
    flow.client.app.state.audit_log.publish_now()  # type: ignore[attr-defined]
    proved = client.get(burst_link).text
    proof = re.search(r'href="(/v1/audit/proofs/inclusion\?index=\d+&amp;tree_size=\d+)"', proved)
    assert proof is not None
    assert client.get(unescape(proof[1])).json()["hashes"]


def test_an_entry_filter_outside_its_rules_is_refused(flow: Flow) -> None:
    client = signed_in_officer(flow)
    for query in ("outcome=maybe", "day=yesterday", "requester=" + "x" * 65):
        response = client.get(f"/oversight/entries?{query}")
        assert response.status_code == 422, query
        assert response.headers["content-type"].startswith("text/html")


def test_the_log_page_shows_the_checkpoint_and_the_last_verification(flow: Flow) -> None:
    flow.client.app.state.audit_log.publish_now()  # type: ignore[attr-defined]
    client = signed_in_officer(flow)
    page = client.get("/oversight/log").text
    assert_accessible_page(page)
    assert "尚未在本库运行" in page
    assert "— " in page  # the checkpoint's signature line
    now = datetime.now(UTC)
    record_verification(flow.engine, Verification(now, True, 42, "verified"))
    assert "校验通过，共 42 条日志" in client.get("/oversight/log").text
    record_verification(flow.engine, Verification(now, False, None, "root mismatch at 7"))
    assert "校验失败：root mismatch at 7" in client.get("/oversight/log").text


def test_the_console_speaks_english_on_request_and_stays_on_its_own_pages(flow: Flow) -> None:
    client = signed_in_officer(flow)
    switched = client.get("/oversight/language/en?next=/oversight/alerts", follow_redirects=False)
    assert switched.headers["location"] == "/oversight/alerts"
    assert "Path=/oversight" in switched.headers["set-cookie"]
    page = client.get("/oversight/alerts").text
    assert '<html lang="en">' in page and "<h1>Alerts</h1>" in page
    assert_accessible_page(page, lang="en")
    elsewhere = client.get("/oversight/language/zh?next=/portal/requests", follow_redirects=False)
    assert elsewhere.headers["location"] == "/oversight"
    client.cookies.clear()
