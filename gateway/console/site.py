"""The regulator console as a site of the gateway (:mod:`gateway.portal.site`): its session
cookie under ``/oversight``, its templates before the portal's (whose base layout it shares),
its stylesheet after the portal's, and its sections."""

from __future__ import annotations

from pathlib import Path

from gateway.portal.sessions import OVERSIGHT_COOKIE
from gateway.portal.site import PORTAL_TEMPLATES, Site

HERE = Path(__file__).resolve().parent
CONSOLE_TEMPLATES = HERE / "templates"
CONSOLE_STATIC = HERE / "static"
HOME = "/oversight"
ALERTS = "/oversight/alerts"
ENTRIES = "/oversight/entries"
LOG = "/oversight/log"
PARTIES = "/oversight/parties"
LEGAL_BASES = "/oversight/legal-bases"
PURPOSES = "/oversight/purposes"
NAV_ITEMS = (
    ("dashboard", HOME),
    ("alerts", ALERTS),
    ("entries", ENTRIES),
    ("log_state", LOG),
    ("parties", PARTIES),
    ("legal_bases", LEGAL_BASES),
    ("purposes", PURPOSES),
)
"""The console's sections (message key under ``nav.``, path); the registry's pages (parties,
legal bases, purposes) add theirs."""

CONSOLE = Site(
    cookie=OVERSIGHT_COOKIE,
    home=HOME,
    texts="console",
    nav_items=NAV_ITEMS,
    templates=(CONSOLE_TEMPLATES, PORTAL_TEMPLATES),
    stylesheets=("/portal/static/portal.css", "/oversight/static/console.css"),
    tells_remedy=False,
)
