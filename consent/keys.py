"""Signing keys of the authorization server: Ed25519 JWKs (RFC 8037 section 2), key ids that
are JWK thumbprints (RFC 7638 section 3), and the public JWK Set (RFC 7517 section 5).

A :class:`KeyRing` holds one current private key, which signs, and retired public keys,
which still verify what they signed until it expires. Rotation moves the current key into the
retired list; :meth:`KeyRing.prune` forgets retired keys once nothing they signed can still be
valid. Each kind of document has its own verification window (:meth:`KeyRing.verifying_keys`):
access tokens live minutes (keep retired keys ``consent.rfc9068.ACCESS_TOKEN_LIFETIME``);
artefacts and receipts are verified as long as their grant can live
(``consent.purposes.MAX_VALIDITY_DAYS`` days plus ``consent.requests.PENDING_TTL``). A
withdrawn (compromised) key verifies nothing, whatever its window.

The gateway persists the private key (PEM, file mode 0600) and the retired public keys with
their retirement time; this module only computes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PublicKeys = Mapping[str, Ed25519PublicKey]
"""Verification keys by ``kid``: what every verifier in this package takes."""


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_THUMBPRINT_MEMBERS = {
    "OKP": ("crv", "kty", "x"),
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
}


def jwk_thumbprint(jwk: Mapping[str, object]) -> str | None:
    """The RFC 7638 SHA-256 thumbprint of a public JWK (OKP, EC or RSA: the required members
    only, sorted, no whitespace); None when a required member is missing or not a string."""
    names = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")), ())
    members = {name: jwk.get(name) for name in names}
    if not members or not all(isinstance(value, str) for value in members.values()):
        return None
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return b64url(hashlib.sha256(canonical).digest())


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    """The RFC 8037 public JWK of ``key``, with its thumbprint as ``kid``."""
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    members = {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}
    return {**members, "kid": str(jwk_thumbprint(members)), "alg": "EdDSA", "use": "sig"}


def key_id(key: Ed25519PublicKey) -> str:
    """The RFC 7638 SHA-256 JWK thumbprint of ``key``."""
    return public_jwk(key)["kid"]


@dataclass(frozen=True)
class RetiredKey:
    """A former signing key: verifies until ``retired_at`` plus the ring's keep period."""

    public_key: Ed25519PublicKey
    retired_at: datetime


@dataclass(frozen=True)
class KeyRing:
    """One current Ed25519 signing key and the retired keys that still verify."""

    current: Ed25519PrivateKey
    retired: tuple[RetiredKey, ...] = ()

    @classmethod
    def generate(cls) -> KeyRing:
        return cls(Ed25519PrivateKey.generate())

    @property
    def current_kid(self) -> str:
        return key_id(self.current.public_key())

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every key that verifies, by ``kid``; the current key first."""
        keys = [self.current.public_key(), *(old.public_key for old in self.retired)]
        return {key_id(key): key for key in keys}

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public JWK Set served at the JWKS endpoint; never a private member."""
        return {"keys": [public_jwk(key) for key in self.public_keys().values()]}

    def rotate(self, new_key: Ed25519PrivateKey, now: datetime) -> KeyRing:
        """``new_key`` signs from now on; the current key is retired at ``now``."""
        retiring = RetiredKey(self.current.public_key(), now)
        return KeyRing(new_key, (retiring, *self.retired))

    def prune(self, now: datetime, keep_for: timedelta) -> KeyRing:
        """Drop retired keys whose documents have all expired (retired before now - keep_for)."""
        kept = tuple(old for old in self.retired if old.retired_at + keep_for > now)
        return KeyRing(self.current, kept)

    def verifying_keys(
        self, now: datetime, keep_for: timedelta, withdrawn: Collection[str] = frozenset()
    ) -> dict[str, Ed25519PublicKey]:
        """The keys that verify a kind of document at ``now``: the current key and the keys
        retired less than ``keep_for`` ago (that kind's window), never a ``withdrawn`` one."""
        keys = self.prune(now, keep_for).public_keys()
        return {kid: key for kid, key in keys.items() if kid not in withdrawn}


def keys_from_jwks(jwks: Mapping[str, object]) -> dict[str, Ed25519PublicKey]:
    """Parse a JWK Set for offline verification; keeps only Ed25519 keys with a ``kid``.

    Keys of any other type are ignored, so a JWKS with nothing usable yields no key and every
    verification against it fails.
    """
    entries = jwks.get("keys")
    if not isinstance(entries, list):
        return {}
    keys: dict[str, Ed25519PublicKey] = {}
    for entry in entries:
        parsed = _ed25519_entry(entry)
        if parsed is not None:
            keys[parsed[0]] = parsed[1]
    return keys


def _ed25519_entry(entry: object) -> tuple[str, Ed25519PublicKey] | None:
    if not isinstance(entry, dict) or entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
        return None
    kid, x = entry.get("kid"), entry.get("x")
    if not isinstance(kid, str) or not isinstance(x, str):
        return None
    try:
        raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
        return kid, Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return None
