"""A real SMTP server (aiosmtpd) and a real SMS provider endpoint on 127.0.0.1, and one running
demo gateway per module and backend that sends to them; its scheduler off (the tests run the
jobs and the deliveries themselves)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from gateway.settings import Settings
from tests.conftest import BACKENDS
from tests.gateway.consents.factories import Flow, Receiver, webhook_receiver
from tests.gateway.inquiries.factories import World
from tests.gateway.modules import module_settings, running_demo
from tests.gateway.rights.factories import Rights

SMS_SECRET = "test-sms-provider-secret"
SENDER = "notices@gateway.demo-province.example"


@dataclass
class Mailbox:
    """What the SMTP server on ``port`` received: (envelope recipients, parsed message)."""

    port: int
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(_free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def sms_provider() -> Iterator[Receiver]:
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture(scope="module", params=BACKENDS)
def notify_settings(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    mailbox: Mailbox,
    sms_provider: Receiver,
) -> Iterator[Settings]:
    with module_settings(
        request.param,
        tmp_path_factory,
        "notifications",
        rate_limit_sign_in="1000/minute",
        webhook_interval=3600,
        checkpoint_interval=3600,
        scheduler_enabled=False,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_security="none",
        smtp_from=SENDER,
        sms_webhook_url=sms_provider.url,
        sms_webhook_secret=SMS_SECRET,
    ) as settings:
        yield settings


@pytest.fixture(scope="module")
def rights(notify_settings: Settings) -> Iterator[Rights]:
    with running_demo(notify_settings) as (client, credentials):
        yield Rights(World(Flow(client, notify_settings, credentials)))
