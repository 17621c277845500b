"""Token introspection (RFC 7662 section 2.2): the response for an authenticated client.

Anything that is not a valid, unexpired, unrevoked access token issued to the calling client
is ``{"active": false}`` - never an error and never a hint why (section 2.2 and 4: a client
learns nothing about tokens that are not its own).
"""

from __future__ import annotations

from datetime import datetime

from consent.clients import RegisteredClient
from consent.errors import InvalidTokenError
from consent.keys import PublicKeys
from consent.rfc6749 import token_type
from consent.rfc9068 import TokenContext, verify_access_token
from consent.stores import RevokedTokens

INACTIVE: dict[str, object] = {"active": False}


def introspect(
    token: str,
    caller: RegisteredClient,
    keys: PublicKeys,
    context: TokenContext,
    *,
    now: datetime,
    revoked: RevokedTokens,
) -> dict[str, object]:
    """The introspection response for ``token`` asked by ``caller``."""
    try:
        access = verify_access_token(token, keys, context, now=now, revoked=revoked)
    except InvalidTokenError:
        return dict(INACTIVE)
    if access.client_id != caller.client_id:
        return dict(INACTIVE)
    return {"active": True, "token_type": token_type(access), **access.claims()}
