"""The token endpoint for the client credentials grant (RFC 6749 section 4.4, response per
section 5.1), with RFC 9396 ``authorization_details``.

The client has already been authenticated (:func:`consent.rfc7523.authenticate_client`).
Other grant types are ``unsupported_grant_type``; scopes follow
:func:`consent.clients.grant_scope`. Citizens do not use this endpoint: the gateway's own
login calls :func:`consent.rfc9068.issue_access_token` with ``Role.CITIZEN`` after
:meth:`consent.passwords.CitizenPasswords.verify`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from consent.clients import RegisteredClient, grant_scope
from consent.errors import InvalidRequestError, UnsupportedGrantTypeError
from consent.keys import KeyRing
from consent.rfc8414 import GRANT_TYPE
from consent.rfc9068 import ACCESS_TOKEN_LIFETIME, AccessToken, TokenContext, issue_access_token
from consent.rfc9396 import AuthorizationDetail, bind_to_grants, parse_authorization_details
from consent.rfc9449 import TOKEN_TYPE
from consent.stores import GrantStore


@dataclass(frozen=True)
class TokenRequest:
    """The token request's form fields other than client authentication."""

    grant_type: str | None
    scope: str | None = None
    authorization_details: str | None = None


def token_response(
    request: TokenRequest,
    client: RegisteredClient,
    keyring: KeyRing,
    context: TokenContext,
    *,
    grants: GrantStore,
    now: datetime,
    confirmation: str | None = None,
) -> dict[str, object]:
    """Issue an access token to ``client``, bound to the DPoP key ``confirmation`` when given
    (RFC 9449 section 5); the RFC 6749 section 5.1 response body."""
    if not request.grant_type:
        raise InvalidRequestError("grant_type is required")
    if request.grant_type != GRANT_TYPE:
        raise UnsupportedGrantTypeError("only client_credentials is supported")
    scope = grant_scope(client.role, request.scope)
    details: tuple[AuthorizationDetail, ...] = ()
    if request.authorization_details is not None:
        details = parse_authorization_details(request.authorization_details)
        bind_to_grants(details, client, grants, now)
    token, access = issue_access_token(
        keyring,
        context,
        client_id=client.client_id,
        subject=client.client_id,
        role=client.role,
        scope=scope,
        now=now,
        authorization_details=details,
        confirmation=confirmation,
    )
    response = bearer_response(token, access)
    if details:
        response["authorization_details"] = [detail.as_json() for detail in details]
    return response


def bearer_response(token: str, access: AccessToken) -> dict[str, object]:
    """The section 5.1 body of a successful token response carrying ``token``."""
    return {
        "access_token": token,
        "token_type": token_type(access),
        "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
        "scope": " ".join(sorted(access.scope)),
    }


def token_type(access: AccessToken) -> str:
    """``DPoP`` for a token bound to a DPoP key (RFC 9449 section 5), else ``Bearer``."""
    return "Bearer" if access.confirmation is None else TOKEN_TYPE
