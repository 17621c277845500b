"""The gateway's keys, read from configured files or generated on first start (mode 0600).

Two Ed25519 signing keys (tokens and grants; audit checkpoints), one 32-byte secret from
which every keyed pseudonym of a subject is derived (``redaction.pseudonym``) and one from
which the DPoP server nonces are derived (RFC 9449 section 8).

The token-and-grant key rotates (``gateway keys rotate-signing``): the old key's public half is
kept in ``retired-signing-keys.json`` beside it. Each kind of document it signed has its own
verification window (:data:`VERIFICATION_WINDOWS`): a retired key verifies access tokens only
as long as an access token lives, portal sessions as long as a session can last, consent
artefacts and receipts as long as a grant can live - and stays in the JWKS for those. A key
withdrawn with ``gateway keys withdraw`` (compromised) verifies nothing from then on: the
withdrawal is stored in the database that every process reads. Every process reads the key
files at start, so restart them all after a rotation.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from consent.keys import KeyRing, RetiredKey, b64url, key_id, public_jwk
from consent.purposes import MAX_VALIDITY_DAYS
from consent.requests import PENDING_TTL
from consent.rfc9068 import ACCESS_TOKEN_LIFETIME
from gateway.portal.sessions import MAX_LIFETIME as SESSION_LIFETIME
from gateway.settings import MAX_REPORT_VALIDITY_DAYS, Settings
from gateway.webhooks.schedule import DELIVERY_WINDOW
from problems import ServiceUnavailable
from redaction.pseudonym import PseudonymKeys

SECRET_BYTES = 32
RETIRED_FILE = "retired-signing-keys.json"
GRANT_LIFE = timedelta(days=MAX_VALIDITY_DAYS) + PENDING_TTL
"""A consent grant's longest life: pending, then valid for the longest validity of a purpose."""
T = TypeVar("T")


class Document(StrEnum):
    """The kinds of document the token-and-grant key signs, each verified in its own window."""

    ACCESS_TOKEN = "access-token"  # noqa: S105 - a kind of document, not a secret
    PORTAL_SESSION = "portal-session"
    CONSENT_ARTEFACT = "consent-artefact"
    RECEIPT = "receipt"
    WEBHOOK = "webhook"
    REPORT = "report"


VERIFICATION_WINDOWS: Mapping[Document, timedelta] = {
    Document.ACCESS_TOKEN: ACCESS_TOKEN_LIFETIME,
    Document.PORTAL_SESSION: SESSION_LIFETIME,
    Document.CONSENT_ARTEFACT: GRANT_LIFE,
    Document.RECEIPT: GRANT_LIFE,
    Document.WEBHOOK: DELIVERY_WINDOW,
    Document.REPORT: timedelta(days=MAX_REPORT_VALIDITY_DAYS),
}
"""How long after its retirement a key still verifies each kind of document it signed."""

PUBLISHED = (Document.CONSENT_ARTEFACT, Document.RECEIPT, Document.WEBHOOK, Document.REPORT)
"""What third parties verify offline with the JWKS; tokens and sessions only the gateway does."""


class KeyUnavailable(ServiceUnavailable):
    title = "Signing key unavailable"
    slug = "signing-key-unavailable"


@dataclass(frozen=True)
class GatewayKeys:
    """The keys the gateway signs with: tokens and grants, and audit checkpoints."""

    signing: Ed25519PrivateKey
    log: Ed25519PrivateKey
    pseudonyms: PseudonymKeys
    dpop_nonce: bytes
    retired_signing: tuple[RetiredKey, ...] = ()
    log_retiring: tuple[Ed25519PrivateKey, ...] = ()

    def signing_rings(self) -> KeyRings:
        """The token-and-grant key with every retired key, and the window of each document."""
        return KeyRings(KeyRing(self.signing, self.retired_signing))


@dataclass(frozen=True)
class KeyRings:
    """One key signs; per kind of document, the keys that still verify it (pruned at each use,
    so a long-running process drops a retired key when its window closes)."""

    ring: KeyRing

    def verifying(
        self, kind: Document, now: datetime, withdrawn: Collection[str]
    ) -> dict[str, Ed25519PublicKey]:
        return self.ring.verifying_keys(now, VERIFICATION_WINDOWS[kind], withdrawn)

    def jwks(self, now: datetime, withdrawn: Collection[str]) -> dict[str, list[dict[str, str]]]:
        """The public JWK Set: every key that verifies a document third parties verify."""
        keys: dict[str, Ed25519PublicKey] = {}
        for kind in PUBLISHED:
            keys.update(self.verifying(kind, now, withdrawn))
        return {"keys": [public_jwk(key) for key in keys.values()]}

    def known(self) -> frozenset[str]:
        """The ids of the current key and of every retired key, whatever its window."""
        return frozenset(self.ring.public_keys())


def load_keys(settings: Settings) -> GatewayKeys:
    keys_dir = settings.resolved_keys_dir
    secret = _load_or_create(
        settings.pseudonym_key_file, keys_dir / "pseudonym.key", _new_secret, _parse_secret
    )
    return GatewayKeys(
        signing=_load_or_create(
            settings.signing_key_file, _signing_path(settings), _new_pem, _parse_pem
        ),
        log=_load_or_create(settings.log_key_file, keys_dir / "log.pem", _new_pem, _parse_pem),
        pseudonyms=PseudonymKeys(secret, settings.pseudonym_key_version),
        dpop_nonce=_load_or_create(
            settings.dpop_nonce_key_file,
            keys_dir / "dpop-nonce.key",
            _new_secret,
            _parse_secret,
        ),
        retired_signing=_read_retired(keys_dir / RETIRED_FILE),
        log_retiring=tuple(read_ed25519_key(path) for path in settings.log_retiring_key_files),
    )


def rotate_signing_key(settings: Settings, now: datetime) -> tuple[str, str]:
    """Retire the current token-and-grant key and put a new one in its place.

    The retired public key is recorded first, so a crash between the two writes leaves the old
    key both current and retired — never a key that signed something and verifies nothing.
    Returns the old and the new key ids.
    """
    keys = load_keys(settings)
    retired_path = settings.resolved_keys_dir / RETIRED_FILE
    retired = (RetiredKey(keys.signing.public_key(), now), *keys.retired_signing)
    write_private(
        retired_path, json.dumps([_retired_entry(key) for key in retired], indent=2).encode()
    )
    new_pem = _new_pem()
    write_private(settings.signing_key_file or _signing_path(settings), new_pem)
    return key_id(keys.signing.public_key()), key_id(_parse_pem(new_pem, "new key").public_key())


def _signing_path(settings: Settings) -> Path:
    return settings.resolved_keys_dir / "signing.pem"


def _retired_entry(key: RetiredKey) -> dict[str, str]:
    raw = key.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"x": b64url(raw), "retired_at": key.retired_at.isoformat()}


def _read_retired(path: Path) -> tuple[RetiredKey, ...]:
    if not path.exists():
        return ()
    try:
        entries = json.loads(path.read_bytes())
        return tuple(
            RetiredKey(
                Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(e["x"] + "==")),
                datetime.fromisoformat(e["retired_at"]),
            )
            for e in entries
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyUnavailable(f"cannot read {path.name}") from exc


def _load_or_create(
    configured: Path | None,
    default: Path,
    generate: Callable[[], bytes],
    parse: Callable[[bytes, str], T],
) -> T:
    path = configured or default
    if configured is None and not default.exists():
        _create(default, generate())
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise KeyUnavailable(f"cannot read key file {path.name}") from exc
    return parse(content, path.name)


def read_ed25519_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM file (a witness's key, say); raises KeyUnavailable."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise KeyUnavailable(f"cannot read key file {path.name}") from exc
    return _parse_pem(content, path.name)


def _new_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _parse_pem(content: bytes, name: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(content, password=None)
    except ValueError as exc:
        raise KeyUnavailable(f"cannot read key file {name}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyUnavailable(f"{name} is not an Ed25519 private key")
    return key


def _new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def _parse_secret(content: bytes, name: str) -> bytes:
    if len(content) != SECRET_BYTES:
        raise KeyUnavailable(f"{name} must hold exactly {SECRET_BYTES} bytes")
    return content


def _staged(path: Path, content: bytes) -> Path:
    """``content`` written beside ``path`` in a file only the owner can read (0700 folder)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return tmp


def write_private(path: Path, content: bytes) -> None:
    """Replace ``path`` with ``content`` atomically, readable by the owner only."""
    _staged(path, content).replace(path)


def _create(path: Path, content: bytes) -> None:
    # Written aside, then linked into place: a second process starting at the same moment
    # either wins the link or reads the complete key that won.
    tmp = _staged(path, content)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process won; its key is read back by the caller
    finally:
        tmp.unlink()
