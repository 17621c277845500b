"""Builders for the inquiry tests: the running gateway of a module with records of its own
about the demo citizen and two fresh subjects, requests for every channel, and the audit log
read back.

The consent flow (grants requested by the demo establishment and decided by the demo citizen)
is :class:`tests.gateway.consents.factories.Flow`; records are submitted by the demo providing
unit through the archive's service, as ``POST /v1/records`` would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col

from audit.leaf import AuditEvent, decode
from consent.clients import Role
from consent.keys import public_jwk
from gateway.archive.service import (
    ArchiveDesk,
    Correction,
    SubmissionOutcome,
    SubmissionResult,
    archive_catalog,
    correct_record,
    submit_records,
)
from gateway.archive.written_consents import DocumentRegistration, register_document
from gateway.audit_log.repository import log_size, read_leaves
from gateway.consents.models import GrantRow
from gateway.demo import demo_id_number, private_jwk
from gateway.parties.models import SEEDED_VALID_FROM, LegalBasis
from gateway.parties.service import Registration, register_party
from gateway.storage.db import unit_of_work
from redaction.demo import SAMPLE_VALUES
from redaction.ingest import BasisDocument, BasisKind, RecordSubmission, SubjectReference
from tests.gateway.consents.factories import Flow, consent_request
from tests.gateway.factories import access_token

# Fresh subjects the demo seeding knows nothing about.
NOTHING_PUBLIC = demo_id_number("320104", "19900101", "123")
UNKNOWN = demo_id_number("320105", "19851224", "456")
OTHER_AGENCY_BASIS = "tax-inspection"
PURPOSE = "post_loan_management"
CASE = "（2025）示0102行初12号"
DUTY = "企业信用分级分类监管"
CORRECTION_REASON = "依据复核决定更正有效期"

Request = tuple[str, str, dict[str, Any] | None]


def subject(value: str, kind: str = "id_number") -> dict[str, str]:
    return {"kind": kind, "value": value}


def _basis() -> BasisDocument:
    return BasisDocument(
        BasisKind.ADMINISTRATIVE_DECISION,
        "示市监罚〔2025〕12号",
        "示范省市场监督管理局",
        date(2024, 1, 10),
    )


def _submission(
    provider_record_id: str,
    who: SubjectReference,
    item_code: str,
    *,
    occurred_on: date,
    **extra: Any,
) -> RecordSubmission:
    item = archive_catalog().item(item_code)
    return RecordSubmission(
        provider_record_id=provider_record_id,
        subject=who,
        item_code=item_code,
        fields={spec.name: SAMPLE_VALUES[spec.type] for spec in item.fields},
        occurred_on=occurred_on,
        **extra,
    )


@dataclass
class World:
    """The module's gateway: the consent flow, the records added, extra agencies' tokens."""

    flow: Flow
    records: dict[str, str] = field(default_factory=dict)
    personas: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Personas beyond the demo's, by name: client id, private JWK, optional token scope and
    RFC 9396 ``authorization_details``."""

    @property
    def client(self) -> TestClient:
        return self.flow.client

    @property
    def state(self) -> Any:
        """The running app's state: its audit log, keys, engine."""
        return self.client.app.state  # type: ignore[attr-defined]

    @property
    def citizen(self) -> str:
        return self.flow.citizen_id_number

    def client_id(self, persona: str) -> str:
        client_id: str = {**self.flow.credentials, **self.personas}[persona]["client_id"]
        return client_id

    # -- requests -----------------------------------------------------------------------

    def send(self, request: Request, persona: str | None) -> httpx.Response:
        """Send ``request`` as a demo persona (``None``: anonymous)."""
        return self.send_with(request, self.headers(persona))

    def send_with(self, request: Request, headers: dict[str, str]) -> httpx.Response:
        method, path, body = request
        response: httpx.Response = (
            self.client.get(path, headers=headers)
            if method == "GET"
            else self.client.post(path, json=body, headers=headers)
        )
        return response

    def headers(self, persona: str | None) -> dict[str, str]:
        if persona is None:
            return {}
        if persona in self.personas:
            extra = self.personas[persona]
            token = access_token(
                self.client,
                extra,
                scope=extra.get("scope"),
                authorization_details=extra.get("authorization_details"),
            )
            return {"Authorization": f"Bearer {token}"}
        return self.flow.headers(persona)

    def authorized(self, grant_id: str, **changes: Any) -> Request:
        body = {
            "grant_id": grant_id,
            "subject": subject(self.citizen),
            "purpose": PURPOSE,
            "categories": ["basic", "untrustworthy"],
            **changes,
        }
        return ("POST", "/v1/inquiries/authorized", body)

    def sharing(self, **changes: Any) -> Request:
        body = {
            "subject": subject(self.citizen),
            "categories": ["basic"],
            "duty": DUTY,
            **changes,
        }
        return ("POST", "/v1/inquiries/sharing", body)

    def authority(self, **changes: Any) -> Request:
        body = {
            "subject": subject(self.citizen),
            "legal_basis": "market-supervision-inspection",
            "case_reference": CASE,
            **changes,
        }
        return ("POST", "/v1/inquiries/authority", body)

    @staticmethod
    def own() -> Request:
        return ("GET", "/v1/me/credit-report", None)

    @staticmethod
    def public(identifier: str) -> Request:
        return ("GET", f"/v1/public/credit-subjects/{identifier}", None)

    def request(self, channel: str) -> Request:
        """A request of ``channel`` its own role is served (a fresh grant for authorized)."""
        if channel == "authorized":
            return self.authorized(self.flow.active())
        if channel == "public":
            return self.public(self.citizen)
        requests: dict[str, Callable[[], Request]] = {
            "sharing": self.sharing,
            "authority": self.authority,
            "self": self.own,
        }
        return requests[channel]()

    # -- grants -------------------------------------------------------------------------

    def grant(self, **changes: Any) -> str:
        return self.flow.active(consent_request(**changes))

    def expire(self, grant_id: str) -> None:
        """Move a grant's validity window into the past (as if its days had run out)."""
        past = datetime.now(UTC) - timedelta(days=1)
        with unit_of_work(self.flow.engine) as session:
            session.execute(
                update(GrantRow)
                .where(col(GrantRow.grant_id) == grant_id)
                .values(not_before=past - timedelta(days=1), expires_at=past)
            )

    def uses(self, grant_id: str) -> int:
        with unit_of_work(self.flow.engine) as session:
            row = session.get(GrantRow, grant_id)
            assert row is not None
            return row.uses

    # -- the audit log ------------------------------------------------------------------

    def log_size(self) -> int:
        with self.flow.engine.connect() as connection:
            return log_size(connection)

    def event(self, index: int) -> AuditEvent:
        with self.flow.engine.connect() as connection:
            return decode(read_leaves(connection, index, index + 1)[0])

    def last_event(self) -> AuditEvent:
        return self.event(self.log_size() - 1)

    def publish(self) -> str:
        note: str = self.state.audit_log.publish_now()
        return note

    # -- setup --------------------------------------------------------------------------

    def add_records(self) -> None:
        """The citizen's file (public, shared, restricted, past retention, corrected) and the
        file of a subject with nothing public; ``UNKNOWN`` gets nothing."""
        today = datetime.now(UTC).date()
        recent = today - timedelta(days=100)
        citizen = SubjectReference("id_number", self.citizen)
        other = SubjectReference("id_number", NOTHING_PUBLIC)
        submissions = {
            "qualification": _submission(
                "t-qualification", citizen, "professional_qualification", occurred_on=recent
            ),
            "judgment": _submission(
                "t-judgment",
                citizen,
                "dishonest_judgment_debtor",
                occurred_on=recent,
                basis=_basis(),
            ),
            "honour": _submission("t-honour", citizen, "honour_award", occurred_on=recent),
            "income": _submission(
                "t-income",
                citizen,
                "personal_income",
                occurred_on=recent,
                written_consent_ref="wc-2025-001",
            ),
            "old_penalty": _submission(
                "t-old-penalty",
                citizen,
                "administrative_penalty",
                occurred_on=today - timedelta(days=6 * 366),
                basis=_basis(),
            ),
            "identity": _submission(
                "t-identity", other, "natural_person_identity", occurred_on=recent
            ),
            "volunteer": _submission("t-volunteer", other, "volunteer_service", occurred_on=recent),
        }
        state = self.state
        provider = self.client_id("provider")
        consent = DocumentRegistration("wc-2025-001", citizen, "income", recent)
        with unit_of_work(self.flow.engine) as session:
            desk = ArchiveDesk(session, state.audit_log, state.keys, datetime.now(UTC))
            register_document(desk, provider, consent)
        court = {"judgment"}  # designated by the courts (Art. 26)
        results: dict[str, SubmissionResult] = {}
        for persona, names in (("court", court), ("provider", submissions.keys() - court)):
            with unit_of_work(self.flow.engine) as session:
                desk = ArchiveDesk(session, state.audit_log, state.keys, datetime.now(UTC))
                batch = [submissions[name] for name in sorted(names)]
                submitted = submit_records(desk, self.client_id(persona), batch)
            results.update(zip(sorted(names), submitted, strict=True))
        for name, result in results.items():
            assert result.outcome is not SubmissionOutcome.REFUSED, (name, result.problem)
            assert result.record_id is not None
            self.records[name] = result.record_id
        self._correct("qualification")

    def _correct(self, name: str) -> None:
        """A second version of a record, with its reason (Art. 63)."""
        record_id = self.records[name]
        state = self.state
        item = archive_catalog().item("professional_qualification")
        fields = {spec.name: SAMPLE_VALUES[spec.type] for spec in item.fields}
        correction = Correction(CORRECTION_REASON, {**fields, "valid_until": "2031-12-31"})
        with unit_of_work(self.flow.engine) as session:
            desk = ArchiveDesk(session, state.audit_log, state.keys, datetime.now(UTC))
            correct_record(desk, self.client_id("provider"), record_id, correction)

    def add_agency_without_sector(self) -> None:
        """An agency registered without a sector, holding a legal basis of its own."""
        key = Ed25519PrivateKey.generate()
        registration = Registration(
            role=Role.AGENCY,
            name="Demo Province Tax Bureau",
            client_id="test-tax-bureau",
            jwks=[public_jwk(key.public_key())],
        )
        with unit_of_work(self.flow.engine) as session:
            party = register_party(session, registration)
            session.flush()
            _add_basis(session, party.id)
        self.personas["sectorless"] = {
            "client_id": registration.client_id,
            "private_jwk": private_jwk(key),
        }


def _add_basis(session: Session, party_id: str) -> None:
    session.add(
        LegalBasis(
            party_id=party_id,
            code=OTHER_AGENCY_BASIS,
            title="Tax inspection",
            categories=["basic", "untrustworthy", "tax"],
            valid_from=SEEDED_VALID_FROM,
        )
    )
