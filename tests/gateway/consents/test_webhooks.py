"""Establishments are told of every lifecycle change on their webhook: a signed JWS body,
verifiable with /oauth/jwks, delivered from a database outbox with retries and backoff that
survive a restart and never send one row from two workers at once."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import jwt
import pytest

from gateway.notifications.transports import Transports
from gateway.storage.db import make_engine, unit_of_work
from gateway.webhooks.models import WebhookDelivery
from gateway.webhooks.repository import claim_due, deliveries_to
from gateway.webhooks.schedule import FIRST_RETRY, MAX_ATTEMPTS, next_attempt
from gateway.webhooks.worker import LEASE, WebhookWorker, running_webhook_worker
from tests.gateway.consents.factories import Flow, consent_request, webhook_receiver


def _worker(flow: Flow) -> WebhookWorker:
    return WebhookWorker(flow.engine, interval=3600)


def _deliveries(flow: Flow, client_id: str) -> list[WebhookDelivery]:
    with unit_of_work(flow.engine) as session:
        return deliveries_to(session, client_id)


def _verified(flow: Flow, body: str, audience: str) -> dict[str, Any]:
    """Verify a notification as an establishment would: JWS, EdDSA, key from /oauth/jwks."""
    header = jwt.get_unverified_header(body)
    assert header["typ"] == "webhook+jwt" and header["alg"] == "EdDSA"
    jwks = flow.client.get("/oauth/jwks").json()
    (key,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    claims: dict[str, Any] = jwt.decode(
        body, jwt.PyJWK(key).key, algorithms=["EdDSA"], audience=audience
    )
    return claims


def test_a_failed_delivery_is_retried_after_a_restart_and_verifies(flow: Flow) -> None:
    with webhook_receiver(503) as receiver:
        bank = flow.register_establishment(webhook_url=receiver.url)
        grant_id = flow.pending(consent_request(), persona=bank["client_id"])
        now = datetime.now(UTC)

        assert _worker(flow).deliver_due(now) == 0
        (delivery,) = _deliveries(flow, bank["client_id"])
        assert (delivery.attempts, delivery.last_status, delivery.delivered_at) == (1, 503, None)
        assert delivery.next_attempt_at == now + FIRST_RETRY
        assert _worker(flow).deliver_due(now + FIRST_RETRY / 2) == 0

        restarted = make_engine(flow.settings.resolved_database_url)  # a new process
        try:
            later = now + FIRST_RETRY
            assert WebhookWorker(restarted, interval=3600).deliver_due(later) == 1
        finally:
            restarted.dispose()

    (delivery,) = _deliveries(flow, bank["client_id"])
    assert (delivery.attempts, delivery.last_status) == (2, 200)
    assert delivery.delivered_at == later and delivery.next_attempt_at is None
    assert receiver.bodies[0] == receiver.bodies[1]  # the same jti: receivers drop duplicates
    assert receiver.content_types == ["application/jwt", "application/jwt"]
    claims = _verified(flow, receiver.bodies[1], bank["client_id"])
    assert claims["event"] == "consent.requested"
    assert claims["jti"] == delivery.id
    data = claims["data"]
    assert (data["grant_id"], data["state"], data["kind"]) == (grant_id, "pending", "requested")
    assert data["subject"].startswith("p1-")
    assert flow.citizen_id_number not in json.dumps(claims)


def test_the_background_worker_delivers_on_its_own(flow: Flow) -> None:
    with webhook_receiver() as receiver:
        bank = flow.register_establishment(webhook_url=receiver.url)
        flow.pending(consent_request(), persona=bank["client_id"])
        with running_webhook_worker(
            flow.engine,
            interval=0.01,
            audit_log=flow.client.app.state.audit_log,  # type: ignore[attr-defined]
            transports=partial(Transports, flow.settings),
        ):
            deadline = time.monotonic() + 10
            while not receiver.bodies and time.monotonic() < deadline:
                time.sleep(0.01)
    assert len(receiver.bodies) == 1


def test_every_decision_is_notified(flow: Flow) -> None:
    with webhook_receiver() as receiver:
        bank = flow.register_establishment(webhook_url=receiver.url)
        grant_id = flow.pending(consent_request(), persona=bank["client_id"])
        flow.decide(grant_id, "approve", categories=["basic"])
        flow.decide(grant_id, "revoke")
        assert _worker(flow).deliver_due() == 3
    events = [_verified(flow, body, bank["client_id"]) for body in receiver.bodies]
    assert sorted(e["event"] for e in events) == [
        "consent.approved",
        "consent.requested",
        "consent.revoked",
    ]
    approved = next(e for e in events if e["event"] == "consent.approved")
    assert approved["data"]["categories"] == ["basic"]
    assert approved["data"]["actor_role"] == "citizen"


def test_the_establishment_reads_its_delivery_log(flow: Flow) -> None:
    with webhook_receiver(500) as receiver:
        bank = flow.register_establishment(webhook_url=receiver.url)
        flow.pending(consent_request(), persona=bank["client_id"])
        _worker(flow).deliver_due()
    response = flow.client.get("/v1/webhook-deliveries", headers=flow.headers(bank["client_id"]))
    (delivery,) = response.json()["deliveries"]
    assert (delivery["event"], delivery["attempts"], delivery["last_status"]) == (
        "consent.requested",
        1,
        500,
    )
    assert delivery["delivered_at"] is None and delivery["next_attempt_at"]
    others = flow.client.get("/v1/webhook-deliveries", headers=flow.headers("establishment"))
    assert others.json() == {"deliveries": []}


def test_one_delivery_is_held_by_one_worker_until_its_lease_ends(flow: Flow) -> None:
    with webhook_receiver() as receiver:
        bank = flow.register_establishment(webhook_url=receiver.url)
        flow.pending(consent_request(), persona=bank["client_id"])
        now = datetime.now(UTC)
        with unit_of_work(flow.engine) as session:
            (held,) = [
                c
                for c in claim_due(session, "dead-worker", now, LEASE, 100)
                if c.url == receiver.url
            ]
        assert _worker(flow).deliver_due(now) == 0
        assert receiver.bodies == []
        assert _worker(flow).deliver_due(now + LEASE + timedelta(seconds=1)) == 1
    assert len(receiver.bodies) == 1 and receiver.bodies[0] == held.body


def test_an_unreachable_webhook_is_retried(flow: Flow) -> None:
    with webhook_receiver() as receiver:
        url = receiver.url
    bank = flow.register_establishment(webhook_url=url)  # nothing listens there any more
    flow.pending(consent_request(), persona=bank["client_id"])
    assert _worker(flow).deliver_due() == 0
    (delivery,) = _deliveries(flow, bank["client_id"])
    assert delivery.attempts == 1 and delivery.last_status is None
    assert delivery.next_attempt_at is not None


def test_no_webhook_no_delivery(flow: Flow) -> None:
    flow.pending()
    assert _deliveries(flow, flow.credentials["establishment"]["client_id"]) == []


@pytest.mark.parametrize(
    ("attempts", "delay"), [(1, 10), (2, 20), (3, 40), (12, 20480), (13, 6 * 3600)]
)
def test_backoff_doubles_up_to_a_cap(attempts: int, delay: int) -> None:
    now = datetime.now(UTC)
    assert next_attempt(attempts, now) == now + timedelta(seconds=delay)


def test_a_delivery_is_given_up_after_the_last_attempt() -> None:
    assert next_attempt(MAX_ATTEMPTS, datetime.now(UTC)) is None
