"""Rendering the pages of a site (:mod:`gateway.portal.site`): Jinja2 templates with
autoescaping on and undefined names refused, in the visitor's language, with the session's
CSRF token for every form."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from gateway.portal.csrf import CSRF_FIELD
from gateway.portal.i18n import Language, Translator, messages
from gateway.portal.sessions import PortalSession
from gateway.portal.site import PORTAL, Site
from problems import GatewayError

HOME = PORTAL.home


@cache
def environment(site: Site) -> Environment:
    return Environment(
        loader=FileSystemLoader(site.templates),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def redirect(url: str) -> RedirectResponse:
    """See other: after a form, the browser GETs ``url`` (a path of the portal)."""
    return RedirectResponse(url, status_code=303)


@dataclass(frozen=True)
class Pages:
    """Renders pages of ``site`` for one request: its language, its session (if it has one
    yet)."""

    request: Request
    site: Site
    language: Language
    session: PortalSession | None

    def render(self, template: str, *, status: int = 200, **context: object) -> HTMLResponse:
        html = (
            environment(self.site)
            .get_template(template)
            .render(
                t=Translator(self.language),
                language=self.language,
                session=self.session,
                site=self.site,
                csrf_field=CSRF_FIELD,
                here=self._here(),
                notice=self._notice(),
                nav_items=self.site.nav_items,
                **{"nav": "", **context},
            )
        )
        return HTMLResponse(html, status_code=status)

    def error(self, error: GatewayError) -> HTMLResponse:
        """The page for a refusal: what happened in plain words, and the article applied."""
        key = f"error.{error.slug}"
        response = self.render(
            "error.html",
            status=error.status,
            message=key if key in messages() else "error.generic",
            article=error.instance_article,
        )
        if "Retry-After" in error.headers:
            response.headers["Retry-After"] = error.headers["Retry-After"]
        return response

    def _here(self) -> str:
        """Where a language switch returns to: this page, or home after a form."""
        return self.request.url.path if self.request.method == "GET" else self.site.home

    def _notice(self) -> str | None:
        """The message key a redirect asked for (``?notice=``), if it is one."""
        notice = self.request.query_params.get("notice", "")
        key = f"notice.{notice}"
        return key if key in messages() else None
