"""Key ring, RFC 7638 thumbprints and the JWKS."""

from __future__ import annotations

import base64
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from consent.keys import KeyRing, key_id, keys_from_jwks
from tests.consent.factories import NOW


def test_thumbprint_matches_rfc_8037_appendix_a3() -> None:
    x = base64.urlsafe_b64decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
    key = Ed25519PublicKey.from_public_bytes(x)
    assert key_id(key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_jwks_is_public_only_and_round_trips() -> None:
    ring = KeyRing.generate()
    jwks = ring.jwks()
    assert all("d" not in jwk for jwk in jwks["keys"])
    assert [jwk["kid"] for jwk in jwks["keys"]] == [ring.current_kid]
    parsed = keys_from_jwks(jwks)
    assert list(parsed) == [ring.current_kid]


def test_retired_keys_verify_until_pruned() -> None:
    ring = KeyRing.generate()
    old_kid = ring.current_kid
    rotated = ring.rotate(Ed25519PrivateKey.generate(), NOW)
    assert rotated.current_kid != old_kid
    assert set(rotated.public_keys()) == {old_kid, rotated.current_kid}
    kept = rotated.prune(NOW + timedelta(seconds=299), keep_for=timedelta(seconds=300))
    assert old_kid in kept.public_keys()
    pruned = rotated.prune(NOW + timedelta(seconds=300), keep_for=timedelta(seconds=300))
    assert set(pruned.public_keys()) == {rotated.current_kid}


def test_foreign_or_malformed_jwks_entries_are_ignored() -> None:
    jwks = {
        "keys": [
            {"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"},
            {"kty": "OKP", "crv": "Ed25519", "x": "short", "kid": "bad"},
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            "not a key",
        ]
    }
    assert keys_from_jwks(jwks) == {}
    assert keys_from_jwks({"keys": "nope"}) == {}
