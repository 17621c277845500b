"""Token endpoint (RFC 6749 4.4, RFC 9396), introspection (RFC 7662), revocation (RFC 7009)
and metadata (RFC 8414)."""

from __future__ import annotations

import json
from datetime import timedelta

import jwt
import pytest

from consent.clients import SCOPES_BY_ROLE, RegisteredClient, Role, grant_scope
from consent.errors import (
    InvalidAuthorizationDetailsError,
    InvalidRequestError,
    InvalidScopeError,
    UnsupportedGrantTypeError,
)
from consent.keys import KeyRing
from consent.lifecycle import revoke
from consent.rfc6749 import TokenRequest, token_response
from consent.rfc7009 import revoke_token
from consent.rfc7662 import introspect
from consent.rfc8414 import metadata
from consent.rfc9068 import verify_access_token
from tests.consent.factories import (
    CITIZEN,
    CONTEXT,
    ENDPOINTS,
    NOW,
    REQUESTER,
    MemoryGrants,
    MemoryRevoked,
    active_grant,
    pending_grant,
)

RING = KeyRing.generate()
BANK = RegisteredClient(REQUESTER, Role.ESTABLISHMENT, ())
OTHER_BANK = RegisteredClient("est-bank-002", Role.ESTABLISHMENT, ())
AGENCY = RegisteredClient("agency-tax", Role.AGENCY, ())


def grants_with(*grants: object) -> MemoryGrants:
    store = MemoryGrants()
    for grant in grants:
        store.put(grant)  # type: ignore[arg-type]
    return store


def token_for(
    client: RegisteredClient, request: TokenRequest, grants: MemoryGrants | None = None
) -> dict[str, object]:
    return token_response(request, client, RING, CONTEXT, grants=grants or MemoryGrants(), now=NOW)


def test_client_credentials_token_with_scope_intersection() -> None:
    response = token_for(BANK, TokenRequest("client_credentials", "inquiry:authorized audit:read"))
    assert response["token_type"] == "Bearer"
    assert response["expires_in"] == 300
    assert response["scope"] == "inquiry:authorized"
    token = response["access_token"]
    assert isinstance(token, str)
    access = verify_access_token(
        token, RING.public_keys(), CONTEXT, now=NOW, revoked=MemoryRevoked()
    )
    assert (access.client_id, access.subject, access.role) == (
        REQUESTER,
        REQUESTER,
        Role.ESTABLISHMENT,
    )


def test_omitted_scope_means_the_roles_scopes() -> None:
    assert grant_scope(Role.AGENCY, None) == SCOPES_BY_ROLE[Role.AGENCY]


@pytest.mark.parametrize(
    ("request_", "error", "code"),
    [
        (TokenRequest(None), InvalidRequestError, "invalid_request"),
        (TokenRequest("password"), UnsupportedGrantTypeError, "unsupported_grant_type"),
        (TokenRequest("client_credentials", "audit:read"), InvalidScopeError, "invalid_scope"),
        (TokenRequest("client_credentials", ""), InvalidScopeError, "invalid_scope"),
    ],
)
def test_oauth_errors_carry_their_code(
    request_: TokenRequest, error: type[Exception], code: str
) -> None:
    with pytest.raises(error) as refused:
        token_for(BANK, request_)
    assert refused.value.to_problem()["error"] == code  # type: ignore[attr-defined]


def test_authorization_details_bind_the_token_to_an_active_grant_of_the_client() -> None:
    details = json.dumps([{"type": "credit_inquiry", "grant_id": "cg_test"}])
    response = token_for(
        BANK, TokenRequest("client_credentials", None, details), grants_with(active_grant())
    )
    assert response["authorization_details"] == [{"type": "credit_inquiry", "grant_id": "cg_test"}]
    claims = jwt.decode(str(response["access_token"]), options={"verify_signature": False})
    assert claims["authorization_details"] == response["authorization_details"]


@pytest.mark.parametrize(
    ("client", "details", "grant"),
    [
        (BANK, "not json", active_grant()),
        (BANK, "[]", active_grant()),
        (BANK, '[{"type": "payment", "grant_id": "cg_test"}]', active_grant()),
        (
            BANK,
            '[{"type": "credit_inquiry", "grant_id": "cg_test", "actions": ["x"]}]',
            active_grant(),
        ),
        (BANK, '[{"type": "credit_inquiry"}]', active_grant()),
        (BANK, '{"type": "credit_inquiry", "grant_id": "cg_test"}', active_grant()),
        (BANK, '[{"type": "credit_inquiry", "grant_id": "cg_none"}]', active_grant()),
        (BANK, '[{"type": "credit_inquiry", "grant_id": "cg_test"}]', pending_grant()),
        (
            BANK,
            '[{"type": "credit_inquiry", "grant_id": "cg_test"}]',
            revoke(active_grant(), actor=CITIZEN, now=NOW).grant,
        ),
        (OTHER_BANK, '[{"type": "credit_inquiry", "grant_id": "cg_test"}]', active_grant()),
        (AGENCY, '[{"type": "credit_inquiry", "grant_id": "cg_test"}]', active_grant()),
    ],
)
def test_bad_authorization_details_are_refused(
    client: RegisteredClient, details: str, grant: object
) -> None:
    request = TokenRequest("client_credentials", None, details)
    with pytest.raises(InvalidAuthorizationDetailsError) as refused:
        token_for(client, request, grants_with(grant))
    assert refused.value.to_problem()["error"] == "invalid_authorization_details"


def issued(client: RegisteredClient = BANK) -> str:
    return str(token_for(client, TokenRequest("client_credentials"))["access_token"])


def introspection(
    token: str, caller: RegisteredClient, revoked: MemoryRevoked, after: int = 0
) -> dict[str, object]:
    now = NOW + timedelta(seconds=after)
    return introspect(token, caller, RING.public_keys(), CONTEXT, now=now, revoked=revoked)


def test_introspection_of_an_own_live_token() -> None:
    response = introspection(issued(), BANK, MemoryRevoked())
    assert response["active"] is True
    assert response["client_id"] == REQUESTER
    assert response["token_type"] == "Bearer"
    assert response["scope"] == "consent:request inquiry:authorized"


@pytest.mark.parametrize("case", ["garbage", "expired", "revoked", "other client"])
def test_introspection_says_only_inactive(case: str) -> None:
    token, revoked, caller, after = issued(), MemoryRevoked(), BANK, 0
    if case == "garbage":
        token = "a.b.c"
    if case == "expired":
        after = 300
    if case == "revoked":
        revoke_token(token, BANK, RING.public_keys(), CONTEXT, now=NOW, revoked=revoked)
    if case == "other client":
        caller = OTHER_BANK
    assert introspection(token, caller, revoked, after) == {"active": False}


def test_revocation_takes_effect_and_tolerates_invalid_tokens() -> None:
    token, revoked = issued(), MemoryRevoked()
    revoke_token("not-a-token", BANK, RING.public_keys(), CONTEXT, now=NOW, revoked=revoked)
    assert not revoked.revoked
    revoke_token(token, BANK, RING.public_keys(), CONTEXT, now=NOW, revoked=revoked)
    assert len(revoked.revoked) == 1
    revoke_token(token, BANK, RING.public_keys(), CONTEXT, now=NOW, revoked=revoked)
    assert len(revoked.revoked) == 1


def test_another_clients_token_is_answered_as_an_invalid_one_and_left_alone() -> None:
    """No answer tells a client that a token of another is live (RFC 7009 section 2.2)."""
    revoked = MemoryRevoked()
    revoke_token(issued(), OTHER_BANK, RING.public_keys(), CONTEXT, now=NOW, revoked=revoked)
    assert not revoked.revoked


def test_metadata_document() -> None:
    document = metadata(ENDPOINTS)
    assert document["issuer"] == "https://gateway.example"
    assert document["token_endpoint"] == "https://gateway.example/oauth/token"
    assert document["jwks_uri"] == "https://gateway.example/oauth/jwks"
    assert document["grant_types_supported"] == ["client_credentials"]
    assert document["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    algorithms = document["token_endpoint_auth_signing_alg_values_supported"]
    assert isinstance(algorithms, list)
    assert "none" not in algorithms
    assert not [alg for alg in algorithms if alg.startswith("HS")]
    assert "inquiry:authorized" in document["scopes_supported"]  # type: ignore[operator]
    assert document["authorization_details_types_supported"] == ["credit_inquiry"]
