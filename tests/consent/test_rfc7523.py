"""private_key_jwt client authentication (RFC 7523 section 3): accepted and refused assertions."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from authlib.oauth2.rfc7523 import (
    PrivateKeyJWT,
    private_key_jwt_sign,
)
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from joserfc.jwk import OKPKey
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from consent.clients import RegisteredClient, Role
from consent.errors import InvalidClientError, InvalidRequestError, ReplayedAssertionError
from consent.jws import timestamp
from consent.keys import b64url
from consent.rfc7523 import ASSERTION_TYPE, ClientAssertion, authenticate_client
from tests.consent.factories import (
    ENDPOINTS,
    NOW,
    ClientKey,
    MemoryClients,
    MemoryJti,
    forge,
    resign_as,
)

EDDSA_WARNING = "ignore:EdDSA is deprecated"


def authenticate(
    assertion: str, client: RegisteredClient, *, now: datetime = NOW, jti: MemoryJti | None = None
) -> RegisteredClient:
    return authenticate_client(
        ClientAssertion(ASSERTION_TYPE, assertion),
        clients=MemoryClients({client.client_id: client}),
        jti_store=jti or MemoryJti(),
        endpoints=ENDPOINTS,
        now=now,
    )


def test_a_valid_assertion_authenticates_the_client() -> None:
    key = ClientKey()
    assert authenticate(key.assertion(), key.registered) == key.registered


def test_the_issuer_identifier_is_an_accepted_audience() -> None:
    key = ClientKey()
    assert (
        authenticate(key.assertion(aud=[ENDPOINTS.issuer]), key.registered).role
        is Role.ESTABLISHMENT
    )


@pytest.mark.filterwarnings(EDDSA_WARNING)
def test_authlib_client_helper_assertion_is_accepted() -> None:
    key = ClientKey()
    private = OKPKey.import_key(key.private)
    assertion = private_key_jwt_sign(
        private, key.client_id, ENDPOINTS.token_endpoint, alg="EdDSA", expires_in=300
    )
    now = datetime.fromtimestamp(time.time(), UTC)
    assert authenticate(assertion, key.registered, now=now) == key.registered


class _Auth:
    def __init__(self, client_id: str, key: OKPKey) -> None:
        self.client_id = client_id
        self.client_secret = key


@pytest.mark.filterwarnings(EDDSA_WARNING)
def test_authlib_private_key_jwt_default_lifetime_is_too_long() -> None:
    key = ClientKey()
    private = OKPKey.import_key(key.private)
    method = PrivateKeyJWT(ENDPOINTS.token_endpoint, alg="EdDSA")
    assertion = method.sign(_Auth(key.client_id, private), ENDPOINTS.token_endpoint)
    now = datetime.fromtimestamp(time.time(), UTC)
    with pytest.raises(InvalidClientError, match="five minutes"):
        authenticate(assertion, key.registered, now=now)


def test_ecdsa_and_rsa_client_keys_are_accepted() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases: list[tuple[Mapping[str, object], object, str]] = [
        (ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True), ec_key, "ES256"),
        (RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True), rsa_key, "PS256"),
        (RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True), rsa_key, "RS256"),
    ]
    for jwk, private, alg in cases:
        client = RegisteredClient("agency-1", Role.AGENCY, (jwk,))
        claims = ClientKey(client_id="agency-1").assertion_claims()
        assertion = jwt.encode(claims, private, algorithm=alg)  # type: ignore[arg-type]
        assert authenticate(assertion, client) == client


def test_replayed_assertion_is_refused() -> None:
    key, jti = ClientKey(), MemoryJti()
    assertion = key.assertion()
    authenticate(assertion, key.registered, jti=jti)
    with pytest.raises(ReplayedAssertionError) as refused:
        authenticate(assertion, key.registered, jti=jti)
    assert refused.value.to_problem()["error"] == "invalid_client"


REFUSED_CLAIMS: list[tuple[str, dict[str, object]]] = [
    ("expired", {"exp": timestamp(NOW - timedelta(seconds=31))}),
    ("exp more than 5 minutes ahead", {"exp": timestamp(NOW + timedelta(minutes=10))}),
    ("no exp", {"exp": None}),
    ("iat in the future", {"iat": timestamp(NOW + timedelta(minutes=2))}),
    ("nbf in the future", {"nbf": timestamp(NOW + timedelta(minutes=2))}),
    ("no jti", {"jti": None}),
    ("jti too long", {"jti": "j" * 300}),
    ("another audience", {"aud": "https://elsewhere.example/oauth/token"}),
    ("audience injection", {"aud": [ENDPOINTS.token_endpoint, "https://elsewhere.example"]}),
    ("sub is not the client", {"sub": "someone-else"}),
    ("unknown client", {"iss": "est-unknown", "sub": "est-unknown"}),
    ("non-integer exp", {"exp": "soon"}),
]


@pytest.mark.parametrize(
    "changes", [c[1] for c in REFUSED_CLAIMS], ids=[c[0] for c in REFUSED_CLAIMS]
)
def test_bad_assertions_are_refused(changes: dict[str, object]) -> None:
    key = ClientKey()
    with pytest.raises(InvalidClientError) as refused:
        authenticate(key.assertion(**changes), key.registered)
    assert refused.value.to_problem()["error"] == "invalid_client"
    assert refused.value.status == 401


def test_alg_none_is_refused() -> None:
    key = ClientKey()
    with pytest.raises(InvalidClientError) as refused:
        authenticate(resign_as(key.assertion(), "none", None), key.registered)
    assert "algorithm not accepted" in str(refused.value.__cause__)


def test_hs256_with_the_public_key_as_secret_is_refused() -> None:
    key = ClientKey()
    forged = resign_as(key.assertion(), "HS256", key.public_bytes())
    with pytest.raises(InvalidClientError) as refused:
        authenticate(forged, key.registered)
    assert "algorithm not accepted" in str(refused.value.__cause__)


def test_signature_by_another_key_is_refused() -> None:
    key, impostor = ClientKey(), ClientKey()
    with pytest.raises(InvalidClientError):
        authenticate(impostor.assertion(), key.registered)


def test_kid_must_name_a_registered_key() -> None:
    key = ClientKey()
    assertion = jwt.encode(
        key.assertion_claims(), key.private, algorithm="EdDSA", headers={"kid": "other"}
    )
    with pytest.raises(InvalidClientError):
        authenticate(assertion, key.registered)


def test_registered_private_or_foreign_keys_are_unusable() -> None:
    key = ClientKey()
    public = key.registered.jwks[0]
    raw = key.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    cases: list[tuple[Mapping[str, object], str]] = [
        ({"kty": "oct", "k": "c2VjcmV0"}, "not accepted"),
        ({**public, "alg": "HS256"}, "not accepted"),
        ({**public, "x": "short"}, "unusable"),
        ({**public, "d": b64url(raw)}, "not a public key"),
    ]
    for jwk, message in cases:
        client = RegisteredClient(key.client_id, Role.ESTABLISHMENT, (jwk,))
        with pytest.raises(InvalidClientError) as refused:
            authenticate(key.assertion(), client)
        assert message in str(refused.value.__cause__)


def test_client_id_field_must_match_the_assertion() -> None:
    key = ClientKey()
    request = ClientAssertion(ASSERTION_TYPE, key.assertion(), client_id="est-other")
    with pytest.raises(InvalidClientError):
        authenticate_client(
            request,
            clients=MemoryClients({key.client_id: key.registered}),
            jti_store=MemoryJti(),
            endpoints=ENDPOINTS,
            now=NOW,
        )


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (ClientAssertion(None, None), InvalidRequestError),
        (ClientAssertion("urn:other", "x.y.z"), InvalidClientError),
        (ClientAssertion(ASSERTION_TYPE, "not-a-jwt"), InvalidClientError),
        (
            ClientAssertion(ASSERTION_TYPE, forge({"alg": "none"}, {"iss": 5}, None)),
            InvalidClientError,
        ),
    ],
)
def test_malformed_requests(request_: ClientAssertion, error: type[Exception]) -> None:
    with pytest.raises(error):
        authenticate_client(
            request_, clients=MemoryClients(), jti_store=MemoryJti(), endpoints=ENDPOINTS, now=NOW
        )


def test_an_unknown_client_and_a_known_one_with_a_wrong_key_get_one_answer() -> None:
    """Until the signature verifies, nothing tells which client ids exist (issue: oracles)."""
    key, impostor = ClientKey(), ClientKey()
    answers = []
    for assertion in (
        impostor.assertion(iss="est-unknown", sub="est-unknown"),
        impostor.assertion(),
        jwt.encode(key.assertion_claims(), key.private, algorithm="EdDSA", headers={"kid": "x"}),
    ):
        with pytest.raises(InvalidClientError) as refused:
            authenticate(assertion, key.registered)
        answers.append((refused.value.status, refused.value.to_problem()))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][1]["detail"] == "client authentication failed"


@pytest.mark.parametrize("claim", ["iss", "sub", "jti"])
@pytest.mark.parametrize("character", ["\x00", "\x1b", "\u202e", "\u200b"])
def test_claims_with_control_or_format_characters_are_refused(claim: str, character: str) -> None:
    key = ClientKey()
    value = f"{key.client_id}{character}" if claim != "jti" else f"jti{character}"
    with pytest.raises(InvalidClientError):
        authenticate(key.assertion(**{claim: value}), key.registered)


def test_an_assertion_nested_deeper_than_the_parser_goes_is_malformed() -> None:
    key = ClientKey()
    forged = forge({"alg": "EdDSA"}, key.assertion_claims(), None).split(".")
    payload = b64url(("[" * 100_000 + "]" * 100_000).encode())
    with pytest.raises(InvalidClientError, match="malformed token"):
        authenticate(".".join([forged[0], payload, forged[2]]), key.registered)
