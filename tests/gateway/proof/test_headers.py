"""Header hardening (OWASP Secure Headers): every answer carries the same protective headers -
every API operation, as the role it is for and anonymously, the portal's pages, the API docs,
static files, every kind of error (401, 403, 404, 405, 422, 429, 500) - and the served process
does not name its software."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from bench.harness import Province
from gateway import docs
from gateway.app import create_app
from gateway.console import registry_pages
from gateway.console import routes as console
from gateway.demo import LEGAL_PERSONS
from gateway.portal import routes as portal
from gateway.routes import tlog
from gateway.settings import Settings
from tests.gateway.inquiries.factories import World

HARDENING = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
CODE = LEGAL_PERSONS[0]
PERSONAS = ("establishment", "agency", "provider", "regulator", "citizen", "operator", None)


# C2SP tlog-tiles: the log's checkpoint and tiles are public and meant to be cached (briefly,
# or forever once a tile is full); every other answer, errors of those routes included, no-store.
TILE_CACHES = {tlog.CHECKPOINT_CACHE, tlog.FULL_TILE_CACHE, tlog.PARTIAL_TILE_CACHE}


def missing_headers(response: httpx.Response) -> dict[str, str | None]:
    """The hardening headers an answer lacks or carries with another value."""
    headers = response.headers
    expected = dict(HARDENING)
    cached = headers.get("cache-control")
    if response.url.path.startswith(tlog.PREFIX) and response.status_code == 200:
        expected["cache-control"] = cached if cached in TILE_CACHES else "one of TILE_CACHES"
    wrong = {
        name: headers.get(name) for name, value in expected.items() if headers.get(name) != value
    }
    csp = headers.get("content-security-policy", "")
    if "default-src" not in csp or "frame-ancestors 'none'" not in csp:
        wrong["content-security-policy"] = csp or None
    return wrong


def _requests(app: FastAPI) -> list[tuple[str, str]]:
    """Every operation of the API and every page outside it (the portal, the regulator console,
    the docs), path parameters filled in with their names."""
    api = [
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    ]
    pages = [
        (sorted(route.methods or {"GET"})[0], route.path)
        for router in (portal.router, console.router, registry_pages.router, docs.router)
        for route in router.routes
        if isinstance(route, APIRoute)
    ]
    return [(method, path.replace("{", "").replace("}", "")) for method, path in api + pages]


def test_every_route_answers_every_persona_with_the_hardening_headers(world: World) -> None:
    requests = [
        *_requests(world.client.app),  # type: ignore[arg-type]
        ("GET", "/portal/static/portal.css"),
        ("GET", "/oversight/static/console.css"),
        ("GET", "/no/such/path"),
        ("DELETE", "/v1/catalog"),
    ]
    wrong, statuses = {}, set()
    for persona in PERSONAS:
        headers = world.headers(persona)
        for method, path in requests:
            response = world.client.request(method, path, headers=headers, json={"bad": "body"})
            statuses.add(response.status_code)
            if missing := missing_headers(response):
                wrong[(persona, method, path, response.status_code)] = missing
    assert not wrong
    assert {200, 400, 401, 403, 404, 405, 422} <= statuses


def test_rate_limited_answers_carry_them(migrated: Settings) -> None:
    tight = migrated.model_copy(update={"rate_limit_public": "2/hour"})
    with TestClient(create_app(tight)) as client:
        statuses = [client.get(f"/v1/public/credit-subjects/{CODE}") for _ in range(3)]
    assert statuses[-1].status_code == 429
    assert not missing_headers(statuses[-1])


def test_an_unexpected_error_carries_them(client: TestClient) -> None:
    """Found here: the 500 of an unexpected error is sent by the outermost layer, outside the
    middleware that adds the headers, so it carried none of them."""

    def fail() -> None:
        raise RuntimeError("an unexpected failure")

    client.app.add_api_route("/test-failure", fail)  # type: ignore[attr-defined]
    with TestClient(client.app, raise_server_exceptions=False) as failing:
        response = failing.get("/test-failure")
    assert response.status_code == 500
    assert not missing_headers(response)
    assert "unexpected failure" not in response.text


def test_the_served_gateway_does_not_name_its_software(tmp_path: Path) -> None:
    """Found here: ``gateway serve`` answered ``server: uvicorn``."""
    with Province.create(tmp_path).gateway() as gateway:
        response = httpx.get(f"{gateway.url}/v1/catalog")
    assert response.status_code == 200
    assert "server" not in response.headers
    assert not missing_headers(response)


def test_hsts_only_when_the_public_url_is_https(migrated: Settings) -> None:
    """RFC 6797: a gateway published over HTTPS tells browsers to use nothing else, on every
    answer, the unexpected 500 included; over plain HTTP the header would mean nothing."""

    def fail() -> None:
        raise RuntimeError("an unexpected failure")

    for base_url, expected in (
        ("https://gateway.example", "max-age=31536000; includeSubDomains"),
        ("http://127.0.0.1:8000", None),
    ):
        app = create_app(migrated.model_copy(update={"base_url": base_url}))
        app.add_api_route("/test-failure", fail)
        with TestClient(app, raise_server_exceptions=False) as client:
            for response in (client.get("/healthz"), client.get("/test-failure")):
                assert response.headers.get("strict-transport-security") == expected
