"""A real OpenID provider for the tests: authlib's authorization server (authorization code
grant with the OpenID Connect ``OpenIDCode`` extension and PKCE ``CodeChallenge``) in a Flask
app, served over HTTP by uvicorn on a free loopback port in a thread - discovery, JWKS, the
authorize page (a sign-in form: the user types their username), the token endpoint, RS256 ID
tokens carrying the user's verified identity number.

``tamper`` makes the next ID tokens wrong on purpose (another issuer, another audience, another
nonce) so that the gateway's refusals are tested against real tokens.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, request
from joserfc.jwk import KeySet, RSAKey

IDENTITY_CLAIM = "id_number"
CLIENT_ID = "credit-gateway"
CLIENT_SECRET = "s3cret-of-the-gateway-client"  # the test provider's own client


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    redirect_uri: str

    def get_client_id(self) -> str:
        return CLIENT_ID

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(part for part in scope.split() if part in {"openid", "profile"})

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri == self.redirect_uri

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, CLIENT_SECRET)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in {"client_secret_basic", "client_secret_post"}

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    user: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return "urn:demo-province:loa:substantial"

    def get_amr(self) -> list[str]:
        return ["pwd"]


@dataclass
class Provider:
    """The running provider: its issuer URL, the users it knows and their identity numbers."""

    issuer: str
    users: dict[str, str]
    key: RSAKey
    codes: dict[str, Code] = field(default_factory=dict)
    tamper: dict[str, str] = field(default_factory=dict)
    client: Client | None = None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def build_app(provider: Provider) -> Flask:
    app = Flask(__name__)

    def query_client(client_id: str) -> Client | None:
        return provider.client if client_id == CLIENT_ID else None

    server = AuthorizationServer(app, query_client=query_client, save_token=lambda *_: None)

    class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post")

        def save_authorization_code(self, code: str, req: Any) -> None:
            payload = req.payload
            provider.codes[code] = Code(
                code,
                req.user,
                payload.redirect_uri,
                payload.scope,
                payload.data.get("nonce"),
                payload.data.get("code_challenge"),
                payload.data.get("code_challenge_method"),
            )

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            return provider.codes.get(code)

        def delete_authorization_code(self, authorization_code: Code) -> None:
            provider.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> str:
            return authorization_code.user

    class IdentityCode(OpenIDCode):  # type: ignore[misc]
        def exists_nonce(self, nonce: str, req: Any) -> bool:
            return any(code.nonce == nonce for code in provider.codes.values())

        def resolve_client_private_key(self, client: Client) -> KeySet:
            return KeySet([provider.key])

        def get_client_algorithm(self, client: Client) -> str:
            return "RS256"

        def get_client_claims(self, client: Client) -> dict[str, object]:
            return {
                "iss": provider.tamper.get("iss", provider.issuer),
                "aud": [provider.tamper.get("aud", CLIENT_ID)],
            }

        def get_encode_header(self, client: Client) -> dict[str, str]:
            return {"alg": "RS256", "kid": str(provider.key.kid)}

        def generate_user_info(self, user: str, scope: str) -> UserInfo:
            info = UserInfo(sub=f"user-{user}", name=user)
            info[IDENTITY_CLAIM] = provider.users[user]
            if "nonce" in provider.tamper:
                info["nonce"] = provider.tamper["nonce"]
            return info

    server.register_grant(CodeGrant, [IdentityCode(require_nonce=True), CodeChallenge()])

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Any:
        return jsonify(
            issuer=provider.issuer,
            authorization_endpoint=f"{provider.issuer}/authorize",
            token_endpoint=f"{provider.issuer}/token",
            jwks_uri=f"{provider.issuer}/jwks",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            code_challenge_methods_supported=["S256"],
            token_endpoint_auth_methods_supported=["client_secret_basic"],
            claims_supported=["sub", "name", IDENTITY_CLAIM],
        )

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify(KeySet([provider.key]).as_dict(private=False))

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        if request.method == "GET":
            server.get_consent_grant(end_user=None)  # validates the request before sign-in
            return (
                '<!doctype html><title>Provincial identity</title><form method="post">'
                '<label>Username <input name="username" id="username"></label>'
                '<button type="submit">Sign in</button></form>'
            )
        user = request.form.get("username", "")
        return server.create_authorization_response(
            grant_user=user if user in provider.users else None
        )

    @app.post("/token")
    def token() -> Any:
        return server.create_token_response()

    return app


@contextmanager
def running_provider(users: dict[str, str], redirect_uri: str) -> Iterator[Provider]:
    """Serve a provider for ``users`` (username -> identity number) and the gateway's client
    (its one ``redirect_uri``) until the block ends."""
    port = _free_port()
    provider = Provider(
        f"http://127.0.0.1:{port}",
        users,
        RSAKey.generate_key(2048, parameters={"kid": "provider-key-1", "use": "sig"}),
        client=Client(redirect_uri),
    )
    config = uvicorn.Config(
        build_app(provider), host="127.0.0.1", port=port, interface="wsgi", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test OpenID provider did not start")
        time.sleep(0.02)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)
