"""The console's tables: its officers, and its index of the audit log.

``regulator_officers`` - the people who sign in to the console. An officer is a human account
apart from the regulator's OAuth client: a username, an argon2id password hash
(:mod:`consent.passwords`), the TOTP secret of the officer's authenticator (RFC 6238) with the
last time step accepted, so a code is accepted once, and whether the account is disabled.

``oversight_entries`` - one row per audit leaf, decoded from it (:mod:`gateway.console.index`)
so that the console's aggregates are plain SQL on SQLite and PostgreSQL: the leaf's time (and
its local day and hour in China Standard Time), kind, channel, requester, the purpose of an
authorized inquiry, outcome and reason. It holds nothing the leaf does not hold, no commitment
and no subject key: it is rebuilt from the log at will, and never written by anything else.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Date, Integer
from sqlmodel import Field, SQLModel

from gateway.storage.types import UTCDateTime


class RegulatorOfficer(SQLModel, table=True):
    __tablename__ = "regulator_officers"

    officer_id: str = Field(primary_key=True, max_length=40)
    username: str = Field(unique=True, max_length=64)
    password_hash: str = Field(max_length=255)
    totp_secret: str = Field(max_length=64)
    last_step: int | None = Field(default=None, sa_column=Column(BigInteger))
    disabled: bool = False
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class OversightEntry(SQLModel, table=True):
    __tablename__ = "oversight_entries"

    leaf_index: int = Field(
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
        )
    )
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    day: date = Field(sa_column=Column(Date, nullable=False, index=True))
    hour: int
    kind: str = Field(max_length=32)
    channel: str = Field(max_length=40)
    requester: str = Field(max_length=64, index=True)
    purpose: str = Field(max_length=128)
    outcome: str = Field(max_length=16)
    reason: str = Field(max_length=64)
