"""Signed JWTs: JWS compact serialization (RFC 7515) under the JWT best current practices
(RFC 8725): an explicit algorithm allow-list per use (section 3.1, 3.2), an explicit ``typ``
per kind of token so one kind is never accepted as another (section 3.11), and typed claims.

Our own documents (access tokens, consent artefacts, receipts) are signed with EdDSA over
Ed25519 only. ``none`` and HS* are never in any allow-list, so an unsigned token or an HMAC
keyed with a public key (algorithm confusion) cannot verify.

Times are checked here against the caller's ``now``, not the wall clock, so the rules are
testable and every verifier sees one instant.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.types import Options

from consent.keys import KeyRing, PublicKeys
from problems import GatewayError
from problems.text import refuse_unreadable

GATEWAY_ALGORITHMS = ("EdDSA",)
"""The only algorithm our own tokens, artefacts and receipts use."""

CLIENT_ASSERTION_ALGORITHMS = ("EdDSA", "ES256", "PS256", "RS256")
"""What a client may sign its RFC 7523 assertion with; chosen per key type, never by the token."""

DPOP_ALGORITHMS = ("EdDSA", "ES256", "PS256")
"""What a DPoP proof (RFC 9449) may be signed with: the FAPI 2.0 algorithms (no RS256)."""

ErrorFactory = Callable[[str], GatewayError]
VerificationKey = Ed25519PublicKey | EllipticCurvePublicKey | RSAPublicKey

# pyjwt checks the signature and the algorithm; claims are checked here against ``now``.
_SIGNATURE_ONLY: Options = {
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "verify_sub": False,
    "verify_jti": False,
    "enforce_minimum_key_length": True,
}


def timestamp(moment: datetime) -> int:
    """A JWT NumericDate (RFC 7519 section 2)."""
    return int(moment.timestamp())


def from_timestamp(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def sign(keyring: KeyRing, typ: str, claims: Mapping[str, object]) -> str:
    """Sign ``claims`` with the ring's current key; header ``alg`` EdDSA, ``typ``, ``kid``."""
    headers = {"typ": typ, "kid": keyring.current_kid}
    return jwt.encode(dict(claims), keyring.current, algorithm="EdDSA", headers=headers)


def verify(token: str, keys: PublicKeys, typ: str, error: ErrorFactory) -> Claims:
    """Verify one of our own documents: known ``kid``, EdDSA only, exactly ``typ``."""
    header = unverified_header(token, error)
    key = keys.get(header.optional_text("kid") or "")
    if key is None:
        raise error("unknown signing key")
    return verify_with_key(token, key, GATEWAY_ALGORITHMS, error, typ=typ)


def verify_with_key(
    token: str,
    key: VerificationKey,
    algorithms: Collection[str],
    error: ErrorFactory,
    *,
    typ: str | None = None,
) -> Claims:
    """Verify the signature with ``key`` under ``algorithms``; check ``typ`` when given."""
    if typ is not None and _media_type(unverified_header(token, error).optional_text("typ")) != typ:
        raise error("wrong token type")
    try:
        payload = jwt.decode(token, key, algorithms=list(algorithms), options=_SIGNATURE_ONLY)
    except jwt.PyJWTError as exc:
        raise error("signature or algorithm not accepted") from exc
    except RecursionError:  # JSON nested deeper than the parser goes
        raise error("malformed token") from None
    return Claims(payload, error)


def unverified_header(token: str, error: ErrorFactory) -> Claims:
    """The JOSE header, before any verification: use only to choose a key."""
    try:
        return Claims(jwt.get_unverified_header(token), error)
    except jwt.PyJWTError as exc:
        raise error("malformed token") from exc
    except RecursionError:
        raise error("malformed token") from None


def unverified_claims(token: str, error: ErrorFactory) -> Claims:
    """The claims, before any verification: use only to find who claims to have signed."""
    try:
        payload = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise error("malformed token") from exc
    except RecursionError:
        raise error("malformed token") from None
    return Claims(payload, error)


def _media_type(typ: str | None) -> str | None:
    """RFC 7515 section 4.1.9: compare case-insensitively, ``application/`` may be omitted."""
    return None if typ is None else typ.lower().removeprefix("application/")


class Claims:
    """A JSON object from a token, read with typed accessors that raise ``error``."""

    def __init__(self, members: Mapping[str, object], error: ErrorFactory) -> None:
        self._members = dict(members)
        self._error = error

    def as_dict(self) -> dict[str, object]:
        return dict(self._members)

    def error(self, detail: str) -> GatewayError:
        """The error this token's verifier reports, for checks made outside this class."""
        return self._error(detail)

    def names(self) -> frozenset[str]:
        return frozenset(self._members)

    def optional_text(self, name: str) -> str | None:
        """A string claim; every one the gateway reads is an identifier or a code, so it holds
        no control, format or line-break character (:mod:`problems.text`)."""
        value = self._members.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._error(f"claim {name} must be a string")
        try:
            return refuse_unreadable(value, single_line=True)
        except ValueError as exc:
            raise self._error(f"claim {name}: {exc}") from None

    def text(self, name: str) -> str:
        value = self.optional_text(name)
        if not value:
            raise self._error(f"claim {name} is required")
        return value

    def optional_integer(self, name: str) -> int | None:
        value = self._members.get(name)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise self._error(f"claim {name} must be an integer")

    def integer(self, name: str) -> int:
        value = self.optional_integer(name)
        if value is None:
            raise self._error(f"claim {name} is required")
        return value

    def texts(self, name: str) -> tuple[str, ...]:
        value = self._members.get(name)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._error(f"claim {name} must be a list of strings")
        return tuple(Claims({name: item}, self._error).text(name) for item in value)

    def optional_object(self, name: str) -> Claims | None:
        """A JSON object member (a header's ``jwk``, a token's ``cnf``); None when absent."""
        value = self._members.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self._error(f"claim {name} must be an object")
        return Claims(value, self._error)

    def objects(self, name: str) -> tuple[Claims, ...]:
        """A list of JSON objects; an absent claim is an empty list."""
        value = self._members.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self._error(f"claim {name} must be a list of objects")
        return tuple(Claims(item, self._error) for item in value)

    def single_audience(self) -> str:
        """``aud`` as exactly one value: a string, or a list of one string (RFC 7519 4.1.3)."""
        value = self._members.get("aud")
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, str):
            raise self._error("claim aud must name exactly one audience")
        return value

    def require_current(self, now: datetime, leeway: int = 0) -> int:
        """``exp`` present and after ``now``; ``nbf`` and ``iat`` not after ``now``.

        ``leeway`` seconds of clock skew are allowed on each bound. Returns ``exp``.
        """
        instant = timestamp(now)
        expires_at = self.integer("exp")
        if expires_at <= instant - leeway:
            raise self._error("token expired")
        for name in ("nbf", "iat"):
            value = self.optional_integer(name)
            if value is not None and value > instant + leeway:
                raise self._error(f"token {name} is in the future")
        return expires_at
