"""Sessions of the gateway's server-rendered sites - the citizen portal and the regulator
console - in a signed cookie (OWASP Session Management Cheat Sheet).

The cookie is a JWS signed with the gateway's token key ring under a type of its site
(``portal-session+jwt``, ``oversight-session+jwt``), so a session is never accepted as an
access token nor the reverse, nor by the other site (RFC 8725 section 3.11). Its claims:
``sid`` (the session id), ``csrf`` (the synchronizer token every form of the session posts
back), ``sub`` (the signed-in account: a citizen's, or a regulator officer's; absent before
sign-in), ``acting_for`` (the entity the person chose to act for, absent while they
act for themselves), ``iat`` (start) and ``exp`` (the idle deadline).

* Every request moves ``exp`` to now plus the idle timeout, never beyond ``iat`` plus
  :data:`MAX_LIFETIME`; an expired session is gone, and the citizen signs in again.
* Signing in starts a new session (new ``sid`` and ``csrf``: no session fixation).
* Signing out records ``sid`` in the revoked-token store (RFC 7009), so a copied cookie dies
  with the session.
* The cookie is ``HttpOnly``, ``SameSite=Strict``, limited to its site's path (``/portal``,
  ``/oversight``) and ``Secure`` when the gateway's public URL is https. It holds no personal
  data.
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
class SessionCookie:
    """Where one site keeps its sessions: the JWS type, the cookie's name and path."""

    typ: str
    name: str
    path: str


PORTAL_COOKIE = SessionCookie(SESSION_TYP, SESSION_COOKIE, COOKIE_PATH)
OVERSIGHT_COOKIE = SessionCookie("oversight-session+jwt", "oversight_session", "/oversight")


@dataclass(frozen=True)
class PortalSession:
    """One visitor's session; ``account_id`` is set once they signed in."""

    sid: str
    csrf: str
    started_at: datetime
    idle_until: datetime
    account_id: str | None = None
    acting_for: str | None = None

    @classmethod
    def start(cls, now: datetime, idle: timedelta, account_id: str | None = None) -> PortalSession:
        return cls(
            sid=f"ps_{secrets.token_urlsafe(16)}",
            csrf=secrets.token_urlsafe(32),
            started_at=now,
            idle_until=min(now + idle, now + MAX_LIFETIME),
            account_id=account_id,
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
        if self.account_id is not None:
            claims["sub"] = self.account_id
        if self.acting_for is not None:
            claims["acting_for"] = self.acting_for
        return claims


def seal(session: PortalSession, keyring: KeyRing, cookie: SessionCookie = PORTAL_COOKIE) -> str:
    return sign(keyring, cookie.typ, session.claims())


def unseal(token: str, keys: PublicKeys, cookie: SessionCookie = PORTAL_COOKIE) -> PortalSession:
    """The session a cookie holds, expired or not; ``InvalidTokenError`` for anything that is
    not a session of ``cookie``'s site this gateway signed."""
    claims = verify(token, keys, cookie.typ, InvalidTokenError)
    return PortalSession(
        sid=claims.text("sid"),
        csrf=claims.text("csrf"),
        started_at=from_timestamp(claims.integer("iat")),
        idle_until=from_timestamp(claims.integer("exp")),
        account_id=claims.optional_text("sub"),
        acting_for=claims.optional_text("acting_for"),
    )


def set_session_cookie(
    response: Response,
    session: PortalSession,
    keyring: KeyRing,
    *,
    secure: bool,
    cookie: SessionCookie = PORTAL_COOKIE,
) -> None:
    response.set_cookie(
        cookie.name,
        seal(session, keyring, cookie),
        path=cookie.path,
        secure=secure,
        httponly=True,
        samesite="strict",
    )
