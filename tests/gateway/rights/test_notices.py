"""Deletion notices (Art. 67, 70(8)): an establishment that received a record through a real
authorized inquiry gets exactly one signed notice when the record's display stops - restored,
deleted, revoked or its display period over - delivered from the webhook outbox with retries
that survive a restart; it acknowledges the notice, which clears it from the regulators' list;
every step in the audit log."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jwt
import pytest
from sqlmodel import col, select

from audit.leaf import EventKind
from gateway.rights.models import Disclosure
from gateway.rights.notices import DELETION_NOTICE
from gateway.rights.repository import Received, add_disclosures
from gateway.storage.db import unit_of_work
from gateway.webhooks.repository import deliveries_to
from gateway.webhooks.schedule import FIRST_RETRY
from gateway.webhooks.worker import WebhookWorker
from tests.gateway.archive.factories import qualification
from tests.gateway.consents.factories import webhook_receiver
from tests.gateway.rights.factories import Rights, refused

RESTORATION = {
    "reason": "当事人已履行义务并完成信用修复",
    "decision": {
        "kind": "administrative_decision",
        "number": "示市监修复〔2026〕3号",
        "issuer": "示范市市场监督管理局",
        "issued_on": "2026-06-01",
    },
}


def stop(rights: Rights, record_id: str, how: str) -> None:
    """Stop the record's display the way ``how`` says."""
    if how == "restored":
        path, body = f"/v1/records/{record_id}/restoration", RESTORATION
    elif how == "revoked":
        path = f"/v1/records/{record_id}/revocation"
        changed_on = (date.today() - timedelta(days=3)).isoformat()
        body = {"reason": "行政复议撤销", "basis_status": "revoked", "basis_changed_on": changed_on}
    else:
        objection_id = rights.filed(record_id)["objection_id"]
        path, body = f"/v1/objections/{objection_id}/answer", {"outcome": how, "reason": "有误"}
    response = rights.client.post(path, json=body, headers=rights.world.headers("provider"))
    assert response.status_code == 200, response.text


def received(rights: Rights, webhook_url: str | None = None) -> tuple[str, str]:
    """A new establishment that received a new record of the citizen: (client id, record)."""
    record_id = rights.record()
    bank, grant_id = rights.bank(webhook_url)
    assert record_id in rights.inquire(bank, grant_id)
    return bank, record_id


def claims(rights: Rights, body: str, audience: str) -> dict[str, Any]:
    """Verify a notification as an establishment would: EdDSA, key from /oauth/jwks."""
    header = jwt.get_unverified_header(body)
    assert header["typ"] == "webhook+jwt"
    (key,) = [
        k for k in rights.client.get("/oauth/jwks").json()["keys"] if k["kid"] == header["kid"]
    ]
    decoded: dict[str, Any] = jwt.decode(
        body, jwt.PyJWK(key).key, algorithms=["EdDSA"], audience=audience
    )
    return decoded


def test_one_signed_notice_survives_a_restart_and_is_acknowledged(rights: Rights) -> None:
    with webhook_receiver() as receiver:
        bank, record_id = received(rights, receiver.url)
        assert WebhookWorker(rights.engine, interval=3600).deliver_due() == 2  # the consent's
        receiver.bodies.clear()
        receiver.script.append(503)
        assert rights.notices(record_id) == []
        stop(rights, record_id, "restored")
        rights.run("display-stops")
        rights.run("display-stops")  # a second round announces nothing again
        (notice,) = rights.notices(record_id)
        assert (notice.recipient, notice.cause) == (bank, "restored")

        now = datetime.now(UTC)
        assert WebhookWorker(rights.engine, interval=3600).deliver_due(now) == 0  # 503
        restarted = WebhookWorker(rights.engine, interval=3600)  # a new process, same outbox
        assert restarted.deliver_due(now + FIRST_RETRY) == 1
    first, second = (claims(rights, body, bank) for body in receiver.bodies)
    assert first["jti"] == second["jti"]  # the same delivery, retried
    assert first["event"] == DELETION_NOTICE
    assert first["data"]["notice_id"] == notice.notice_id
    assert first["data"]["record_id"] == record_id
    assert rights.world.citizen not in str(first)  # never the subject
    with unit_of_work(rights.engine) as session:
        (delivery,) = [d for d in deliveries_to(session, bank) if d.event == DELETION_NOTICE]
    assert delivery.delivered_at is not None and delivery.attempts == 2

    pending = rights.get("/v1/deletion-notices?pending=true", bank)["notices"]
    assert [entry["notice_id"] for entry in pending] == [notice.notice_id]
    acknowledged = rights.client.post(
        f"/v1/deletion-notices/{notice.notice_id}/acknowledgement",
        headers=rights.world.headers(bank),
    )
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["acknowledged_at"] is not None
    assert rights.get("/v1/deletion-notices?pending=true", bank)["notices"] == []


def test_the_acknowledgement_clears_the_notice_from_the_regulators_list(rights: Rights) -> None:
    bank, record_id = received(rights)
    stop(rights, record_id, "restored")
    weeks_ago = datetime.now(UTC) - timedelta(days=30)
    rights.run("display-stops", now=weeks_ago)  # sent a month ago: its deadline passed
    (notice,) = rights.notices(record_id)

    def listed() -> set[str]:
        parties = rights.get("/v1/oversight/overdue-deletion-notices", "regulator")["parties"]
        return {
            entry["notice_id"]
            for party in parties
            if party["client_id"] == bank
            for entry in party["entries"]
        }

    assert listed() == {notice.notice_id}
    path = f"/v1/deletion-notices/{notice.notice_id}/acknowledgement"
    other, _ = rights.bank()
    refused(rights.client.post(path, headers=rights.world.headers(other)), 404, "Art. 67")
    assert rights.client.post(path, headers=rights.world.headers("citizen")).status_code == 403
    for _ in range(2):  # acknowledging again changes nothing
        response = rights.client.post(path, headers=rights.world.headers(bank))
        assert response.status_code == 200, response.text
    assert listed() == set()

    (notice,) = rights.notices(record_id)
    provider = rights.client_id("provider")
    assert notice.acknowledged_leaf is not None
    for index, reason in ((notice.sent_leaf, "sent"), (notice.acknowledged_leaf, "acknowledged")):
        event, openings = rights.leaf(index)
        assert (event.kind, event.requester, event.reason_code) == (EventKind.NOTICE, bank, reason)
        assert (event.purpose, event.item_categories) == ("restored", frozenset({"untrustworthy"}))
        assert openings is not None and openings.subject_key == rights.citizen_key()
        assert provider not in event.requester


@pytest.mark.parametrize("how", ["deleted", "revoked"])
def test_a_deletion_or_a_revocation_is_announced_once(rights: Rights, how: str) -> None:
    bank, record_id = received(rights)
    stop(rights, record_id, how)
    rights.run("display-stops")
    (notice,) = rights.notices(record_id)
    assert (notice.recipient, notice.cause) == (bank, how)


def test_the_end_of_the_display_period_is_announced_to_every_recipient(rights: Rights) -> None:
    record_id = rights.record(decided_on="2024-01-10", occurred_on="2024-01-02")
    grants = dict(rights.bank() for _ in range(2))
    for bank, grant_id in [*grants.items(), *grants.items()]:  # each received it twice
        assert record_id in rights.inquire(bank, grant_id)
    rights.run("display-stops", now=datetime(2027, 1, 9, 12, tzinfo=UTC))
    assert rights.notices(record_id) == []  # still displayed on its last day
    rights.run("display-stops", now=datetime(2027, 1, 10, 12, tzinfo=UTC))
    notices = rights.notices(record_id)
    assert sorted(notice.recipient for notice in notices) == sorted(grants)
    assert {(n.cause, n.stopped_on) for n in notices} == {
        ("display_period_ended", date(2027, 1, 10))
    }


def test_a_restoration_is_for_untrustworthiness_of_the_units_own_records(rights: Rights) -> None:
    record_id = rights.record()
    path = f"/v1/records/{record_id}/restoration"
    other = rights.other_provider()
    refused(
        rights.client.post(path, json=RESTORATION, headers=rights.world.headers(other)),
        404,
        "Art. 66 para. 2",
    )
    honour = rights.record(build=qualification)
    refused(
        rights.client.post(
            f"/v1/records/{honour}/restoration",
            json=RESTORATION,
            headers=rights.world.headers("provider"),
        ),
        422,
        "Art. 66 para. 2",
    )
    restored = rights.client.post(path, json=RESTORATION, headers=rights.world.headers("provider"))
    assert restored.json()["status"] == "restored"
    again = rights.client.post(path, json=RESTORATION, headers=rights.world.headers("provider"))
    refused(again, 409, "Art. 66 para. 2")


def test_art_67_a_recipient_whose_disclosure_commits_late_is_told_too(rights: Rights) -> None:
    bank, record_id = received(rights)
    stop(rights, record_id, "restored")
    rights.run("display-stops")
    assert [notice.recipient for notice in rights.notices(record_id)] == [bank]
    late, _ = rights.bank()
    with unit_of_work(rights.engine) as session:  # an inquiry that committed after the round
        add_disclosures(session, [Received(2**62 + secrets.randbelow(2**40), late, [record_id])])
    rights.run("display-stops")
    notices = {notice.recipient: notice.cause for notice in rights.notices(record_id)}
    assert notices == {bank: "restored", late: "restored"}
    rights.run("display-stops")
    assert len(rights.notices(record_id)) == 2  # each told once


def test_art_67_only_information_on_untrustworthiness_is_announced(rights: Rights) -> None:
    honour = rights.record(build=qualification, decided_on="2022-01-10", occurred_on="2022-01-02")
    penalty = rights.record(decided_on="2024-01-10", occurred_on="2024-01-02")
    bank, grant_id = rights.bank()  # basic and untrustworthy information
    assert {honour, penalty} <= rights.inquire(bank, grant_id)
    rights.run("display-stops", now=datetime(2027, 1, 10, 12, tzinfo=UTC))  # both ended
    assert [notice.recipient for notice in rights.notices(penalty)] == [bank]
    assert rights.notices(honour) == []  # basic information: not Art. 67's


def test_art_67_an_inquiry_keeps_as_received_only_its_information_on_untrustworthiness(
    rights: Rights,
) -> None:
    """Whom to tell is all the gateway keeps of who received what: the records of information
    on untrustworthiness an establishment was served, not the others it was served with them."""
    honour = rights.record(build=qualification, decided_on="2022-01-10", occurred_on="2022-01-02")
    penalty = rights.record(decided_on="2024-01-10", occurred_on="2024-01-02")
    bank, grant_id = rights.bank()  # basic and untrustworthy information
    response = rights.world.send(rights.world.authorized(grant_id), bank)
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    untrustworthy = {i["record_id"] for i in items if i["scope_category"] == "untrustworthy"}
    assert penalty in untrustworthy and honour not in untrustworthy
    assert {i["record_id"] for i in items} > untrustworthy  # basic information served too
    with unit_of_work(rights.engine) as session:
        statement = select(Disclosure.record_id).where(col(Disclosure.requester) == bank)
        assert set(session.exec(statement)) == untrustworthy
