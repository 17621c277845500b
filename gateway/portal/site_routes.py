"""The routes every site (:mod:`gateway.portal.site`) has: signing out, and the language
switch back to the page it was used on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from gateway.deps import DbEngine
from gateway.oauth.repository import SqlRevokedTokens
from gateway.portal.deps import SignedInForm, served_site, start_session, switch_language
from gateway.portal.i18n import Language
from gateway.portal.pages import redirect
from gateway.validation import Identifier

BackTo = Annotated[
    Identifier, Query(alias="next", max_length=200, pattern=r"^/[a-z]+(/[A-Za-z0-9/_-]*)?$")
]


def sign_out(request: Request, session: SignedInForm, engine: DbEngine) -> Response:
    """End the session: its id is revoked (RFC 7009), so a copied cookie dies with it."""
    SqlRevokedTokens(engine).revoke(session.sid, session.ends_at)
    start_session(request)
    return redirect(f"{served_site(request).sign_in}?notice=signed_out")


def language_switch(request: Request, code: Language, back: BackTo = "") -> Response:
    """Back to ``back`` when it is a page of this site (else its home), in ``code``."""
    site = served_site(request)
    own = back == site.prefix or back.startswith(f"{site.prefix}/")
    return switch_language(request, code, back if own else site.home)


def add_site_routes(router: APIRouter) -> None:
    """Add the common routes to a site's router (prefixed with the site's path)."""
    router.add_api_route("/sign-out", sign_out, methods=["POST"])
    router.add_api_route("/language/{code}", language_switch, methods=["GET"])
