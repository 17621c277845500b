"""Tables of the subjects' notifications.

* ``notification_preferences`` - per citizen account: the channels it chose (an e-mail address,
  a mobile number, each on or off), the events it wants, and whether inquiries about it are
  told at once or in a daily digest. The only place the gateway keeps where to reach a subject.
* ``notification_marks`` - one row per (subject, event, reference) already told: the log tail
  and the reminders run any number of times and tell each thing once.
* ``notification_digests`` - inquiries counted for a daily digest, per subject and day.
* ``notification_cursor`` - how far the notifier has read the audit log.

Subjects appear as their internal key (:mod:`gateway.subjects`) besides the account.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Column
from sqlmodel import Field, SQLModel

from gateway.storage.types import UTCDateTime


class NotificationPreferences(SQLModel, table=True):
    __tablename__ = "notification_preferences"

    citizen_id: str = Field(primary_key=True, max_length=64)
    subject_key: str = Field(max_length=64, index=True)
    email: str | None = Field(default=None, max_length=254)
    email_enabled: bool = False
    phone: str | None = Field(default=None, max_length=20)
    sms_enabled: bool = False
    events: list[str] = Field(sa_column=Column(JSON, nullable=False))
    inquiry_digest: bool = False
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class NotificationMark(SQLModel, table=True):
    __tablename__ = "notification_marks"

    subject_key: str = Field(primary_key=True, max_length=64)
    event: str = Field(primary_key=True, max_length=40)
    reference: str = Field(primary_key=True, max_length=64)
    told_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class NotificationDigest(SQLModel, table=True):
    __tablename__ = "notification_digests"

    subject_key: str = Field(primary_key=True, max_length=64)
    day: date = Field(primary_key=True)
    inquiries: int = 0


class NotificationCursor(SQLModel, table=True):
    __tablename__ = "notification_cursor"

    name: str = Field(primary_key=True, max_length=32)
    next_leaf: int = Field(sa_column=Column(BigInteger, nullable=False))
