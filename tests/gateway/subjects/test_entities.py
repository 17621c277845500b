"""Legal persons and unincorporated organizations (Art. 34, 39, 61(2), 63, 64, 66, 32): the
legal representative and the agents they authorize act for the entity, and everything they do
for it names both in the audit log."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from audit.leaf import decode
from bench.passkey import SoftPasskey, StepUp
from gateway.audit_log.repository import read_leaves
from tests.gateway.subjects.factories import Subjects, new_id_number


def listing(code: str, **fields: str) -> dict[str, Any]:
    """A serious untrustworthiness listing of the entity, with its basis document."""
    return {
        "provider_record_id": f"list-{uuid.uuid4().hex[:12]}",
        "subject": {"kind": "credit_code", "value": code},
        "item_code": "serious_untrustworthy_list",
        "occurred_on": "2026-03-01",
        "decided_on": "2026-03-20",
        "basis": {
            "kind": "administrative_decision",
            "number": "示发改失信〔2026〕3号",
            "issuer": "示范市发展和改革委员会",
            "issued_on": "2026-03-20",
        },
        "fields": {
            "list_name": "严重失信主体名单",
            "listing_authority": "示范市发展和改革委员会",
            "decision_number": "示发改失信〔2026〕3号",
            "listing_reason": "拒不履行法定义务",
            # Art. 31: prior notice, the objection window, removal conditions, remedies.
            "notified_on": "2026-03-01",
            "objection_window_ends_on": "2026-03-15",
            "removal_conditions": "公示期满三年且已履行义务，可申请移出",
            "remedies": "可依法申请行政复议或者提起行政诉讼",
            **fields,
        },
    }


def submit(world: Subjects, record: dict[str, Any]) -> str:
    response = world.client.post(
        "/v1/records", json={"records": [record]}, headers=world.headers("provider")
    )
    assert response.status_code == 200, response.text
    (result,) = response.json()["results"]
    assert result["outcome"] == "accepted", result
    record_id: str = result["record_id"]
    return record_id


def representative(world: Subjects) -> tuple[str, str, dict[str, str]]:
    """A representative with a local password: (ID number, account id, bearer headers)."""
    number = new_id_number()
    username = f"rep.{uuid.uuid4().hex[:8]}"
    response = world.client.post(
        "/v1/subjects/persons",
        json={"persons": [{"full_name": "李明", "id_number": number}]},
        headers=world.headers("operator"),
    )
    account: str = response.json()["results"][0]["account_id"]
    _set_password(world, account, username, "rep-password-123")
    return number, account, world.person_token(username, "rep-password-123")


def _set_password(world: Subjects, account: str, username: str, password: str) -> None:
    from gateway.parties.citizens import citizen_passwords
    from gateway.parties.models import Citizen
    from gateway.storage.db import unit_of_work

    with unit_of_work(world.engine) as session:
        citizen = session.get(Citizen, account)
        assert citizen is not None
        citizen.username = username
        citizen.password_hash = citizen_passwords().hash(password)
        session.add(citizen)


def test_the_representative_approves_for_the_company_and_the_log_names_both(
    world: Subjects,
) -> None:
    number, account, person = representative(world)
    code, entity = world.entity(number)
    listed = world.client.get("/v1/me/entities", headers=person).json()["entities"]
    assert [(e["entity_id"], e["role"]) for e in listed] == [(entity, "legal_representative")]
    acting = world.acting_headers(person, entity)

    grant = world.request_about("credit_code", code)
    assert world.client.get("/v1/me/consents", headers=person).json()["consents"] == []
    mine = world.client.get("/v1/me/consents", headers=acting).json()["consents"]
    assert [c["grant_id"] for c in mine] == [grant]
    body: dict[str, Any] = {"categories": ["basic", "untrustworthy"]}
    path = f"/v1/me/consents/{grant}/approve"
    refused = world.client.post(path, json=body, headers=acting)  # Art. 61(2) for entities too
    assert (refused.status_code, refused.json()["article"]) == (403, "Art. 61(2)")
    passkey = SoftPasskey(world.settings.base_url)
    StepUp(world.client, person, passkey).enrol()
    body["second_factor"] = StepUp(world.client, acting, passkey).proof("approve", grant)
    approved = world.client.post(path, json=body, headers=acting)
    assert approved.status_code == 200, approved.text
    answer = world.inquire(grant, "credit_code", code)
    assert answer.status_code == 200, answer.text
    receipt = answer.json()["audit"]

    log = world.client.get("/v1/me/access-log", headers=acting).json()["entries"]
    inquiry = next(e for e in log if e["leaf_index"] == receipt["leaf_index"])
    assert (inquiry["kind"], inquiry["outcome"]) == ("inquiry", "allowed")
    approval = next(e for e in log if e["kind"] == "consent_change" and e["reason"] == "approved")
    assert approval["acted_by"] == "李明"
    with world.engine.connect() as connection:
        (leaf,) = read_leaves(connection, approval["leaf_index"], approval["leaf_index"] + 1)
    event = decode(leaf)
    assert event.actor and event.actor != account and number not in event.actor
    own = world.client.get("/v1/me/access-log", headers=person).json()["entries"]
    assert receipt["leaf_index"] not in {e["leaf_index"] for e in own}


def test_an_agent_acts_until_the_representative_withdraws(world: Subjects) -> None:
    number, _, person = representative(world)
    code, entity = world.entity(number)
    agent_number, agent_account, agent = representative(world)
    assert (
        world.client.post(
            "/v1/me/acting-token", json={"entity_id": entity}, headers=agent
        ).status_code
        == 403
    )
    today = date.today()
    grant_body = {
        "agent": agent_number,
        "document_reference": "授权委托书〔2026〕第18号",
        "valid_from": (today - timedelta(days=1)).isoformat(),
        "valid_until": (today + timedelta(days=30)).isoformat(),
    }
    granted = world.client.post(f"/v1/me/entities/{entity}/agents", json=grant_body, headers=person)
    assert granted.status_code == 201, granted.text
    agent_id = granted.json()["agent_id"]
    by_agent = world.client.post(f"/v1/me/entities/{entity}/agents", json=grant_body, headers=agent)
    assert by_agent.status_code in {403, 404}
    acting = world.acting_headers(agent, entity)
    report = world.client.get("/v1/me/credit-report", headers=acting)
    assert report.status_code == 200, report.text
    assert report.json()["subject"] == f"credit_code:{code}"
    grant = world.request_about("credit_code", code)

    withdrawn = world.client.post(
        f"/v1/me/entities/{entity}/agents/{agent_id}/withdrawal", headers=person
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
    refused = world.client.post(
        f"/v1/me/consents/{grant}/approve", json={"categories": ["basic"]}, headers=acting
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["article"] == "Art. 61(2)"
    states = world.client.get("/v1/me/consents", headers=world.acting_headers(person, entity))
    assert {c["grant_id"]: c["state"] for c in states.json()["consents"]}[grant] == "pending"
    assert world.client.get("/v1/me/entities", headers=agent).json()["entities"] == []
    del agent_account


def test_the_entity_objects_and_applies_for_restoration(world: Subjects) -> None:
    number, _, person = representative(world)
    code, entity = world.entity(number)
    acting = world.acting_headers(person, entity)
    record = submit(world, listing(code))
    objection = world.client.post(
        "/v1/me/objections", json={"record_id": record, "reason": "名单已过期"}, headers=acting
    )
    assert objection.status_code == 201, objection.text
    answer = world.client.post(
        f"/v1/objections/{objection.json()['objection_id']}/answer",
        json={"outcome": "upheld", "reason": "信息准确"},
        headers=world.headers("provider"),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["subject"]["value"] == code

    body = {"record_id": record, "reason": "已履行全部法定义务并公开作出信用承诺"}
    applied = world.client.post("/v1/me/restoration-applications", json=body, headers=acting)
    assert applied.status_code == 201, applied.text
    application = applied.json()["application_id"]
    again = world.client.post("/v1/me/restoration-applications", json=body, headers=acting)
    assert again.status_code == 409
    held = world.client.get("/v1/restoration-applications", headers=world.headers("provider"))
    assert application in {a["application_id"] for a in held.json()["applications"]}
    decided = world.client.post(
        f"/v1/restoration-applications/{application}/decision",
        json={
            "outcome": "approved",
            "reason": "符合信用修复条件",
            "decision": {
                "kind": "administrative_decision",
                "number": "示发改修复〔2026〕9号",
                "issuer": "示范市发展和改革委员会",
                "issued_on": "2026-06-01",
            },
        },
        headers=world.headers("provider"),
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "approved"
    report = world.client.get("/v1/me/credit-report", headers=acting).json()
    restored = next(item for item in report["items"] if item["record_id"] == record)
    assert "restored" in restored["labels"]
    public = world.client.get(f"/v1/public/credit-subjects/{code}").json()
    assert record not in {item["record_id"] for item in public["items"]}


def test_a_rejected_application_gives_reasons_and_the_remedy(world: Subjects) -> None:
    number, _, person = representative(world)
    code, entity = world.entity(number)
    acting = world.acting_headers(person, entity)
    record = submit(world, listing(code))
    body = {"record_id": record, "reason": "已整改"}
    application = world.client.post(
        "/v1/me/restoration-applications", json=body, headers=acting
    ).json()["application_id"]
    no_document = world.client.post(
        f"/v1/restoration-applications/{application}/decision",
        json={"outcome": "approved", "reason": "符合条件"},
        headers=world.headers("provider"),
    )
    assert no_document.status_code == 422
    rejected = world.client.post(
        f"/v1/restoration-applications/{application}/decision",
        json={"outcome": "rejected", "reason": "尚未满最短公示期"},
        headers=world.headers("provider"),
    )
    assert rejected.status_code == 200, rejected.text
    mine = world.client.get("/v1/me/restoration-applications", headers=acting).json()
    (entry,) = mine["applications"]
    assert entry["state"] == "rejected"
    assert entry["decision_reason"] == "尚未满最短公示期"
    assert entry["remedy"]["article"] == "Art. 71"
    report = world.client.get("/v1/me/credit-report", headers=acting).json()
    assert "restored" not in next(i for i in report["items"] if i["record_id"] == record)["labels"]


def test_a_listing_notes_the_responsible_persons(world: Subjects) -> None:
    number, _, person = representative(world)
    code, _ = world.entity(number)
    controller, _ = world.person("王强")
    record = submit(world, listing(code, actual_controller_id=controller))
    notes = world.client.get("/v1/me/credit-report", headers=person).json()
    (note,) = notes["responsibility_notes"]
    assert (note["record_id"], note["role"]) == (record, "legal_representative")
    log = world.client.get("/v1/me/access-log", headers=person).json()["entries"]
    assert any(e["kind"] == "responsibility_note" for e in log)
    from sqlmodel import select

    from gateway.archive.models import ResponsibilityNote
    from gateway.storage.db import unit_of_work

    with unit_of_work(world.engine) as session:
        roles = sorted(
            row.role
            for row in session.exec(
                select(ResponsibilityNote).where(ResponsibilityNote.record_id == record)
            )
        )
    assert roles == ["actual_controller", "legal_representative"]


def test_one_person_never_gets_two_archives(world: Subjects) -> None:
    number = new_id_number()
    passport = f"E{uuid.uuid4().int % 10**8:08d}"
    (first,) = world.enrol(
        {
            "full_name": "赵敏",
            "id_number": number,
            "documents": [{"document_type": "passport", "number": passport}],
        }
    )
    assert first["outcome"] == "enrolled"
    (by_passport,) = world.enrol(
        {"full_name": "ZHAO MIN", "document": {"document_type": "passport", "number": passport}}
    )
    assert by_passport["outcome"] == "refused"
    assert by_passport["problem"]["article"] == "Art. 34 para. 2"
    record = {
        **listing("x"),
        "subject": {"kind": "other_document", "document_type": "passport", "value": passport},
        "item_code": "administrative_penalty",
        "fields": {
            "decision_number": "示市监罚〔2026〕7号",
            "penalty_authority": "示范市市场监督管理局",
            "violation": "虚假宣传",
            "penalty_content": "罚款",
            "fine_amount": "5000",
        },
    }
    response = world.client.post(
        "/v1/records", json={"records": [record]}, headers=world.headers("provider")
    )
    (result,) = response.json()["results"]
    assert result["outcome"] == "refused"
    assert result["problem"]["article"] == "Art. 34 para. 2"

    foreign = f"E{uuid.uuid4().int % 10**8:08d}"
    (alone,) = world.enrol(
        {"full_name": "John Roe", "document": {"document_type": "passport", "number": foreign}}
    )
    assert alone["outcome"] == "enrolled"
    (twice,) = world.enrol(
        {
            "full_name": "罗约翰",
            "id_number": new_id_number(),
            "documents": [{"document_type": "passport", "number": foreign}],
        }
    )
    assert twice["outcome"] == "refused"
    assert twice["problem"]["status"] == 409


def test_the_public_lookup_classifies_by_the_standards(world: Subjects) -> None:
    """A credit code whose first 17 characters are digits is a credit code, not a malformed ID
    number; a value neither standard accepts is 422 naming Art. 34."""
    published = world.client.get("/v1/public/credit-subjects/91110000600037341L")
    assert published.status_code == 200, published.text
    person = world.client.get(f"/v1/public/credit-subjects/{new_id_number()}")
    assert person.status_code == 200, person.text
    neither = world.client.get("/v1/public/credit-subjects/91110000600037341K")
    assert neither.status_code == 422
    assert neither.headers["content-type"] == "application/problem+json"
    assert neither.json()["article"] == "Art. 34"
