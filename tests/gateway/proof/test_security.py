"""The OAuth 2.0 Security Best Current Practice (RFC 9700) items that apply to this gateway,
attacked over HTTP: one client authentication method (``private_key_jwt``, RFC 7523), one
grant (client credentials), bearer access tokens (RFC 9068) for one resource.

* Client authentication (RFC 9700 section 2.5): an assertion is accepted once (replay), only
  for this token endpoint (audience confusion), only EdDSA by the client's registered key -
  never ``none``, never HMAC keyed with a public key, never a key the assertion brings along
  (algorithm and key confusion) - and no other signed object passes for one.
* Grants (section 2.4): no resource owner password credentials, no implicit, no code grant
  here - only client credentials.
* Access tokens (sections 2.3, 4.10): only tokens signed by the gateway with EdDSA, of type
  ``at+jwt``, for this issuer and this resource, unexpired, are accepted - never an assertion,
  a consent artefact or a receipt signed by the same key - and only in the header, never in
  the query string (RFC 6750 section 5.3).
* Token leakage (sections 4.3, 4.10): nothing the gateway logs or traces holds a token, an
  assertion, a password or an ID number - its errors do not echo them either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bench.invariants import secrets_in
from gateway.demo import private_jwk
from tests.gateway.factories import ASSERTION_TYPE, TOKEN_ENDPOINT, client_assertion
from tests.gateway.inquiries.factories import World, subject

Claims = dict[str, Any]
CLIENT_LOGGERS = ("httpx", "httpcore")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hmac_jws(header: Claims, claims: Claims, secret: bytes) -> str:
    """An HS256 JWS, made by hand: libraries refuse to key HMAC with a public key."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def unsigned_jws(claims: Claims, **header: object) -> str:
    encoded = (b64url(json.dumps(part).encode()) for part in ({"alg": "none", **header}, claims))
    return ".".join(encoded) + "."


def public_key_secrets(jwk: dict[str, str]) -> list[bytes]:
    """Every form an attacker would try an Ed25519 public key in as an HMAC secret."""
    raw = base64.urlsafe_b64decode(jwk["x"] + "==")
    public = Ed25519PublicKey.from_public_bytes(raw)
    pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    public_only = {k: v for k, v in jwk.items() if k != "d"}
    return [raw, jwk["x"].encode(), pem, json.dumps(public_only).encode()]


def token_response(world: World, client_jwt: str, **form: str) -> tuple[int, dict[str, Any]]:
    """The token endpoint's answer to a client authenticated by ``client_jwt``."""
    response = world.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_jwt,
            **form,
        },
    )
    return response.status_code, response.json()


def assertion_claims(world: World, persona: str = "establishment", **changes: object) -> Claims:
    client_id = world.client_id(persona)
    now = int(time.time())
    claims: Claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": TOKEN_ENDPOINT,
        "iat": now,
        "exp": now + 120,
        "jti": uuid.uuid4().hex,
    }
    return {**claims, **changes}


def sign_as(persona_jwk: dict[str, str], claims: Claims, **header: object) -> str:
    key = jwt.PyJWK(persona_jwk, algorithm="EdDSA")
    return jwt.encode(claims, key.key, algorithm="EdDSA", headers={"kid": key.key_id, **header})


# -- client authentication -----------------------------------------------------------------


def test_a_client_assertion_is_accepted_once(world: World) -> None:
    assertion = client_assertion(world.flow.credentials["agency"])
    assert token_response(world, assertion)[0] == 200
    status, body = token_response(world, assertion)
    assert (status, body["error"]) == (401, "invalid_client")


@pytest.mark.parametrize(
    "audience",
    [
        "http://127.0.0.1:8000/v1",  # the resource, not the authorization server
        "https://other-as.example/oauth/token",  # another authorization server
        "http://127.0.0.1:8000/oauth/introspect",  # another endpoint of this one
        ["https://other-as.example/oauth/token"],
    ],
)
def test_an_assertion_for_another_audience_is_refused(world: World, audience: object) -> None:
    persona = world.flow.credentials["establishment"]
    claims = assertion_claims(world, aud=audience)
    status, body = token_response(world, sign_as(persona["private_jwk"], claims))
    assert (status, body["error"]) == (401, "invalid_client")


def test_assertion_algorithm_and_key_confusion_is_refused(world: World) -> None:
    persona = world.flow.credentials["establishment"]
    jwk = persona["private_jwk"]
    attacker = private_jwk(Ed25519PrivateKey.generate())
    attacks = [
        unsigned_jws(assertion_claims(world), kid=jwk["kid"]),
        *(
            hmac_jws({"alg": "HS256", "kid": jwk["kid"]}, assertion_claims(world), secret)
            for secret in public_key_secrets(jwk)
        ),
        # a key the assertion brings along (RFC 7515 "jwk" / "jku" header), signed with it
        sign_as(
            attacker, assertion_claims(world), jwk={k: v for k, v in attacker.items() if k != "d"}
        ),
        sign_as(attacker, assertion_claims(world), jku="https://attacker.example/jwks"),
        # another client's key, named by its own kid
        sign_as(world.flow.credentials["agency"]["private_jwk"], assertion_claims(world)),
    ]
    for attack in attacks:
        status, body = token_response(world, attack)
        assert (status, body["error"]) == (401, "invalid_client"), attack


def test_no_other_signed_object_passes_for_a_client_assertion(world: World) -> None:
    token = world.headers("establishment")["Authorization"].removeprefix("Bearer ")
    grant = world.grant()
    artefact = world.client.get(f"/v1/consents/{grant}", headers=world.headers("establishment"))
    for signed in (token, artefact.json()["artefact"]):
        status, body = token_response(world, signed)
        assert (status, body["error"]) == (401, "invalid_client")


@pytest.mark.parametrize(
    "grant_type",
    [
        "password",
        "authorization_code",
        "implicit",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ],
)
def test_only_the_client_credentials_grant_exists(world: World, grant_type: str) -> None:
    assertion = client_assertion(world.flow.credentials["establishment"])
    citizen = world.flow.credentials["citizen"]
    status, body = token_response(
        world,
        assertion,
        grant_type=grant_type,
        username=citizen["username"],
        password=citizen["password"],
        code="anything",
        refresh_token="anything",
        assertion=assertion,
    )
    assert status == 400
    assert body["error"] == "unsupported_grant_type"
    assert "access_token" not in body


# -- access tokens at the resource ---------------------------------------------------------

PROTECTED: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/me/consents", None),
    ("GET", "/v1/audit/leaves?start=0&end=1", None),
    ("POST", "/v1/consent-requests", {}),
    ("POST", "/v1/records", {}),
]


def assert_refused_everywhere(world: World, token: str) -> None:
    """``token`` is refused as invalid on a route of every role and on an inquiry channel."""
    headers = {"Authorization": f"Bearer {token}"}
    sharing = world.sharing()
    for method, path, body in [*PROTECTED, sharing]:
        response = world.client.request(method, path, headers=headers, json=body)
        assert response.status_code == 401, (path, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer")


def real_token_claims(world: World, persona: str) -> tuple[Claims, Claims]:
    token = world.headers(persona)["Authorization"].removeprefix("Bearer ")
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def test_access_token_algorithm_confusion_is_refused(world: World) -> None:
    for persona in ("regulator", "agency"):
        header, claims = real_token_claims(world, persona)
        attacks = [unsigned_jws(claims, typ="at+jwt", kid=header["kid"])]
        for jwk in world.client.get("/oauth/jwks").json()["keys"]:
            attacks += [
                hmac_jws({"alg": "HS256", "typ": "at+jwt", "kid": jwk["kid"]}, claims, secret)
                for secret in public_key_secrets(jwk)
            ]
        for attack in attacks:
            assert_refused_everywhere(world, attack)


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "https://other-resource.example/v1"},
        {"aud": ["https://other-resource.example/v1", "http://127.0.0.1:8000/v1"]},
        {"iss": "https://other-as.example"},
        {"exp": int(time.time()) - 60, "iat": int(time.time()) - 400},
        {"role": "regulator", "scope": "audit:read oversight:read"},  # escalation needs a key
    ],
)
def test_a_token_for_another_audience_issuer_or_time_is_refused(
    world: World, changes: Claims
) -> None:
    """Signed with the gateway's own key - only the claims are wrong (the last one is signed
    by an attacker's key under the gateway's kid)."""
    header, claims = real_token_claims(world, "agency")
    key = world.state.keys.signing if "role" not in changes else Ed25519PrivateKey.generate()
    forged = jwt.encode({**claims, **changes}, key, algorithm="EdDSA", headers=header)
    assert_refused_everywhere(world, forged)


def test_other_documents_signed_by_the_gateway_are_no_access_tokens(world: World) -> None:
    grant = world.grant()
    artefact = world.client.get(f"/v1/consents/{grant}", headers=world.headers("establishment"))
    receipt = world.client.get(f"/v1/me/consents/{grant}/receipt", headers=world.headers("citizen"))
    assertion = client_assertion(world.flow.credentials["regulator"])
    for document in (artefact.json()["artefact"], receipt.json()["jws"], assertion):
        assert_refused_everywhere(world, document)


def test_a_token_in_the_query_string_authenticates_nobody(world: World) -> None:
    token = world.headers("regulator")["Authorization"].removeprefix("Bearer ")
    response = world.client.get(f"/v1/audit/leaves?start=0&end=1&access_token={token}")
    assert response.status_code == 401
    form = world.client.post("/v1/records", data={"access_token": token})
    assert form.status_code == 401


# -- token leakage -------------------------------------------------------------------------


def test_no_secret_reaches_a_log_a_span_or_an_error(
    world: World, caplog: pytest.LogCaptureFixture, spans: InMemorySpanExporter
) -> None:
    caplog.set_level(logging.DEBUG)
    citizen = world.flow.credentials["citizen"]
    sent: list[str] = [citizen["password"], citizen["id_number"]]
    answers: list[str] = []

    def send(method: str, path: str, **kwargs: Any) -> None:
        response = world.client.request(method, path, **kwargs)
        if response.status_code >= 400:
            answers.append(response.text)

    assertion = client_assertion(world.flow.credentials["agency"])
    token = token_response(world, assertion)[1]["access_token"]
    sent += [assertion, token]
    send(
        "POST",
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
    )
    send(
        "POST",
        "/oauth/introspect",
        data={
            "token": token,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(world.flow.credentials["agency"]),
        },
    )
    bearer = {"Authorization": f"Bearer {token}"}
    send(
        "POST",
        "/v1/inquiries/sharing",
        json={"subject": subject(citizen["id_number"]), "categories": ["basic"], "duty": "监管"},
        headers=bearer,
    )
    malformed = citizen["id_number"][:-1] + ("0" if citizen["id_number"][-1] != "0" else "1")
    sent.append(malformed)
    send(
        "POST",
        "/v1/inquiries/sharing",
        json={"subject": subject(malformed), "categories": ["basic"], "duty": "监管"},
        headers=bearer,
    )
    send("GET", f"/v1/public/credit-subjects/{citizen['id_number']}")
    send("GET", f"/v1/public/credit-subjects/{malformed}")
    send(
        "POST",
        "/v1/consent-requests",
        json={"subject": subject(citizen["id_number"]), "purpose": "nonsense"},
        headers=world.headers("establishment"),
    )
    send(
        "POST",
        "/v1/me/token",
        data={"username": citizen["username"], "password": citizen["password"] + "x"},
    )
    send("GET", "/v1/me/credit-report", headers={"Authorization": f"Bearer {token}x"})
    send("GET", "/v1/me/credit-report", headers=world.headers("citizen"))

    traced = "\n".join(span.to_json() for span in spans.get_finished_spans())
    logged = "\n".join(
        record.getMessage() + repr(record.args)
        for record in caplog.records
        if not record.name.startswith(CLIENT_LOGGERS)  # the test's own HTTP client
    )
    for where, text in (("logs", logged), ("spans", traced), ("error answers", "\n".join(answers))):
        leaked = [n for n, secret in enumerate(sent) if secret in text]
        assert not leaked, f"secrets {leaked} found in the {where}"
        assert not secrets_in(text, world.flow.credentials), where
    assert traced, "the requests were traced"
