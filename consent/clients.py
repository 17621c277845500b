"""Who may call the gateway and with which scopes: the roles of the mission's user table and
the OAuth 2.0 access token scope rules (RFC 6749 section 3.3).

A client gets the intersection of the scopes it asks for with its role's scopes; asking for
none means asking for all of them (the pre-defined default section 3.3 allows). An empty
intersection is refused with ``invalid_scope``, never silently widened.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from consent.errors import InvalidScopeError


class Role(StrEnum):
    """The ``role`` claim of an access token: one per kind of user of the gateway."""

    ESTABLISHMENT = "establishment"
    AGENCY = "agency"
    PROVIDER = "provider"
    REGULATOR = "regulator"
    CITIZEN = "citizen"
    OPERATOR = "operator"


SCOPES_BY_ROLE: Mapping[Role, frozenset[str]] = {
    Role.ESTABLISHMENT: frozenset({"consent:request", "inquiry:authorized"}),
    Role.AGENCY: frozenset({"inquiry:sharing", "inquiry:authority"}),
    Role.PROVIDER: frozenset({"records:write", "objections:answer"}),
    # The regulator keeps the registries (parties, legal bases, purposes): registry:write.
    Role.REGULATOR: frozenset({"audit:read", "oversight:read", "registry:write"}),
    Role.CITIZEN: frozenset(
        {
            "consent:decide",
            "report:read",
            "objections:write",
            "statements:write",
            "restoration:apply",
        }
    ),
    # The operator enrols credit subjects (natural persons, entities and their
    # representatives) and nothing else: no audit, no credit data, no consent.
    Role.OPERATOR: frozenset({"subjects:enrol"}),
}

ALL_SCOPES: frozenset[str] = frozenset().union(*SCOPES_BY_ROLE.values())

PUBLIC_REQUESTER = "public"
"""The requester of lawful public disclosure: anyone (Art. 39 para. 2)."""
CITIZEN_REQUESTER = Role.CITIZEN.value
"""A citizen is registered by role, never by an identifier."""
RESERVED_CLIENT_IDS = frozenset({PUBLIC_REQUESTER, CITIZEN_REQUESTER})
"""Requester labels of the audit log that are no client's: no party may be registered
under one, or its entries would read as a citizen's own or the public's."""


@dataclass(frozen=True)
class RegisteredClient:
    """A client as registered with the gateway: its role and its public JWKs (RFC 7517)."""

    client_id: str
    role: Role
    jwks: tuple[Mapping[str, object], ...]
    dpop_bound_access_tokens: bool = False
    """Whether every token of the client must be bound to a DPoP key (RFC 9449 section 5.2)."""


def grant_scope(role: Role, requested: str | None) -> frozenset[str]:
    """The scopes ``role`` receives for the space-separated ``requested`` scope string."""
    allowed = SCOPES_BY_ROLE.get(role, frozenset())
    granted = allowed if requested is None else allowed & frozenset(requested.split())
    if not granted:
        raise InvalidScopeError("none of the requested scopes is available to this client")
    return granted
