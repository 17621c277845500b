"""Strong approval (Art. 61(2)): approving, rejecting, resuming and revoking need a fresh
second factor of the credit subject, verified for that very decision, used once. A password
alone - what an establishment could obtain or coerce - decides nothing, and the refusal is
registered like any other."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest

from audit.leaf import EventKind, Outcome
from bench.passkey import SoftPasskey, StepUp
from consent.passwords import CitizenPasswords
from gateway.demo import demo_id_number
from gateway.parties.models import Citizen
from gateway.storage.db import unit_of_work
from tests.gateway.consents.factories import Flow, consent_request, totp_codes
from tests.gateway.test_problems import assert_problem

PASSWORD = "a-password-an-establishment-knows"
_SEQUENCE = count(100)


class OwnCitizen:
    """A citizen of its own for one test (the TOTP steps of the demo citizen stay untouched)."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.username = f"citizen{next(_SEQUENCE)}"
        self.id_number = demo_id_number("320106", "19850101", f"{next(_SEQUENCE) % 1000:03d}")
        with unit_of_work(flow.engine) as session:
            session.add(
                Citizen(
                    username=self.username,
                    id_number=self.id_number,
                    password_hash=CitizenPasswords().hash(PASSWORD),
                    real_name_verified=True,
                )
            )
        self.headers = self.sign_in()

    def sign_in(self) -> dict[str, str]:
        form = {"username": self.username, "password": PASSWORD}
        token = self.flow.client.post("/v1/me/token", data=form).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    def grant(self) -> str:
        subject = {"kind": "id_number", "value": self.id_number}
        return self.flow.pending(consent_request(subject=subject))

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        return self.flow.client.post(path, json=body, headers=headers or self.headers)

    def decide(self, grant_id: str, action: str, proof: str | None, **body: Any) -> Any:
        return self.post(f"/v1/me/consents/{grant_id}/{action}", {**body, "second_factor": proof})

    def totp_proof(self, action: str, grant_id: str | None, code: str) -> Any:
        return self.post(
            "/v1/me/second-factor/proofs", {"action": action, "grant_id": grant_id, "totp": code}
        )

    def state(self, grant_id: str) -> str:
        consents = self.flow.client.get("/v1/me/consents", headers=self.headers).json()
        state: str = next(c for c in consents["consents"] if c["grant_id"] == grant_id)["state"]
        return state


def _denials(flow: Flow, grant_id: str) -> list[str]:
    return [
        event.reason_code
        for event in flow.audit_events(grant_id)
        if event.outcome is Outcome.DENIED
    ]


def test_the_totp_path_approves_and_revokes_each_code_once(flow: Flow) -> None:
    citizen = OwnCitizen(flow)
    grant_id, other = citizen.grant(), citizen.grant()

    # A password alone: refused citing Art. 61(2), nothing changed, the refusal registered.
    refused = assert_problem(citizen.decide(grant_id, "approve", None, categories=["basic"]), 403)
    assert (refused["article"], refused["reason"]) == ("Art. 61(2)", "second_factor_required")
    assert citizen.state(grant_id) == "pending"
    assert [e.reason_code for e in flow.audit_events(grant_id)] == [
        "requested",
        "second_factor_required",
    ]

    # Enrolment after sign-in: a secret and its otpauth URI, confirmed by a first code.
    provisioned = citizen.post("/v1/me/factors/totp", {"label": "phone"})
    assert provisioned.status_code == 201, provisioned.text
    secret = provisioned.json()["secret"]
    assert provisioned.json()["otpauth_uri"].startswith("otpauth://totp/")
    assert secret in provisioned.json()["otpauth_uri"]
    confirm = f"/v1/me/factors/totp/{provisioned.json()['factor']['factor_id']}/confirmation"
    assert_problem(citizen.post(confirm, {"code": "000000"}), 422)
    earlier, current, later = totp_codes(secret)
    confirmed = citizen.post(confirm, {"code": earlier})
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_at"]
    listed = flow.client.get("/v1/me/factors", headers=citizen.headers).json()["factors"]
    assert [(f["kind"], f["label"]) for f in listed] == [("totp", "phone")]

    # A proof for the approval of this grant only.
    proof = citizen.totp_proof("approve", grant_id, current)
    assert proof.status_code == 200, proof.text
    approval = proof.json()["second_factor"]
    basic = {"categories": ["basic"]}
    for grant, action, body in ((other, "approve", basic), (grant_id, "reject", {})):
        misused = assert_problem(citizen.decide(grant, action, approval, **body), 403)
        assert misused["reason"] == "second_factor_invalid"
    assert (citizen.state(grant_id), citizen.state(other)) == ("pending", "pending")
    approved = citizen.decide(grant_id, "approve", approval, categories=["basic"])
    assert approved.status_code == 200 and approved.json()["state"] == "active"
    spent = assert_problem(citizen.decide(grant_id, "revoke", approval), 403)
    assert spent["reason"] == "second_factor_invalid"

    # The same code again is refused; the next one revokes.
    replayed = assert_problem(citizen.totp_proof("revoke", grant_id, current), 403)
    assert (replayed["reason"], replayed["article"]) == ("second_factor_replayed", "Art. 61(2)")
    revocation = citizen.totp_proof("revoke", grant_id, later).json()["second_factor"]
    assert citizen.decide(grant_id, "revoke", revocation).json()["state"] == "revoked"
    assert _denials(flow, grant_id) == [
        "second_factor_required",
        "second_factor_invalid",
        "second_factor_invalid",
    ]
    assert _denials(flow, other) == ["second_factor_invalid"]

    # A further factor needs a step-up: the password alone adds none of an intruder's.
    intruder = assert_problem(citizen.post("/v1/me/factors/totp", {}), 403)
    assert intruder["article"] == "Art. 61(2)"
    enrolments = [e for e in flow.log_events() if e.kind is EventKind.FACTOR_CHANGE]
    assert any(e.requester == "citizen" and e.purpose == "totp" for e in enrolments)


def test_a_proof_is_good_in_its_own_session_only(flow: Flow) -> None:
    grant_id = flow.pending()
    proof = flow.second_factor("approve", grant_id)
    citizen = flow.credentials["citizen"]
    form = {"username": citizen["username"], "password": citizen["password"]}
    token = flow.client.post("/v1/me/token", data=form).json()["access_token"]
    other_session = {"Authorization": f"Bearer {token}"}
    response = flow.client.post(
        f"/v1/me/consents/{grant_id}/approve",
        json={"categories": ["basic"], "second_factor": proof},
        headers=other_session,
    )
    assert assert_problem(response, 403)["reason"] == "second_factor_invalid"
    assert flow.decide(grant_id, "approve", categories=["basic"]).status_code == 200


def test_a_passkey_is_the_first_factor_and_answers_only_its_own_challenge(flow: Flow) -> None:
    citizen = OwnCitizen(flow)
    grant_id = citizen.grant()
    passkey = SoftPasskey(flow.settings.base_url)
    step_up = StepUp(flow.client, citizen.headers, passkey)
    step_up.enrol()
    listed = flow.client.get("/v1/me/factors", headers=citizen.headers).json()["factors"]
    assert [f["kind"] for f in listed] == ["passkey"]

    ceremony = citizen.post(
        "/v1/me/second-factor/challenges", {"action": "approve", "grant_id": grant_id}
    ).json()
    stranger = SoftPasskey(flow.settings.base_url).get(ceremony["options"])
    refused = citizen.post(
        "/v1/me/second-factor/proofs",
        {
            "action": "approve",
            "grant_id": grant_id,
            "passkey": {"challenge": ceremony["challenge"], "credential": stranger},
        },
    )
    assert assert_problem(refused, 403)["reason"] == "second_factor_invalid"
    elsewhere = citizen.post(
        "/v1/me/second-factor/proofs",
        {
            "action": "reject",
            "grant_id": grant_id,
            "passkey": {
                "challenge": ceremony["challenge"],
                "credential": passkey.get(ceremony["options"]),
            },
        },
    )
    assert assert_problem(elsewhere, 403)["reason"] == "second_factor_invalid"
    assert citizen.state(grant_id) == "pending"
    approved = citizen.decide(
        grant_id, "approve", step_up.proof("approve", grant_id), categories=["basic"]
    )
    assert approved.json()["state"] == "active"


@pytest.mark.parametrize(
    "body",
    [
        {
            "action": "approve",
            "grant_id": "cg_x",
            "totp": "123456",
            "passkey": {"challenge": "c", "credential": {}},
        },
        {"action": "approve", "grant_id": "cg_x"},
        {"action": "approve", "totp": "123456"},
        {"action": "enrol_factor", "grant_id": "cg_x", "totp": "123456"},
        {"action": "approve", "grant_id": "cg_x", "totp": "12345a"},
        {"action": "pause", "grant_id": "cg_x", "totp": "123456"},
    ],
)
def test_a_malformed_verification_is_a_problem_document(flow: Flow, body: dict[str, Any]) -> None:
    response = flow.client.post(
        "/v1/me/second-factor/proofs", json=body, headers=flow.headers("citizen")
    )
    assert_problem(response, 422)


def test_a_citizen_without_a_passkey_gets_no_challenge(flow: Flow) -> None:
    citizen = OwnCitizen(flow)
    response = citizen.post(
        "/v1/me/second-factor/challenges", {"action": "approve", "grant_id": citizen.grant()}
    )
    problem = assert_problem(response, 403)
    assert (problem["reason"], problem["article"]) == ("second_factor_missing", "Art. 61(2)")
