"""Small builders for the consent tests: vocabulary, grants, keys and in-memory stores."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from consent.clients import RegisteredClient, Role
from consent.errors import ReplayedAssertionError
from consent.grants import Grant, GrantState, SubjectKind, WrittenConsent
from consent.jws import timestamp
from consent.keys import b64url, public_jwk
from consent.lifecycle import Actor, Approval, approve
from consent.purposes import PurposeRegistry, load_purposes
from consent.requests import ConsentRequestDraft, validate_request
from consent.rfc8414 import ServerEndpoints
from consent.rfc9068 import TokenContext

RESTRICTED = frozenset(
    {"income", "savings", "securities", "commercial_insurance", "real_estate", "tax"}
)
CATEGORIES = frozenset({"basic", "untrustworthy", "trustworthy", "other"}) | RESTRICTED
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ENDPOINTS = ServerEndpoints.under("https://gateway.example")
CONTEXT = TokenContext(issuer=ENDPOINTS.issuer, resource="https://gateway.example/v1")
REQUESTER = "est-bank-001"
SUBJECT = "subject-key-7f3a"
CITIZEN = Actor(Role.CITIZEN, SUBJECT)


@cache
def registry() -> PurposeRegistry:
    return load_purposes(CATEGORIES)


def draft(**changes: object) -> ConsentRequestDraft:
    """A mortgage request that passes every check, changed by ``changes``."""
    base = ConsentRequestDraft(
        requesters=(REQUESTER,),
        subject_keys=(SUBJECT,),
        subject_kind=SubjectKind.NATURAL_PERSON,
        purpose="mortgage_application",
        categories=("basic", "untrustworthy", "income", "real_estate"),
        validity_days=60,
        max_uses=3,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def pending_grant(**changes: object) -> Grant:
    return validate_request(draft(**changes), registry(), now=NOW, grant_id="cg_test").grant


def written(*categories: str, at: datetime = NOW) -> tuple[WrittenConsent, ...]:
    return tuple(WrittenConsent(category, "wc-2026.1", at) for category in categories)


def active_grant(**changes: object) -> Grant:
    """The mortgage grant approved in full, with its two written consents."""
    grant = pending_grant(**changes)
    restricted = grant.requested_categories & RESTRICTED
    approval = Approval(grant.requested_categories, written(*sorted(restricted)))
    return approve(grant, approval, actor=CITIZEN, now=NOW, restricted=RESTRICTED).grant


@dataclass
class MemoryGrants:
    """A GrantStore whose consume_use follows the documented conditional UPDATE."""

    grants: dict[str, Grant] = field(default_factory=dict)

    def put(self, grant: Grant) -> None:
        self.grants[grant.grant_id] = grant

    def get(self, grant_id: str) -> Grant | None:
        return self.grants.get(grant_id)

    def consume_use(self, grant_id: str, now: datetime) -> int | None:
        grant = self._count(grant_id, 1, now, now)
        return None if grant is None else grant.max_uses - grant.uses

    def consume_uses(self, uses: Mapping[str, int], first: datetime, last: datetime) -> set[str]:
        return {grant_id for grant_id, n in uses.items() if self._count(grant_id, n, first, last)}

    def _count(self, grant_id: str, uses: int, first: datetime, last: datetime) -> Grant | None:
        """The grant with ``uses`` more counted, if it covers them all from ``first`` to
        ``last``."""
        grant = self.grants.get(grant_id)
        if (
            grant is None
            or grant.state is not GrantState.ACTIVE
            or grant.uses + uses > grant.max_uses
            or grant.not_before is None
            or grant.expires_at is None
            or not grant.not_before <= first <= last < grant.expires_at
        ):
            return None
        counted = replace(grant, uses=grant.uses + uses)
        self.grants[grant_id] = counted
        return counted


@dataclass
class MemoryJti:
    seen: set[tuple[str, str]] = field(default_factory=set)

    def remember(self, jti: str, client_id: str, expires_at: datetime) -> None:
        if (client_id, jti) in self.seen:
            raise ReplayedAssertionError("assertion already used")
        self.seen.add((client_id, jti))


@dataclass
class MemoryRevoked:
    revoked: dict[str, datetime] = field(default_factory=dict)

    def revoke(self, jti: str, expires_at: datetime) -> None:
        self.revoked[jti] = expires_at

    disabled: set[str] = field(default_factory=set)

    def is_revoked(self, jti: str, client_id: str) -> bool:
        return jti in self.revoked or client_id in self.disabled


@dataclass
class MemoryClients:
    clients: dict[str, RegisteredClient] = field(default_factory=dict)

    def client(self, client_id: str) -> RegisteredClient | None:
        return self.clients.get(client_id)


@dataclass(frozen=True)
class ClientKey:
    """An establishment's Ed25519 key pair, registered under ``client_id``."""

    client_id: str = REQUESTER
    role: Role = Role.ESTABLISHMENT
    private: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    @property
    def registered(self) -> RegisteredClient:
        return RegisteredClient(self.client_id, self.role, (public_jwk(self.private.public_key()),))

    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
        )

    def assertion(self, **changes: object) -> str:
        """A valid client assertion at NOW; ``changes`` replace or (None) drop claims."""
        return jwt.encode(self.assertion_claims(**changes), self.private, algorithm="EdDSA")

    def assertion_claims(self, **changes: object) -> dict[str, object]:
        claims: dict[str, object] = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": ENDPOINTS.token_endpoint,
            "iat": timestamp(NOW),
            "exp": timestamp(NOW + timedelta(seconds=120)),
            "jti": secrets.token_urlsafe(12),
        }
        claims.update(changes)
        return {name: value for name, value in claims.items() if value is not None}


def forge(header: dict[str, object], claims: dict[str, object], key: bytes | None) -> str:
    """A compact JWS signed with HMAC-SHA256 under ``key``, or unsigned when ``key`` is None."""
    signing_input = ".".join(
        b64url(json.dumps(part).encode()) for part in (header, claims)
    ).encode()
    signature = b"" if key is None else hmac.new(key, signing_input, hashlib.sha256).digest()
    return signing_input.decode() + "." + b64url(signature)


def resign_as(token: str, alg: str, key: bytes | None) -> str:
    """Keep the token's header and claims but switch ``alg`` and sign with HMAC or nothing."""
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    return forge({**header, "alg": alg}, claims, key)


def tamper(token: str, **changes: object) -> str:
    """Change claims without re-signing."""
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims.update(changes)
    return ".".join([head, b64url(json.dumps(claims).encode()), signature])
