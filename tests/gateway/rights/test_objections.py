"""Objections (Art. 64): filed by the citizen, labelled in every channel while open (and still
disclosed), answered by the holder - corrected, deleted or upheld - in working days, shown to
the citizen with the answer, overdue ones listed for regulators; every step in the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from audit.leaf import EventKind
from gateway.parties.repository import citizen_by_username
from gateway.rights.models import Objection
from gateway.rights.objections import Filing, ObjectionKind, file_objection
from gateway.rights.oversight import overdue_objections, register_overdue
from gateway.rights.service import RightsDesk
from redaction.periods import CHINA_STANDARD_TIME
from tests.gateway.archive.factories import new_id_number, penalty_fields
from tests.gateway.factories import citizen_caller
from tests.gateway.inquiries.factories import World
from tests.gateway.rights.factories import Rights, refused

CHANNELS = ("self", "public", "sharing", "authority", "authorized")
PERSONAS = {
    "self": "citizen",
    "public": None,
    "sharing": "agency",
    "authority": "agency",
    "authorized": "establishment",
}


def labels(rights: Rights, channel: str, record_id: str) -> list[str]:
    """The labels of the record in the answer of ``channel``, which must serve it."""
    world: World = rights.world
    request = world.sharing(categories=["untrustworthy"]) if channel == "sharing" else None
    response = world.send(request or world.request(channel), PERSONAS[channel])
    assert response.status_code == 200, response.text
    (item,) = [item for item in response.json()["items"] if item["record_id"] == record_id]
    found: list[str] = item["labels"]
    return found


def own_objection(rights: Rights, objection_id: str) -> dict[str, Any]:
    mine = rights.get("/v1/me/objections", "citizen")["objections"]
    (objection,) = [entry for entry in mine if entry["objection_id"] == objection_id]
    found: dict[str, Any] = objection
    return found


def test_filed_labelled_everywhere_answered_and_seen_by_the_citizen(rights: Rights) -> None:
    record_id = rights.record()
    objection = rights.filed(record_id)
    assert (objection["state"], objection["holder"]) == ("open", rights.client_id("provider"))
    assert objection["holder_name"] == "Demo City Administration for Market Regulation"
    assert not objection["overdue"] and objection["outcome"] is None
    for channel in CHANNELS:  # still disclosed and used, labelled (Art. 64 para. 1)
        assert "under_objection" in labels(rights, channel, record_id), channel

    (held,) = [
        entry
        for entry in rights.get("/v1/objections", "provider")["objections"]
        if entry["objection_id"] == objection["objection_id"]
    ]
    assert held["subject"] == {
        "kind": "id_number",
        "value": rights.world.citizen,
        "document_type": None,
    }
    assert held["reason"] == objection["reason"]

    correction = {"reason": "依据复核更正罚款金额", "fields": penalty_fields(fine_amount="3000")}
    answered = rights.answer(
        objection["objection_id"],
        outcome="corrected",
        reason="经核查，罚款金额有误",
        correction=correction,
    )
    assert answered.status_code == 200, answered.text
    seen = own_objection(rights, objection["objection_id"])
    assert (seen["state"], seen["outcome"], seen["answer_reason"]) == (
        "answered",
        "corrected",
        "经核查，罚款金额有误",
    )
    for channel in CHANNELS:
        assert "under_objection" not in labels(rights, channel, record_id), channel
    report = rights.get("/v1/me/credit-report", "citizen")
    (item,) = [item for item in report["items"] if item["record_id"] == record_id]
    assert (item["version"], item["fields"]["fine_amount"]) == (2, "3000")
    assert item["change_reason"] == "依据复核更正罚款金额"


def test_every_step_is_in_the_audit_log_and_the_access_log(rights: Rights) -> None:
    objection = rights.filed(rights.record())
    rights.answer(objection["objection_id"], outcome="upheld", reason="经核查，信息无误")
    with rights.desk() as desk:
        row = desk.session.get_one(Objection, objection["objection_id"])
    provider = rights.client_id("provider")
    for index, requester, reason in (
        (row.filed_leaf, "citizen", "filed"),
        (row.answered_leaf, provider, "upheld"),
    ):
        event, openings = rights.leaf(index)
        assert (event.kind, event.requester, event.reason_code) == (
            EventKind.OBJECTION,
            requester,
            reason,
        )
        assert (event.purpose, event.item_categories) == ("record", frozenset({"untrustworthy"}))
        assert openings is not None and openings.subject_key == rights.citizen_key()
        assert (
            objection["reason"].encode() not in event.purpose.encode() + event.reason_code.encode()
        )
    entries = rights.get("/v1/me/access-log", "citizen")["entries"]
    indexes = {entry["leaf_index"] for entry in entries if entry["kind"] == "objection"}
    assert {row.filed_leaf, row.answered_leaf} <= indexes


def test_a_deletion_stops_the_record_everywhere_and_tells_the_citizen(rights: Rights) -> None:
    record_id = rights.record()
    objection = rights.filed(record_id)
    answered = rights.answer(
        objection["objection_id"], outcome="deleted", reason="信息错误，予以删除"
    )
    assert answered.status_code == 200, answered.text
    report = rights.get("/v1/me/credit-report", "citizen")
    assert record_id not in {item["record_id"] for item in report["items"]}
    assert {"record_id": record_id, "reason": "deleted"}.items() <= next(
        entry for entry in report["redactions"] if entry.get("record_id") == record_id
    ).items()
    assert own_objection(rights, objection["objection_id"])["outcome"] == "deleted"


def test_objections_are_refused_as_the_article_says(rights: Rights) -> None:
    record_id = rights.record()
    rights.filed(record_id)
    refused(rights.file(record_id), 409, "Art. 64")  # already under objection
    foreign = rights.record(subject=new_id_number())
    refused(rights.file(foreign), 404, "Art. 64")  # not in the citizen's own file
    refused(rights.file(None), 422, "Art. 64")  # a record objection names its record
    holder = rights.client_id("establishment")
    refused(rights.file(None, kind="assessment", holder=holder), 422, "Art. 64")
    forbidden = rights.client.post(
        "/v1/me/objections",
        json={"reason": "x", "record_id": record_id},
        headers=rights.world.headers("establishment"),
    )
    assert forbidden.status_code == 403


def test_answers_are_refused_unless_the_holder_answers_once_as_it_should(rights: Rights) -> None:
    objection_id = rights.filed(rights.record())["objection_id"]
    bank = rights.flow.register_establishment()["client_id"]
    assert rights.answer(objection_id, bank, outcome="upheld", reason="无误").status_code == 403
    other = rights.other_provider()
    refused(rights.answer(objection_id, other, outcome="upheld", reason="无误"), 404, "Art. 64")
    refused(rights.answer(objection_id, outcome="corrected", reason="更正"), 422, "Art. 64")
    bad = {"reason": "更正", "fields": penalty_fields(violation="当事人患有传染病")}
    refused(
        rights.answer(objection_id, outcome="corrected", reason="更正", correction=bad),
        403,
        "Art. 62 para. 1",
    )
    assert rights.answer(objection_id, outcome="upheld", reason="无误").status_code == 200
    refused(rights.answer(objection_id, outcome="deleted", reason="删除"), 409, "Art. 64")


def test_an_assessment_objection_is_routed_to_the_named_holder(rights: Rights) -> None:
    holder = rights.client_id("provider")
    response = rights.file(None, kind="market_information", holder=holder, attachment_ref="att-7")
    assert response.status_code == 201, response.text
    objection = response.json()
    assert (objection["record_id"], objection["attachment_ref"]) == (None, "att-7")
    answered = rights.answer(objection["objection_id"], outcome="corrected", reason="已更正评价")
    assert answered.status_code == 200, answered.text
    assert answered.json()["subject"]["value"] == rights.world.citizen


def test_overdue_after_a_weekend_and_a_holiday_is_listed_per_holder(rights: Rights) -> None:
    record_id = rights.record()
    filed_at = datetime(2026, 9, 30, 10, tzinfo=CHINA_STANDARD_TIME)
    with rights.desk(filed_at) as desk:
        citizen = _citizen_id(rights, desk)
        filed = file_objection(
            desk, citizen_caller(citizen), Filing(ObjectionKind.RECORD, "信息有误", record_id)
        )
    objection_id = filed.objection.objection_id
    assert filed.objection.due_on.isoformat() == "2026-10-13"

    def overdue_on(day: int) -> set[str]:
        with rights.desk(datetime(2026, 10, day, 12, tzinfo=CHINA_STANDARD_TIME)) as desk:
            return {row.objection_id for party in overdue_objections(desk) for row in party.entries}

    assert objection_id not in overdue_on(13)
    assert objection_id in overdue_on(14)
    listed = rights.get("/v1/oversight/overdue-objections", "regulator")["parties"]
    (party,) = [party for party in listed if party["client_id"] == rights.client_id("provider")]
    assert objection_id in {entry["objection_id"] for entry in party["entries"]}
    assert party["name"] == "Demo City Administration for Market Regulation"

    late = datetime(2026, 10, 14, 12, tzinfo=CHINA_STANDARD_TIME)
    with rights.desk(late) as desk:
        assert register_overdue(desk) == 1  # registered once ...
    with rights.desk(late + timedelta(days=1)) as desk:
        assert register_overdue(desk) == 0  # ... and only once
        row = desk.session.get_one(Objection, objection_id)
    event, openings = rights.leaf(row.overdue_leaf)
    assert (event.kind, event.requester, event.reason_code) == (
        EventKind.OBJECTION,
        rights.client_id("provider"),
        "overdue",
    )
    assert openings is not None and openings.subject_key == rights.citizen_key()


def test_regulators_only_read_oversight(rights: Rights) -> None:
    for persona in ("provider", "citizen", "establishment"):
        response = rights.client.get(
            "/v1/oversight/overdue-objections", headers=rights.world.headers(persona)
        )
        assert response.status_code == 403, persona


def _citizen_id(rights: Rights, desk: RightsDesk) -> str:
    citizen = citizen_by_username(desk.session, rights.flow.credentials["citizen"]["username"])
    assert citizen is not None
    return citizen.id


def test_art_64_an_objection_may_concern_an_omission(rights: Rights) -> None:
    holder = rights.client_id("provider")
    omission = {"kind": "omission", "holder": holder, "item_code": "honour_award"}
    response = rights.file(None, **omission)
    assert response.status_code == 201, response.text
    objection = response.json()
    assert (objection["kind"], objection["record_id"]) == ("omission", None)
    assert (objection["holder"], objection["item_code"]) == (holder, "honour_award")
    refused(rights.file(rights.record(), kind="omission"), 422, "Art. 64")  # names no record
    refused(rights.file(None, kind="omission"), 422, "Art. 64")  # names its holder
    refused(rights.file(None, **{**omission, "item_code": "no_such_item"}), 422, "Art. 64")
    objection_id = objection["objection_id"]
    refused(rights.answer(objection_id, outcome="deleted", reason="删除"), 422, "Art. 64")
    answered = rights.answer(objection_id, outcome="corrected", reason="已补充提交")
    assert answered.status_code == 200, answered.text


def test_art_71_every_objection_answer_and_refusal_tells_the_remedy(rights: Rights) -> None:
    objection_id = rights.filed(rights.record())["objection_id"]
    assert own_objection(rights, objection_id)["remedy"] is None  # not answered yet
    answered = rights.answer(objection_id, outcome="upheld", reason="经核查，信息准确")
    assert answered.json()["remedy"]["article"] == "Art. 71"
    remedy = own_objection(rights, objection_id)["remedy"]
    assert remedy["article"] == "Art. 71"
    assert remedy["means"] == ["administrative_reconsideration", "administrative_litigation"]
    again = rights.file(None)  # a record objection names its record: refused
    refused(again, 422, "Art. 64")
    assert again.json()["remedy"] == remedy
    malformed = rights.client.post(
        "/v1/me/objections", json={"reason": ""}, headers=rights.world.headers("citizen")
    )
    assert malformed.status_code == 422 and malformed.json()["remedy"] == remedy
    not_a_subject = rights.answer(objection_id, outcome="upheld", reason="无误")
    assert "remedy" not in not_a_subject.json()  # the holder's refusal is no subject's
