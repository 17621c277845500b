"""OAuth 2.0 Authorization Server Metadata (RFC 8414 section 2, served per section 3 at
``/.well-known/oauth-authorization-server``).

The gateway is its own authorization server: the issuer identifier is the gateway's base URL
and the endpoints sit under ``/oauth/``. Only the client credentials grant exists (there is no
authorization endpoint, so ``response_types_supported`` is empty); clients authenticate with
``private_key_jwt`` (RFC 7523) everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from consent.clients import ALL_SCOPES
from consent.jws import CLIENT_ASSERTION_ALGORITHMS, DPOP_ALGORITHMS
from consent.rfc9396 import CREDIT_INQUIRY

GRANT_TYPE = "client_credentials"
AUTH_METHOD = "private_key_jwt"


@dataclass(frozen=True)
class ServerEndpoints:
    """The issuer identifier and the endpoint URLs derived from it."""

    issuer: str
    token_endpoint: str
    introspection_endpoint: str
    revocation_endpoint: str
    jwks_uri: str

    @classmethod
    def under(cls, issuer: str) -> ServerEndpoints:
        """Endpoints below ``issuer`` (an https URL without query or fragment)."""
        base = issuer.rstrip("/")
        return cls(
            issuer=base,
            token_endpoint=f"{base}/oauth/token",
            introspection_endpoint=f"{base}/oauth/introspect",
            revocation_endpoint=f"{base}/oauth/revoke",
            jwks_uri=f"{base}/oauth/jwks",
        )


def metadata(endpoints: ServerEndpoints) -> dict[str, object]:
    """The RFC 8414 metadata document."""
    algorithms = list(CLIENT_ASSERTION_ALGORITHMS)
    return {
        "issuer": endpoints.issuer,
        "token_endpoint": endpoints.token_endpoint,
        "jwks_uri": endpoints.jwks_uri,
        "introspection_endpoint": endpoints.introspection_endpoint,
        "revocation_endpoint": endpoints.revocation_endpoint,
        "scopes_supported": sorted(ALL_SCOPES),
        "response_types_supported": [],
        "grant_types_supported": [GRANT_TYPE],
        "token_endpoint_auth_methods_supported": [AUTH_METHOD],
        "token_endpoint_auth_signing_alg_values_supported": algorithms,
        "introspection_endpoint_auth_methods_supported": [AUTH_METHOD],
        "introspection_endpoint_auth_signing_alg_values_supported": algorithms,
        "revocation_endpoint_auth_methods_supported": [AUTH_METHOD],
        "revocation_endpoint_auth_signing_alg_values_supported": algorithms,
        "authorization_details_types_supported": [CREDIT_INQUIRY],
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),
    }
