"""Signing keys: generated once with 0600, reused, or read from configured files."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.keys import KeyUnavailable, load_keys
from gateway.settings import Settings


def _raw(key: object) -> bytes:
    assert isinstance(key, Ed25519PrivateKey)
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_generated_on_first_start_with_owner_only_permissions(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, _env_file=None)
    first = load_keys(settings)
    for name in ("signing.pem", "log.pem", "pseudonym.key", "dpop-nonce.key"):
        mode = stat.S_IMODE((tmp_path / "keys" / name).stat().st_mode)
        assert mode == 0o600, oct(mode)
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    second = load_keys(settings)
    assert _raw(first.signing) == _raw(second.signing)
    assert _raw(first.log) == _raw(second.log)
    assert _raw(first.signing) != _raw(first.log)
    assert first.pseudonyms.master_key == second.pseudonyms.master_key
    assert len(first.pseudonyms.master_key) == 32
    assert first.dpop_nonce == second.dpop_nonce != first.pseudonyms.master_key
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == [
        "dpop-nonce.key",
        "log.pem",
        "pseudonym.key",
        "signing.pem",
    ]


def test_configured_key_file_is_used(tmp_path: Path) -> None:
    generated = load_keys(Settings(var_dir=tmp_path / "a", _env_file=None))
    configured = Settings(
        var_dir=tmp_path / "b",
        signing_key_file=tmp_path / "a" / "keys" / "signing.pem",
        _env_file=None,
    )
    assert _raw(load_keys(configured).signing) == _raw(generated.signing)


def test_a_key_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    pem = generate_private_key(SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = tmp_path / "ec.pem"
    path.write_bytes(pem)
    settings = Settings(var_dir=tmp_path, signing_key_file=path, _env_file=None)
    with pytest.raises(KeyUnavailable, match="not an Ed25519 private key"):
        load_keys(settings)


def test_an_unreadable_key_file_is_refused(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, log_key_file=tmp_path / "missing.pem", _env_file=None)
    with pytest.raises(KeyUnavailable, match=r"cannot read key file missing\.pem"):
        load_keys(settings)


def test_a_pseudonym_secret_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.key"
    path.write_bytes(b"too short")
    settings = Settings(var_dir=tmp_path, pseudonym_key_file=path, _env_file=None)
    with pytest.raises(KeyUnavailable, match="must hold exactly 32 bytes"):
        load_keys(settings)
