"""Builders for the archive tests: the running gateway with its providing unit, fresh subjects,
records of a few catalog items, table counts, the audit leaves of a record's versions."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from httpx import Response
from sqlalchemy import func
from sqlmodel import SQLModel, col, select

from audit.leaf import AuditEvent, decode
from consent.clients import Role
from consent.keys import public_jwk
from gateway.archive.models import CreditSubject, RecordRow, RecordVersionRow
from gateway.archive.service import ArchiveDesk, view_for
from gateway.audit_log.models import AuditLeaf
from gateway.audit_log.repository import Openings, read_leaves, read_openings
from gateway.demo import demo_id_number, private_jwk
from gateway.parties.service import Registration, register_party
from gateway.storage.db import unit_of_work
from redaction.engine import CreditView
from redaction.identifiers import SubjectIdentifier, parse_identifier
from redaction.policies import Access
from tests.gateway.modules import RunningGateway

TABLES: dict[str, type[SQLModel]] = {
    "credit_subjects": CreditSubject,
    "records": RecordRow,
    "record_versions": RecordVersionRow,
    "audit_leaves": AuditLeaf,
}
_SEQUENCE = itertools.count(100)


def new_id_number() -> str:
    """A valid ID number no other test uses (Art. 34)."""
    sequence = next(_SEQUENCE)
    birth = date(1960, 1, 1) + timedelta(days=sequence * 37)
    return demo_id_number("320102", birth.strftime("%Y%m%d"), f"{sequence % 1000:03d}")


def person(id_number: str | None = None) -> dict[str, str]:
    return {"kind": "id_number", "value": id_number or new_id_number()}


def basis(number: str = "示市监罚〔2025〕12号") -> dict[str, str]:
    return {
        "kind": "administrative_decision",
        "number": number,
        "issuer": "示范市市场监督管理局",
        "issued_on": "2025-03-20",
    }


def penalty_fields(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "decision_number": "示市监罚〔2025〕12号",
        "penalty_authority": "示范市市场监督管理局",
        "violation": "发布虚假广告",
        "penalty_content": "罚款",
        "fine_amount": "5000",
    }
    fields.update(changes)
    return fields


def penalty(subject: dict[str, str] | None = None, **changes: Any) -> dict[str, Any]:
    """An administrative penalty (untrustworthy, Art. 36) with its basis document (Art. 27)."""
    record: dict[str, Any] = {
        "provider_record_id": f"test-{uuid.uuid4().hex[:12]}",
        "subject": subject or person(),
        "item_code": "administrative_penalty",
        "fields": penalty_fields(),
        "occurred_on": "2025-03-01",
        "decided_on": "2025-03-20",
        "basis": basis(),
    }
    record.update(changes)
    return record


def income(subject: dict[str, str] | None = None, **changes: Any) -> dict[str, Any]:
    """Personal income: restricted, collected only with written consent (Art. 62 para. 2)."""
    restricted: dict[str, Any] = {
        "item_code": "personal_income",
        "fields": {
            "employer": "示范市某科技有限公司",
            "annual_income": 180000,
            "income_year": "2024",
        },
        "basis": None,
        "written_consent_ref": f"wc-{uuid.uuid4().hex[:12]}",
    }
    return penalty(subject, **{**restricted, **changes})


def qualification(subject: dict[str, str] | None = None, **changes: Any) -> dict[str, Any]:
    """A professional qualification: basic information, no basis document."""
    basic: dict[str, Any] = {
        "item_code": "professional_qualification",
        "fields": {
            "holder_name": "李四",
            "qualification": "注册会计师",
            "certificate_number": "CPA-2020-0042",
            "issuing_authority": "示范省注册会计师协会",
        },
        "basis": None,
    }
    return penalty(subject, **{**basic, **changes})


class Archive(RunningGateway):
    """The archive of a test module: submissions, changes, and what they left in the tables."""

    def headers(self, persona: str = "provider") -> dict[str, str]:
        return super().headers(persona)

    def submit(self, *records: dict[str, Any], persona: str = "provider") -> Response:
        response: Response = self.client.post(
            "/v1/records", json={"records": list(records)}, headers=self.headers(persona)
        )
        return response

    def results(self, *records: dict[str, Any], persona: str = "provider") -> list[dict[str, Any]]:
        response = self.submit(*records, persona=persona)
        assert response.status_code == 200, response.text
        results: list[dict[str, Any]] = response.json()["results"]
        return results

    def accepted(self, record: dict[str, Any], persona: str = "provider") -> str:
        (result,) = self.results(record, persona=persona)
        assert result["outcome"] == "accepted", result
        record_id: str = result["record_id"]
        return record_id

    def register_consent(
        self, record: dict[str, Any], category: str = "income", persona: str = "provider"
    ) -> Response:
        """Register the signed written consent ``record``'s reference names (Art. 62 para. 2)."""
        body = {
            "reference": record["written_consent_ref"],
            "subject": record["subject"],
            "category": category,
            "signed_on": "2025-01-10",
        }
        response: Response = self.client.post(
            "/v1/written-consent-documents", json=body, headers=self.headers(persona)
        )
        return response

    def consented(self, record: dict[str, Any]) -> dict[str, Any]:
        """``record``, its written consent registered first."""
        assert self.register_consent(record).status_code == 201
        return record

    def change(
        self, record_id: str, action: str, body: dict[str, Any], persona: str = "provider"
    ) -> Response:
        path = f"/v1/records/{record_id}/{action}"
        response: Response = self.client.post(path, json=body, headers=self.headers(persona))
        return response

    def counts(self) -> dict[str, int]:
        with unit_of_work(self.engine) as session:
            return {
                name: session.exec(select(func.count()).select_from(model)).one()
                for name, model in TABLES.items()
            }

    def versions(self, record_id: str) -> list[RecordVersionRow]:
        with unit_of_work(self.engine) as session:
            return list(
                session.exec(
                    select(RecordVersionRow)
                    .where(col(RecordVersionRow.record_id) == record_id)
                    .order_by(col(RecordVersionRow.version))
                )
            )

    def record(self, record_id: str) -> RecordRow:
        with unit_of_work(self.engine) as session:
            row = session.get(RecordRow, record_id)
        assert row is not None
        return row

    def leaf(self, leaf_index: int | None) -> tuple[AuditEvent, Openings | None]:
        """The audit event at ``leaf_index``, decoded, and the openings the gateway kept."""
        assert leaf_index is not None
        with self.engine.connect() as connection:
            (leaf,) = read_leaves(connection, leaf_index, leaf_index + 1)
            return decode(leaf), read_openings(connection, leaf_index)

    @contextmanager
    def desk(self, now: datetime | None = None) -> Iterator[ArchiveDesk]:
        """The archive service's dependencies in one unit of work, as a request has them."""
        audit_log = self.client.app.state.audit_log  # type: ignore[attr-defined]
        with unit_of_work(self.engine) as session:
            yield ArchiveDesk(session, audit_log, self.keys, now or datetime.now(UTC))

    def view(self, access: Access, now: datetime | None = None) -> CreditView:
        with unit_of_work(self.engine) as session:
            return view_for(session, self.keys, access, now or datetime.now(UTC)).view

    def register_provider(self, sector: str | None = "market_regulation") -> dict[str, Any]:
        """Another providing unit of ``sector``, registered now."""
        key = Ed25519PrivateKey.generate()
        client_id = f"test-court-{uuid.uuid4().hex[:10]}"
        registration = Registration(
            role=Role.PROVIDER,
            name="Test District Court",
            client_id=client_id,
            jwks=[public_jwk(key.public_key())],
            sector=sector,
        )
        with unit_of_work(self.engine) as session:
            register_party(session, registration)
        persona = {"client_id": client_id, "private_jwk": private_jwk(key)}
        self.credentials[client_id] = persona
        return persona


def identifier(subject: dict[str, str]) -> SubjectIdentifier:
    return parse_identifier(subject["kind"], subject["value"], on=date.today())
