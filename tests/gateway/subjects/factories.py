"""Builders for the subject tests: persons and entities enrolled by the operator, sign-in
through the test OpenID provider, acting for an entity, records submitted about a subject."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi.testclient import TestClient

from gateway.demo import demo_credit_code, demo_id_number
from redaction.errors import InvalidIdentifier
from redaction.identifiers import validate_credit_code
from tests.gateway.consents.factories import Flow
from tests.gateway.oidc_provider import CLIENT_ID, Provider
from tests.gateway.portal.factories import csrf_token


def new_id_number(rng: random.Random | None = None) -> str:
    """A valid, random GB 11643 number (Nanjing, born 1950-2004) that is not also a valid
    credit code (about one in thirty would be: the public lookup refuses to guess its kind)."""
    rng = rng or random.Random()
    while True:
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
        number = demo_id_number("320102", f"{born:%Y%m%d}", f"{rng.randrange(1000):03d}")
        try:
            validate_credit_code(number)
        except InvalidIdentifier:
            return number


def new_credit_code() -> str:
    return demo_credit_code(f"91320100MA{uuid.uuid4().int % 10**7:07d}")


@dataclass
class Subjects(Flow):
    """The module's gateway with its OpenID provider."""

    provider: Provider | None = None

    def enrol(self, *persons: dict[str, Any]) -> list[dict[str, Any]]:
        response = self.client.post(
            "/v1/subjects/persons",
            json={"persons": list(persons)},
            headers=self.headers("operator"),
        )
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    def person(self, name: str = "测试人") -> tuple[str, str]:
        """A newly enrolled person: (ID number, account id)."""
        number = new_id_number()
        (result,) = self.enrol({"full_name": name, "id_number": number})
        assert result["outcome"] == "enrolled", result
        return number, result["account_id"]

    def entity(self, representative: str, name: str = "测试科技有限公司") -> tuple[str, str]:
        """A newly enrolled legal person: (credit code, entity id)."""
        code = new_credit_code()
        body = {"credit_code": code, "name": name, "representative": representative}
        response = self.client.post(
            "/v1/subjects/entities", json=body, headers=self.headers("operator")
        )
        assert response.status_code == 201, response.text
        entity_id: str = response.json()["account_id"]
        return code, entity_id

    def oidc_sign_in(self, client: TestClient, username: str) -> httpx.Response:
        """Sign in through the provider as ``username``: the gateway's redirect, the provider's
        sign-in form, its redirect back; the answer of the gateway's callback."""
        assert self.provider is not None
        client.cookies.clear()
        start = client.get("/portal/oidc/start", follow_redirects=False)
        assert start.status_code == 303, start.text
        authorize = start.headers["location"]
        assert authorize.startswith(f"{self.provider.issuer}/authorize?")
        with httpx.Client(timeout=10) as browser:
            assert browser.get(authorize).status_code == 200
            back = browser.post(authorize, data={"username": username})
        assert back.status_code == 302, back.text
        location = urlsplit(back.headers["location"])
        assert location.path == "/portal/oidc/callback"
        response: httpx.Response = client.get(
            f"/portal/oidc/callback?{location.query}", follow_redirects=False
        )
        return response

    def authorize_query(self, client: TestClient) -> dict[str, list[str]]:
        start = client.get("/portal/oidc/start", follow_redirects=False)
        return parse_qs(urlsplit(start.headers["location"]).query)

    def act_for(self, client: TestClient, entity_id: str) -> httpx.Response:
        token = csrf_token(client.get("/portal/acting").text)
        response: httpx.Response = client.post(
            "/portal/acting",
            data={"csrf_token": token, "entity_id": entity_id},
            follow_redirects=False,
        )
        return response

    def person_token(self, username: str, password: str) -> dict[str, str]:
        response = self.client.post(
            "/v1/me/token", data={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def acting_headers(self, person: dict[str, str], entity_id: str) -> dict[str, str]:
        response = self.client.post(
            "/v1/me/acting-token", json={"entity_id": entity_id}, headers=person
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def request_about(self, kind: str, value: str, **changes: Any) -> str:
        body: dict[str, Any] = {
            "subject": {"kind": kind, "value": value},
            "purpose": "post_loan_management",
            "categories": ["basic", "untrustworthy"],
            "validity_days": 180,
            "max_uses": 5,
            **changes,
        }
        created = self.request(body)
        assert created["status"] == 201, created
        grant_id: str = created["grant_id"]
        return grant_id

    def inquire(
        self, grant_id: str, kind: str, value: str, purpose: str = "post_loan_management"
    ) -> httpx.Response:
        body = {
            "grant_id": grant_id,
            "subject": {"kind": kind, "value": value},
            "purpose": purpose,
            "categories": ["basic"],
        }
        response: httpx.Response = self.client.post(
            "/v1/inquiries/authorized", json=body, headers=self.headers("establishment")
        )
        return response


__all__ = ["CLIENT_ID", "Subjects", "new_credit_code", "new_id_number"]
