"""DPoP, demonstrating proof of possession (RFC 9449): the pure checks.

* A proof (section 4.2) is a JWS whose header has ``typ`` ``dpop+jwt``, ``alg`` from the
  allow-list :data:`consent.jws.DPOP_ALGORITHMS` as the key type of the header ``jwk`` allows
  (EdDSA for Ed25519, ES256 for P-256, PS256 for RSA), and ``jwk`` a public key - a private
  member is refused. Its claims: ``jti``, ``htm`` (the request method), ``htu`` (the request
  URL without query and fragment), ``iat``; at a resource also ``ath``, the base64url SHA-256
  of the access token; ``nonce`` when the server asks for one.
* :func:`verify_proof` makes the checks of section 4.3 but two, which need state and are the
  caller's: the ``jti`` replay cache (section 11.1) and the nonce (:func:`require_nonce`).
* Binding (section 6): a bound access token carries ``cnf.jkt``, the RFC 7638 thumbprint of
  the proof key; :func:`require_binding` checks a resource request's proof used that key.
* Server nonces (sections 8 and 9) are stateless: an HMAC-SHA256 of the period number under a
  server secret, so every process holding the secret issues and accepts the same nonces. The
  nonce of the current and of the previous :data:`NONCE_PERIOD` are accepted.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import jwt

from consent.errors import InvalidDPoPProofError, UseDPoPNonceError
from consent.jws import (
    DPOP_ALGORITHMS,
    VerificationKey,
    from_timestamp,
    timestamp,
    unverified_header,
    verify_with_key,
)
from consent.keys import b64url, jwk_thumbprint

DPOP_TYP = "dpop+jwt"
TOKEN_TYPE = "DPoP"  # noqa: S105 - the token_type of RFC 9449 section 5
PROOF_MAX_AGE = timedelta(seconds=60)
"""How long after its ``iat`` a proof is accepted (section 11.1: a short window)."""
CLOCK_SKEW = timedelta(seconds=5)
"""How far in the future a proof's ``iat`` may be."""
NONCE_PERIOD = timedelta(minutes=5)
MAX_JTI_LENGTH = 256

_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_ALGORITHM_BY_KEY_TYPE: Mapping[tuple[object, object], str] = {
    ("OKP", "Ed25519"): "EdDSA",
    ("EC", "P-256"): "ES256",
    ("RSA", None): "PS256",
}
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class ProofTarget:
    """What a proof must be made for: the request's method and URL, and at a resource the
    access token it accompanies."""

    method: str
    url: str
    access_token: str | None = None


@dataclass(frozen=True)
class DPoPProof:
    """A proof whose signature and claims held: its key's thumbprint, ``jti``, ``iat``, nonce."""

    jkt: str
    jti: str
    issued_at: datetime
    nonce: str | None

    @property
    def replayable_until(self) -> datetime:
        """Until when a replay cache must remember its ``jti``: after that it is too old."""
        return self.issued_at + PROOF_MAX_AGE


def single_proof(values: Sequence[str]) -> str | None:
    """The one ``DPoP`` header value; None without one; more than one is refused (4.3 item 1)."""
    if len(values) > 1:
        raise InvalidDPoPProofError("exactly one DPoP header is allowed")
    return values[0] if values else None


def verify_proof(proof: str, target: ProofTarget, *, now: datetime) -> DPoPProof:
    """The proof's facts once signature and claims hold; raises ``InvalidDPoPProofError``."""
    header = unverified_header(proof, InvalidDPoPProofError)
    jwk = header.optional_object("jwk")
    if jwk is None:
        raise InvalidDPoPProofError("the proof header carries no jwk")
    members = jwk.as_dict()
    algorithm = _algorithm(members)
    if header.optional_text("alg") != algorithm:
        raise InvalidDPoPProofError("the proof's alg is not accepted for its key")
    claims = verify_with_key(
        proof, _public_key(members, algorithm), (algorithm,), InvalidDPoPProofError, typ=DPOP_TYP
    )
    jti = claims.text("jti")
    if len(jti) > MAX_JTI_LENGTH:
        raise InvalidDPoPProofError("jti too long")
    if claims.text("htm") != target.method:
        raise InvalidDPoPProofError("htm is not the request method")
    if _normalized(claims.text("htu")) != _normalized(target.url):
        raise InvalidDPoPProofError("htu is not the request URL")
    issued_at = claims.integer("iat")
    if issued_at > timestamp(now + CLOCK_SKEW):
        raise InvalidDPoPProofError("the proof's iat is in the future")
    if issued_at < timestamp(now - PROOF_MAX_AGE):
        raise InvalidDPoPProofError("the proof is too old")
    if target.access_token is not None and not hmac.compare_digest(
        claims.optional_text("ath") or "", access_token_hash(target.access_token)
    ):
        raise InvalidDPoPProofError("ath is not the hash of the access token")
    thumbprint = jwk_thumbprint(members)
    if thumbprint is None:
        raise InvalidDPoPProofError("the proof's jwk is incomplete")
    return DPoPProof(thumbprint, jti, from_timestamp(issued_at), claims.optional_text("nonce"))


def require_binding(proof: DPoPProof, confirmation: str | None) -> None:
    """The proof is signed with the key the access token is bound to (``cnf.jkt``)."""
    if confirmation is None or not hmac.compare_digest(proof.jkt, confirmation):
        raise InvalidDPoPProofError("the proof is not signed with the token's key")


def access_token_hash(token: str) -> str:
    """``ath``: base64url of the SHA-256 of the access token's ASCII octets (section 4.2)."""
    return b64url(hashlib.sha256(token.encode("ascii", errors="replace")).digest())


def server_nonce(secret: bytes, now: datetime) -> str:
    """The nonce the server hands out at ``now`` (``DPoP-Nonce``)."""
    return _nonce(secret, _period(now))


def require_nonce(proof: DPoPProof, secret: bytes, now: datetime) -> None:
    """The proof carries the current or the previous period's nonce; else ``use_dpop_nonce``
    with the current one to retry with."""
    period = _period(now)
    given = proof.nonce or ""
    if not any(hmac.compare_digest(given, _nonce(secret, p)) for p in (period, period - 1)):
        raise UseDPoPNonceError(
            "the proof must carry the server's nonce", server_nonce(secret, now)
        )


def _period(now: datetime) -> int:
    return timestamp(now) // int(NONCE_PERIOD.total_seconds())


def _nonce(secret: bytes, period: int) -> str:
    mac = hmac.new(secret, b"dpop-nonce:" + period.to_bytes(8, "big"), hashlib.sha256)
    return b64url(mac.digest()[:24])


def _algorithm(jwk: Mapping[str, object]) -> str:
    curve = None if jwk.get("kty") == "RSA" else jwk.get("crv")
    algorithm = _ALGORITHM_BY_KEY_TYPE.get((jwk.get("kty"), curve))
    if algorithm is None or algorithm not in DPOP_ALGORITHMS:
        raise InvalidDPoPProofError("the proof's key type is not accepted")
    if _PRIVATE_MEMBERS & jwk.keys():
        raise InvalidDPoPProofError("the proof's jwk must be a public key")
    return algorithm


def _public_key(jwk: Mapping[str, object], algorithm: str) -> VerificationKey:
    try:
        key = jwt.PyJWK(dict(jwk), algorithm=algorithm).key
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidDPoPProofError("the proof's jwk is unusable") from exc
    if not isinstance(key, VerificationKey):
        raise InvalidDPoPProofError("the proof's jwk must be a public key")
    return key


def _normalized(url: str) -> tuple[str, str, int | None, str]:
    """Scheme, host, port and path: compared without query and fragment (4.3 item 9), the
    scheme and host case-insensitively and a default port as if absent (RFC 3986 6.2.2-3)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidDPoPProofError("htu is not a URL") from exc
    scheme = parts.scheme.lower()
    if port == _DEFAULT_PORTS.get(scheme):
        port = None
    return scheme, (parts.hostname or ""), port, parts.path or "/"
