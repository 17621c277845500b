"""What each channel serves (Art. 39-41, 62, 63), the shape of every answer, and what its audit
entry commits to; the inquiry traced and counted; nothing served when the log fails."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import update
from sqlmodel import col

from audit.checkpoint import open_checkpoint
from audit.leaf import CommitmentDomain, Outcome, check_commitment, commit
from audit.merkle import leaf_hash, verify_inclusion
from audit.note import parse_verifier_key
from gateway.archive.service import view_for
from gateway.archive.views import Rendered
from gateway.audit_log.repository import (
    LoopLogStore,
    Openings,
    SqlLogStore,
    read_leaves,
    read_openings,
)
from gateway.consents.models import GrantRow
from gateway.inquiries.schemas import AuthorityAnswer, AuthorizedAnswer, CreditReport, SharingAnswer
from gateway.inquiries.service import canonical_json
from gateway.storage.db import unit_of_work
from redaction.catalog import FieldType
from redaction.demo import SAMPLE_VALUES
from tests.gateway.consents.factories import mortgage_request
from tests.gateway.inquiries.factories import (
    CASE,
    CORRECTION_REASON,
    DUTY,
    NOTHING_PUBLIC,
    PURPOSE,
    UNKNOWN,
    World,
)
from tests.gateway.test_problems import assert_problem


def served(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def record_ids(answer: dict[str, Any]) -> set[str]:
    return {item["record_id"] for item in answer["items"]}


def openings(world: World, index: int) -> Openings | None:
    with world.flow.engine.connect() as connection:
        return read_openings(connection, index)


def test_authorized_serves_the_granted_categories_and_counts_the_use(world: World) -> None:
    grant_id = world.grant()
    response = world.send(world.authorized(grant_id), "establishment")
    answer = served(response)
    AuthorizedAnswer.model_validate(answer)
    records = world.records
    assert {records["qualification"], records["judgment"]} <= record_ids(answer)
    for withheld in ("honour", "income", "old_penalty"):
        assert records[withheld] not in response.text  # not even its existence
    assert {item["scope_category"] for item in answer["items"]} <= {"basic", "untrustworthy"}
    assert all(not item["history"] and item["change_reason"] is None for item in answer["items"])
    assert (answer["grant_id"], answer["purpose"]) == (grant_id, PURPOSE)
    assert SAMPLE_VALUES[FieldType.PHONE] not in response.text  # identifiers in text masked
    assert world.uses(grant_id) == 1
    event = world.event(answer["audit"]["leaf_index"])
    assert (event.outcome, event.grant_id, event.purpose) == (Outcome.ALLOWED, grant_id, PURPOSE)
    assert event.item_categories == {"basic", "untrustworthy"}


def test_restricted_information_is_served_with_its_written_consent(world: World) -> None:
    grant_id = world.flow.pending(mortgage_request())
    version = world.client.get("/v1/written-consent-texts").json()["version"]
    written = [{"category": "income", "text_version": version, "confirmed": True}]
    decided = world.flow.decide(
        grant_id, "approve", categories=["basic", "income"], written_consents=written
    )
    assert decided.status_code == 200, decided.text
    request = world.authorized(
        grant_id, purpose="mortgage_application", categories=["basic", "income"]
    )
    answer = served(world.send(request, "establishment"))
    assert world.records["income"] in record_ids(answer)


def test_the_leaf_commits_to_the_subject_and_the_exact_answer(world: World) -> None:
    response = world.send(world.sharing(), "agency")
    document = served(response)
    receipt = document.pop("audit")
    answer_bytes = canonical_json(document)
    assert response.content.startswith(answer_bytes[:-1])
    index = receipt["leaf_index"]
    with world.flow.engine.connect() as connection:
        leaf = read_leaves(connection, index, index + 1)[0]
    assert base64.b64decode(receipt["leaf_hash"]) == leaf_hash(leaf)
    opened = openings(world, index)
    assert opened is not None and opened.response_salt is not None
    key = world.flow.subject_key(world.citizen)
    assert opened.subject_key == key
    event = world.event(index)
    check_commitment(
        event.subject_commitment, CommitmentDomain.SUBJECT, opened.subject_salt, key.encode()
    )
    check_commitment(
        event.response_commitment, CommitmentDomain.RESPONSE, opened.response_salt, answer_bytes
    )
    assert world.citizen.encode() not in leaf


def test_sharing_serves_the_categories_asked_with_the_use_restriction(world: World) -> None:
    answer = served(world.send(world.sharing(categories=["untrustworthy"]), "agency"))
    SharingAnswer.model_validate(answer)
    assert world.records["judgment"] in record_ids(answer)
    assert {item["scope_category"] for item in answer["items"]} == {"untrustworthy"}
    assert answer["sector"] == "market_regulation"
    assert "Art. 40 para. 1" in answer["use_restriction"]
    event = world.event(answer["audit"]["leaf_index"])
    assert event.item_categories == {"untrustworthy"} and event.requester == world.client_id(
        "agency"
    )


def test_art_40_a_sharing_inquiry_states_its_duty_and_it_is_registered(world: World) -> None:
    answer = served(world.send(world.sharing(categories=["untrustworthy"]), "agency"))
    assert answer["duty"] == DUTY
    index = answer["audit"]["leaf_index"]
    opened = openings(world, index)
    assert opened is not None
    duty = commit(CommitmentDomain.DUTY, opened.subject_salt, DUTY.encode())
    assert world.event(index).purpose == "duty:" + duty.hex()
    with world.flow.engine.connect() as connection:
        leaf = read_leaves(connection, index, index + 1)[0]
    assert DUTY.encode() not in leaf


def test_authority_serves_what_its_basis_allows_and_commits_to_the_case(world: World) -> None:
    answer = served(world.send(world.authority(), "agency"))
    AuthorityAnswer.model_validate(answer)
    ids = record_ids(answer)
    assert {world.records["qualification"], world.records["judgment"]} <= ids
    assert world.records["honour"] not in ids  # trustworthy: beyond the basis
    assert (answer["legal_basis"], answer["case_reference"]) == (
        "market-supervision-inspection",
        CASE,
    )
    assert "Art. 40 para. 1" in answer["use_restriction"]
    index = answer["audit"]["leaf_index"]
    event = world.event(index)
    assert event.legal_basis == "market-supervision-inspection"
    assert event.item_categories == {"basic", "untrustworthy"}
    opened = openings(world, index)
    assert opened is not None
    case = commit(CommitmentDomain.CASE_REFERENCE, opened.subject_salt, CASE.encode())
    assert event.purpose == "case:" + case.hex()


def test_the_self_view_is_the_whole_file_with_sources_and_history(world: World) -> None:
    answer = served(world.send(world.own(), "citizen"))
    CreditReport.model_validate(answer)
    records = world.records
    ids = record_ids(answer)
    assert {records[name] for name in ("qualification", "judgment", "honour", "income")} <= ids
    corrected = next(i for i in answer["items"] if i["record_id"] == records["qualification"])
    assert corrected["version"] == 2 and corrected["change_reason"] == CORRECTION_REASON
    assert [version["version"] for version in corrected["history"]] == [1]
    assert corrected["source"] == "Demo City Administration for Market Regulation"
    past_retention = [
        r for r in answer["redactions"] if r.get("record_id") == records["old_penalty"]
    ]
    assert past_retention and all(
        (r["reason"], r["article"]) == ("retention_period_ended", "Art. 41 para. 2")
        for r in past_retention
    )
    assert records["old_penalty"] not in ids
    event = world.event(answer["audit"]["leaf_index"])
    assert event.requester == "citizen"
    assert event.item_categories == {item["scope_category"] for item in answer["items"]}


def test_the_public_view_is_desensitized_and_never_linked_to_its_subject(world: World) -> None:
    response = world.send(world.public(world.citizen), None)
    answer = served(response)
    CreditReport.model_validate(answer)
    assert answer["subject"].startswith("p1-") and world.citizen not in response.text
    ids = record_ids(answer)
    assert {world.records[name] for name in ("qualification", "judgment", "honour")} <= ids
    assert world.records["income"] not in response.text
    assert SAMPLE_VALUES[FieldType.NAME] not in response.text  # names masked
    index = answer["audit"]["leaf_index"]
    assert openings(world, index) is None  # its salt is gone: nobody can link it
    event = world.event(index)
    assert (event.requester, event.response_commitment) == ("public", b"")


def test_unknown_and_nothing_public_subjects_get_the_same_answer(world: World) -> None:
    unknown = world.send(world.public(UNKNOWN), None)
    nothing = world.send(world.public(NOTHING_PUBLIC), None)
    assert unknown.status_code == nothing.status_code == 200
    assert set(unknown.headers) == set(nothing.headers)
    answers = [served(unknown), served(nothing)]
    for answer in answers:
        assert answer["items"] == []
        assert all("record_id" not in entry for entry in answer["redactions"])
        del answer["subject"], answer["audit"]
    assert answers[0] == answers[1]
    events = [world.event(r.json()["audit"]["leaf_index"]) for r in (unknown, nothing)]
    assert [(e.item_categories, e.outcome, e.reason_code) for e in events] == [
        (frozenset(), Outcome.ALLOWED, "")
    ] * 2


def test_the_receipt_leads_to_an_inclusion_proof_under_a_checkpoint(world: World) -> None:
    receipt = served(world.send(world.sharing(), "agency"))["audit"]
    world.publish()
    client = world.client
    note = client.get("/v1/audit/checkpoint").text
    verifier = parse_verifier_key(client.get("/v1/audit/verifier-key").text)
    checkpoint = open_checkpoint(note, [verifier], world.flow.settings.log_origin)
    params = {"index": receipt["leaf_index"], "tree_size": checkpoint.size}
    proof = client.get("/v1/audit/proofs/inclusion", params=params).json()["hashes"]
    verify_inclusion(
        base64.b64decode(receipt["leaf_hash"]),
        receipt["leaf_index"],
        checkpoint.size,
        [base64.b64decode(hashed) for hashed in proof],
        checkpoint.root,
    )


def test_when_the_audit_log_fails_mid_inquiry_nothing_is_served(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    grant_id = world.grant()
    before = world.log_size()

    def unavailable(_store: object, _batch: object, _more: object = None) -> int:
        raise OSError("the disk is full")

    async def unavailable_on_loop(_store: object, _batch: object, _more: object = None) -> int:
        return unavailable(_store, _batch)

    monkeypatch.setattr(SqlLogStore, "append_batch", unavailable)
    monkeypatch.setattr(LoopLogStore, "append_batch", unavailable_on_loop)  # PostgreSQL's
    for request, persona in [
        (world.authorized(grant_id), "establishment"),
        (world.own(), "citizen"),
        (world.public(world.citizen), None),
        (world.authority(legal_basis=None), "agency"),  # a refusal is not answered either
    ]:
        response = world.send(request, persona)
        problem = assert_problem(response, 503)
        assert problem["article"] == "Art. 39" and "items" not in problem
        assert not any(record_id in response.text for record_id in world.records.values())
    monkeypatch.undo()
    assert world.log_size() == before
    assert world.uses(grant_id) == 0
    assert world.send(world.authorized(grant_id), "establishment").status_code == 200


def test_the_inquiry_path_is_traced_without_personal_data(
    world: World, spans: InMemorySpanExporter
) -> None:
    request = world.authorized(world.grant())
    spans.clear()
    world.send(request, "establishment")
    finished = spans.get_finished_spans()
    server = next(s for s in finished if s.name == "POST /v1/inquiries/authorized")
    steps = {"policy.decide", "archive.read", "redaction.apply", "audit.append"}
    path = [s for s in finished if s.name in steps]
    (read,) = [s for s in path if s.name == "archive.read"]
    kept = (read.attributes or {})["archive.kept"]  # a view kept is not redacted again
    assert {s.name for s in path} == steps - ({"redaction.apply"} if kept else set())
    assert all(s.context.trace_id == server.context.trace_id for s in path)
    values = [str(v) for s in finished for v in (s.attributes or {}).values()]
    assert not any(world.citizen in value for value in values)


def test_inquiries_are_counted_by_channel_and_outcome(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted: list[tuple[str, str]] = []

    def count(channel: str, outcome: str) -> None:
        counted.append((channel, outcome))

    monkeypatch.setattr("gateway.auth.count_inquiry", count)
    monkeypatch.setattr("gateway.inquiries.service.count_inquiry", count)
    for persona in ("agency", None, "regulator"):
        world.send(world.sharing(), persona)
    assert counted == [
        ("sharing", "allowed"),
        ("sharing", "unauthenticated"),
        ("sharing", "denied"),
    ]


def test_a_revocation_between_decision_and_count_denies_the_inquiry(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The use is counted in the transaction of the allowed entry; a revocation committed after
    the decision denies the inquiry then: nothing is served and the denial follows the allowed
    entry in the log."""
    grant_id = world.grant()

    def revoked_meanwhile(*arguments: Any) -> Rendered:
        with unit_of_work(world.flow.engine) as session:
            session.execute(
                update(GrantRow).where(col(GrantRow.grant_id) == grant_id).values(state="revoked")
            )
        return view_for(*arguments)

    monkeypatch.setattr("gateway.inquiries.service.view_for", revoked_meanwhile)
    before = world.log_size()
    response = world.send(world.authorized(grant_id), "establishment")
    problem = assert_problem(response, 403)
    assert (problem["reason"], problem["article"]) == ("revoked", "Art. 61(2)")
    assert not any(record_id in response.text for record_id in world.records.values())
    allowed, denied = world.event(before), world.event(before + 1)
    assert world.log_size() == before + 2
    assert (allowed.outcome, denied.outcome, denied.reason_code) == (
        Outcome.ALLOWED,
        Outcome.DENIED,
        "revoked",
    )
    assert world.uses(grant_id) == 0
