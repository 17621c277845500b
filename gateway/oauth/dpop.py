"""DPoP (RFC 9449) wired to the gateway: the server nonce and the shared ``jti`` replay cache.

The proof rules are :mod:`consent.rfc9449`'s; this module holds what they leave to the server:

* the nonce secret (``GATEWAY_DPOP_NONCE_KEY_FILE``, generated beside the other keys), the
  same on every process, so a nonce handed out by one is accepted by all (sections 8, 9);
* the replay cache (section 11.1): Redis when ``GATEWAY_REDIS_URL`` is set (``SET NX`` with
  the proof's remaining life as expiry), else the database - both shared by every process.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import redis
from redis.exceptions import RedisError
from sqlalchemy import Engine

from consent.errors import InvalidDPoPProofError
from consent.keys import b64url
from consent.rfc9449 import (
    DPoPProof,
    ProofTarget,
    require_binding,
    require_nonce,
    verify_proof,
)
from gateway.keys import GatewayKeys
from gateway.oauth.repository import SqlDPoPJtis
from gateway.settings import Settings
from problems import ServiceUnavailable


class ReplayCache(Protocol):
    def remember(self, proof: DPoPProof, now: datetime) -> None:
        """Record the proof's ``jti`` for its key; ``InvalidDPoPProofError`` if seen before."""


class RedisDPoPJtis:
    """The replay cache in Redis: one key per proof key and ``jti``, expiring with the proof."""

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url)

    def remember(self, proof: DPoPProof, now: datetime) -> None:
        digest = b64url(hashlib.sha256(proof.jti.encode("utf-8")).digest())
        lifetime = max(1, int((proof.replayable_until - now).total_seconds() * 1000))
        try:
            fresh = self._redis.set(f"gateway:dpop:{proof.jkt}:{digest}", 1, nx=True, px=lifetime)
        except RedisError as exc:  # fail closed: a replay cannot be ruled out
            raise ServiceUnavailable("the DPoP replay cache is unreachable") from exc
        if not fresh:
            raise InvalidDPoPProofError("DPoP proof already used")


@dataclass(frozen=True)
class DPoPGuard:
    """Checks a proof in full: its rules, the key it must be signed with, nonce, replay."""

    nonce_secret: bytes
    replay: ReplayCache

    @classmethod
    def of(cls, settings: Settings, engine: Engine, keys: GatewayKeys) -> DPoPGuard:
        replay: ReplayCache = (
            RedisDPoPJtis(settings.redis_url) if settings.redis_url else SqlDPoPJtis(engine)
        )
        return cls(keys.dpop_nonce, replay)

    def check(
        self, proof: str, target: ProofTarget, now: datetime, *, bound_to: str | None = None
    ) -> DPoPProof:
        """The checked proof; at a resource, ``bound_to`` is the token's ``cnf.jkt``. The
        ``jti`` is remembered last, so only a proof that passed everything else is spent."""
        checked = verify_proof(proof, target, now=now)
        if bound_to is not None:
            require_binding(checked, bound_to)
        require_nonce(checked, self.nonce_secret, now)
        self.replay.remember(checked, now)
        return checked
