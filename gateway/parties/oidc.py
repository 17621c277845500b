"""Real-name sign-in through the provincial identity provider (OpenID Connect Core 1.0).

Real-name verification is the identity provider's job; the gateway binds the enrolled account
whose ID number the provider verified. The flow is the authorization code flow with PKCE
(RFC 7636, S256), ``state`` and ``nonce``, run by authlib's OAuth 2.0 client; the provider's
endpoints and keys come from its discovery document (``<issuer>/.well-known/openid-configuration``,
whose ``issuer`` must be the configured one exactly).

The ID token (section 3.1.3.7) must be signed by a key of the provider's JWKS with an asymmetric
algorithm, name the configured issuer, have the gateway's client id as its audience (and as
``azp`` when there are several), be unexpired, and carry the nonce of this sign-in; its
``GATEWAY_OIDC_IDENTITY_CLAIM`` must be a valid GB 11643 number, and an enrolled, real-name
verified account must have it: the provider verifies who the person is, the operator's
enrolment decides who has an account. Any failure is the same 401 ``oidc_sign_in_failed``.

The transaction (state, nonce, PKCE verifier) lives ten minutes in a cookie of its own, signed
with the gateway's key ring, ``SameSite=Lax`` (the provider's redirect back is a cross-site
navigation, which a ``Strict`` cookie would not follow) and limited to ``/portal/oidc``.
"""

from __future__ import annotations

import secrets
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlmodel import Session, select

from consent.errors import InvalidTokenError
from consent.jws import from_timestamp, sign, timestamp, verify
from consent.keys import KeyRing, PublicKeys
from gateway.parties.models import Citizen
from gateway.settings import Settings
from problems import Unauthenticated
from redaction.errors import InvalidIdentifier
from redaction.identifiers import validate_id_number

TRANSACTION_TYP = "oidc-transaction+jwt"
TRANSACTION_LIFETIME = timedelta(minutes=10)
ID_TOKEN_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]
CALLBACK_PATH = "/portal/oidc/callback"
TIMEOUT = 10.0


class OidcSignInFailed(Unauthenticated):
    """Sign-in through the identity provider did not bind an enrolled, verified account."""

    title = "Sign-in through the identity provider failed"
    slug = "oidc-sign-in-failed"
    article = "Art. 39"


@dataclass(frozen=True)
class Transaction:
    """One sign-in in progress: what the callback must find again."""

    state: str
    nonce: str
    code_verifier: str
    expires_at: datetime


@dataclass(frozen=True)
class Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


class IdentityProvider:
    """The configured provider: discovery and keys fetched once and refreshed on a new key id."""

    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        self._secret = settings.oidc_client_secret.get_secret_value()
        self.claim = settings.oidc_identity_claim
        self.redirect_uri = settings.base_url.rstrip("/") + CALLBACK_PATH
        self._metadata: Metadata | None = None
        self._keys: KeySet | None = None
        self._lock = threading.RLock()

    @classmethod
    def configured(cls, settings: Settings) -> IdentityProvider | None:
        if settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret:
            return cls(settings)
        return None

    def _client(self) -> Any:
        """authlib's OAuth 2.0 client over httpx (imported here: authlib warns on import that
        it prefers httpx2, which the gateway does not ship)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            from authlib.integrations.httpx_client import OAuth2Client
        return OAuth2Client(
            self.client_id,
            self._secret,
            scope="openid",
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            timeout=TIMEOUT,
        )

    def metadata(self) -> Metadata:
        with self._lock:
            if self._metadata is None:
                document = _get_json(f"{self.issuer}/.well-known/openid-configuration")
                if document.get("issuer") != self.issuer:
                    raise OidcSignInFailed("the provider's discovery names another issuer")
                try:
                    self._metadata = Metadata(
                        self.issuer,
                        str(document["authorization_endpoint"]),
                        str(document["token_endpoint"]),
                        str(document["jwks_uri"]),
                    )
                except KeyError as exc:
                    raise OidcSignInFailed("the provider's discovery is incomplete") from exc
            return self._metadata

    def start(self, now: datetime) -> tuple[str, Transaction]:
        """The provider's authorization URL, and the transaction to keep for the callback."""
        transaction = Transaction(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),
            expires_at=now + TRANSACTION_LIFETIME,
        )
        with self._client() as client:
            url, _ = client.create_authorization_url(
                self.metadata().authorization_endpoint,
                state=transaction.state,
                nonce=transaction.nonce,
                code_verifier=transaction.code_verifier,
            )
        return str(url), transaction

    def finish(self, code: str, state: str, transaction: Transaction, now: datetime) -> str:
        """The ID number the provider verified, after every check of the module docstring."""
        if now >= transaction.expires_at or not secrets.compare_digest(state, transaction.state):
            raise OidcSignInFailed("the sign-in is not the one started here, or it lapsed")
        metadata = self.metadata()
        try:
            with self._client() as client:
                token = client.fetch_token(
                    metadata.token_endpoint,
                    code=code,
                    code_verifier=transaction.code_verifier,
                )
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            raise OidcSignInFailed("the provider refused the authorization code") from exc
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise OidcSignInFailed("the provider sent no ID token")
        claims = self._verified_claims(id_token, transaction.nonce, now)
        number = claims.get(self.claim)
        try:
            return validate_id_number(str(number or ""), on=now.date())
        except InvalidIdentifier as exc:
            raise OidcSignInFailed("the ID token carries no valid identity number") from exc

    def _verified_claims(self, id_token: str, nonce: str, now: datetime) -> dict[str, Any]:
        try:
            decoded = jwt.decode(id_token, self._key_set(id_token), algorithms=ID_TOKEN_ALGORITHMS)
            registry = jwt.JWTClaimsRegistry(
                now=int(now.timestamp()),
                leeway=60,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.client_id},
                nonce={"essential": True, "value": nonce},
                sub={"essential": True},
                exp={"essential": True},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise OidcSignInFailed("the ID token is not valid for this sign-in") from exc
        claims = dict(decoded.claims)
        audience = claims.get("aud")
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != self.client_id:
            raise OidcSignInFailed("the ID token was issued to another party")
        return claims

    def _key_set(self, id_token: str) -> KeySet:
        """The provider's keys, fetched again once when the token names a key id not in them."""
        try:
            kid = jws.extract_compact(id_token.encode()).protected.get("kid")
        except (JoseError, ValueError) as exc:
            raise OidcSignInFailed("the ID token is not a JWS") from exc
        with self._lock:
            if self._keys is None or (kid and not _has_kid(self._keys, kid)):
                self._keys = KeySet.import_key_set(_get_json(self.metadata().jwks_uri))  # type: ignore[arg-type]
            return self._keys


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys)


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcSignInFailed("the identity provider cannot be reached") from exc
    if not isinstance(document, dict):
        raise OidcSignInFailed("the identity provider answered something else")
    return document


def verified_citizen(session: Session, id_number: str) -> Citizen:
    """The enrolled, real-name verified account with the ID number the provider verified."""
    citizen = session.exec(select(Citizen).where(Citizen.id_number == id_number)).first()
    if citizen is None or not citizen.real_name_verified:
        raise OidcSignInFailed("no enrolled account has this identity")
    return citizen


def seal_transaction(transaction: Transaction, keyring: KeyRing) -> str:
    claims = {
        "state": transaction.state,
        "nonce": transaction.nonce,
        "verifier": transaction.code_verifier,
        "exp": timestamp(transaction.expires_at),
    }
    return sign(keyring, TRANSACTION_TYP, claims)


def unseal_transaction(token: str, keys: PublicKeys) -> Transaction:
    try:
        claims = verify(token, keys, TRANSACTION_TYP, InvalidTokenError)
        return Transaction(
            claims.text("state"),
            claims.text("nonce"),
            claims.text("verifier"),
            from_timestamp(claims.integer("exp")),
        )
    except InvalidTokenError as exc:
        raise OidcSignInFailed("the sign-in is not the one started here") from exc
