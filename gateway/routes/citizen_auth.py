"""Citizen sign-in for the API: the gateway's own real-name verified channel (Art. 39), the
only place a consent is decided (Art. 61(2)). The answer to a wrong password and to an unknown
account is the same (``invalid_grant``); the route has a tight per-IP budget of its own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form
from pydantic import BaseModel

from gateway.deps import DbSession
from gateway.parties.citizens import sign_in
from gateway.problem_handlers import problem_responses
from gateway.ratelimit import CITIZEN_SIGN_IN
from gateway.routes.oauth import Server

router = APIRouter(tags=["citizens"])


class CitizenToken(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    scope: str


@router.post(
    CITIZEN_SIGN_IN,
    summary="Sign in as a citizen: an access token with the citizen role (RFC 9068)",
    responses=problem_responses(400, 422),
    openapi_extra={"security": []},
)
def citizen_token(
    server: Server,
    session: DbSession,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=1024)],
) -> CitizenToken:
    return CitizenToken.model_validate(
        sign_in(session, server, username, password, datetime.now(UTC))
    )
