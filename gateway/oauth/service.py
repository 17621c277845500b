"""The authorization server's operations, composed from the pure ``consent`` RFC modules.

An access token is verified in full (RFC 9068 section 4) the first time this process sees it,
with the keys of the access-token ring that are not withdrawn; its signature, issuer, audience
and claims never change, so later requests with the same token only check what does: that it
is still current, not revoked and its signing key not withdrawn - both read on every request
in one query, never cached (RFC 7009: refused from the next request on; a withdrawal likewise,
on every process sharing the database). A caller may take that query over
(:class:`gateway.oauth.repository.RevocationCheck`) to make it part of a read of its own.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from consent import rfc7009, rfc7523, rfc7662, rfc8414
from consent.clients import RegisteredClient
from consent.errors import (
    DPoPChallenge,
    InvalidDPoPProofError,
    InvalidTokenError,
    UseDPoPNonceError,
)
from consent.jws import DPOP_ALGORITHMS, unverified_header
from consent.keys import KeyRing, PublicKeys
from consent.rfc6749 import TokenRequest, token_response
from consent.rfc7523 import ClientAssertion
from consent.rfc9068 import AccessToken, TokenContext, verify_access_token
from consent.rfc9449 import DPoPProof, ProofTarget, single_proof
from gateway.consents.repository import SqlGrantStore
from gateway.keys import Document, KeyRings, load_keys, rotate_signing_key
from gateway.oauth.dpop import DPoPGuard
from gateway.oauth.repository import (
    REVOKED_DETAIL,
    RevocationCheck,
    SqlClientDirectory,
    SqlJtiStore,
    SqlRevokedTokens,
    SqlWithdrawnKeys,
)
from gateway.settings import Settings
from problems import NotFound

DPOP_SCHEME = "dpop"


class UnknownSigningKey(NotFound):
    title = "Unknown signing key"
    slug = "unknown-signing-key"


VERIFIED_TOKENS = 4096
"""How many verified access tokens a process remembers (the least recently used go first)."""


class VerifiedTokens:
    """Access tokens this process verified in full, by their exact compact serialization, with
    the id of the key that signed each."""

    def __init__(self, size: int = VERIFIED_TOKENS) -> None:
        self._size = size
        self._tokens: OrderedDict[str, tuple[AccessToken, str]] = OrderedDict()
        self._lock = threading.Lock()

    def current(self, token: str, now: datetime) -> tuple[AccessToken, str] | None:
        """The verified token and its key id if it is remembered and current at ``now`` (the
        bounds the full check applies to ``iat`` and ``exp``); None: verify it in full."""
        with self._lock:
            verified = self._tokens.get(token)
            if verified is not None:
                self._tokens.move_to_end(token)
        if verified is None or not verified[0].issued_at <= now < verified[0].expires_at:
            return None
        return verified

    def remember(self, token: str, access: AccessToken, kid: str) -> None:
        with self._lock:
            self._tokens[token] = (access, kid)
            self._tokens.move_to_end(token)
            if len(self._tokens) > self._size:
                self._tokens.popitem(last=False)


@dataclass(frozen=True)
class AuthServer:
    """The issuer, its endpoints, the audience of its tokens and the keys it signs with."""

    endpoints: rfc8414.ServerEndpoints
    context: TokenContext
    rings: KeyRings
    verified: VerifiedTokens = field(default_factory=VerifiedTokens, compare=False, repr=False)

    @classmethod
    def for_issuer(cls, issuer: str, rings: KeyRings) -> AuthServer:
        endpoints = rfc8414.ServerEndpoints.under(issuer)
        resource = f"{endpoints.issuer}/v1"
        return cls(endpoints, TokenContext(issuer=endpoints.issuer, resource=resource), rings)

    @property
    def keyring(self) -> KeyRing:
        """What signs every kind of document: the current key (its id in each header)."""
        return self.rings.ring

    def metadata(self) -> dict[str, object]:
        return rfc8414.metadata(self.endpoints)

    def jwks(self, engine: Engine) -> dict[str, list[dict[str, str]]]:
        """The published keys, without any withdrawn one (read from the shared database)."""
        return self.rings.jwks(_now(), SqlWithdrawnKeys(engine).kids())

    def verifying(self, kind: Document, engine: Engine, now: datetime) -> PublicKeys:
        """The keys that verify ``kind`` at ``now``: within its window, not withdrawn."""
        return self.rings.verifying(kind, now, SqlWithdrawnKeys(engine).kids())


def _now() -> datetime:
    return datetime.now(UTC)


def _authenticate(
    server: AuthServer, session: Session, engine: Engine, assertion: ClientAssertion
) -> RegisteredClient:
    return rfc7523.authenticate_client(
        assertion,
        clients=SqlClientDirectory(session),
        jti_store=SqlJtiStore(engine),
        endpoints=server.endpoints,
        now=_now(),
    )


def issue_token(
    server: AuthServer,
    session: Session,
    engine: Engine,
    assertion: ClientAssertion,
    request: TokenRequest,
    dpop: DPoPGuard,
    proofs: Sequence[str],
) -> dict[str, object]:
    """The token response; with a DPoP proof the token is bound to the proof's key, and a
    client registered for DPoP-bound tokens gets none without one (RFC 9449 section 5)."""
    proof = _token_proof(server, dpop, proofs)
    client = _authenticate(server, session, engine, assertion)
    if proof is None and client.dpop_bound_access_tokens:
        raise InvalidDPoPProofError("this client's tokens must be DPoP-bound: send a proof")
    return token_response(
        request,
        client,
        server.keyring,
        server.context,
        grants=SqlGrantStore(session),
        now=_now(),
        confirmation=None if proof is None else proof.jkt,
    )


def _token_proof(server: AuthServer, dpop: DPoPGuard, proofs: Sequence[str]) -> DPoPProof | None:
    proof = single_proof(proofs)
    if proof is None:
        return None
    return dpop.check(proof, ProofTarget("POST", server.endpoints.token_endpoint), _now())


def introspect_token(
    server: AuthServer, session: Session, engine: Engine, assertion: ClientAssertion, token: str
) -> dict[str, object]:
    client = _authenticate(server, session, engine, assertion)
    now = _now()
    return rfc7662.introspect(
        token,
        client,
        server.verifying(Document.ACCESS_TOKEN, engine, now),
        server.context,
        now=now,
        revoked=SqlRevokedTokens(engine),
    )


def revoke_token(
    server: AuthServer, session: Session, engine: Engine, assertion: ClientAssertion, token: str
) -> None:
    client = _authenticate(server, session, engine, assertion)
    now = _now()
    rfc7009.revoke_token(
        token,
        client,
        server.verifying(Document.ACCESS_TOKEN, engine, now),
        server.context,
        now=now,
        revoked=SqlRevokedTokens(engine),
    )


def verify_bearer(server: AuthServer, engine: Engine, token: str) -> AccessToken:
    """The verified access token; raises ``InvalidTokenError`` for anything else."""
    access, check = _verified(server, engine, token)
    _refuse_revoked(engine, check)
    return access


def _verified(
    server: AuthServer, engine: Engine, token: str
) -> tuple[AccessToken, RevocationCheck | None]:
    """The access token verified in full, or as this process verified it before, with its
    revocation still to check then; raises ``InvalidTokenError``."""
    now = _now()
    verified = server.verified.current(token, now)
    if verified is None:
        keys = server.verifying(Document.ACCESS_TOKEN, engine, now)
        revoked = SqlRevokedTokens(engine)
        access = verify_access_token(token, keys, server.context, now=now, revoked=revoked)
        server.verified.remember(
            token, access, unverified_header(token, InvalidTokenError).text("kid")
        )
        return access, None
    access, kid = verified
    return access, RevocationCheck(access.jti, access.client_id, kid)


def _refuse_revoked(engine: Engine, check: RevocationCheck | None) -> None:
    if check is not None and SqlRevokedTokens(engine).is_refused(check):
        raise InvalidTokenError(REVOKED_DETAIL)


@dataclass(frozen=True)
class Presented:
    """What a request presents: its ``Authorization`` scheme (lower case) and token, its
    ``DPoP`` header values, and the method and path a proof must name (the path is read only
    when a proof is sent)."""

    scheme: str
    token: str
    proofs: tuple[str, ...]
    method: str
    path: str


def verify_presented(
    server: AuthServer,
    dpop: DPoPGuard,
    engine: Engine,
    presented: Presented,
    *,
    defer_revocation: bool,
) -> tuple[AccessToken, RevocationCheck | None]:
    """The access token a request presents (RFC 6750; RFC 9449 section 7): a DPoP-bound token
    only under the DPoP scheme with a fresh proof by its key, the DPoP scheme only with a bound
    token. A refusal of either carries a ``DPoP`` challenge; raises ``InvalidTokenError``.

    Returned with the token: its revocation check when it is left to the caller - only with
    ``defer_revocation``, for a bearer token this process verified before - who must settle
    it (:meth:`RevocationCheck.settle`) before serving the token anything; else None."""
    confirmation: str | None = None
    try:
        access, check = _verified(server, engine, presented.token)
        if defer_revocation and access.confirmation is None and presented.scheme != DPOP_SCHEME:
            return access, check
        _refuse_revoked(engine, check)
        confirmation = access.confirmation
        if confirmation is None and presented.scheme != DPOP_SCHEME:
            return access, None
        if confirmation is None:
            raise InvalidTokenError("the DPoP scheme needs a DPoP-bound token")
        if presented.scheme != DPOP_SCHEME:
            raise InvalidTokenError("a DPoP-bound token needs the DPoP scheme and a proof")
        proof = single_proof(presented.proofs)
        if proof is None:
            raise InvalidDPoPProofError("a DPoP proof is required")
        url = server.context.issuer + presented.path
        target = ProofTarget(presented.method, url, presented.token)
        dpop.check(proof, target, _now(), bound_to=confirmation)
        return access, None
    except (InvalidTokenError, InvalidDPoPProofError, UseDPoPNonceError) as exc:
        if presented.scheme != DPOP_SCHEME and confirmation is None:
            raise
        raise DPoPChallenge(exc, DPOP_ALGORITHMS) from exc


def withdraw_signing_key(settings: Settings, engine: Engine, kid: str, now: datetime) -> str | None:
    """Withdraw the token-and-grant key ``kid`` (current or retired) in the shared database;
    the current one is first replaced by a new key, whose id is returned."""
    rings = load_keys(settings).signing_rings()
    if kid not in rings.known():
        raise UnknownSigningKey("no current or retired signing key has this id")
    replacement = None
    if kid == rings.ring.current_kid:
        _, replacement = rotate_signing_key(settings, now)
    SqlWithdrawnKeys(engine).withdraw(kid, now)
    return replacement
