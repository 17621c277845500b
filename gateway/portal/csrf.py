"""Cross-site request forgery defence: the synchronizer token pattern (OWASP CSRF Prevention
Cheat Sheet). Each session carries a random token (:mod:`gateway.portal.sessions`); every
form of the portal posts it back in :data:`CSRF_FIELD` and a request whose token is missing or
differs changes nothing. ``SameSite=Strict`` on the session cookie is the second line.
"""

from __future__ import annotations

import hmac

from gateway.portal.sessions import PortalSession
from problems import Forbidden

CSRF_FIELD = "csrf_token"


class CsrfRejected(Forbidden):
    title = "Form rejected"
    slug = "csrf-rejected"


def check_csrf(session: PortalSession, submitted: str) -> None:
    """Raise unless ``submitted`` is the session's token (compared in constant time)."""
    if not submitted or not hmac.compare_digest(
        session.csrf.encode("utf-8"), submitted.encode("utf-8")
    ):
        raise CsrfRejected("the form's token is missing or belongs to another session")
