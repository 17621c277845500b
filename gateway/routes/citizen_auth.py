"""Citizen sign-in for the API: the gateway's own real-name verified channel (Art. 39), the
only place a consent is decided (Art. 61(2)). The answer to a wrong password and to an unknown
account is the same (``invalid_grant``); the sign-in has a tight budget of its own, per IP and
per account, shared with the portal's sign-in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel

from gateway.deps import DbSession
from gateway.parties.citizens import sign_in
from gateway.problem_handlers import problem_responses
from gateway.ratelimit import CITIZEN_SIGN_IN, spend_sign_in
from gateway.routes.oauth import Server
from gateway.validation import Identifier, StrictRoute, Text

router = APIRouter(route_class=StrictRoute, tags=["citizens"])


class CitizenToken(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    scope: str


@router.post(
    CITIZEN_SIGN_IN,
    summary="Sign in as a citizen: an access token with the citizen role (RFC 9068)",
    responses=problem_responses(400, 422, 429),
    openapi_extra={"security": []},
)
def citizen_token(
    request: Request,
    server: Server,
    session: DbSession,
    username: Annotated[Identifier, Form(min_length=1, max_length=64)],
    password: Annotated[Text, Form(min_length=1, max_length=1024)],
) -> CitizenToken:
    spend_sign_in(request, username)
    return CitizenToken.model_validate(
        sign_in(session, server, username, password, datetime.now(UTC))
    )
