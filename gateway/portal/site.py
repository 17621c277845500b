"""The gateway's server-rendered sites: the citizen portal (``/portal``) and the regulator
console (``/oversight``). Both are served by the same machinery - signed session cookies
(:mod:`gateway.portal.sessions`), the synchronizer CSRF token (:mod:`gateway.portal.csrf`),
the strict CSP without script, one base layout in two languages - and differ only in what a
:class:`Site` names: where its session lives, its pages and its navigation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gateway.portal.sessions import PORTAL_COOKIE, SessionCookie

PORTAL_TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class Site:
    """One site: its session cookie, pages and sections.

    ``texts`` prefixes the masthead and footer messages (``{texts}.name``, ``.tagline``,
    ``.own_channel``, ``.regulation``); ``nav_items`` are the sections shown once signed in,
    as (message key under ``nav.``, path); ``templates`` are searched in order, the portal's
    own (with ``base.html``) last."""

    cookie: SessionCookie
    home: str
    texts: str
    nav_items: tuple[tuple[str, str], ...]
    templates: tuple[Path, ...] = (PORTAL_TEMPLATES,)
    stylesheets: tuple[str, ...] = ("/portal/static/portal.css",)
    tells_remedy: bool = True
    """Whether a refusal's page tells the credit subject's remedy (Art. 71): the portal's."""

    @property
    def prefix(self) -> str:
        return self.cookie.path

    @property
    def sign_in(self) -> str:
        return f"{self.prefix}/sign-in"

    @property
    def sign_out(self) -> str:
        return f"{self.prefix}/sign-out"


PORTAL = Site(
    cookie=PORTAL_COOKIE,
    home="/portal/requests",
    texts="site",
    nav_items=(
        ("requests", "/portal/requests"),
        ("consents", "/portal/consents"),
        ("access_log", "/portal/access-log"),
        ("credit_report", "/portal/credit-report"),
        ("reports", "/portal/reports"),
        ("notifications", "/portal/notifications"),
        ("factors", "/portal/factors"),
        ("acting", "/portal/acting"),
    ),
)
