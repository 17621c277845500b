"""The published OpenAPI document is what the app serves, and documents every error."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_committed_document_equals_the_served_one(client: TestClient) -> None:
    served = client.get("/openapi.json").json()
    assert json.loads(COMMITTED.read_text()) == served, (
        "openapi/openapi.json is stale: run `gateway openapi` and commit the result"
    )


def test_every_error_response_is_a_problem_document(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
            assert errors, f"{method.upper()} {path} documents no problem responses"
            for code, response in errors.items():
                assert "application/problem+json" in response["content"], (method, path, code)


def test_docs_page_is_served_from_packaged_assets(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in page.text
    assert "<script>" not in page.text  # no inline script: the CSP forbids it
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/docs.js").status_code == 200
