"""An independent DPoP client built on joserfc (not on the gateway's code): its own keys,
proofs, ``ath`` and nonce handling, as RFC 9449 describes them."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
import warnings
from collections.abc import Mapping
from typing import Any

import httpx
from authlib.oauth2.rfc7523 import private_key_jwt_sign
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DPoPKey = OKPKey | ECKey | RSAKey


def new_key(alg: str = "ES256") -> DPoPKey:
    if alg == "EdDSA":
        return OKPKey.generate_key("Ed25519")
    if alg == "ES256":
        return ECKey.generate_key("P-256")
    return RSAKey.generate_key(2048)


ALGORITHM = {"OKP": "EdDSA", "EC": "ES256", "RSA": "PS256"}


def sign(
    key: DPoPKey,
    claims: Mapping[str, object],
    *,
    header: Mapping[str, object] | None = None,
) -> str:
    """A JWS over ``claims`` with the DPoP header for ``key`` (overridable)."""
    alg = ALGORITHM[key.key_type]
    protected: dict[str, object] = {
        "typ": "dpop+jwt",
        "alg": alg,
        "jwk": key.as_dict(private=False),
        **(header or {}),
    }
    with warnings.catch_warnings():  # joserfc flags EdDSA as superseded by RFC 9864's Ed25519
        warnings.simplefilter("ignore")
        return jwt.encode(protected, dict(claims), key, algorithms=[str(protected["alg"])])


def ath(token: str) -> str:
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def proof(
    key: DPoPKey,
    method: str,
    url: str,
    *,
    token: str | None = None,
    nonce: str | None = None,
    **overrides: object,
) -> str:
    claims: dict[str, object] = {
        "jti": uuid.uuid4().hex,
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
    }
    if token is not None:
        claims["ath"] = ath(token)
    if nonce is not None:
        claims["nonce"] = nonce
    claims.update(overrides)
    return sign(key, claims)


class DPoPClient:
    """A client of the gateway that binds its tokens to a key of its own, on any httpx-style
    client (a live server's ``httpx.Client`` or a ``TestClient``) whose base URL is ``base``."""

    def __init__(self, http: httpx.Client, base: str, persona: Mapping[str, Any], alg: str):
        self.http = http
        self.base = base.rstrip("/")
        self.persona = persona
        self.key = new_key(alg)
        self.nonce: str | None = None

    def _assertion(self) -> str:
        key = OKPKey.import_key(dict(self.persona["private_jwk"]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            signed = private_key_jwt_sign(
                key,
                self.persona["client_id"],
                f"{self.base}/oauth/token",
                alg="EdDSA",
                expires_in=120,
            )
        return signed.decode() if isinstance(signed, bytes) else str(signed)

    def token_response(self) -> httpx.Response:
        """POST /oauth/token with a proof; once more with the nonce if the server asks."""
        url = f"{self.base}/oauth/token"
        for _ in range(2):
            form = {
                "grant_type": "client_credentials",
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self._assertion(),
            }
            headers = {"DPoP": proof(self.key, "POST", url, nonce=self.nonce)}
            response = self.http.post(url, data=form, headers=headers)
            if not self._asked_for_nonce(response):
                return response
        return response

    def token(self) -> str:
        response = self.token_response()
        assert response.status_code == 200, response.text
        assert response.json()["token_type"] == "DPoP"
        token: str = response.json()["access_token"]
        return token

    def get(self, path: str, token: str) -> httpx.Response:
        """GET ``path`` with the bound token and a fresh proof; retried once for a nonce."""
        for _ in range(2):
            response = self.http.get(path, headers=self.headers("GET", path, token))
            if not self._asked_for_nonce(response):
                return response
        return response

    def headers(self, method: str, path: str, token: str, **overrides: object) -> dict[str, str]:
        signed = proof(
            self.key, method, f"{self.base}{path}", token=token, nonce=self.nonce, **overrides
        )
        return {"Authorization": f"DPoP {token}", "DPoP": signed}

    def _asked_for_nonce(self, response: httpx.Response) -> bool:
        if "DPoP-Nonce" in response.headers:
            self.nonce = response.headers["DPoP-Nonce"]
        return response.status_code in (400, 401) and (
            response.json().get("error") == "use_dpop_nonce"
        )
