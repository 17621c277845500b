"""Builders for the portal tests: a visitor's browser-like client, its forms and decisions
(with the demo citizen's software passkey answering the page's challenge), and checks on the
pages themselves (labels, no inline script or style)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser

import httpx
from fastapi.testclient import TestClient

from gateway.parties.repository import citizen_by_username
from gateway.storage.db import unit_of_work
from tests.gateway.consents.factories import Flow

FormData = Mapping[str, str | Sequence[str]]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SIGN_IN_PAGE = "/portal/sign-in"


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def citizen_id(flow: Flow) -> str:
    """The demo citizen's account id (what a session names)."""
    with unit_of_work(flow.engine) as session:
        citizen = citizen_by_username(session, flow.credentials["citizen"]["username"])
        assert citizen is not None
        return citizen.id


def visitor(flow: Flow) -> TestClient:
    """The module's client as a new visitor: no cookies (the API's bearer calls send none)."""
    flow.client.cookies.clear()
    return flow.client


def sign_in(client: TestClient, username: str, password: str) -> httpx.Response:
    token = csrf_token(client.get(SIGN_IN_PAGE).text)
    form = {"csrf_token": token, "username": username, "password": password}
    response: httpx.Response = client.post("/portal/session", data=form, follow_redirects=False)
    return response


def signed_in(flow: Flow) -> TestClient:
    """A new visitor, signed in as the demo citizen."""
    client = visitor(flow)
    citizen = flow.credentials["citizen"]
    response = sign_in(client, citizen["username"], citizen["password"])
    assert response.status_code == 303, response.text
    return client


def submit(
    client: TestClient,
    action: str,
    data: FormData | None = None,
    *,
    page: str = "/portal/requests",
) -> httpx.Response:
    """POST a form of ``page`` with that page's CSRF token; redirects are not followed."""
    form = {"csrf_token": csrf_token(client.get(page).text), **(data or {})}
    response: httpx.Response = client.post(action, data=form, follow_redirects=False)
    return response


def decide(
    client: TestClient, flow: Flow, action: str, data: FormData | None = None
) -> httpx.Response:
    """POST a decision form as the browser would after the passkey ceremony: the demo
    citizen's software passkey signs the challenge the page put on the form's button."""
    passkey = flow.step_up.passkey  # enrolled before the page is drawn
    grant_id, verb = action.split("/")[-2:]
    page = {
        "revoke": f"/portal/consents/{grant_id}/revoke",
        "resume": "/portal/consents",
    }.get(verb, "/portal/requests")
    html = client.get(page).text
    challenge, options = passkey_button(html, action)
    form = {
        "csrf_token": csrf_token(html),
        "passkey_challenge": challenge,
        "passkey_credential": json.dumps(passkey.get(options)),
        **(data or {}),
    }
    response: httpx.Response = client.post(action, data=form, follow_redirects=False)
    return response


class _PasskeyButtons(HTMLParser):
    """The passkey challenge and options on each submit button, by the form action it posts."""

    def __init__(self) -> None:
        super().__init__()
        self.form_action = ""
        self.buttons: dict[str, tuple[str, dict[str, object]]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.form_action = attributes.get("action", "")
        if tag == "button" and "data-passkey-challenge" in attributes:
            target = attributes.get("formaction") or self.form_action
            options = json.loads(attributes["data-passkey-options"])
            self.buttons[target] = (attributes["data-passkey-challenge"], options)


def passkey_button(html: str, action: str) -> tuple[str, dict[str, object]]:
    parser = _PasskeyButtons()
    parser.feed(html)
    assert action in parser.buttons, f"no passkey button posts to {action}"
    return parser.buttons[action]


class _Controls(HTMLParser):
    """Form controls, the ids labels point at, and anything inline that the CSP forbids."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[str] = []
        self.labelled: set[str] = set()
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "style" or (tag == "script" and not attributes.get("src")):
            self.inline.append(tag)
        self.inline += [name for name in attributes if name == "style" or name.startswith("on")]
        if tag == "label" and attributes.get("for"):
            self.labelled.add(str(attributes["for"]))
        if tag in ("input", "select", "textarea") and attributes.get("type") != "hidden":
            self.controls.append(str(attributes.get("id")))


def assert_strict_session_cookie(response: httpx.Response, name: str, path: str) -> None:
    """The session cookie ``name`` is set ``HttpOnly``, ``SameSite=Strict``, for ``path``."""
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{name}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and f"Path={path}" in cookie
    assert "Secure" not in cookie  # the test gateway's public URL is http


def assert_accessible_page(html: str, lang: str = "zh-CN") -> None:
    """``lang`` set, every control labelled, no inline script, style or handler."""
    assert f'<html lang="{lang}">' in html
    parser = _Controls()
    parser.feed(html)
    assert parser.inline == []
    assert [control for control in parser.controls if control not in parser.labelled] == []
