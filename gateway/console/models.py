"""Regulator officers: the people who sign in to the console.

An officer is a human account apart from the regulator's OAuth client: a username, an argon2id
password hash (:mod:`consent.passwords`), the TOTP secret of the officer's authenticator
(RFC 6238) with the last time step accepted, so a code is accepted once, and whether the
account is disabled.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column
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
