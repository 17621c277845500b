"""Fuzzing the served OpenAPI document with schemathesis, with real credentials for every role.

Every operation of ``/openapi.json`` is called as each demo persona (and anonymously) with
data generated from its schema - valid data against real grant and record ids, and invalid
data against generated ones - and every answer must hold: no 5xx, a documented status code,
the documented content type and headers, and a body that matches the documented schema. The
budget is small for CI (:data:`EXAMPLES` per operation, role and mode: about 450 requests per
backend); ``GATEWAY_TEST_FUZZ_EXAMPLES`` raises it for a deeper run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.gateway.inquiries.factories import World

EXAMPLES = int(os.environ.get("GATEWAY_TEST_FUZZ_EXAMPLES", "1"))
ROLES = ("establishment", "agency", "provider", "regulator", "citizen", "operator", None)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class Fuzzer:
    """Calls cases and keeps every failure, with the operation and role it happened to."""

    headers: dict[str, str]
    label: str
    failures: list[str] = field(default_factory=list)
    sent: int = 0

    def check(self, case: Case[Any]) -> None:
        self.sent += 1
        try:
            case.call_and_validate(headers=self.headers, checks=CHECKS)
        except BaseException as failure:  # schemathesis raises a FailureGroup
            self.failures.append(f"{self.label}: {failure}")

    def fuzz(
        self, operation: APIOperation[Any, Any, Any, Any], mode: GenerationMode, ids: dict[str, str]
    ) -> None:
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=ids or None)

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES,
            phases=[Phase.generate],
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def generated(case: Case[Any]) -> None:
            self.check(case)

        try:
            generated()
        except Unsatisfiable:  # nothing to generate: no parameter, no body
            if mode is GenerationMode.POSITIVE:
                self.check(operation.Case())


def test_every_operation_answers_within_the_spec_for_every_role(world: World) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.client.app)
    real_ids = {"grant_id": world.grant(), "record_id": world.records["judgment"]}
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    failures: list[str] = []
    sent = 0
    for operation in operations:
        for role in ROLES:
            fuzzer = Fuzzer(world.headers(role), f"{operation.label} as {role or 'anonymous'}")
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                positive = mode is GenerationMode.POSITIVE
                ids = {
                    k: v for k, v in real_ids.items() if positive and f"{{{k}}}" in operation.path
                }
                fuzzer.fuzz(operation, mode, ids)
            failures += fuzzer.failures
            sent += fuzzer.sent
    assert not failures, "\n\n".join(failures)
    assert sent >= 2 * len(operations) * len(ROLES) - 20 * len(ROLES)


def test_a_body_that_cannot_be_parsed_is_a_documented_422(world: World) -> None:
    """Found by fuzzing: bytes that are not UTF-8 made the framework answer an undocumented
    400; every malformed body is the 422 problem, with its location and never its value."""
    response = world.client.post(
        "/v1/consent-requests",
        content=b'{"subject": \x80}',
        headers={**world.headers("establishment"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {"location": "body", "message": "the body could not be parsed"}
    ]
