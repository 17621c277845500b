"""Builders for the consent tests: the running gateway with its demo personas, consent
requests, citizen sign-in, extra establishments, inquiries on the store, the audit log read
back, and a local webhook receiver."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.leaf import AuditEvent, decode
from consent.clients import Role
from consent.inquiry import Inquiry, authorize_inquiry
from consent.keys import public_jwk
from consent.rfc6238 import PERIOD, code_at
from gateway.audit_log.repository import log_size, read_leaves
from gateway.consents.repository import SqlGrantStore
from gateway.consents.service import RESTRICTED, ConsentDesk
from gateway.demo import NATURAL_PERSONS, private_jwk
from gateway.parties.service import Registration, register_party
from gateway.storage.db import unit_of_work
from gateway.subjects import subject_key
from redaction.identifiers import parse_identifier
from tests.gateway.modules import RunningGateway

OTHER_PERSON = NATURAL_PERSONS[1]
STEP_UP_ACTIONS = frozenset({"approve", "reject", "revoke", "resume"})


def consent_request(**changes: object) -> dict[str, Any]:
    """A post-loan management request about the demo citizen that passes every check."""
    body: dict[str, Any] = {
        "subject": {"kind": "id_number", "value": "<citizen>"},
        "purpose": "post_loan_management",
        "categories": ["basic", "untrustworthy"],
        "validity_days": 180,
        "max_uses": 5,
    }
    body.update(changes)
    return body


def mortgage_request(**changes: object) -> dict[str, Any]:
    """A mortgage request with two restricted categories (Art. 62)."""
    return consent_request(
        purpose="mortgage_application",
        categories=["basic", "income", "real_estate"],
        validity_days=60,
        max_uses=3,
        **changes,
    )


class Flow(RunningGateway):
    """The consent flow of a test module: requests, decisions, grants and their audit entries."""

    @property
    def citizen_id_number(self) -> str:
        number: str = self.credentials["citizen"]["id_number"]
        return number

    def request(self, body: dict[str, Any], persona: str = "establishment") -> dict[str, Any]:
        """POST a consent request (``<citizen>`` stands for the demo citizen's ID number)."""
        for subject in [body.get("subject"), *body.get("subjects", [])]:
            if isinstance(subject, dict) and subject.get("value") == "<citizen>":
                subject["value"] = self.citizen_id_number
        response = self.client.post(
            "/v1/consent-requests", json=body, headers=self.headers(persona)
        )
        result: dict[str, Any] = {"status": response.status_code, **response.json()}
        return result

    def pending(self, body: dict[str, Any] | None = None, persona: str = "establishment") -> str:
        created = self.request(body or consent_request(), persona)
        assert created["status"] == 201, created
        grant_id: str = created["grant_id"]
        return grant_id

    def decide(self, grant_id: str, action: str, persona: str = "citizen", **body: Any) -> Any:
        """The decision as ``persona``; the citizen's carries a fresh second factor unless the
        body names its own ``second_factor`` (``None``: none at all)."""
        if persona == "citizen" and action in STEP_UP_ACTIONS and "second_factor" not in body:
            body["second_factor"] = self.second_factor(action, grant_id)
        path = f"/v1/me/consents/{grant_id}/{action}"
        return self.client.post(path, json=body or None, headers=self.headers(persona))

    def active(self, body: dict[str, Any] | None = None) -> str:
        """A grant the citizen approved in full (no restricted category)."""
        request = body or consent_request()
        grant_id = self.pending(request)
        response = self.decide(grant_id, "approve", categories=request["categories"])
        assert response.status_code == 200, response.text
        return grant_id

    def register_establishment(self, webhook_url: str | None = None) -> dict[str, Any]:
        """A new establishment persona (client id and private JWK), registered now."""
        key = Ed25519PrivateKey.generate()
        client_id = f"test-bank-{uuid.uuid4().hex[:10]}"
        registration = Registration(
            role=Role.ESTABLISHMENT,
            name="Test Bank",
            client_id=client_id,
            jwks=[public_jwk(key.public_key())],
            webhook_url=webhook_url,
        )
        with unit_of_work(self.engine) as session:
            register_party(session, registration)
        persona = {"client_id": client_id, "private_jwk": private_jwk(key)}
        self.credentials[client_id] = persona
        return persona

    @contextmanager
    def desk(self, now: datetime | None = None) -> Iterator[ConsentDesk]:
        """The consent service's dependencies in one unit of work, as a request has them."""
        state = self.client.app.state  # type: ignore[attr-defined]
        with unit_of_work(self.engine) as session:
            yield ConsentDesk(
                session, state.audit_log, state.keys, state.auth_server, now or datetime.now(UTC)
            )

    def subject_key(self, id_number: str) -> str:
        keys = self.client.app.state.keys  # type: ignore[attr-defined]
        identifier = parse_identifier("id_number", id_number, on=datetime.now(UTC).date())
        return subject_key(keys, identifier)

    def inquiry(self, grant_id: str) -> Inquiry:
        """The demo establishment's inquiry about the citizen under ``grant_id``."""
        return Inquiry(
            grant_id=grant_id,
            requester=self.credentials["establishment"]["client_id"],
            subject_key=self.subject_key(self.citizen_id_number),
            purpose="post_loan_management",
            categories=frozenset({"basic"}),
        )

    def authorize(self, inquiry: Inquiry, now: datetime | None = None) -> int:
        """One authorized inquiry in a transaction of its own, as a request would make it."""
        with unit_of_work(self.engine) as session:
            return authorize_inquiry(
                SqlGrantStore(session),
                inquiry,
                now=now or datetime.now(UTC),
                restricted=RESTRICTED,
            )

    def log_events(self) -> list[AuditEvent]:
        """Every event of the audit log, in log order."""
        with self.engine.connect() as connection:
            leaves = read_leaves(connection, 0, log_size(connection))
        return [decode(leaf) for leaf in leaves]

    def audit_events(self, grant_id: str) -> list[AuditEvent]:
        """The audit log's events about one grant, in log order."""
        return [event for event in self.log_events() if event.grant_id == grant_id]


STEP_MARGIN = 6


def totp_codes(secret: str) -> tuple[str, str, str]:
    """The codes of the previous, the current and the next time step (all in the window),
    taken at least :data:`STEP_MARGIN` seconds before a step boundary, so that the server sees
    the same steps while a test on a loaded machine uses them."""
    remaining = PERIOD - time.time() % PERIOD
    if remaining < STEP_MARGIN:
        time.sleep(remaining + 0.1)
    now = datetime.now(UTC)
    step = timedelta(seconds=PERIOD)
    return code_at(secret, now - step), code_at(secret, now), code_at(secret, now + step)


@dataclass
class Receiver:
    """What a local webhook endpoint received; it answers ``script`` in order, then 200."""

    url: str
    script: list[int]
    bodies: list[str] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    signatures: list[str | None] = field(default_factory=list)


@contextmanager
def webhook_receiver(*script: int) -> Iterator[Receiver]:
    """A real HTTP server on 127.0.0.1, in a thread, for the gateway to deliver to."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    receiver = Receiver(f"http://127.0.0.1:{server.server_port}/hooks", list(script))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            receiver.bodies.append(self.rfile.read(length).decode())
            receiver.content_types.append(self.headers["Content-Type"])
            receiver.signatures.append(self.headers.get("X-Gateway-Signature"))
            self.send_response(receiver.script.pop(0) if receiver.script else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
