"""The gateway's keys, read from configured files or generated on first start (mode 0600).

Two Ed25519 signing keys (tokens and grants; audit checkpoints) and one 32-byte secret from
which every keyed pseudonym of a subject is derived (``redaction.pseudonym``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.settings import Settings
from problems import ServiceUnavailable
from redaction.pseudonym import PseudonymKeys

SECRET_BYTES = 32
T = TypeVar("T")


class KeyUnavailable(ServiceUnavailable):
    title = "Signing key unavailable"
    slug = "signing-key-unavailable"


@dataclass(frozen=True)
class GatewayKeys:
    """The keys the gateway signs with: tokens and grants, and audit checkpoints."""

    signing: Ed25519PrivateKey
    log: Ed25519PrivateKey
    pseudonyms: PseudonymKeys


def load_keys(settings: Settings) -> GatewayKeys:
    keys_dir = settings.resolved_keys_dir
    secret = _load_or_create(
        settings.pseudonym_key_file, keys_dir / "pseudonym.key", _new_secret, _parse_secret
    )
    return GatewayKeys(
        signing=_load_or_create(
            settings.signing_key_file, keys_dir / "signing.pem", _new_pem, _parse_pem
        ),
        log=_load_or_create(settings.log_key_file, keys_dir / "log.pem", _new_pem, _parse_pem),
        pseudonyms=PseudonymKeys(secret, settings.pseudonym_key_version),
    )


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


def _create(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written aside, then linked into place: a second process starting at the same moment
    # either wins the link or reads the complete key that won.
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process won; its key is read back by the caller
    finally:
        tmp.unlink()
