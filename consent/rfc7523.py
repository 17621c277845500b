"""Client authentication with ``private_key_jwt``: a JWT client assertion (RFC 7523 section
2.2 and 3, RFC 7521 section 4.2), signed with a key the client registered.

Rules (each failure is ``invalid_client``, or ``invalid_request`` for a malformed request):

* ``client_assertion_type`` is ``urn:ietf:params:oauth:client-assertion-type:jwt-bearer``;
* ``iss`` == ``sub`` == the client id (and == the ``client_id`` form field when sent);
* the key is the registered key named by the header ``kid`` (or the only registered key);
  the algorithms allowed are those of that key's type within the allow-list - EdDSA for
  Ed25519, ES256 for P-256, PS256/RS256 for RSA >= 2048 bits; never ``none`` nor HS*;
* ``aud`` is one value: the token endpoint URL or the issuer identifier. Both are accepted
  because RFC 7523 names the token endpoint while OpenID Connect and the RFC 7523 update
  (draft-ietf-oauth-rfc7523bis) name the issuer; a list with any other member is refused,
  which closes the audience-injection attack the update describes. The same assertion
  rules apply at the introspection and revocation endpoints, with the same audiences;
* ``exp`` present, in the future, and at most :data:`MAX_ASSERTION_LIFETIME` ahead; ``iat``
  and ``nbf``, when present, not in the future; :data:`CLOCK_SKEW` tolerated on each bound;
* ``jti`` present and never accepted twice for the client: checked last, so only a
  validly signed assertion is remembered.

Until the signature verifies, every failure answers alike - an unknown client id, a key id
that names no registered key, a registered key of a refused type, a wrong signature or
algorithm: ``invalid_client`` with :data:`NOT_AUTHENTICATED`, so the endpoint tells nobody which
client ids exist or what keys they hold - nor by its time: an unknown client's assertion is
verified all the same, against a key nobody holds. The precise cause is the error's
``__cause__``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consent.clients import RegisteredClient
from consent.errors import InvalidClientError, InvalidRequestError
from consent.jws import (
    CLIENT_ASSERTION_ALGORITHMS,
    VerificationKey,
    from_timestamp,
    timestamp,
    unverified_claims,
    unverified_header,
    verify_with_key,
)
from consent.rfc8414 import ServerEndpoints
from consent.stores import ClientDirectory, JtiStore

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=30)
MAX_JTI_LENGTH = 256
NOT_AUTHENTICATED = "client authentication failed"
_NOBODYS_KEY = Ed25519PrivateKey.generate().public_key()

_ALGORITHMS_BY_KEY_TYPE: Mapping[tuple[object, object], tuple[str, ...]] = {
    ("OKP", "Ed25519"): ("EdDSA",),
    ("EC", "P-256"): ("ES256",),
    ("RSA", None): ("PS256", "RS256"),
}


@dataclass(frozen=True)
class ClientAssertion:
    """The client authentication fields of a token, introspection or revocation request."""

    client_assertion_type: str | None
    client_assertion: str | None
    client_id: str | None = None


def authenticate_client(
    request: ClientAssertion,
    *,
    clients: ClientDirectory,
    jti_store: JtiStore,
    endpoints: ServerEndpoints,
    now: datetime,
) -> RegisteredClient:
    """The registered client the assertion authenticates; raises ``InvalidClientError``."""
    assertion = _assertion(request)
    client_id = unverified_claims(assertion, InvalidClientError).text("iss")
    if request.client_id is not None and request.client_id != client_id:
        raise InvalidClientError("client_id does not match the assertion issuer")
    client = clients.client(client_id)
    try:
        if client is None:
            _verify_nothing(assertion)
            raise InvalidClientError("unknown client")
        key, algorithms = _client_key(
            client, unverified_header(assertion, InvalidClientError).optional_text("kid")
        )
        claims = verify_with_key(assertion, key, algorithms, InvalidClientError)
    except InvalidClientError as exc:
        raise InvalidClientError(NOT_AUTHENTICATED) from exc
    if claims.text("iss") != client_id or claims.text("sub") != client_id:
        raise InvalidClientError("iss and sub must both be the client id")
    if claims.single_audience() not in {endpoints.token_endpoint, endpoints.issuer}:
        raise InvalidClientError("assertion audience is not this authorization server")
    expires_at = claims.require_current(now, leeway=int(CLOCK_SKEW.total_seconds()))
    if expires_at > timestamp(now + MAX_ASSERTION_LIFETIME + CLOCK_SKEW):
        raise InvalidClientError("assertion lifetime exceeds five minutes")
    jti = claims.text("jti")
    if len(jti) > MAX_JTI_LENGTH:
        raise InvalidClientError("jti too long")
    jti_store.remember(jti, client_id, from_timestamp(expires_at))
    return client


def _verify_nothing(assertion: str) -> None:
    """The work a known client's assertion costs, for an unknown one (it never verifies)."""
    try:
        verify_with_key(assertion, _NOBODYS_KEY, ("EdDSA",), InvalidClientError)
    except InvalidClientError:
        return


def _assertion(request: ClientAssertion) -> str:
    if not request.client_assertion or not request.client_assertion_type:
        raise InvalidRequestError("client_assertion and client_assertion_type are required")
    if request.client_assertion_type != ASSERTION_TYPE:
        raise InvalidClientError("unsupported client assertion type")
    return request.client_assertion


def _client_key(
    client: RegisteredClient, kid: str | None
) -> tuple[VerificationKey, tuple[str, ...]]:
    """The registered key to verify with, and the algorithms its type allows."""
    candidates = [jwk for jwk in client.jwks if kid is None or jwk.get("kid") == kid]
    if len(candidates) != 1:
        raise InvalidClientError("no single registered key matches the assertion")
    jwk = candidates[0]
    curve = None if jwk.get("kty") == "RSA" else jwk.get("crv")
    algorithms = _ALGORITHMS_BY_KEY_TYPE.get((jwk.get("kty"), curve), ())
    declared = jwk.get("alg")
    allowed = tuple(
        a for a in algorithms if declared in (None, a) and a in CLIENT_ASSERTION_ALGORITHMS
    )
    if not allowed:
        raise InvalidClientError("registered key type or algorithm is not accepted")
    try:
        key = jwt.PyJWK(dict(jwk), algorithm=allowed[0]).key
    except jwt.PyJWTError as exc:
        raise InvalidClientError("registered key is unusable") from exc
    if not isinstance(key, VerificationKey):
        raise InvalidClientError("registered key is not a public key")
    return key, allowed
