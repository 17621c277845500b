"""The OWASP API Security Top 10 (2023) checks that apply, over HTTP:

* API1 broken object level authorization - every endpoint that names an object (a grant, a
  record) is tried by another party of the same role with the first party's ids: the object
  does not exist for it (404, or 403 naming the rule for an inquiry), nothing of the object is
  in the answer and nothing changed; the per-caller lists (consents, access log, credit report,
  webhook deliveries) hold only the caller's own;
* API3 broken object property level authorization - no body sets a property the gateway owns
  (state, uses, requester, record ids): an unknown property is refused whole (422);
* API4 unrestricted resource consumption - every page and batch has a ceiling;
* API5 broken function level authorization - every protected operation of the served OpenAPI
  admits its role only (a new operation must be added to :data:`ADMITTED`); every route of
  the regulator console but its sign-in admits a signed-in officer only, never an API token
  nor a citizen's portal session.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute

from gateway.archive.schemas import MAX_BATCH
from gateway.audit_log.service import MAX_LEAVES_PAGE
from gateway.console.routes import router as console
from gateway.inquiries.access_log import MAX_ENTRIES
from tests.gateway.consents.factories import consent_request
from tests.gateway.inquiries.factories import World, subject
from tests.gateway.portal.factories import csrf_token, sign_in, visitor
from tests.gateway.proof.factories import other_parties
from tests.gateway.test_problems import assert_problem

DECISIONS = ("approve", "reject", "pause", "resume", "revoke")


def assert_nothing_of(response: Any, *secrets: str) -> None:
    """A refusal that tells nothing: problem+json, none of the object's values."""
    assert response.headers["content-type"] == "application/problem+json"
    for secret in secrets:
        assert secret not in response.text


# -- API1: broken object level authorization -----------------------------------------------


def test_a_grant_exists_only_for_its_own_establishment(world: World) -> None:
    others = other_parties(world)
    grant = world.grant()
    mine = world.client.get(f"/v1/consents/{grant}", headers=world.headers("establishment"))
    theirs = world.client.get(f"/v1/consents/{grant}", headers=others.establishment)
    assert mine.status_code == 200
    assert theirs.status_code == 404
    assert_nothing_of(theirs, mine.json()["artefact"], mine.json()["subject"])
    _, path, body = world.authorized(grant)
    inquiry = world.client.post(path, json=body, headers=others.establishment)
    assert (inquiry.status_code, inquiry.json()["reason"]) == (403, "no_grant")
    assert "items" not in inquiry.json()
    assert world.uses(grant) == 0


def test_a_grant_exists_only_for_its_own_citizen(world: World) -> None:
    others = other_parties(world)
    grant = world.flow.pending()
    for action in DECISIONS:
        response = world.client.post(
            f"/v1/me/consents/{grant}/{action}",
            json={"categories": ["basic"]} if action == "approve" else None,
            headers=others.citizen,
        )
        assert response.status_code == 404, action
        assert_nothing_of(response, grant[3:])
    receipt = world.client.get(f"/v1/me/consents/{grant}/receipt", headers=others.citizen)
    assert receipt.status_code == 404
    listed = world.client.get("/v1/me/consents", headers=others.citizen).text
    assert grant not in listed
    own = world.client.get("/v1/me/consents", headers=world.headers("citizen")).json()
    assert any(item["grant_id"] == grant and item["state"] == "pending" for item in own["consents"])


def test_a_grant_exists_only_for_its_own_citizen_in_the_portal(world: World) -> None:
    other_parties(world)
    grant = world.flow.pending()
    client = visitor(world.flow)
    assert sign_in(client, "li.na", "another-password-42").status_code == 303
    for page in (f"/portal/consents/{grant}/revoke", f"/portal/consents/{grant}/receipt"):
        assert client.get(page).status_code == 404, page
    token = csrf_token(client.get("/portal/requests").text)
    for action in ("approve", "reject"):
        form = {"csrf_token": token, "categories": ["basic"]}
        response = client.post(f"/portal/requests/{grant}/{action}", data=form)
        assert response.status_code == 404, action
    client.cookies.clear()
    own = world.client.get("/v1/me/consents", headers=world.headers("citizen")).json()
    assert any(item["grant_id"] == grant and item["state"] == "pending" for item in own["consents"])


def test_a_second_factor_exists_only_for_its_own_citizen(world: World) -> None:
    """Another citizen cannot list, confirm or use the demo citizen's factors, challenges or
    proofs, nor decide with them (Art. 61(2))."""
    others = other_parties(world)
    mine = world.client.get("/v1/me/factors", headers=world.headers("citizen")).json()
    assert mine["factors"]
    theirs = world.client.get("/v1/me/factors", headers=others.citizen)
    assert theirs.json() == {"factors": []}
    pending = world.client.post("/v1/me/factors/totp", json={}, headers=others.citizen).json()
    confirm = f"/v1/me/factors/totp/{pending['factor']['factor_id']}/confirmation"
    stolen = world.client.post(confirm, json={"code": "123456"}, headers=world.headers("citizen"))
    assert stolen.status_code == 404
    grant = world.flow.pending()
    proof = world.flow.second_factor("approve", grant)
    used = world.client.post(
        f"/v1/me/consents/{grant}/approve",
        json={"categories": ["basic"], "second_factor": proof},
        headers=others.citizen,
    )
    assert used.status_code == 404
    challenge = world.client.post(
        "/v1/me/second-factor/challenges",
        json={"action": "approve", "grant_id": grant},
        headers=world.headers("citizen"),
    ).json()
    assertion = world.flow.step_up.passkey.get(challenge["options"])
    replayed = world.client.post(
        "/v1/me/second-factor/proofs",
        json={
            "action": "approve",
            "grant_id": grant,
            "passkey": {"challenge": challenge["challenge"], "credential": assertion},
        },
        headers=others.citizen,
    )
    assert (replayed.status_code, replayed.json()["article"]) == (403, "Art. 61(2)")
    assert world.flow.decide(grant, "approve", categories=["basic"]).status_code == 200


def test_a_record_exists_only_for_its_own_providing_unit(world: World) -> None:
    others = other_parties(world)
    record = world.records["judgment"]
    changes = {
        "corrections": {"reason": "更正", "fields": {"case_number": "x"}},
        "revocation": {
            "reason": "撤销",
            "basis_status": "revoked",
            "basis_changed_on": "2025-01-02",
        },
    }
    for change, body in changes.items():
        response = world.client.post(
            f"/v1/records/{record}/{change}", json=body, headers=others.provider
        )
        assert response.status_code == 404, change
        assert_nothing_of(response, "provider_record_id")
    report = world.client.get("/v1/me/credit-report", headers=world.headers("citizen")).json()
    held = next(item for item in report["items"] if item.get("record_id") == record)
    assert held["version"] == 1


def test_an_inquiry_under_a_grant_reads_its_own_subject_only(world: World) -> None:
    others = other_parties(world)
    grant = world.grant()
    _, path, body = world.authorized(grant, subject=subject(others.citizen_id_number))
    response = world.client.post(path, json=body, headers=world.headers("establishment"))
    assert (response.status_code, response.json()["reason"]) == (403, "other_subject")
    assert "items" not in response.json()


def test_every_list_holds_the_callers_own_only(world: World) -> None:
    others = other_parties(world)
    world.client.get("/v1/me/credit-report", headers=world.headers("citizen"))
    citizen = world.flow.citizen_id_number
    mine = world.client.get("/v1/me/access-log", headers=world.headers("citizen")).json()
    theirs = world.client.get("/v1/me/access-log", headers=others.citizen).json()
    assert mine["entries"]
    indexes = {entry["leaf_index"] for entry in mine["entries"]}
    assert not indexes & {entry["leaf_index"] for entry in theirs["entries"]}
    report = world.client.get("/v1/me/credit-report", headers=others.citizen)
    assert report.status_code == 200
    assert report.json()["items"] == []
    assert citizen not in report.text
    hooked = world.flow.register_establishment(webhook_url="http://127.0.0.1:9/hooks")
    world.flow.request(consent_request(), hooked["client_id"])
    deliveries = world.flow.headers(hooked["client_id"])
    assert world.client.get("/v1/webhook-deliveries", headers=deliveries).json()["deliveries"]
    listed = world.client.get("/v1/webhook-deliveries", headers=others.establishment).json()
    assert listed["deliveries"] == []


def test_a_report_exists_only_for_its_own_subject(world: World) -> None:
    others = other_parties(world)
    issued = world.client.post(
        "/v1/me/credit-reports",
        json={"use": "loan", "second_factor": world.flow.second_factor("issue_report", None)},
        headers=world.headers("citizen"),
    ).json()
    number = issued["number"]
    for path in (f"/v1/me/credit-reports/{number}", f"/v1/me/credit-reports/{number}/pdf"):
        response = world.client.get(path, headers=others.citizen)
        assert response.status_code == 404, path
        assert_nothing_of(response, issued["digest"], issued["verification_code"])
    withdrawal = f"/v1/me/credit-reports/{number}/withdrawal"
    assert world.client.post(withdrawal, headers=others.citizen).status_code == 404
    listed = world.client.get("/v1/me/credit-reports", headers=others.citizen).json()
    assert number not in str(listed)
    client = visitor(world.flow)
    assert sign_in(client, "li.na", "another-password-42").status_code == 303
    for page in (f"/portal/reports/{number}/pdf", f"/portal/reports/{number}/json"):
        assert client.get(page).status_code == 404, page
    token = csrf_token(client.get("/portal/reports").text)
    form = {"csrf_token": token}
    assert client.post(f"/portal/reports/{number}/withdraw", data=form).status_code == 404
    client.cookies.clear()
    own = world.client.get(f"/v1/me/credit-reports/{number}", headers=world.headers("citizen"))
    assert own.status_code == 200 and own.json()["report"]["report_number"] == number


# -- API3: broken object property level authorization ---------------------------------------


def test_no_body_sets_a_property_the_gateway_owns(world: World) -> None:
    grant = world.flow.pending()
    _, path, inquiry = world.authorized(world.grant())
    assert inquiry is not None
    record = {"records": [{"record_id": "rec_mine", "version": 9}]}
    attempts = [
        ("/v1/consent-requests", "establishment", consent_request(state="active", uses=0)),
        ("/v1/consent-requests", "establishment", consent_request(requester="another-bank")),
        (f"/v1/me/consents/{grant}/approve", "citizen", {"categories": ["basic"], "max_uses": 99}),
        (path, "establishment", {**inquiry, "requester": "another-bank"}),
        ("/v1/records", "provider", record),
    ]
    for target, persona, body in attempts:
        if isinstance(body.get("subject"), dict) and body["subject"].get("value") == "<citizen>":
            body["subject"] = subject(world.flow.citizen_id_number)
        response = world.client.post(target, json=body, headers=world.headers(persona))
        assert response.status_code == 422, (target, body)


# -- API4: unrestricted resource consumption ------------------------------------------------


def test_every_page_and_batch_has_a_ceiling(world: World) -> None:
    leaves = f"/v1/audit/leaves?start=0&end={MAX_LEAVES_PAGE + 1}"
    assert world.client.get(leaves, headers=world.headers("regulator")).status_code == 422
    access_log = f"/v1/me/access-log?limit={MAX_ENTRIES + 1}"
    assert world.client.get(access_log, headers=world.headers("citizen")).status_code == 422
    batch: dict[str, list[dict[str, str]]] = {"records": [{} for _ in range(MAX_BATCH + 1)]}
    response = world.client.post("/v1/records", json=batch, headers=world.headers("provider"))
    assert response.status_code == 422


# -- API5: broken function level authorization ----------------------------------------------

ADMITTED = {
    "POST /v1/consent-requests": "establishment",
    "GET /v1/consents/{grant_id}": "establishment",
    "GET /v1/webhook-deliveries": "establishment",
    "POST /v1/inquiries/authorized": "establishment",
    "POST /v1/inquiries/sharing": "agency",
    "POST /v1/inquiries/authority": "agency",
    "GET /v1/me/consents": "citizen",
    **{f"POST /v1/me/consents/{{grant_id}}/{action}": "citizen" for action in DECISIONS},
    "GET /v1/me/consents/{grant_id}/receipt": "citizen",
    "GET /v1/me/credit-report": "citizen",
    "GET /v1/me/access-log": "citizen",
    "GET /v1/me/access-log/bundle": "citizen",
    "POST /v1/records": "provider",
    "POST /v1/records/{record_id}/corrections": "provider",
    "POST /v1/records/{record_id}/revocation": "provider",
    "POST /v1/written-consent-documents": "provider",
    "POST /v1/me/written-consents": "citizen",
    "GET /v1/me/written-consents": "citizen",
    "POST /v1/me/written-consents/withdrawal": "citizen",
    "GET /v1/audit/leaves": "regulator",
    "POST /v1/me/objections": "citizen",
    "GET /v1/me/objections": "citizen",
    "POST /v1/me/statements": "citizen",
    "GET /v1/me/statements": "citizen",
    "GET /v1/objections": "provider",
    "POST /v1/objections/{objection_id}/answer": "provider",
    "POST /v1/records/{record_id}/restoration": "provider",
    "GET /v1/deletion-notices": "establishment",
    "POST /v1/deletion-notices/{notice_id}/acknowledgement": "establishment",
    "GET /v1/oversight/overdue-objections": "regulator",
    "GET /v1/oversight/overdue-deletion-notices": "regulator",
    "GET /v1/oversight/late-basis-reports": "regulator",
    "POST /v1/me/credit-reports": "citizen",
    "GET /v1/me/credit-reports": "citizen",
    "GET /v1/me/credit-reports/{number}": "citizen",
    "GET /v1/me/credit-reports/{number}/pdf": "citizen",
    "POST /v1/me/credit-reports/{number}/withdrawal": "citizen",
    "GET /v1/me/notification-preferences": "citizen",
    "PUT /v1/me/notification-preferences": "citizen",
    "GET /v1/me/factors": "citizen",
    "POST /v1/me/factors/totp": "citizen",
    "POST /v1/me/factors/totp/{factor_id}/confirmation": "citizen",
    "POST /v1/me/factors/passkeys/options": "citizen",
    "POST /v1/me/factors/passkeys": "citizen",
    "POST /v1/me/second-factor/challenges": "citizen",
    "POST /v1/me/second-factor/proofs": "citizen",
    "POST /v1/subjects/persons": "operator",
    "POST /v1/subjects/entities": "operator",
    "GET /v1/me/entities": "citizen",
    "POST /v1/me/acting-token": "citizen",
    "GET /v1/me/entities/{entity_id}/agents": "citizen",
    "POST /v1/me/entities/{entity_id}/agents": "citizen",
    "POST /v1/me/entities/{entity_id}/agents/{agent_id}/withdrawal": "citizen",
    "POST /v1/me/restoration-applications": "citizen",
    "GET /v1/me/restoration-applications": "citizen",
    "GET /v1/restoration-applications": "provider",
    "POST /v1/restoration-applications/{application_id}/decision": "provider",
    "GET /v1/registry/parties": "regulator",
    "POST /v1/registry/parties": "regulator",
    "POST /v1/registry/parties/{client_id}/disable": "regulator",
    "POST /v1/registry/parties/{client_id}/keys": "regulator",
    "GET /v1/registry/parties/{client_id}/legal-bases": "regulator",
    "POST /v1/registry/parties/{client_id}/legal-bases": "regulator",
    "PUT /v1/registry/parties/{client_id}/legal-bases/{code}": "regulator",
    "POST /v1/registry/parties/{client_id}/legal-bases/{code}/withdraw": "regulator",
    "GET /v1/registry/purposes": "regulator",
    "POST /v1/registry/purposes": "regulator",
    "PUT /v1/registry/purposes/{code}": "regulator",
    "POST /v1/registry/purposes/{code}/retire": "regulator",
}
PERSONAS = ("establishment", "agency", "provider", "regulator", "citizen", "operator", None)


def protected_operations(world: World) -> list[str]:
    document = world.client.get("/openapi.json").json()
    return [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("security")
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_protected_operation_admits_its_role_only(world: World, persona: str | None) -> None:
    assert set(protected_operations(world)) == set(ADMITTED), "classify it in ADMITTED"
    ids = {
        "{grant_id}": world.grant(),
        "{record_id}": world.records["qualification"],
        "{objection_id}": "obj_unknown",
        "{notice_id}": "ntc_unknown",
        "{number}": "R20260101-ABCDEFGH",
        "{factor_id}": "fa_unknown",
        "{entity_id}": world.flow.credentials["legal_person"]["entity_id"],
        "{agent_id}": "ag_unknown",
        "{application_id}": "ra_unknown",
        "{client_id}": world.client_id("agency"),
        "{code}": "market-supervision-inspection",
    }
    bodies = {
        "POST /v1/inquiries/authorized": world.authorized(ids["{grant_id}"])[2],
        "POST /v1/inquiries/sharing": world.sharing()[2],
        "POST /v1/inquiries/authority": world.authority()[2],
    }
    refused = {}
    for operation, role in ADMITTED.items():
        if role == persona:
            continue
        method, path = operation.split(" ")
        for name, value in ids.items():
            path = path.replace(name, value)
        path += "?start=0&end=1" if path.endswith("/leaves") else ""
        response = world.client.request(
            method, path, json=bodies.get(operation, {}), headers=world.headers(persona)
        )
        refused[operation] = response.status_code
    expected = 401 if persona is None else 403
    assert refused == dict.fromkeys(refused, expected)


CONSOLE_VISITOR_ROUTES = {
    "GET /oversight/sign-in",
    "POST /oversight/session",
    "GET /oversight/language/{code}",
}
"""The console's routes a visitor may use; every other one needs the signed-in officer."""


def console_routes() -> list[tuple[str, str]]:
    return [
        (method, route.path)
        for route in console.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods or ())
        if f"{method} {route.path}" not in CONSOLE_VISITOR_ROUTES
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_console_route_admits_a_signed_in_officer_only(
    world: World, persona: str | None
) -> None:
    """API tokens of every role, the regulator's included, and a citizen's portal session are
    sent to the console's sign-in page: no console route answers them."""
    client = visitor(world.flow)
    if persona == "citizen":
        citizen = world.flow.credentials["citizen"]
        assert sign_in(client, citizen["username"], citizen["password"]).status_code == 303
    routes = console_routes()
    assert ("GET", "/oversight") in routes
    answers = {}
    for method, path in routes:
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        response = client.request(
            method, concrete, headers=world.headers(persona), follow_redirects=False
        )
        answers[f"{method} {path}"] = (response.status_code, response.headers.get("location"))
    assert answers == dict.fromkeys(answers, (303, "/oversight/sign-in"))
    client.cookies.clear()


ROUTE_ARTICLES = {
    "POST /v1/me/consents/{grant_id}/approve": "Art. 61(2)",
    "POST /v1/consent-requests": "Art. 39 para. 2",
    "POST /v1/records": "Art. 37 para. 1",
    "GET /v1/audit/leaves": "Art. 39 para. 3",
    "POST /v1/me/objections": "Art. 64",
    "POST /v1/me/statements": "Art. 37 para. 2",
    "GET /v1/oversight/overdue-objections": "Art. 69",
    "GET /v1/deletion-notices": "Art. 67",
    "POST /v1/registry/parties/{client_id}/legal-bases": "Art. 39 para. 2",
}


@pytest.mark.parametrize(("operation", "article"), ROUTE_ARTICLES.items())
def test_every_refusal_of_a_fixed_role_route_names_its_article(
    world: World, operation: str, article: str
) -> None:
    method, path = operation.split(" ")
    path = path.replace("{grant_id}", world.grant()).replace("{client_id}", "demo-agency")
    other = "citizen" if ADMITTED[operation] != "citizen" else "establishment"
    response = world.client.request(method, path, json={}, headers=world.headers(other))
    problem = assert_problem(response, 403)
    assert (problem["error"], problem["article"]) == ("insufficient_scope", article)


# -- API1 for the subjects of the entities (Art. 61(2), 66) -----------------------------------


def test_an_entity_exists_only_for_its_representative_and_agents(world: World) -> None:
    others = other_parties(world)
    entity = world.flow.credentials["legal_person"]["entity_id"]
    acting = world.client.post(
        "/v1/me/acting-token", json={"entity_id": entity}, headers=others.citizen
    )
    assert acting.status_code == 403
    assert_nothing_of(acting, world.flow.credentials["legal_person"]["credit_code"])
    agents = f"/v1/me/entities/{entity}/agents"
    assert world.client.get(agents, headers=others.citizen).status_code == 403
    body = {
        "agent": others.citizen_id_number,
        "document_reference": "伪造的授权书",
        "valid_from": "2026-01-01",
        "valid_until": "2026-12-31",
    }
    granted = world.client.post(agents, json=body, headers=others.citizen)
    assert granted.status_code == 403
    assert world.client.get("/v1/me/entities", headers=others.citizen).json()["entities"] == []
    mine = world.client.get(agents, headers=world.headers("citizen"))
    assert mine.status_code == 200
    assert mine.json()["agents"] == []


def test_a_restoration_application_exists_only_for_its_subject_and_designating_unit(
    world: World,
) -> None:
    others = other_parties(world)
    record = world.records["judgment"]
    body = {"record_id": record, "reason": "已履行"}
    theirs = world.client.post("/v1/me/restoration-applications", json=body, headers=others.citizen)
    assert theirs.status_code == 404
    assert_nothing_of(theirs, "provider_record_id")
    listed = world.client.get("/v1/me/restoration-applications", headers=others.citizen).json()
    assert listed["applications"] == []
    mine = world.client.post(
        "/v1/me/restoration-applications", json=body, headers=world.headers("citizen")
    )
    assert mine.status_code == 201, mine.text
    application = mine.json()["application_id"]
    decision = {"outcome": "rejected", "reason": "不符合条件"}
    path = f"/v1/restoration-applications/{application}/decision"
    refused = world.client.post(path, json=decision, headers=others.provider)
    assert refused.status_code == 404
    held = world.client.get("/v1/restoration-applications", headers=others.provider).json()
    assert application not in {entry["application_id"] for entry in held["applications"]}
    own = world.client.get(
        "/v1/me/restoration-applications", headers=world.headers("citizen")
    ).json()
    assert [entry["state"] for entry in own["applications"]] == ["pending"]
