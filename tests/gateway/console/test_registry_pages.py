"""The console's registry pages over HTTP on both backends: an officer registers and withdraws
a legal basis, adds and retires a purpose, registers and disables a party - each a form with
the session's CSRF token, each change a leaf naming the officer only as a pseudonym - and a
refused form changes nothing."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from audit.leaf import AuditEvent, EventKind
from consent.keys import public_jwk
from gateway.registry.service import OFFICER_REQUESTER
from tests.gateway.consents.factories import Flow
from tests.gateway.console.factories import signed_in_officer
from tests.gateway.portal.factories import assert_accessible_page, csrf_token

TODAY = date.today()


def post(client: TestClient, page: str, action: str, form: dict[str, Any]) -> Any:
    """Post ``form`` to ``action`` with the CSRF token of ``page``; the page it leads to."""
    token = csrf_token(client.get(page).text)
    response = client.post(action, data={"csrf_token": token, **form}, follow_redirects=False)
    return response


def registry_changes(flow: Flow) -> list[AuditEvent]:
    return [event for event in flow.log_events() if event.kind is EventKind.REGISTRY_CHANGE]


def test_an_officer_registers_and_withdraws_a_legal_basis(flow: Flow) -> None:
    client = signed_in_officer(flow)
    agency = flow.credentials["agency"]["client_id"]
    page = client.get(f"/oversight/legal-bases?agency={agency}")
    assert page.status_code == 200
    assert_accessible_page(page.text)
    assert "market-supervision-inspection" in page.text
    form = {
        "agency": agency,
        "code": "console-inspection",
        "title": "Inspection of a suspected fraud",
        "statute": "Market Supervision Regulations, Art. 18",
        "scope": "An open fraud case",
        "categories": ["basic"],
        "valid_from": str(TODAY - timedelta(days=1)),
        "valid_until": "",
    }
    before = len(registry_changes(flow))
    registered = post(client, "/oversight/legal-bases", "/oversight/legal-bases", form)
    assert registered.status_code == 303
    assert registered.headers["location"].endswith("notice=basis_registered")
    shown = client.get(registered.headers["location"]).text
    assert "console-inspection" in shown and "法定依据已登记" in shown
    (event,) = registry_changes(flow)[before:]
    assert (event.requester, event.reason_code) == (OFFICER_REQUESTER, "legal_basis_registered")
    assert event.actor.startswith("p1-") and "officer" not in event.actor
    withdraw = f"/oversight/legal-bases/{agency}/console-inspection/withdraw"
    withdrawn = post(client, "/oversight/legal-bases", withdraw, {})
    assert withdrawn.status_code == 303
    assert "已撤回" in client.get(withdrawn.headers["location"]).text
    assert registry_changes(flow)[-1].reason_code == "legal_basis_withdrawn"


def test_a_refused_form_changes_nothing(flow: Flow) -> None:
    client = signed_in_officer(flow)
    agency = flow.credentials["agency"]["client_id"]
    before = len(flow.log_events())
    form = {
        "agency": agency,
        "code": "bad-dates",
        "title": "t",
        "statute": "s",
        "scope": "s",
        "categories": ["basic"],
        "valid_from": str(TODAY),
        "valid_until": str(TODAY - timedelta(days=1)),
    }
    refused = post(client, "/oversight/legal-bases", "/oversight/legal-bases", form)
    assert refused.status_code == 422
    assert "法定依据不符合要求" in refused.text
    without_token = client.post(
        "/oversight/legal-bases", data={**form, "valid_until": ""}, follow_redirects=False
    )
    assert without_token.status_code == 403
    assert len(flow.log_events()) == before
    assert "bad-dates" not in client.get(f"/oversight/legal-bases?agency={agency}").text


def test_an_officer_adds_and_retires_a_purpose_and_registers_and_disables_a_party(
    flow: Flow,
) -> None:
    client = signed_in_officer(flow)
    purposes = client.get("/oversight/purposes")
    assert_accessible_page(purposes.text)
    form = {
        "code": "console_review",
        "description_zh": "审查",
        "description_en": "A review",
        "categories": ["basic"],
        "max_validity_days": "10",
        "max_uses": "1",
        "frequency": "one_time",
        "subject_kinds": ["natural_person"],
    }
    added = post(client, "/oversight/purposes", "/oversight/purposes", form)
    assert added.status_code == 303, added.text
    retired = post(client, "/oversight/purposes", "/oversight/purposes/console_review/retire", {})
    assert retired.status_code == 303
    assert "已停用" in client.get("/oversight/purposes").text

    jwk = public_jwk(Ed25519PrivateKey.generate().public_key())
    party = {
        "role": "establishment",
        "name": "Console Lending",
        "client_id": "console-lending",
        "jwks": json.dumps({"keys": [jwk]}),
        "sector": "",
    }
    registered = post(client, "/oversight/parties", "/oversight/parties", party)
    assert registered.status_code == 303, registered.text
    parties = client.get("/oversight/parties")
    assert_accessible_page(parties.text)
    assert "console-lending" in parties.text and jwk["kid"] in parties.text
    disabled = post(client, "/oversight/parties", "/oversight/parties/console-lending/disable", {})
    assert disabled.status_code == 303
    assert [e.reason_code for e in registry_changes(flow)[-4:]] == [
        "purpose_added",
        "purpose_retired",
        "party_registered",
        "party_disabled",
    ]


def test_the_registry_pages_need_a_signed_in_officer(flow: Flow) -> None:
    flow.client.cookies.clear()
    for page in ("/oversight/parties", "/oversight/legal-bases", "/oversight/purposes"):
        response = flow.client.get(page, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/oversight/sign-in"
