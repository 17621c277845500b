"""Citizens in the gateway's own authenticated channel (Art. 39: real-name verified inquiry;
Art. 61(2): only the credit subject decides on a consent, and only here).

:func:`sign_in` checks the password with :class:`consent.passwords.CitizenPasswords`, which
answers the same, in the same time, for an unknown account and a wrong password; an account
that is not real-name verified, or has no local password (enrolled for the provincial identity
provider only), gets that same answer too. The access token (RFC 9068) has the
citizen role, the citizen's account id as ``sub`` and ``client_id`` (so rate limits count per
citizen) and the citizen role's scopes.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlmodel import Session

from consent.clients import SCOPES_BY_ROLE, Role
from consent.errors import InvalidGrantError
from consent.passwords import CitizenPasswords
from consent.rfc6749 import bearer_response
from consent.rfc9068 import issue_access_token
from gateway.oauth.service import AuthServer
from gateway.parties.models import Citizen
from gateway.parties.repository import citizen_by_username


@cache
def citizen_passwords() -> CitizenPasswords:
    return CitizenPasswords()


def sign_in(
    session: Session, server: AuthServer, username: str, password: str, now: datetime
) -> dict[str, object]:
    """A citizen access token for valid credentials; ``invalid_grant`` otherwise."""
    passwords = citizen_passwords()
    citizen = citizen_by_username(session, username)
    stored_hash = None if citizen is None else citizen.password_hash
    passwords.verify(stored_hash, password)
    assert citizen is not None  # verify raised for an unknown account or one without password
    assert stored_hash is not None
    if not citizen.real_name_verified:
        raise InvalidGrantError("invalid username or password")
    if passwords.needs_rehash(stored_hash):
        citizen.password_hash = passwords.hash(password)
        session.add(citizen)
    return citizen_token(server, citizen, now)


def citizen_token(
    server: AuthServer, citizen: Citizen, now: datetime, acting_for: str | None = None
) -> dict[str, object]:
    """An access token of the citizen role for a signed-in person (acting for an entity when
    ``acting_for`` names one; the caller checked the authority)."""
    token, access = issue_access_token(
        server.keyring,
        server.context,
        client_id=citizen.id,
        subject=citizen.id,
        role=Role.CITIZEN,
        scope=SCOPES_BY_ROLE[Role.CITIZEN],
        now=now,
        acting_for=acting_for,
    )
    return bearer_response(token, access)
