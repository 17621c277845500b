"""Establishments request consents (Art. 61(2)) and read only their own (issue 3)."""

from __future__ import annotations

import pytest

from consent.errors import Reason
from gateway.demo import LEGAL_PERSONS
from tests.gateway.consents.factories import OTHER_PERSON, Flow, consent_request
from tests.gateway.test_problems import assert_problem

# A sample of the Art. 61(2) refusals over HTTP; tests/consent/test_requests.py has them all.
REFUSALS = [
    ({"subjects": [{"kind": "id_number", "value": OTHER_PERSON}]}, Reason.ONE_SUBJECT_REQUIRED),
    ({"subject": None}, Reason.ONE_SUBJECT_REQUIRED),
    ({"requesters": ["another-bank"]}, Reason.ONE_REQUESTER_REQUIRED),
    ({"auto_renew": True}, Reason.AUTO_RENEWAL),
    ({"purpose": "anything_at_all"}, Reason.UNKNOWN_PURPOSE),
    ({"validity_days": None}, Reason.VALIDITY_MISSING),
    ({"validity_days": 366}, Reason.VALIDITY_EXCEEDS_CAP),
    ({"max_uses": None}, Reason.USES_MISSING),
    ({"max_uses": 13}, Reason.USES_EXCEED_CAP),
    ({"categories": ["*"]}, Reason.CATEGORY_WILDCARD),
    ({"categories": ["basic", "income"]}, Reason.CATEGORY_NOT_NEEDED),
    (
        {
            "subject": {"kind": "credit_code", "value": LEGAL_PERSONS[0]},
            "purpose": "loan_application",
        },
        Reason.SUBJECT_KIND_NOT_ALLOWED,
    ),
]


@pytest.mark.parametrize(("changes", "reason"), REFUSALS, ids=[r.value for _, r in REFUSALS])
def test_a_lifetime_authorization_is_refused_with_its_article(
    flow: Flow, changes: dict[str, object], reason: Reason
) -> None:
    response = flow.request(consent_request(**changes))
    assert response["status"] == 422
    assert (response["article"], response["reason"]) == ("Art. 61(2)", reason.value)


def test_a_bounded_request_is_pending_and_readable_by_its_establishment(flow: Flow) -> None:
    created = flow.request(consent_request())
    assert created["status"] == 201 and created["state"] == "pending"
    response = flow.client.get(
        f"/v1/consents/{created['grant_id']}", headers=flow.headers("establishment")
    )
    assert response.status_code == 200
    view = response.json()
    assert view["state"] == "pending" and view["artefact"] is None
    assert view["requested_categories"] == ["basic", "untrustworthy"]
    assert (view["max_uses"], view["uses_left"], view["validity_days"]) == (5, 5, 180)
    assert view["subject"].startswith("p1-")
    assert flow.citizen_id_number not in response.text


def test_an_invalid_identifier_is_refused_citing_art_34(flow: Flow) -> None:
    wrong_check = flow.citizen_id_number[:17] + ("0" if flow.citizen_id_number[17] != "0" else "1")
    response = flow.client.post(
        "/v1/consent-requests",
        json=consent_request(subject={"kind": "id_number", "value": wrong_check}),
        headers=flow.headers("establishment"),
    )
    body = assert_problem(response, 422)
    assert body["article"] == "Art. 34"
    assert wrong_check not in response.text


def test_the_answer_does_not_tell_whether_the_subject_has_an_account(flow: Flow) -> None:
    """The demo citizen has an account, OTHER_PERSON has none: the answers look alike."""
    with_account = flow.request(consent_request())
    without = flow.request(consent_request(subject={"kind": "id_number", "value": OTHER_PERSON}))
    assert with_account["status"] == without["status"] == 201
    assert with_account.keys() == without.keys()
    assert with_account["state"] == without["state"] == "pending"


def test_another_establishment_gets_404_not_403(flow: Flow) -> None:
    grant_id = flow.pending()
    other = flow.register_establishment()
    response = flow.client.get(f"/v1/consents/{grant_id}", headers=flow.headers(other["client_id"]))
    mine = assert_problem(response, 404)
    missing = flow.client.get("/v1/consents/cg_missing", headers=flow.headers(other["client_id"]))
    assert assert_problem(missing, 404) == mine


@pytest.mark.parametrize("persona", ["citizen", "agency", "regulator"])
def test_only_establishments_request_consents(flow: Flow, persona: str) -> None:
    response = flow.client.post(
        "/v1/consent-requests", json=consent_request(), headers=flow.headers(persona)
    )
    assert assert_problem(response, 403)["error"] == "insufficient_scope"


def test_the_request_is_in_the_audit_log_without_the_subject(flow: Flow) -> None:
    grant_id = flow.pending()
    (event,) = flow.audit_events(grant_id)
    assert (event.kind, event.reason_code) == ("consent_change", "requested")
    assert event.requester == flow.credentials["establishment"]["client_id"]
    assert event.purpose == "post_loan_management"
    assert event.item_categories == {"basic", "untrustworthy"}
    assert flow.citizen_id_number.encode() not in event.subject_commitment
