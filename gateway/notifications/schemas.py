"""The notification preferences' bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, Field, model_validator

from gateway.notifications.messages import Event
from gateway.notifications.models import NotificationPreferences
from gateway.notifications.service import Choice
from gateway.notifications.transports import Channel
from gateway.validation import Identifier, StrictBody

EmailAddress = Annotated[
    Identifier,
    Field(max_length=254, pattern=r"^[^@\s\x00-\x1f]{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,}$"),
]
MobileNumber = Annotated[Identifier, Field(pattern=r"^\+?[0-9]{6,15}$", description="E.164 digits")]


class PreferencesIn(StrictBody):
    """Where to tell me (each channel on or off) and what: every event not listed is silent."""

    email: EmailAddress | None = None
    email_enabled: bool = False
    phone: MobileNumber | None = None
    sms_enabled: bool = False
    events: list[Event] = Field(default_factory=list, max_length=len(Event))
    inquiry_digest: bool = Field(False, description="Inquiries in one daily message")

    @model_validator(mode="after")
    def _addressed(self) -> Self:
        if self.email_enabled and not self.email:
            raise ValueError("e-mail notices need an e-mail address")
        if self.sms_enabled and not self.phone:
            raise ValueError("text notices need a mobile number")
        return self

    def to_choice(self) -> Choice:
        return Choice(
            self.email,
            self.email_enabled,
            self.phone,
            self.sms_enabled,
            frozenset(self.events),
            self.inquiry_digest,
        )


class PreferencesOut(BaseModel):
    email: str | None
    email_enabled: bool
    phone: str | None
    sms_enabled: bool
    events: list[Event]
    inquiry_digest: bool
    updated_at: datetime | None
    available_channels: list[Channel] = Field(description="What this gateway can send on")


def preferences_out(
    row: NotificationPreferences | None, available: frozenset[Channel]
) -> PreferencesOut:
    channels = sorted(available)
    if row is None:
        return PreferencesOut(
            email=None,
            email_enabled=False,
            phone=None,
            sms_enabled=False,
            events=[],
            inquiry_digest=False,
            updated_at=None,
            available_channels=channels,
        )
    return PreferencesOut(
        email=row.email,
        email_enabled=row.email_enabled,
        phone=row.phone,
        sms_enabled=row.sms_enabled,
        events=[Event(event) for event in row.events],
        inquiry_digest=row.inquiry_digest,
        updated_at=row.updated_at,
        available_channels=channels,
    )
