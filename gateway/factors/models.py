"""The second factors of citizen accounts: passkeys (WebAuthn) and TOTP authenticators.

A passkey row keeps the credential id and its COSE public key, never a private key; a TOTP row
keeps the shared secret an authenticator app holds too, and the last time step accepted, so
that a code is accepted once (RFC 6238 section 5.2). A TOTP factor counts once it is confirmed
with a first code.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from gateway.storage.types import UTCDateTime


class Factor(SQLModel, table=True):
    __tablename__ = "citizen_factors"

    factor_id: str = Field(primary_key=True, max_length=40)
    citizen_id: str = Field(foreign_key="citizens.id", index=True, max_length=32)
    kind: str = Field(max_length=16)
    label: str = Field(max_length=100)
    totp_secret: str | None = Field(default=None, max_length=64)
    last_step: int | None = None
    credential_id: str | None = Field(default=None, max_length=1400, unique=True)
    public_key: str | None = Field(default=None, sa_column=Column(Text))
    sign_count: int = 0
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
