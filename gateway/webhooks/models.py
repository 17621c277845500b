"""The webhook outbox: a delivery is written in the transaction of the change it reports, so
it is sent if and only if the change is committed, and survives a restart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, Text
from sqlmodel import Field, SQLModel

from gateway.storage.types import UTCDateTime


class WebhookDelivery(SQLModel, table=True):
    """One signed notification to one party's webhook, and how its delivery went.

    ``next_attempt_at`` is set while the delivery is due (NULL once delivered or given up);
    a worker owns a row while ``claimed_until`` is in the future. ``channel``: ``webhook`` (a
    party's signed notification), or ``email`` / ``sms`` to a credit subject
    (:mod:`gateway.notifications`), whose address and text are erased once delivered.
    """

    __tablename__ = "webhook_deliveries"

    id: str = Field(primary_key=True, max_length=32)
    target: str = Field(max_length=64, index=True)
    url: str = Field(max_length=500)
    event: str = Field(max_length=64)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    attempts: int = 0
    next_attempt_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, index=True)
    )
    last_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_status: int | None = None
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    channel: str = Field(
        default="webhook",
        sa_column=Column(String(8), nullable=False, server_default="webhook"),
    )
    subject_key: str | None = Field(default=None, max_length=64)
