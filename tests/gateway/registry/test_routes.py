"""The registry's admin API on both backends: what the regulator registers works at once in
the channels, what it withdraws or lets lapse is refused naming Art. 40 para. 1, and each
change is a leaf that verifies against the log's checkpoint."""

from __future__ import annotations

import base64
from datetime import date, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from audit.leaf import EventKind
from audit.merkle import verify_inclusion
from consent.keys import public_jwk
from gateway.app import create_app
from tests.gateway.audit.test_routes import hashes, served_checkpoint
from tests.gateway.consents.factories import consent_request
from tests.gateway.inquiries.factories import World
from tests.gateway.registry.factories import purpose_definition
from tests.gateway.test_problems import assert_problem

TODAY = date.today()
REGISTRY = "/v1/registry"


def basis(code: str, **changes: Any) -> dict[str, Any]:
    return {
        "code": code,
        "title": "Inspection of a suspected fraud",
        "statute": "Demo Province Market Supervision Regulations, Art. 18",
        "scope": "An open fraud case against a market entity",
        "categories": ["basic"],
        "valid_from": str(TODAY - timedelta(days=30)),
        "valid_until": str(TODAY + timedelta(days=365)),
        **changes,
    }


def register_basis(world: World, body: dict[str, Any]) -> dict[str, Any]:
    agency = world.client_id("agency")
    response = world.client.post(
        f"{REGISTRY}/parties/{agency}/legal-bases", json=body, headers=world.headers("regulator")
    )
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def assert_in_the_log(world: World, audit: dict[str, Any], reason_code: str) -> None:
    """The change's leaf: a registry_change by the regulator, included in the signed tree."""
    event = world.event(audit["leaf_index"])
    assert (event.kind, event.reason_code) == (EventKind.REGISTRY_CHANGE, reason_code)
    assert event.requester == world.client_id("regulator")
    world.publish()
    head = served_checkpoint(world.client)
    params = {"index": audit["leaf_index"], "tree_size": head.size}
    proof = hashes(world.client.get("/v1/audit/proofs/inclusion", params=params))
    leaf_hash = base64.b64decode(audit["leaf_hash"])
    verify_inclusion(leaf_hash, audit["leaf_index"], head.size, proof, head.root)


def categories_served(world: World, code: str) -> set[str]:
    response = world.send(world.authority(legal_basis=code), "agency")
    assert response.status_code == 200, response.text
    return {item["scope_category"] for item in response.json()["items"]}


def test_a_registered_basis_serves_the_agency_at_once_within_its_categories(
    world: World,
) -> None:
    registered = register_basis(world, basis("fraud-inspection"))
    assert registered["entry"]["in_force"] and registered["entry"]["version"] == 1
    assert_in_the_log(world, registered["audit"], "legal_basis_registered")
    assert categories_served(world, "fraud-inspection") == {"basic"}
    assert "untrustworthy" in categories_served(world, "market-supervision-inspection")
    beyond = world.send(
        world.authority(legal_basis="fraud-inspection", categories=["untrustworthy"]), "agency"
    )
    assert assert_problem(beyond, 403)["reason"] == "outside_legal_basis"
    listed = world.client.get(
        f"{REGISTRY}/parties/{world.client_id('agency')}/legal-bases",
        headers=world.headers("regulator"),
    ).json()
    assert {"fraud-inspection", "market-supervision-inspection"} <= {b["code"] for b in listed}


@pytest.mark.parametrize(
    ("code", "validity"),
    [
        ("not-yet-valid", {"valid_from": str(TODAY + timedelta(days=10)), "valid_until": None}),
        (
            "expired",
            {
                "valid_from": str(TODAY - timedelta(days=60)),
                "valid_until": str(TODAY - timedelta(days=2)),
            },
        ),
    ],
)
def test_a_basis_outside_its_validity_is_refused_naming_the_article(
    world: World, code: str, validity: dict[str, Any]
) -> None:
    registered = register_basis(world, basis(code, **validity))
    assert registered["entry"]["in_force"] is False
    refused = world.send(world.authority(legal_basis=code), "agency")
    problem = assert_problem(refused, 403)
    assert (problem["reason"], problem["article"]) == (
        "legal_basis_not_in_force",
        "Art. 40 para. 1",
    )
    assert "items" not in problem
    assert world.last_event().reason_code == "legal_basis_not_in_force"


def test_a_withdrawn_basis_is_refused_from_the_next_inquiry_on(world: World) -> None:
    register_basis(world, basis("licence-audit"))
    assert categories_served(world, "licence-audit") == {"basic"}
    agency = world.client_id("agency")
    withdrawn = world.client.post(
        f"{REGISTRY}/parties/{agency}/legal-bases/licence-audit/withdraw",
        headers=world.headers("regulator"),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["entry"]["withdrawn_at"] is not None
    assert_in_the_log(world, withdrawn.json()["audit"], "legal_basis_withdrawn")
    refused = world.send(world.authority(legal_basis="licence-audit"), "agency")
    assert assert_problem(refused, 403)["article"] == "Art. 40 para. 1"
    again = world.client.post(
        f"{REGISTRY}/parties/{agency}/legal-bases/licence-audit/withdraw",
        headers=world.headers("regulator"),
    )
    assert_problem(again, 404)


@pytest.mark.parametrize(
    ("target", "body", "status"),
    [
        ("agency", basis("bad-category", categories=["horoscope"]), 422),
        ("agency", basis("reversed", valid_until=str(TODAY - timedelta(days=31))), 422),
        ("agency", {**basis("extra-member"), "version": 7}, 422),
        ("agency", basis("market-supervision-inspection"), 409),
        ("establishment", basis("not-an-agency"), 422),
        (None, basis("nobody"), 404),
    ],
)
def test_a_refused_basis_leaves_the_registry_and_the_log_as_they_were(
    world: World, target: str | None, body: dict[str, Any], status: int
) -> None:
    before = world.log_size()
    client_id = world.client_id(target) if target else "no-such-agency"
    response = world.client.post(
        f"{REGISTRY}/parties/{client_id}/legal-bases", json=body, headers=world.headers("regulator")
    )
    assert_problem(response, status)
    assert world.log_size() == before
    listed = world.client.get(
        f"{REGISTRY}/parties/{world.client_id('agency')}/legal-bases",
        headers=world.headers("regulator"),
    ).json()
    assert body["code"] not in {b["code"] for b in listed} - {"market-supervision-inspection"}
    versions = [b["version"] for b in listed if b["code"] == "market-supervision-inspection"]
    assert versions == [1]


def test_a_regulator_token_without_registry_write_is_refused(world: World) -> None:
    world.personas["auditor"] = {**world.flow.credentials["regulator"], "scope": "audit:read"}
    response = world.client.get(f"{REGISTRY}/purposes", headers=world.headers("auditor"))
    problem = assert_problem(response, 403)
    assert "registry:write" in str(problem["detail"])


def test_purposes_added_and_retired_govern_consent_requests(world: World) -> None:
    request = consent_request(purpose="guarantee_review", validity_days=30, max_uses=1)
    unknown = world.flow.request(dict(request))
    assert (unknown["status"], unknown["reason"]) == (422, "unknown_purpose")
    added = world.client.post(
        f"{REGISTRY}/purposes",
        json=purpose_definition("guarantee_review"),
        headers=world.headers("regulator"),
    )
    assert added.status_code == 201, added.text
    assert_in_the_log(world, added.json()["audit"], "purpose_added")
    assert world.flow.request(dict(request))["status"] == 201
    too_long = world.flow.request(consent_request(purpose="guarantee_review", validity_days=31))
    assert too_long["status"] == 422
    retired = world.client.post(
        f"{REGISTRY}/purposes/guarantee_review/retire", headers=world.headers("regulator")
    )
    assert retired.status_code == 200, retired.text
    assert_in_the_log(world, retired.json()["audit"], "purpose_retired")
    refused = world.flow.request(dict(request))
    assert (refused["status"], refused["reason"]) == (422, "unknown_purpose")
    listed = world.client.get(f"{REGISTRY}/purposes", headers=world.headers("regulator")).json()
    (entry,) = [p for p in listed if p["code"] == "guarantee_review"]
    assert entry["retired_at"] is not None
    own = world.client.get("/v1/me/consents", headers=world.headers("citizen")).json()
    described = [c for c in own["consents"] if c["purpose"] == "guarantee_review"]
    assert described and described[0]["purpose_description"]["en"] == "Review of a guarantor"


@pytest.mark.parametrize(
    "body",
    [
        purpose_definition("horoscope_review", categories=["horoscope"]),
        purpose_definition("endless_review", max_validity_days=366),
        purpose_definition("repeat_review", frequency="one_time", max_uses=2),
        purpose_definition("loan_application"),
        {**purpose_definition("extra_review"), "auto_renew": True},
    ],
)
def test_a_refused_purpose_changes_nothing(world: World, body: dict[str, Any]) -> None:
    before = world.log_size()
    response = world.client.post(
        f"{REGISTRY}/purposes", json=body, headers=world.headers("regulator")
    )
    assert_problem(response, 409 if body["code"] == "loan_application" else 422)
    assert world.log_size() == before


def test_parties_registered_rotated_and_disabled_through_the_api(world: World) -> None:
    regulator = world.headers("regulator")
    key = Ed25519PrivateKey.generate()
    body = {
        "role": "establishment",
        "name": "Lakeside Lending",
        "client_id": "lakeside-lending",
        "jwks": {"keys": [public_jwk(key.public_key())]},
    }
    registered = world.client.post(f"{REGISTRY}/parties", json=body, headers=regulator)
    assert registered.status_code == 201, registered.text
    assert_in_the_log(world, registered.json()["audit"], "party_registered")
    assert_problem(world.client.post(f"{REGISTRY}/parties", json=body, headers=regulator), 409)
    private = {**body, "client_id": "lakeside-2", "jwks": {"keys": [{"kty": "OKP", "d": "x"}]}}
    assert_problem(world.client.post(f"{REGISTRY}/parties", json=private, headers=regulator), 422)
    new = public_jwk(Ed25519PrivateKey.generate().public_key())
    rotated = world.client.post(
        f"{REGISTRY}/parties/lakeside-lending/keys",
        json={"jwks": {"keys": [new]}, "retire_old": True},
        headers=regulator,
    )
    assert rotated.json()["entry"]["key_ids"] == [new["kid"]]
    disabled = world.client.post(f"{REGISTRY}/parties/lakeside-lending/disable", headers=regulator)
    assert disabled.json()["entry"]["disabled"] is True
    assert_in_the_log(world, disabled.json()["audit"], "party_disabled")
    listed = world.client.get(f"{REGISTRY}/parties", headers=regulator).json()
    (entry,) = [p for p in listed if p["client_id"] == "lakeside-lending"]
    assert entry["disabled"] and entry["key_ids"] == [new["kid"]]


def test_a_change_made_through_one_process_holds_at_once_on_another(world: World) -> None:
    """Two gateways on one database: nothing of the registries is cached per process."""
    agency, headers = world.client_id("agency"), world.headers("agency")
    inquiry = world.authority(legal_basis="other-process-basis")[2]
    with TestClient(create_app(world.flow.settings)) as other:
        before = other.post("/v1/inquiries/authority", json=inquiry, headers=headers)
        assert assert_problem(before, 403)["reason"] == "legal_basis_foreign"
        register_basis(world, basis("other-process-basis"))
        served = other.post("/v1/inquiries/authority", json=inquiry, headers=headers)
        assert served.status_code == 200, served.text
        world.client.post(
            f"{REGISTRY}/parties/{agency}/legal-bases/other-process-basis/withdraw",
            headers=world.headers("regulator"),
        )
        after = other.post("/v1/inquiries/authority", json=inquiry, headers=headers)
        assert assert_problem(after, 403)["reason"] == "legal_basis_not_in_force"


def test_amending_a_basis_or_a_purpose_makes_its_next_version(world: World) -> None:
    agency, regulator = world.client_id("agency"), world.headers("regulator")
    register_basis(world, basis("widening-basis"))
    assert categories_served(world, "widening-basis") == {"basic"}
    terms = basis("widening-basis", categories=["basic", "untrustworthy"])
    del terms["code"]
    path = f"{REGISTRY}/parties/{agency}/legal-bases/widening-basis"
    amended = world.client.put(path, json=terms, headers=regulator)
    assert amended.status_code == 200, amended.text
    assert amended.json()["entry"]["version"] == 2
    assert_in_the_log(world, amended.json()["audit"], "legal_basis_amended")
    assert categories_served(world, "widening-basis") == {"basic", "untrustworthy"}
    missing = world.client.put(
        f"{REGISTRY}/parties/{agency}/legal-bases/nowhere", json=terms, headers=regulator
    )
    assert_problem(missing, 404)

    added = purpose_definition("amended_review")
    world.client.post(f"{REGISTRY}/purposes", json=added, headers=regulator)
    request = consent_request(purpose="amended_review", validity_days=45, max_uses=1)
    assert world.flow.request(dict(request))["status"] == 422
    longer = {**added, "max_validity_days": 60}
    del longer["code"]
    changed = world.client.put(
        f"{REGISTRY}/purposes/amended_review", json=longer, headers=regulator
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["entry"]["version"] == 2
    assert_in_the_log(world, changed.json()["audit"], "purpose_amended")
    assert world.flow.request(dict(request))["status"] == 201
