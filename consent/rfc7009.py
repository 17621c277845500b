"""Token revocation (RFC 7009 section 2): a client revokes one of its own access tokens.

An invalid, expired or already revoked token is answered with success, as section 2.2
requires - and so is a valid token issued to another client, which stays valid: section 2.1
would refuse it with ``unauthorized_client``, but that answer would tell the caller the token is
live, so every token that is not the caller's gets the one answer (as introspection's
``{"active": false}``, RFC 7662 section 4). ``token_type_hint`` needs no handling: access tokens
are the only tokens.
The revocation is recorded until the token would have expired; verification consults it,
so the token is refused from the next request on.
"""

from __future__ import annotations

from datetime import datetime

from consent.clients import RegisteredClient
from consent.errors import InvalidTokenError
from consent.keys import PublicKeys
from consent.rfc9068 import TokenContext, verify_access_token
from consent.stores import RevokedTokens


def revoke_token(
    token: str,
    caller: RegisteredClient,
    keys: PublicKeys,
    context: TokenContext,
    *,
    now: datetime,
    revoked: RevokedTokens,
) -> None:
    """Revoke ``token`` if it is a live token of ``caller``; anything else is left alone."""
    try:
        access = verify_access_token(token, keys, context, now=now, revoked=revoked)
    except InvalidTokenError:
        return
    if access.client_id != caller.client_id:
        return
    revoked.revoke(access.jti, access.expires_at)
