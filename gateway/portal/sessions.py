"""Portal sessions in a signed cookie (OWASP Session Management Cheat Sheet).

The cookie is a JWS signed with the gateway's token key ring under the type
``portal-session+jwt``, so a session is never accepted as an access token nor the reverse
(RFC 8725 section 3.11). Its claims: ``sid`` (the session id), ``csrf`` (the synchronizer
token every form of the session posts back), ``sub`` (the citizen's account id, absent
before sign-in), ``acting_for`` (the entity the person chose to act for, absent while they
act for themselves), ``iat`` (start) and ``exp`` (the idle deadline).

* Every request moves ``exp`` to now plus the idle timeout, never beyond ``iat`` plus
  :data:`MAX_LIFETIME`; an expired session is gone, and the citizen signs in again.
* Signing in starts a new session (new ``sid`` and ``csrf``: no session fixation).
* Signing out records ``sid`` in the revoked-token store (RFC 7009), so a copied cookie dies
  with the session.
* The cookie is ``HttpOnly``, ``SameSite=Strict``, limited to ``/portal`` and ``Secure``
  when the gateway's public URL is https. It holds no personal data.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from starlette.responses import Response

from consent.errors import InvalidTokenError
from consent.jws import from_timestamp, sign, timestamp, verify
from consent.keys import KeyRing, PublicKeys

SESSION_TYP = "portal-session+jwt"
SESSION_COOKIE = "portal_session"
COOKIE_PATH = "/portal"
MAX_LIFETIME = timedelta(hours=8)


@dataclass(frozen=True)
class PortalSession:
    """One visitor's session; ``citizen_id`` is set once they signed in."""

    sid: str
    csrf: str
    started_at: datetime
    idle_until: datetime
    citizen_id: str | None = None
    acting_for: str | None = None

    @classmethod
    def start(cls, now: datetime, idle: timedelta, citizen_id: str | None = None) -> PortalSession:
        return cls(
            sid=f"ps_{secrets.token_urlsafe(16)}",
            csrf=secrets.token_urlsafe(32),
            started_at=now,
            idle_until=min(now + idle, now + MAX_LIFETIME),
            citizen_id=citizen_id,
        )

    @property
    def ends_at(self) -> datetime:
        """The latest moment the session can last, however active."""
        return self.started_at + MAX_LIFETIME

    def expired(self, now: datetime) -> bool:
        return now >= self.idle_until

    def touched(self, now: datetime, idle: timedelta) -> PortalSession:
        """The session after activity at ``now``: the idle deadline moves on."""
        return replace(self, idle_until=min(now + idle, self.ends_at))

    def claims(self) -> dict[str, object]:
        claims: dict[str, object] = {
            "sid": self.sid,
            "csrf": self.csrf,
            "iat": timestamp(self.started_at),
            "exp": timestamp(self.idle_until),
        }
        if self.citizen_id is not None:
            claims["sub"] = self.citizen_id
        if self.acting_for is not None:
            claims["acting_for"] = self.acting_for
        return claims


def seal(session: PortalSession, keyring: KeyRing) -> str:
    return sign(keyring, SESSION_TYP, session.claims())


def unseal(token: str, keys: PublicKeys) -> PortalSession:
    """The session a cookie holds, expired or not; ``InvalidTokenError`` for anything that is
    not a session this gateway signed."""
    claims = verify(token, keys, SESSION_TYP, InvalidTokenError)
    return PortalSession(
        sid=claims.text("sid"),
        csrf=claims.text("csrf"),
        started_at=from_timestamp(claims.integer("iat")),
        idle_until=from_timestamp(claims.integer("exp")),
        citizen_id=claims.optional_text("sub"),
        acting_for=claims.optional_text("acting_for"),
    )


def set_session_cookie(
    response: Response, session: PortalSession, keyring: KeyRing, *, secure: bool
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        seal(session, keyring),
        path=COOKIE_PATH,
        secure=secure,
        httponly=True,
        samesite="strict",
    )
