"""The words of a notification: one event, both languages, no identifier or credit data.

:func:`compose` turns an event and its few facts (a deadline, a time, a count - never a name,
an identifier or an item) into the subject line and the bilingual text from ``messages.yaml``;
:func:`email` makes the RFC 5322 / MIME message of it (UTF-8 text, ``Content-Language``
``zh-CN, en``), :func:`sms_text` the short form for a text message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import yaml

MESSAGES = Path(__file__).resolve().parent / "messages.yaml"


class Event(StrEnum):
    """What a subject may choose to be told of."""

    CONSENT_REQUESTED = "consent_requested"
    CONSENT_EXPIRING = "consent_expiring"
    INQUIRY = "inquiry"
    OBJECTION_ANSWERED = "objection_answered"
    DELETION_ACKNOWLEDGED = "deletion_acknowledged"
    REPORT_ISSUED = "report_issued"


INQUIRY_DIGEST = "inquiry_digest"
"""The daily form of :attr:`Event.INQUIRY`."""


@dataclass(frozen=True)
class Message:
    subject: str
    zh: str
    en: str

    @property
    def text(self) -> str:
        return f"{self.zh}\n\n{self.en}\n"


@cache
def _texts() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MESSAGES.read_text(encoding="utf-8"))
    return loaded


def compose(event: str, link: str, **facts: str) -> Message:
    """The message of ``event`` (an :class:`Event` or the digest) with ``facts`` filled in."""
    texts = _texts()
    said = texts["events"][event]
    parts = {
        language: "\n".join(
            (
                said[language].format(**facts),
                texts["footer"][language].format(link=link),
                texts["privacy"][language],
            )
        )
        for language in ("zh", "en")
    }
    subject = f"{texts['subject']['zh']} / {texts['subject']['en']}"
    return Message(subject, parts["zh"], parts["en"])


def email(message: Message, sender: str, recipient: str, now: datetime) -> EmailMessage:
    """The e-mail of ``message``: one UTF-8 text part, Chinese first, then English."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = recipient
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.text, charset="utf-8")
    mail["Content-Language"] = "zh-CN, en"  # after set_content, which replaces Content-*
    return mail


def sms_text(message: Message) -> str:
    """A text message: the event in both languages with the portal's address (no privacy
    note: the message is short)."""
    return f"{message.zh.splitlines()[0]} {message.en.splitlines()[0]} {message.zh.splitlines()[1]}"
