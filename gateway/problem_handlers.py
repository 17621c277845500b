"""RFC 9457 problem details for every error that leaves the gateway.

``add_exception_handlers`` renders the gateway's own errors (rate-limit refusals among them)
and the framework's (404, 405, 422) as ``application/problem+json``. Nothing else leaves: an
unexpected exception becomes a bare 500 with no trace or internal detail. A refusal of a credit
subject's own request (a citizen's token) tells the remedy of Art. 71 (``remedy``).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from consent.clients import Role
from consent.rfc9068 import AccessToken
from gateway.security_headers import hardening_headers
from gateway.validation import body_errors
from problems import PROBLEM_BASE_URI, REMEDY, GatewayError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("gateway.errors")


class Problem(BaseModel):
    """RFC 9457 problem details, as every error response of the gateway carries them."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    article: str | None = None
    remedy: dict[str, object] | None = None


def problem_response(
    body: dict[str, object],
    headers: dict[str, str] | None = None,
    request: Request | None = None,
) -> JSONResponse:
    """The problem answer; to a credit subject's own request, with the remedy (Art. 71)."""
    if request is not None and _subject_request(request):
        body = {**body, "remedy": REMEDY}
    status = body["status"]
    assert isinstance(status, int)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _framework_problem(status: int, title: str, detail: str) -> dict[str, object]:
    slug = title.lower().replace(" ", "-")
    return {"type": PROBLEM_BASE_URI + slug, "title": title, "status": status, "detail": detail}


def _subject_request(request: Request) -> bool:
    token = getattr(request.state, "access_token", None)
    return isinstance(token, AccessToken) and token.role is Role.CITIZEN


async def _gateway_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GatewayError)
    return problem_response(exc.to_problem(), exc.headers or None, request)


_HTTP_DETAILS = {
    404: ("Not found", "no resource at this path"),
    405: ("Method not allowed", "this path does not accept that method"),
    413: (
        "Request body too large",
        "the body is longer than the gateway accepts (GATEWAY_MAX_BODY_BYTES)",
    ),
}


def http_problem(status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    """The problem answer of an HTTP-level refusal (404, 405, 413 ...)."""
    title, detail = _HTTP_DETAILS.get(status, ("HTTP error", "request refused"))
    return problem_response(_framework_problem(status, title, detail), headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:  # the framework could not parse the body (e.g. not UTF-8)
        return _invalid([{"location": "body", "message": "the body could not be parsed"}], request)
    return http_problem(exc.status_code, dict(exc.headers) if exc.headers else None)


def validation_errors(request: Request, exc: RequestValidationError) -> list[dict[str, str]]:
    """Where and what each problem is - never the submitted value, which may be personal."""
    return [
        {"location": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
        for error in body_errors(request, exc.errors())
    ]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _invalid(validation_errors(request, exc), request)


def _invalid(errors: list[dict[str, str]], request: Request | None = None) -> JSONResponse:
    """A malformed request: 422 with where each problem is (README, "Errors")."""
    body = _framework_problem(422, "Invalid request", "the request does not match the schema")
    body["errors"] = errors
    return problem_response(body, request=request)


def add_exception_handlers(app: FastAPI, *, https: bool) -> None:
    """Problem answers for every error of ``app``; ``https``: whether it is served over HTTPS
    (the unexpected error's answer carries the hardening headers itself, HSTS included)."""

    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error: %s", type(exc).__name__)
        # Sent by the outermost layer, outside SecurityHeadersMiddleware: the headers come here.
        return problem_response(
            _framework_problem(500, "Internal error", "the gateway could not complete the request"),
            hardening_headers(PROBLEM_JSON, https=https),
        )

    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, unexpected)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses`` entries documenting the problem answers a route can give."""
    return {
        status: {
            "model": Problem,
            "content": {PROBLEM_JSON: {}},
            "description": _DESCRIPTIONS[status],
        }
        for status in statuses
    }


_DESCRIPTIONS = {
    400: "Malformed request",
    401: "Missing or invalid credentials",
    403: "Refused by policy; the problem names the article applied",
    404: "No such resource",
    409: "Conflict with the current state",
    413: "Request body too large (GATEWAY_MAX_BODY_BYTES)",
    422: "Invalid input; the problem names the rule applied",
    429: "Rate limited; see Retry-After",
    503: "A dependency is unavailable; nothing was served",
}
