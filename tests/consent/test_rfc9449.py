"""DPoP proofs (RFC 9449 section 4.3), signed by an independent client on joserfc."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from consent.errors import InvalidDPoPProofError, UseDPoPNonceError
from consent.jws import timestamp
from consent.rfc9449 import (
    NONCE_PERIOD,
    PROOF_MAX_AGE,
    ProofTarget,
    require_binding,
    require_nonce,
    server_nonce,
    single_proof,
    verify_proof,
)
from tests.jose_dpop import ath, new_key, proof, sign

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
URL = "https://gateway.test/v1/consents/cg_1"
TOKEN = "an.access.token"
TARGET = ProofTarget("GET", URL, TOKEN)
SECRET = b"s" * 32


def _claims(**overrides: object) -> dict[str, object]:
    claims: dict[str, object] = {
        "jti": "proof-1",
        "htm": "GET",
        "htu": URL,
        "iat": timestamp(NOW),
        "ath": ath(TOKEN),
    }
    return {**claims, **overrides}


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "PS256"])
def test_a_proof_verifies_and_names_its_key_by_thumbprint(alg: str) -> None:
    key = new_key(alg)
    checked = verify_proof(sign(key, _claims(nonce="n")), TARGET, now=NOW)
    assert checked.jkt == key.thumbprint()
    assert (checked.jti, checked.issued_at, checked.nonce) == ("proof-1", NOW, "n")


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"htm": "POST"}, "htm"),
        ({"htu": "https://gateway.test/v1/consents/cg_2"}, "htu"),
        ({"htu": "https://elsewhere.test/v1/consents/cg_1"}, "htu"),
        ({"iat": timestamp(NOW - PROOF_MAX_AGE - timedelta(seconds=1))}, "too old"),
        ({"iat": timestamp(NOW + timedelta(minutes=1))}, "future"),
        ({"ath": ath("another.access.token")}, "ath"),
        ({"ath": None}, "ath"),
        ({"jti": None}, "jti"),
        ({"jti": "j" * 257}, "jti"),
    ],
)
def test_a_proof_for_another_request_or_time_is_refused(
    claims: dict[str, object], reason: str
) -> None:
    token = sign(new_key("ES256"), {k: v for k, v in _claims(**claims).items() if v is not None})
    with pytest.raises(InvalidDPoPProofError, match=reason):
        verify_proof(token, TARGET, now=NOW)


def test_the_url_is_compared_without_query_fragment_case_or_default_port() -> None:
    same = "HTTPS://Gateway.Test:443/v1/consents/cg_1?x=1#f"
    verify_proof(sign(new_key("ES256"), _claims(htu=same)), TARGET, now=NOW)
    with pytest.raises(InvalidDPoPProofError, match="htu"):
        verify_proof(sign(new_key("ES256"), _claims(htu=URL.upper())), TARGET, now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        {"typ": "JWT"},
        {"alg": "RS256"},  # RSA keys prove with PS256 only
        {"jwk": None},
        {"jwk": {"kty": "oct", "k": "c2VjcmV0"}},
    ],
)
def test_the_header_rules_are_kept(header: dict[str, object]) -> None:
    key = new_key("PS256")
    if header.get("alg") == "RS256":
        token = sign(key, _claims(), header=header)
    else:
        token = _with_header(sign(key, _claims()), header)
    with pytest.raises(InvalidDPoPProofError):
        verify_proof(token, TARGET, now=NOW)


def test_a_private_key_in_the_header_is_refused() -> None:
    key = new_key("ES256")
    token = sign(key, _claims(), header={"jwk": key.as_dict(private=True)})
    with pytest.raises(InvalidDPoPProofError, match="public key"):
        verify_proof(token, TARGET, now=NOW)


def test_a_header_key_that_did_not_sign_is_refused() -> None:
    signer, other = new_key("ES256"), new_key("ES256")
    token = sign(signer, _claims(), header={"jwk": other.as_dict(private=False)})
    with pytest.raises(InvalidDPoPProofError, match="signature"):
        verify_proof(token, TARGET, now=NOW)


def test_unsigned_and_hmac_proofs_are_refused() -> None:
    for alg in ("none", "HS256"):
        header = {"typ": "dpop+jwt", "alg": alg, "jwk": new_key("ES256").as_dict(private=False)}
        token = f"{_b64(header)}.{_b64(_claims())}.{_b64('x')}"
        with pytest.raises(InvalidDPoPProofError):
            verify_proof(token, TARGET, now=NOW)


def test_the_binding_is_to_the_token_key_only() -> None:
    key = new_key("ES256")
    checked = verify_proof(sign(key, _claims()), TARGET, now=NOW)
    require_binding(checked, key.thumbprint())
    for confirmation in (new_key("ES256").thumbprint(), None):
        with pytest.raises(InvalidDPoPProofError, match="token's key"):
            require_binding(checked, confirmation)


def test_the_nonce_of_this_and_the_last_period_is_accepted() -> None:
    def checked(nonce: str | None) -> None:
        token = proof(new_key("ES256"), "GET", URL, token=TOKEN, nonce=nonce, iat=timestamp(NOW))
        require_nonce(verify_proof(token, TARGET, now=NOW), SECRET, NOW)

    checked(server_nonce(SECRET, NOW))
    checked(server_nonce(SECRET, NOW - NONCE_PERIOD))
    for stale in (server_nonce(SECRET, NOW - 2 * NONCE_PERIOD), server_nonce(b"t" * 32, NOW), None):
        with pytest.raises(UseDPoPNonceError) as refused:
            checked(stale)
        assert refused.value.headers["DPoP-Nonce"] == server_nonce(SECRET, NOW)
        assert refused.value.to_problem()["error"] == "use_dpop_nonce"


def test_one_dpop_header_at_most() -> None:
    assert single_proof([]) is None
    assert single_proof(["a"]) == "a"
    with pytest.raises(InvalidDPoPProofError, match="exactly one"):
        single_proof(["a", "b"])


def _b64(value: object) -> str:
    raw = json.dumps(value).encode() if not isinstance(value, str) else value.encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _with_header(token: str, changes: dict[str, object]) -> str:
    """``token`` with its header changed (the signature no longer matters to the check)."""
    head, payload, signature = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    header.update(changes)
    return f"{_b64({k: v for k, v in header.items() if v is not None})}.{payload}.{signature}"
