"""Every error leaves as RFC 9457 problem+json, including the framework's own."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import BaseModel

from gateway.problem_handlers import PROBLEM_JSON, add_exception_handlers
from problems import PolicyDenied


def assert_problem(response: Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert isinstance(body, dict)
    assert body["status"] == status
    for member in ("type", "title", "detail"):
        assert isinstance(body[member], str) and body[member]
    return body


def test_unknown_path_is_a_404_problem(client: TestClient) -> None:
    assert_problem(client.get("/no/such/path"), 404)


def test_wrong_method_is_a_405_problem(client: TestClient) -> None:
    response = client.post("/healthz")
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET"


class _Body(BaseModel):
    purpose: str
    max_uses: int


def _probe_app() -> FastAPI:
    app = FastAPI()
    add_exception_handlers(app, https=False)

    @app.post("/echo")
    def echo(body: _Body) -> _Body:
        return body

    @app.get("/denied")
    def denied() -> None:
        raise PolicyDenied("a single lifetime authorization", article="Art. 61(2)")

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internal state /etc/passwd")

    return app


def test_malformed_body_is_a_422_problem_that_names_the_field_not_the_value() -> None:
    client = TestClient(_probe_app())
    submitted = "11010519491231002X"
    response = client.post("/echo", json={"purpose": "loan", "max_uses": submitted})
    body = assert_problem(response, 422)
    assert body["errors"] == [
        {
            "location": "body.max_uses",
            "message": "Input should be a valid integer, unable to parse string as an integer",
        }
    ]
    assert submitted not in response.text


def test_unparseable_json_is_a_422_problem() -> None:
    client = TestClient(_probe_app())
    response = client.post(
        "/echo", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(response, 422)


def test_policy_denial_names_its_article() -> None:
    body = assert_problem(TestClient(_probe_app()).get("/denied"), 403)
    assert body["article"] == "Art. 61(2)"
    assert body["type"] == "https://gateway.example/problems/policy-denied"


def test_unexpected_error_leaks_nothing() -> None:
    client = TestClient(_probe_app(), raise_server_exceptions=False)
    response = client.get("/boom")
    body = assert_problem(response, 500)
    assert "passwd" not in response.text
    assert "Traceback" not in response.text
    assert body["detail"] == "the gateway could not complete the request"
