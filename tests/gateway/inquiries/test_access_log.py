"""The citizen's access log (Art. 63): every entry about them - and nothing else - each with an
inclusion proof the citizen verifies against the checkpoint served with it."""

from __future__ import annotations

import base64
from typing import Any

from audit.bundle import verify_bundle
from audit.checkpoint import open_checkpoint
from audit.merkle import verify_inclusion
from audit.note import parse_verifier_key
from gateway.inquiries.schemas import AccessLogOut
from tests.gateway.inquiries.factories import NOTHING_PUBLIC, World, subject
from tests.gateway.test_problems import assert_problem


def leaf_index(world: World, request: Any, persona: str | None) -> int:
    response = world.send(request, persona)
    if response.status_code == 200:
        index: int = response.json()["audit"]["leaf_index"]
        return index
    return world.log_size() - 1


def access_log(world: World, **params: int) -> dict[str, Any]:
    response = world.client.get(
        "/v1/me/access-log", params=params, headers=world.headers("citizen")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    AccessLogOut.model_validate(body)
    return body


def test_every_proof_verifies_against_the_served_checkpoint(world: World) -> None:
    about_me = [
        leaf_index(world, world.authorized(world.grant()), "establishment"),
        leaf_index(world, world.sharing(), "agency"),
        leaf_index(world, world.authority(), "agency"),
        leaf_index(world, world.authority(legal_basis=None), "agency"),  # refused
        leaf_index(world, world.own(), "citizen"),
    ]
    not_mine = [
        leaf_index(world, world.public(world.citizen), None),
        leaf_index(world, world.sharing(subject=subject(NOTHING_PUBLIC)), "agency"),
    ]
    world.publish()
    log = access_log(world)
    verifier = parse_verifier_key(world.client.get("/v1/audit/verifier-key").text)
    checkpoint = open_checkpoint(log["checkpoint"], [verifier], world.flow.settings.log_origin)
    assert log["tree_size"] == checkpoint.size
    entries = log["entries"]
    assert entries
    for entry in entries:
        assert entry["inclusion"]["tree_size"] == checkpoint.size
        verify_inclusion(
            base64.b64decode(entry["leaf_hash"]),
            entry["leaf_index"],
            checkpoint.size,
            [base64.b64decode(hashed) for hashed in entry["inclusion"]["hashes"]],
            checkpoint.root,
        )
    indexes = [entry["leaf_index"] for entry in entries]
    assert indexes == sorted(indexes, reverse=True)
    assert set(about_me) <= set(indexes) and not set(not_mine) & set(indexes)


def test_entries_say_who_asked_through_which_channel_for_what(world: World) -> None:
    grant_id = world.grant()
    index = leaf_index(world, world.authorized(grant_id), "establishment")
    refused = leaf_index(world, world.authority(legal_basis=None), "agency")
    entries = {entry["leaf_index"]: entry for entry in access_log(world)["entries"]}
    inquiry = entries[index]
    assert inquiry["requester_name"] == "Demo Province Rural Commercial Bank"
    assert (inquiry["kind"], inquiry["channel"], inquiry["outcome"]) == (
        "inquiry",
        "authorized_inquiry",
        "allowed",
    )
    assert (inquiry["grant_id"], inquiry["purpose"]) == (grant_id, "post_loan_management")
    assert inquiry["categories"] == ["basic", "untrustworthy"]
    assert inquiry["inclusion"] is None  # newer than the checkpoint: pending
    denial = entries[refused]
    assert (denial["outcome"], denial["reason"]) == ("denied", "legal_basis_missing")
    assert denial["requester_name"] == "Demo Province Market Regulation Bureau"
    kinds = {entry["kind"] for entry in entries.values()}
    assert {"consent_change", "record_change"} <= kinds  # their grants and their records too


def test_pages_go_back_from_an_index(world: World) -> None:
    newest = access_log(world, limit=2)["entries"]
    assert len(newest) == 2
    older = access_log(world, before=newest[-1]["leaf_index"], limit=1)["entries"]
    assert older[0]["leaf_index"] < newest[-1]["leaf_index"]


def test_only_the_signed_in_citizen_reads_their_access_log(world: World) -> None:
    assert_problem(world.client.get("/v1/me/access-log"), 401)
    for persona in ("establishment", "agency", "regulator"):
        response = world.client.get("/v1/me/access-log", headers=world.headers(persona))
        assert_problem(response, 403)


def test_the_bundle_verifies_offline_with_the_logs_key_only(world: World) -> None:
    leaf_index(world, world.own(), "citizen")
    world.publish()
    headers = world.headers("citizen")
    first = world.client.get("/v1/me/access-log/bundle", headers=headers)
    assert first.status_code == 200, first.text
    assert first.headers["content-disposition"].startswith("attachment")
    key = parse_verifier_key(world.client.get("/v1/audit/verifier-key").text)
    seen = verify_bundle(first.text, key)
    assert seen.entries == len(access_log(world)["entries"]) and seen.previous is None

    leaf_index(world, world.own(), "citizen")
    world.publish()
    params = {"since_size": seen.checkpoint.size}
    later = world.client.get("/v1/me/access-log/bundle", params=params, headers=headers)
    report = verify_bundle(later.text, key)
    assert report.previous == seen.checkpoint
    assert report.entries == seen.entries + 1
    unsigned = world.client.get(
        "/v1/me/access-log/bundle", params={"since_size": 10**9}, headers=headers
    )
    assert_problem(unsigned, 422)
    assert_problem(world.client.get("/v1/me/access-log/bundle"), 401)
