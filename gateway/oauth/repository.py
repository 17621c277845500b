"""Storage behind the authorization server's Protocols (``consent.stores``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from consent.clients import RegisteredClient, Role
from consent.errors import ReplayedAssertionError
from gateway.oauth.models import AssertionJti, RevokedToken
from gateway.parties.repository import party_by_client_id


class SqlJtiStore:
    """Assertion ids, each recorded in a transaction of its own.

    Committed at once and apart from the request's unit of work: a request that fails later
    (say, on its scope) must not roll the ``jti`` back and let the assertion be replayed.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def remember(self, jti: str, client_id: str, expires_at: datetime) -> None:
        row = {"client_id": client_id, "jti": jti, "expires_at": expires_at}
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(AssertionJti).values(row))
        except IntegrityError as exc:
            raise ReplayedAssertionError("client assertion already used") from exc

    def purge(self, now: datetime) -> int:
        with self._engine.begin() as connection:
            return connection.execute(
                delete(AssertionJti).where(col(AssertionJti.expires_at) <= now)
            ).rowcount


# Read on every authenticated request: built once, so only its execution is paid for.
_REVOKED = select(col(RevokedToken.jti)).where(col(RevokedToken.jti) == bindparam("revoked_jti"))


class SqlRevokedTokens:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def revoke(self, jti: str, expires_at: datetime) -> None:
        if self.is_revoked(jti):
            return
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(RevokedToken).values(jti=jti, expires_at=expires_at))
        except IntegrityError:
            return  # revoked concurrently: the outcome is the same

    def is_revoked(self, jti: str) -> bool:
        with self._engine.connect() as connection:
            found = connection.execute(_REVOKED, {"revoked_jti": jti}).first()
        return found is not None


class SqlClientDirectory:
    def __init__(self, session: Session) -> None:
        self._session = session

    def client(self, client_id: str) -> RegisteredClient | None:
        party = party_by_client_id(self._session, client_id)
        if party is None or party.disabled:
            return None
        keys = party.jwks.get("keys")
        jwks = tuple(key for key in keys if isinstance(key, dict)) if isinstance(keys, list) else ()
        return RegisteredClient(client_id=party.client_id, role=Role(party.role), jwks=jwks)
