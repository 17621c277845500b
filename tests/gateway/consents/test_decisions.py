"""Only the credit subject decides, in the gateway's own channel (Art. 61(2)); restricted
categories need their separate written consent (Art. 62 para. 2-3)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jwt
import pytest

from consent.artefact import verify_artefact
from consent.clients import Role
from consent.errors import CompelledAuthorizationError, InvalidArtefactError
from consent.keys import keys_from_jwks
from consent.receipt import verify_receipt
from consent.rfc9068 import AccessToken
from gateway.consents import service
from tests.consent.factories import tamper
from tests.gateway.consents.factories import OTHER_PERSON, Flow, consent_request, mortgage_request
from tests.gateway.test_problems import assert_problem

ISSUER = "http://127.0.0.1:8000"


def _texts(flow: Flow) -> dict[str, Any]:
    response = flow.client.get("/v1/written-consent-texts")
    assert response.status_code == 200
    texts: dict[str, Any] = response.json()
    return texts


def _written(flow: Flow, *categories: str) -> list[dict[str, Any]]:
    version = _texts(flow)["version"]
    return [{"category": c, "text_version": version, "confirmed": True} for c in categories]


def _jwks(flow: Flow) -> dict[str, Any]:
    jwks: dict[str, Any] = flow.client.get("/oauth/jwks").json()
    return jwks


def _mine(flow: Flow, grant_id: str) -> dict[str, Any]:
    response = flow.client.get("/v1/me/consents", headers=flow.headers("citizen"))
    assert response.status_code == 200
    (consent,) = [c for c in response.json()["consents"] if c["grant_id"] == grant_id]
    return consent  # type: ignore[no-any-return]


def test_sign_in_fails_alike_for_an_unknown_user_and_a_wrong_password(flow: Flow) -> None:
    citizen = flow.credentials["citizen"]
    wrong = flow.client.post(
        "/v1/me/token", data={"username": citizen["username"], "password": "not-it"}
    )
    unknown = flow.client.post("/v1/me/token", data={"username": "nobody", "password": "not-it"})
    assert assert_problem(wrong, 400) == assert_problem(unknown, 400)
    assert wrong.json()["error"] == "invalid_grant"


def test_a_citizen_token_has_the_citizen_role_and_scopes(flow: Flow) -> None:
    claims = jwt.decode(flow.citizen_token(), options={"verify_signature": False})
    assert claims["role"] == "citizen"
    assert set(claims["scope"].split()) == {
        "consent:decide",
        "report:read",
        "objections:write",
        "statements:write",
        "restoration:apply",
    }


def test_the_citizen_sees_the_request_with_who_asked_and_why(flow: Flow) -> None:
    grant_id = flow.pending()
    consent = _mine(flow, grant_id)
    assert consent["state"] == "pending"
    assert consent["requester_name"] == "Demo Province Rural Commercial Bank"
    assert consent["purpose_description"]["en"].startswith("Post-loan management")
    assert consent["uses_left"] == 5


def test_approving_a_subset_issues_an_artefact_verifiable_offline(flow: Flow) -> None:
    grant_id = flow.pending()
    response = flow.decide(grant_id, "approve", categories=["basic"])
    assert response.status_code == 200, response.text
    approved = response.json()
    assert approved["state"] == "active"
    assert approved["granted_categories"] == ["basic"]
    artefact = verify_artefact(approved["artefact"], keys_from_jwks(_jwks(flow)), issuer=ISSUER)
    assert artefact.grant_id == grant_id
    assert artefact.categories == {"basic"}
    assert artefact.requester == flow.credentials["establishment"]["client_id"]
    assert artefact.subject_pseudonym.startswith("p1-")
    assert artefact.max_uses == 5
    assert flow.citizen_id_number not in response.text
    seen = flow.client.get(f"/v1/consents/{grant_id}", headers=flow.headers("establishment"))
    assert seen.json()["artefact"] == approved["artefact"]
    with pytest.raises(InvalidArtefactError):
        verify_artefact(
            tamper(approved["artefact"], max_uses=500), keys_from_jwks(_jwks(flow)), issuer=ISSUER
        )


def test_restricted_categories_need_a_written_consent(flow: Flow) -> None:
    grant_id = flow.pending(mortgage_request())
    missing = flow.decide(grant_id, "approve", categories=["basic", "income"])
    assert assert_problem(missing, 403)["article"] == "Art. 62"
    stale = flow.decide(
        grant_id,
        "approve",
        categories=["income"],
        written_consents=[{"category": "income", "text_version": "wc-1999", "confirmed": True}],
    )
    assert assert_problem(stale, 403)["reason"] == "written_consent_missing"
    unconfirmed = flow.decide(
        grant_id,
        "approve",
        categories=["income"],
        written_consents=[{**_written(flow, "income")[0], "confirmed": False}],
    )
    assert_problem(unconfirmed, 422)
    assert _mine(flow, grant_id)["state"] == "pending"

    approved = flow.decide(
        grant_id,
        "approve",
        categories=["basic", "income"],
        written_consents=_written(flow, "income"),
    )
    assert approved.status_code == 200, approved.text
    (written,) = approved.json()["written_consents"]
    assert (written["category"], written["text_version"]) == ("income", _texts(flow)["version"])
    artefact = verify_artefact(
        approved.json()["artefact"], keys_from_jwks(_jwks(flow)), issuer=ISSUER
    )
    assert [c.category for c in artefact.written_consents] == ["income"]


def test_the_texts_cover_every_restricted_category(flow: Flow) -> None:
    texts = _texts(flow)
    assert set(texts["texts"]) == {
        "income",
        "savings",
        "securities",
        "commercial_insurance",
        "real_estate",
        "tax",
    }
    assert all(text["zh"] and text["en"] for text in texts["texts"].values())


@pytest.mark.parametrize("persona", ["establishment", "agency", "regulator"])
def test_nobody_but_the_citizen_decides_and_nothing_changes(flow: Flow, persona: str) -> None:
    grant_id = flow.pending()
    for action, body in [("approve", {"categories": ["basic"]}), ("reject", {}), ("revoke", {})]:
        response = flow.decide(grant_id, action, persona, **body)
        problem = assert_problem(response, 403)
        # Art. 61(2): deciding for the citizen is compelled authorization
        assert (problem["error"], problem["article"]) == ("insufficient_scope", "Art. 61(2)")
    refused = flow.client.get(f"/v1/me/consents/{grant_id}/receipt", headers=flow.headers(persona))
    assert_problem(refused, 403)
    assert _mine(flow, grant_id)["state"] == "pending"
    assert [e.reason_code for e in flow.audit_events(grant_id)] == ["requested"]


def test_the_service_refuses_a_compelled_approval_citing_its_article(flow: Flow) -> None:
    """Behind the routes too: a decision by anyone but the subject is Art. 61(2)."""
    grant_id = flow.pending()
    bank = flow.credentials["establishment"]["client_id"]
    caller = AccessToken(
        issuer=ISSUER,
        subject=bank,
        audience=f"{ISSUER}/v1",
        client_id=bank,
        role=Role.ESTABLISHMENT,
        scope=frozenset({"consent:decide"}),
        jti="forged",
        issued_at=datetime.now(UTC),
        expires_at=datetime.now(UTC),
    )
    with pytest.raises(CompelledAuthorizationError) as refused, flow.desk() as desk:
        service.approve(desk, caller, grant_id, ["basic"], [], None)
    assert refused.value.to_problem()["article"] == "Art. 61(2)"
    assert _mine(flow, grant_id)["state"] == "pending"


def test_a_citizen_cannot_decide_on_another_subjects_consent(flow: Flow) -> None:
    other = consent_request(subject={"kind": "id_number", "value": OTHER_PERSON})
    grant_id = flow.pending(other)
    response = flow.decide(grant_id, "approve", categories=["basic"])
    mine = assert_problem(response, 404)
    assert assert_problem(flow.decide("cg_missing", "reject"), 404) == mine
    assert all(
        c["grant_id"] != grant_id
        for c in flow.client.get("/v1/me/consents", headers=flow.headers("citizen")).json()[
            "consents"
        ]
    )


def test_reject_pause_resume_revoke_each_logged(flow: Flow) -> None:
    rejected = flow.pending()
    assert flow.decide(rejected, "reject").json()["state"] == "rejected"
    assert_problem(flow.decide(rejected, "approve", categories=["basic"]), 409)

    grant_id = flow.active()
    assert flow.decide(grant_id, "pause").json()["state"] == "paused"
    assert flow.decide(grant_id, "resume").json()["state"] == "active"
    revoked = flow.decide(grant_id, "revoke").json()
    assert revoked["state"] == "revoked" and revoked["revoked_at"]
    assert revoked["artefact"] is None
    assert [e.reason_code for e in flow.audit_events(grant_id)] == [
        "requested",
        "approved",
        "paused",
        "resumed",
        "revoked",
    ]
    assert_problem(flow.decide(grant_id, "resume"), 409)


def test_the_receipt_is_signed_and_tells_how_the_consent_ended(flow: Flow) -> None:
    grant_id = flow.active()
    pending = flow.pending()
    assert_problem(
        flow.client.get(f"/v1/me/consents/{pending}/receipt", headers=flow.headers("citizen")),
        409,
    )
    flow.decide(grant_id, "revoke")
    response = flow.client.get(
        f"/v1/me/consents/{grant_id}/receipt", headers=flow.headers("citizen")
    )
    assert response.status_code == 200
    signed = response.json()
    payload = verify_receipt(signed["jws"], keys_from_jwks(_jwks(flow)), issuer=ISSUER)
    assert payload["grantId"] == signed["receipt"]["grantId"] == grant_id
    assert payload["state"] == "revoked"
    assert payload["piiControllers"][0]["piiController"] == "Demo Province Rural Commercial Bank"  # type: ignore[index]
    assert flow.citizen_id_number not in response.text
