"""Subjects are told (Art. 63, 64, 67): a consent request reaches the demo citizen's mailbox on
a real SMTP server in Chinese and English, with no identifier or credit data; an inquiry
reaches their phone through the SMS provider's API with a valid signature, or a daily digest;
a consent about to expire is told once; a disabled channel sends nothing; every message sent
is an audit leaf naming the event and the channel, never the address."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlmodel import col, select

from audit.leaf import EventKind
from gateway.notifications.transports import Transports
from gateway.storage.db import unit_of_work
from gateway.webhooks.models import WebhookDelivery
from gateway.webhooks.worker import WebhookWorker
from redaction.periods import CHINA_STANDARD_TIME
from tests.gateway.consents.factories import Receiver, consent_request
from tests.gateway.notifications.conftest import SENDER, SMS_SECRET, Mailbox
from tests.gateway.portal.factories import csrf_token, sign_in, visitor
from tests.gateway.rights.factories import Rights
from tests.gateway.test_problems import assert_problem

PREFERENCES = "/v1/me/notification-preferences"
ADDRESS = "citizen@example.org"
PHONE = "+8613800000000"


@pytest.fixture(autouse=True)
def fresh(rights: Rights, mailbox: Mailbox, sms_provider: Receiver) -> None:
    """Each test starts from a quiet log: earlier entries are told (or not) before it runs."""
    choose(rights, events=[])
    rights.run("notifications")
    deliver(rights)
    mailbox.received.clear()
    sms_provider.bodies.clear()
    sms_provider.signatures.clear()


def choose(rights: Rights, **body: Any) -> dict[str, Any]:
    response = rights.client.put(PREFERENCES, json=body, headers=rights.world.headers("citizen"))
    assert response.status_code == 200, response.text
    chosen: dict[str, Any] = response.json()
    return chosen


def deliver(rights: Rights, now: datetime | None = None) -> int:
    state = rights.world.state
    worker = WebhookWorker(
        rights.engine,
        3600,
        audit_log=state.audit_log,
        transports=partial(Transports, rights.flow.settings),
    )
    try:
        return worker.deliver_due(now)
    finally:
        worker.stop()


def identifiers(rights: Rights) -> list[str]:
    """What no message's text may hold: the citizen's ID number, account name, name."""
    citizen = rights.flow.credentials["citizen"]
    return [citizen["id_number"], citizen["username"], "张三丰"]


def test_a_consent_request_reaches_the_mailbox_in_both_languages(
    rights: Rights, mailbox: Mailbox
) -> None:
    chosen = choose(rights, email=ADDRESS, email_enabled=True, events=["consent_requested"])
    assert chosen["available_channels"] == ["email", "sms"]
    size = rights.world.log_size()
    rights.flow.pending(consent_request())
    assert rights.run("notifications")["notifications"] == 1
    assert deliver(rights) == 1

    ((recipients, message),) = mailbox.received
    assert recipients == [ADDRESS] and message["From"] == SENDER
    assert message["Subject"] == "信用信息授权服务通知 / Credit Information Consent Service notice"
    assert message["Content-Language"] == "zh-CN, en"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    text = message.get_content()
    assert "有机构请求查询您的信用信息" in text and "An establishment asks to read" in text
    assert f"{rights.flow.settings.base_url}/portal" in text
    raw = message.as_string()
    for identifier in identifiers(rights):
        assert identifier not in text and identifier not in raw

    sent = [rights.world.event(index) for index in range(size, rights.world.log_size())]
    (told,) = [event for event in sent if event.kind is EventKind.NOTIFICATION]
    assert (told.purpose, told.reason_code, told.requester) == (
        "notice.consent_requested",
        "email",
        "gateway",
    )
    log = rights.get("/v1/me/access-log", "citizen")["entries"]
    assert any(entry["kind"] == "notification" for entry in log)
    with unit_of_work(rights.engine) as session:
        rows = session.exec(
            select(WebhookDelivery).where(col(WebhookDelivery.channel) == "email")
        ).all()
        assert rows and all(row.url == "" and row.body == "" for row in rows if row.delivered_at)


def test_a_disabled_channel_sends_nothing(rights: Rights, mailbox: Mailbox) -> None:
    choose(rights, email=ADDRESS, email_enabled=False, events=["consent_requested"])
    rights.flow.pending(consent_request())
    assert rights.run("notifications")["notifications"] == 0
    assert deliver(rights) == 0
    assert mailbox.received == []


def test_an_event_not_chosen_sends_nothing(rights: Rights, mailbox: Mailbox) -> None:
    choose(rights, email=ADDRESS, email_enabled=True, events=["objection_answered"])
    rights.flow.pending(consent_request())
    assert rights.run("notifications")["notifications"] == 0
    assert mailbox.received == []


def test_an_inquiry_reaches_the_phone_signed_by_the_gateway(
    rights: Rights, sms_provider: Receiver
) -> None:
    bank, grant = rights.bank()
    choose(rights, phone=PHONE, sms_enabled=True, events=["inquiry"])
    rights.run("notifications")
    rights.inquire(bank, grant)
    assert rights.run("notifications")["notifications"] == 1
    assert deliver(rights) == 1
    (body,) = sms_provider.bodies
    (signature,) = sms_provider.signatures
    assert signature is not None
    stamp, mac = (part.split("=", 1)[1] for part in signature.split(","))
    expected = hmac.new(SMS_SECRET.encode(), f"{stamp}.{body}".encode(), hashlib.sha256)
    assert hmac.compare_digest(mac, expected.hexdigest())
    sent = json.loads(body)
    assert sent["to"] == PHONE
    assert "有机构查询了您的信用信息" in sent["text"] and "was inquired" in sent["text"]
    for identifier in [*identifiers(rights), bank, grant, PHONE]:
        assert identifier not in sent["text"]


def test_inquiries_in_a_daily_digest(rights: Rights, sms_provider: Receiver) -> None:
    bank, grant = rights.bank()
    choose(rights, phone=PHONE, sms_enabled=True, events=["inquiry"], inquiry_digest=True)
    rights.run("notifications")
    rights.inquire(bank, grant)
    rights.inquire(bank, grant)
    assert rights.run("notifications")["notifications"] == 0
    today = datetime.now(CHINA_STANDARD_TIME)
    early = (today + timedelta(days=1)).replace(hour=7, minute=0)
    assert rights.run("notifications", now=early.astimezone(UTC))["notifications"] == 0
    later = early.replace(hour=9)
    assert rights.run("notifications", now=later.astimezone(UTC))["notifications"] == 1
    assert deliver(rights, later.astimezone(UTC)) == 1
    (body,) = sms_provider.bodies
    assert f"{today.date().isoformat()} 共有 2 次" in json.loads(body)["text"]
    assert rights.run("notifications", now=later.astimezone(UTC))["notifications"] == 0


def test_a_consent_about_to_expire_is_told_once(rights: Rights, mailbox: Mailbox) -> None:
    choose(rights, email=ADDRESS, email_enabled=True, events=["consent_expiring"])
    rights.flow.active(consent_request(validity_days=2))
    assert rights.run("notifications")["notifications"] == 1
    deliver(rights)
    assert any("到期" in message.get_content() for _, message in mailbox.received)
    mailbox.received.clear()
    assert rights.run("notifications")["notifications"] == 0


def test_preferences_are_checked(rights: Rights) -> None:
    headers = rights.world.headers("citizen")
    for body in (
        {"email_enabled": True},
        {"sms_enabled": True},
        {"events": ["everything"]},
        {"email": "not an address", "email_enabled": True},
        {"unknown": 1},
    ):
        assert_problem(rights.client.put(PREFERENCES, json=body, headers=headers), 422)
    for persona in ("establishment", "regulator"):
        response = rights.client.get(PREFERENCES, headers=rights.world.headers(persona))
        assert_problem(response, 403)


def test_the_portal_saves_the_same_choice(rights: Rights) -> None:
    citizen = rights.flow.credentials["citizen"]
    client = visitor(rights.flow)
    assert sign_in(client, citizen["username"], citizen["password"]).status_code == 303
    page = client.get("/portal/notifications")
    assert page.status_code == 200 and "消息通知" in page.text
    form = {
        "csrf_token": csrf_token(page.text),
        "email": ADDRESS,
        "email_enabled": "on",
        "events": ["consent_requested", "report_issued"],
    }
    saved = client.post("/portal/notifications", data=form, follow_redirects=False)
    assert saved.status_code == 303
    chosen = rights.get(PREFERENCES, "citizen")
    assert (chosen["email"], chosen["email_enabled"], chosen["sms_enabled"]) == (
        ADDRESS,
        True,
        False,
    )
    assert chosen["events"] == ["consent_requested", "report_issued"]
    refused = client.post(
        "/portal/notifications",
        data={"csrf_token": form["csrf_token"], "sms_enabled": "on", "events": ["inquiry"]},
    )
    assert refused.status_code == 422
    assert rights.get(PREFERENCES, "citizen")["events"] == chosen["events"]
    client.cookies.clear()
