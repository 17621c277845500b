"""Builders for the console tests: officers of their own (a TOTP code is accepted once per
officer, so each test signs in with a fresh account) and their signed-in clients."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from fastapi.testclient import TestClient

from gateway.console.officers import add_officer
from gateway.storage.db import unit_of_work
from tests.gateway.consents.factories import Flow, totp_codes
from tests.gateway.portal.factories import csrf_token, visitor

SIGN_IN_PAGE = "/oversight/sign-in"


@dataclass(frozen=True)
class OfficerAccount:
    officer_id: str
    username: str
    password: str
    totp_secret: str


def officer(flow: Flow) -> OfficerAccount:
    """A new enabled officer with a password and TOTP secret of its own."""
    username = f"officer.{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    with unit_of_work(flow.engine) as session:
        enrolled = add_officer(session, username, password, datetime.now(UTC))
    return OfficerAccount(enrolled.officer.officer_id, username, password, enrolled.totp_secret)


def sign_in(client: TestClient, username: str, password: str, code: str) -> httpx.Response:
    token = csrf_token(client.get(SIGN_IN_PAGE).text)
    form = {"csrf_token": token, "username": username, "password": password, "code": code}
    response: httpx.Response = client.post("/oversight/session", data=form, follow_redirects=False)
    return response


def signed_in_officer(flow: Flow) -> TestClient:
    """A new visitor, signed in as a new officer."""
    client = visitor(flow)
    account = officer(flow)
    _, current, _ = totp_codes(account.totp_secret)
    response = sign_in(client, account.username, account.password, current)
    assert response.headers.get("location") == "/oversight", response.text
    return client
