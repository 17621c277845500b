"""Rich Authorization Requests (RFC 9396): an establishment's access token may carry
``authorization_details`` of type ``credit_inquiry`` naming the consent grants it will use,
``[{"type": "credit_inquiry", "grant_id": "cg_..."}]``.

The token request sends them as a JSON string (section 3); each must name an active grant
requested by the same client, and only establishments may send them. Members other than
``type`` and ``grant_id`` are refused (fail closed), as is any other ``type``
(``invalid_authorization_details``, section 5).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from consent.clients import RegisteredClient, Role
from consent.errors import InvalidAuthorizationDetailsError
from consent.grants import GrantState
from consent.jws import Claims
from consent.lifecycle import effective_state
from consent.stores import GrantStore

CREDIT_INQUIRY = "credit_inquiry"
MAX_DETAILS = 16
_MEMBERS = frozenset({"type", "grant_id"})


@dataclass(frozen=True)
class AuthorizationDetail:
    grant_id: str
    type: str = CREDIT_INQUIRY

    def as_json(self) -> dict[str, str]:
        return {"type": self.type, "grant_id": self.grant_id}


def parse_authorization_details(raw: str) -> tuple[AuthorizationDetail, ...]:
    """Parse the ``authorization_details`` request parameter (a JSON array)."""
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise InvalidAuthorizationDetailsError("authorization_details is not JSON") from exc
    except RecursionError:  # nested deeper than the parser goes: no detail is that deep
        raise InvalidAuthorizationDetailsError("authorization_details is not JSON") from None
    details = details_from_claims(
        Claims({"authorization_details": value}, InvalidAuthorizationDetailsError)
    )
    if not details or len(details) > MAX_DETAILS:
        raise InvalidAuthorizationDetailsError(f"between 1 and {MAX_DETAILS} details are required")
    return details


def details_from_claims(claims: Claims) -> tuple[AuthorizationDetail, ...]:
    """The ``authorization_details`` member of a token or request; absent means none."""
    details = []
    for entry in claims.objects("authorization_details"):
        if entry.names() != _MEMBERS or entry.text("type") != CREDIT_INQUIRY:
            raise claims.error('only {"type": "credit_inquiry", "grant_id": ...} is supported')
        details.append(AuthorizationDetail(entry.text("grant_id")))
    return tuple(details)


def bind_to_grants(
    details: tuple[AuthorizationDetail, ...],
    client: RegisteredClient,
    grants: GrantStore,
    now: datetime,
) -> None:
    """Each detail names an active grant the client requested; raise otherwise."""
    if details and client.role is not Role.ESTABLISHMENT:
        raise InvalidAuthorizationDetailsError("only establishments use consent grants")
    for detail in details:
        grant = grants.get(detail.grant_id)
        if (
            grant is None
            or grant.requester != client.client_id
            or effective_state(grant, now) is not GrantState.ACTIVE
        ):
            raise InvalidAuthorizationDetailsError("a named consent is not active for this client")
