"""Tables of the authorization server: client assertion and DPoP proof ids seen, revoked access
tokens, withdrawn signing keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from gateway.storage.types import UTCDateTime


class AssertionJti(SQLModel, table=True):
    """A client assertion ``jti`` already accepted (RFC 7523 section 3, item 7)."""

    __tablename__ = "oauth_assertion_jtis"

    client_id: str = Field(primary_key=True, max_length=64)
    jti: str = Field(primary_key=True, max_length=256)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))


class RevokedToken(SQLModel, table=True):
    """An access token revoked before its expiry (RFC 7009)."""

    __tablename__ = "oauth_revoked_tokens"

    jti: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))


class DPoPProofJti(SQLModel, table=True):
    """A DPoP proof ``jti`` already accepted for a proof key (RFC 9449 section 11.1)."""

    __tablename__ = "oauth_dpop_jtis"

    jkt: str = Field(primary_key=True, max_length=64)
    jti: str = Field(primary_key=True, max_length=256)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))


class WithdrawnKey(SQLModel, table=True):
    """A signing key withdrawn as compromised: nothing it signed verifies any more."""

    __tablename__ = "oauth_withdrawn_keys"

    kid: str = Field(primary_key=True, max_length=64)
    withdrawn_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
