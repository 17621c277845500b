"""Storage behind the authorization server's Protocols (``consent.stores``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, Label, bindparam, delete, insert, literal, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from consent.clients import RegisteredClient, Role
from consent.errors import InvalidDPoPProofError, InvalidTokenError, ReplayedAssertionError
from consent.rfc9449 import DPoPProof
from gateway.oauth.models import AssertionJti, DPoPProofJti, RevokedToken, WithdrawnKey
from gateway.parties.models import Party
from gateway.parties.repository import party_by_client_id
from gateway.storage.reads import Query, driver_reads, first_in


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


class SqlDPoPJtis:
    """DPoP proof ids per proof key, each recorded at once in a transaction of its own: the
    replay cache every process on the database shares when no Redis is configured."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def remember(self, proof: DPoPProof, now: datetime) -> None:
        row = {"jkt": proof.jkt, "jti": proof.jti, "expires_at": proof.replayable_until}
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(DPoPProofJti).values(row))
        except IntegrityError as exc:
            raise InvalidDPoPProofError("DPoP proof already used") from exc


def purge_replay_caches(engine: Engine, now: datetime) -> int:
    """Forget the assertion and proof ids whose tokens can no longer be replayed anyway."""
    with engine.begin() as connection:
        return sum(
            connection.execute(delete(table).where(col(table.expires_at) <= now)).rowcount
            for table in (AssertionJti, DPoPProofJti)
        )


# Read on every authenticated request, in one statement: the token revoked on its own, or with
# every token of its client (a disabled party) - and, for a token remembered as verified, its
# signing key withdrawn. Built once, so only their execution is paid for.
_JTI_REVOKED = select(literal(1)).where(col(RevokedToken.jti) == bindparam("revoked_jti"))
_CLIENT_DISABLED = select(literal(1)).where(
    col(Party.client_id) == bindparam("revoked_client"), col(Party.disabled)
)
_REVOKED = Query(union_all(_JTI_REVOKED, _CLIENT_DISABLED))
_WITHDRAWN = Query(select(col(WithdrawnKey.kid)))
_REFUSING = union_all(
    _JTI_REVOKED,
    _CLIENT_DISABLED,
    select(literal(1)).where(col(WithdrawnKey.kid) == bindparam("kid")),
)
_REFUSED = Query(_REFUSING)
TOKEN_REFUSED: Label[bool] = _REFUSING.exists().label("token_refused")
"""A column another read can carry: whether the token of :meth:`RevocationCheck.parameters` is
refused (:meth:`SqlRevokedTokens.is_refused`), read in the same statement."""
REVOKED_DETAIL = "token revoked or its signing key withdrawn"


@dataclass
class RevocationCheck:
    """Whether a token this process verified before is refused now (revoked on its own or
    with its client, or its signing key withdrawn), still to be read: in another read's
    statement, which carries :data:`TOKEN_REFUSED` and reports it (:meth:`found`), or on its
    own when none did (:meth:`settle`). Fail-closed: :meth:`settle` raises unless a read found
    the token not refused."""

    jti: str
    client_id: str
    kid: str
    refused: bool | None = None

    def parameters(self) -> dict[str, str]:
        return {"revoked_jti": self.jti, "revoked_client": self.client_id, "kid": self.kid}

    def found(self, refused: object) -> None:
        self.refused = bool(refused)

    def settle(self, session: Session) -> None:
        """Raise ``InvalidTokenError`` if the token is refused, reading it in ``session``
        unless a read reported it already."""
        if self.refused is None:
            self.found(first_in(session, _REFUSED, **self.parameters()) is not None)
        if self.refused:
            raise InvalidTokenError(REVOKED_DETAIL)


class SqlRevokedTokens:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def revoke(self, jti: str, expires_at: datetime) -> None:
        if self._jti_revoked(jti):
            return
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(RevokedToken).values(jti=jti, expires_at=expires_at))
        except IntegrityError:
            return  # revoked concurrently: the outcome is the same

    def is_revoked(self, jti: str, client_id: str) -> bool:
        found = driver_reads(self._engine).first(
            _REVOKED, revoked_jti=jti, revoked_client=client_id
        )
        return found is not None

    def _jti_revoked(self, jti: str) -> bool:
        with self._engine.connect() as connection:
            found = connection.execute(_JTI_REVOKED, {"revoked_jti": jti}).first()
        return found is not None

    def is_refused(self, check: RevocationCheck) -> bool:
        """Whether the token of ``check`` is refused (one read)."""
        found = driver_reads(self._engine).first(_REFUSED, **check.parameters())
        return found is not None


class SqlWithdrawnKeys:
    """Signing keys withdrawn as compromised, shared by every process on the database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def withdraw(self, kid: str, now: datetime) -> None:
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(WithdrawnKey).values(kid=kid, withdrawn_at=now))
        except IntegrityError:
            return  # withdrawn already: the outcome is the same

    def kids(self) -> frozenset[str]:
        return frozenset(row.kid for row in driver_reads(self._engine).all(_WITHDRAWN))


class SqlClientDirectory:
    def __init__(self, session: Session) -> None:
        self._session = session

    def client(self, client_id: str) -> RegisteredClient | None:
        party = party_by_client_id(self._session, client_id)
        if party is None or party.disabled:
            return None
        keys = party.jwks.get("keys")
        jwks = tuple(key for key in keys if isinstance(key, dict)) if isinstance(keys, list) else ()
        return RegisteredClient(
            client_id=party.client_id,
            role=Role(party.role),
            jwks=jwks,
            dpop_bound_access_tokens=party.dpop_bound_access_tokens,
        )
