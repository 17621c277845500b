"""The published OpenAPI document: FastAPI's, with every error described as RFC 9457.

FastAPI documents request-validation failures as its own ``HTTPValidationError`` JSON; the
gateway answers them as ``application/problem+json``, so the document is rewritten to say so.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gateway.problem_handlers import PROBLEM_JSON, Problem

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
VALIDATION_PROBLEM = {
    "description": "The request does not match the schema; `errors` lists where",
    "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
}


def _problems_only(responses: dict[str, Any]) -> None:
    """Every error response is documented as problem+json, whatever the route's own type."""
    for status, response in responses.items():
        if status == "422":
            responses[status] = VALIDATION_PROBLEM
        elif status >= "400":
            response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}


def problem_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                _problems_only(operation.get("responses", {}))
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        schemas["Problem"] = Problem.model_json_schema()
        app.openapi_schema = document
    return app.openapi_schema


def link(
    method: str,
    path: str,
    description: str,
    *,
    parameters: dict[str, str] | None = None,
    body: dict[str, object] | None = None,
) -> dict[str, object]:
    """An OpenAPI link to the operation ``method path``: what to call next with what an answer
    returned (runtime expressions such as ``$response.body#/grant_id``)."""
    pointer = path.replace("~", "~0").replace("/", "~1")
    entry: dict[str, object] = {
        "operationRef": f"#/paths/{pointer}/{method.lower()}",
        "description": description,
    }
    if parameters:
        entry["parameters"] = parameters
    if body:
        entry["requestBody"] = body
    return entry
