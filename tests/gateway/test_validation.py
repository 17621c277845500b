"""What enters the gateway: no control character anywhere, no format character in an
identifier, strict request bodies, no member named twice, no bound value in a database error's
log - on both stores (PostgreSQL refused a NUL with an unhandled 500, SQLite stored it)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Annotated, Any, get_args, get_origin
from urllib.parse import quote

import pytest
from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError

from gateway.parties.models import LegalBasis
from gateway.settings import Settings
from gateway.storage.db import make_engine
from gateway.validation import Identifier, StrictBody, StrictRoute, Text
from tests.gateway.archive.factories import penalty
from tests.gateway.consents.factories import consent_request
from tests.gateway.factories import access_token, assertion_form, demo_credentials
from tests.gateway.test_problems import assert_problem

CONTROLS = ["\x00", "\x1b", "\x7f", "\x85"]
FORMATS = ["\u202e", "\u200b"]


@pytest.fixture
def personas(migrated: Settings) -> dict[str, Any]:
    return demo_credentials(migrated)


def _bearer(client: TestClient, persona: dict[str, Any]) -> dict[str, str]:
    return {"authorization": f"Bearer {access_token(client, persona)}"}


def _citizen(client: TestClient, personas: dict[str, Any]) -> dict[str, str]:
    citizen = personas["citizen"]
    form = {"username": citizen["username"], "password": citizen["password"]}
    token = client.post("/v1/me/token", data=form).json()["access_token"]
    return {"authorization": f"Bearer {token}"}


def _invalid(response: Any, location: str) -> None:
    errors = assert_problem(response, 422)["errors"]
    assert isinstance(errors, list)
    assert location in {error["location"] for error in errors}, errors


# -- control and format characters -----------------------------------------------------------


@pytest.mark.parametrize("character", CONTROLS)
def test_a_control_character_in_a_username_is_refused(client: TestClient, character: str) -> None:
    response = client.post("/v1/me/token", data={"username": f"zhang{character}", "password": "x"})
    _invalid(response, "body.username")
    assert character not in response.text


@pytest.mark.parametrize("character", CONTROLS[:1] + FORMATS)
def test_a_control_or_format_character_in_a_path_id_is_refused(
    client: TestClient, personas: dict[str, Any], character: str
) -> None:
    bank = _bearer(client, personas["establishment"])
    encoded = quote(character)
    _invalid(client.get(f"/v1/consents/cg_a{encoded}b", headers=bank), "path.grant_id")
    _invalid(client.get(f"/v1/public/credit-subjects/9{encoded}1"), "path.identifier")


@pytest.mark.parametrize("character", CONTROLS[:1] + FORMATS)
def test_a_provider_record_id_with_a_control_or_format_character_is_refused(
    client: TestClient, personas: dict[str, Any], character: str
) -> None:
    court = _bearer(client, personas["provider"])
    record = penalty(provider_record_id=f"court-{character}-1")
    response = client.post("/v1/records", json={"records": [record]}, headers=court)
    _invalid(response, "body.records.0.provider_record_id")


def test_free_text_keeps_its_line_breaks_but_no_other_control(
    client: TestClient, personas: dict[str, Any]
) -> None:
    citizen = _citizen(client, personas)
    holder = personas["provider"]["client_id"]
    body = {"kind": "assessment", "holder": holder, "reason": "评分有误\r\n第二行\t附注"}
    assert client.post("/v1/me/objections", json=body, headers=citizen).status_code == 201
    body["reason"] = "评分\x00有误"
    _invalid(client.post("/v1/me/objections", json=body, headers=citizen), "body.reason")


@pytest.mark.parametrize("character", CONTROLS[:1] + FORMATS)
def test_an_objection_holder_with_a_control_or_format_character_is_refused(
    client: TestClient, personas: dict[str, Any], character: str
) -> None:
    body = {"kind": "assessment", "holder": f"prov{character}ider", "reason": "不准确"}
    response = client.post("/v1/me/objections", json=body, headers=_citizen(client, personas))
    _invalid(response, "body.holder")


def test_an_assertion_issuer_with_a_nul_is_an_invalid_client(
    client: TestClient, personas: dict[str, Any]
) -> None:
    bank = personas["establishment"]
    form = {"grant_type": "client_credentials", **assertion_form(bank, iss="bank\x00")}
    assert assert_problem(client.post("/oauth/token", data=form), 401)["error"] == (
        "invalid_client"
    )


@pytest.mark.parametrize("character", ["\x00", "\u202e"])
def test_an_authorization_details_grant_id_with_a_control_character_is_refused(
    client: TestClient, personas: dict[str, Any], character: str
) -> None:
    details = json.dumps([{"type": "credit_inquiry", "grant_id": f"cg_{character}x"}])
    form = {
        "grant_type": "client_credentials",
        "authorization_details": details,
        **assertion_form(personas["establishment"]),
    }
    body = assert_problem(client.post("/oauth/token", data=form), 400)
    assert body["error"] == "invalid_authorization_details"


def test_authorization_details_nested_deeper_than_the_parser_goes_are_refused(
    client: TestClient, personas: dict[str, Any]
) -> None:
    form = {
        "grant_type": "client_credentials",
        "authorization_details": "[" * 1500 + "]" * 1500,
        **assertion_form(personas["establishment"]),
    }
    body = assert_problem(client.post("/oauth/token", data=form), 400)
    assert body["error"] == "invalid_authorization_details"


def test_the_portal_refuses_a_control_character_in_a_username(client: TestClient) -> None:
    page = client.get("/portal/sign-in")
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = {"csrf_token": csrf, "username": "zhang\x00", "password": "x"}
    response = client.post("/portal/session", data=form, follow_redirects=False)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")


# -- strict bodies -------------------------------------------------------------------------


@pytest.mark.parametrize("validity", [True, "30", 30.0])
def test_a_number_is_a_number(client: TestClient, personas: dict[str, Any], validity: Any) -> None:
    bank = _bearer(client, personas["establishment"])
    body = consent_request(subject={"kind": "id_number", "value": personas["citizen"]["id_number"]})
    body["validity_days"] = validity
    _invalid(client.post("/v1/consent-requests", json=body, headers=bank), "body.validity_days")


def test_a_member_named_twice_is_refused(client: TestClient, personas: dict[str, Any]) -> None:
    bank = _bearer(client, personas["establishment"])
    body = consent_request(subject={"kind": "id_number", "value": personas["citizen"]["id_number"]})
    raw = json.dumps(body)[:-1] + ', "max_uses": 1000}'
    headers = {**bank, "content-type": "application/json"}
    response = client.post("/v1/consent-requests", content=raw, headers=headers)
    body_problem = assert_problem(response, 422)
    assert body_problem["errors"] == [
        {"location": "body", "message": "a member is named twice in one object"}
    ]


def test_strict_bodies_still_read_dates_and_codes(
    client: TestClient, personas: dict[str, Any]
) -> None:
    """JSON has no date or enumeration type: strings are how they arrive."""
    court = _bearer(client, personas["provider"])
    response = client.post("/v1/records", json={"records": [penalty()]}, headers=court)
    assert response.json()["accepted"] == 1, response.text


# -- every input, now and in routes to come ------------------------------------------------

CHECKS = (*get_args(Identifier)[1:], *get_args(Text)[1:])


def _bare_strings(annotation: Any, metadata: tuple[Any, ...] = ()) -> Iterator[str]:
    """Where ``annotation`` holds a ``str`` without one of the gateway's string types."""
    if get_origin(annotation) is Annotated:
        base, *extra = get_args(annotation)
        yield from _bare_strings(base, (*metadata, *extra))
    elif annotation is str:
        if not any(check in metadata for check in CHECKS):
            yield "str"
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            for where in _bare_strings(field.annotation, tuple(field.metadata)):
                yield f"{annotation.__name__}.{name}: {where}"
    else:
        for argument in get_args(annotation):
            yield from _bare_strings(argument)


def _params(dependant: Dependant) -> Iterator[Any]:
    """Every parameter a route reads, its dependencies' included."""
    yield from dependant.path_params
    yield from dependant.query_params
    yield from dependant.header_params
    yield from dependant.cookie_params
    yield from dependant.body_params
    for dependency in dependant.dependencies:
        yield from _params(dependency)


def _routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """Every API route with its full path, through the routers the app includes."""
    routes = [
        (str(context.path), context.original_route)
        for context in routing.iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
    ]
    assert len(routes) > 100  # the walk reaches the included routers' routes
    return routes


def test_every_route_reads_bodies_strictly(app: FastAPI) -> None:
    assert [path for path, route in _routes(app) if not isinstance(route, StrictRoute)] == []
    for path, route in _routes(app):
        annotation = None if route.body_field is None else route.body_field.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            # a form's fields are FastAPI's own model; each field is checked as a parameter
            form = annotation.__module__.startswith("fastapi.")
            assert form or issubclass(annotation, StrictBody), path


def test_every_string_that_enters_is_one_of_the_gateways_types(app: FastAPI) -> None:
    unchecked = []
    for path, route in _routes(app):
        for param in _params(route.dependant):
            info = param.field_info
            for where in _bare_strings(info.annotation, tuple(info.metadata)):
                unchecked.append(f"{path} {param.name}: {where}")
    assert unchecked == []


# -- logs ----------------------------------------------------------------------------------


def test_a_database_error_logs_no_bound_value(
    migrated: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "zhang.wei-320102198804122177"
    engine = make_engine(migrated.resolved_database_url)
    row = {"id": "b" * 32, "party_id": "p" * 32, "code": secret, "title": secret, "categories": []}
    with pytest.raises(DBAPIError):
        try:
            with engine.begin() as connection:
                connection.execute(insert(LegalBasis).values(row))  # no such party
        except DBAPIError:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
            raise
    engine.dispose()
    assert "Exception in ASGI application" in caplog.text
    assert secret not in caplog.text
