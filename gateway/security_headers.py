"""Response hardening headers on every answer (OWASP secure headers); HSTS (RFC 6797) when the
gateway's public URL is HTTPS - over plain HTTP the header means nothing and is not sent."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = "default-src 'none'; frame-ancestors 'none'"
PAGE_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
# The citizen portal's pages: its own stylesheet, icon and passkey script (WebAuthn), nothing
# inline - no inline script, handler or style.
PORTAL_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


def hardening_headers(content_type: str, *, https: bool) -> dict[str, str]:
    """Every header an answer of ``content_type`` carries; also for the answers that leave
    outside this middleware (an unexpected error's 500 is sent by the outermost layer)."""
    csp = PAGE_CSP if content_type.startswith("text/html") else API_CSP
    headers = {**_COMMON, "Content-Security-Policy": csp}
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


class SecurityHeadersMiddleware:
    """Adds the hardening headers an answer does not set itself. Their raw form is made once
    per kind of answer (HTML or not): building them per answer, through the framework's
    header map, was a few per cent of an inquiry under load."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self._raw = {
            html: [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in hardening_headers(
                    "text/html" if html else "", https=https
                ).items()
            ]
            for html in (True, False)
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._with_hardening(message.get("headers", ()))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _with_hardening(self, headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        given = list(headers)
        names = {name.lower() for name, _ in given}
        content_type = next(
            (value for name, value in given if name.lower() == b"content-type"), b""
        )
        extra = self._raw[content_type.startswith(b"text/html")]
        return given + [header for header in extra if header[0] not in names]
