"""Builders for the subject-rights tests: the running gateway of a module (the inquiry tests'
:class:`~tests.gateway.inquiries.factories.World`), records of the demo citizen submitted by the
demo providing unit, objections, establishments that received a record through an authorized
inquiry, the jobs run by hand at a chosen time, and the audit log read back."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import col, select

from audit.leaf import AuditEvent, decode
from gateway.audit_log.repository import Openings, read_leaves, read_openings
from gateway.rights.models import DeletionNotice
from gateway.rights.scheduler import JobContext, JobResult, run_once
from gateway.rights.service import Deadlines, RightsDesk
from gateway.storage.db import unit_of_work
from tests.gateway.archive.factories import Archive, penalty, person
from tests.gateway.consents.factories import Flow, consent_request
from tests.gateway.inquiries.factories import World
from tests.gateway.test_problems import assert_problem
from tests.live import ARTIFACTS
from tests.services import unavailable


def refused(response: httpx.Response, status: int, article: str) -> None:
    """A problem+json refusal with ``status`` naming ``article``."""
    body = assert_problem(response, status)
    assert body.get("article") == article, body


@dataclass
class Rights:
    world: World

    @property
    def flow(self) -> Flow:
        return self.world.flow

    @property
    def client(self) -> Any:
        return self.world.client

    @property
    def engine(self) -> Engine:
        return self.flow.engine

    def client_id(self, persona: str) -> str:
        return self.world.client_id(persona)

    # -- records and objections ---------------------------------------------------------

    def record(
        self,
        subject: str | None = None,
        build: Callable[..., dict[str, Any]] = penalty,
        **changes: Any,
    ) -> str:
        """A new record about the demo citizen (or ``subject``) by the demo providing unit; by
        default an administrative penalty: untrustworthy, public, shared with market
        regulation, displayed until 2028 unless ``changes`` say otherwise."""
        body = build(person(subject or self.world.citizen), **changes)
        response = self.client.post(
            "/v1/records", json={"records": [body]}, headers=self.world.headers("provider")
        )
        assert response.status_code == 200, response.text
        (result,) = response.json()["results"]
        assert result["outcome"] == "accepted", result
        record_id: str = result["record_id"]
        return record_id

    def file(self, record_id: str | None = None, **body: Any) -> httpx.Response:
        """The demo citizen objects (to ``record_id`` unless the body says otherwise)."""
        document = {"reason": "处罚决定已被撤销，信息有误", "record_id": record_id, **body}
        response: httpx.Response = self.client.post(
            "/v1/me/objections", json=document, headers=self.world.headers("citizen")
        )
        return response

    def filed(self, record_id: str) -> dict[str, Any]:
        response = self.file(record_id)
        assert response.status_code == 201, response.text
        objection: dict[str, Any] = response.json()
        return objection

    def other_provider(self) -> str:
        """Another providing unit, registered now; its client id."""
        archive = Archive(self.client, self.flow.settings, self.flow.credentials)
        client_id: str = archive.register_provider()["client_id"]
        return client_id

    def answer(self, objection_id: str, persona: str = "provider", **body: Any) -> httpx.Response:
        response: httpx.Response = self.client.post(
            f"/v1/objections/{objection_id}/answer", json=body, headers=self.world.headers(persona)
        )
        return response

    def get(self, path: str, persona: str) -> dict[str, Any]:
        response = self.client.get(path, headers=self.world.headers(persona))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    # -- establishments that received records -------------------------------------------

    def bank(self, webhook_url: str | None = None) -> tuple[str, str]:
        """A new establishment and a grant the citizen approved it: (client id, grant id)."""
        client_id: str = self.flow.register_establishment(webhook_url)["client_id"]
        request = consent_request()
        grant_id = self.flow.pending(request, persona=client_id)
        decided = self.flow.decide(grant_id, "approve", categories=request["categories"])
        assert decided.status_code == 200, decided.text
        return client_id, grant_id

    def inquire(self, client_id: str, grant_id: str) -> set[str]:
        """An authorized inquiry of ``client_id``; the record ids it was served."""
        response = self.world.send(self.world.authorized(grant_id), client_id)
        assert response.status_code == 200, response.text
        return {item["record_id"] for item in response.json()["items"]}

    def notices(self, record_id: str) -> list[DeletionNotice]:
        with unit_of_work(self.engine) as session:
            statement = select(DeletionNotice).where(col(DeletionNotice.record_id) == record_id)
            return list(session.exec(statement))

    # -- jobs and services at a chosen time ---------------------------------------------

    def jobs(self) -> JobContext:
        state = self.world.state
        deadlines = Deadlines.of(self.flow.settings)
        return JobContext(
            self.engine,
            state.audit_log,
            state.keys,
            state.auth_server,
            deadlines,
            self.flow.settings,
        )

    def run(self, *names: str, now: datetime | None = None) -> dict[str, JobResult]:
        return run_once(self.jobs(), names, now)

    @contextmanager
    def desk(self, now: datetime | None = None) -> Iterator[RightsDesk]:
        with unit_of_work(self.engine) as session:
            yield self.jobs().rights(session, now or datetime.now(UTC))

    # -- the audit log ------------------------------------------------------------------

    def leaf(self, index: int | None) -> tuple[AuditEvent, Openings | None]:
        """The event at ``index``, decoded, and the openings the gateway kept for it."""
        assert index is not None
        with self.engine.connect() as connection:
            (leaf,) = read_leaves(connection, index, index + 1)
            return decode(leaf), read_openings(connection, index)

    def citizen_key(self) -> str:
        return self.flow.subject_key(self.world.citizen)


def pdf_text(pdf: bytes, number: str) -> str:
    """The PDF's text (pdftotext), its pages kept as PNGs under var/test-artifacts/reports/."""
    path = _kept(pdf, number)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(path), str(path.with_suffix(""))], check=True
    )
    return _poppler("pdftotext", "-layout", str(path), "-")


def pdf_fonts(pdf: bytes, number: str) -> dict[str, bool]:
    """The PDF's fonts (pdffonts): each name, without its subset tag, and whether embedded."""
    rows = [line.split() for line in _poppler("pdffonts", str(_kept(pdf, number))).splitlines()]
    return {row[0].rpartition("+")[2]: row[-5] == "yes" for row in rows[2:]}


def _kept(pdf: bytes, number: str) -> Path:
    for tool in ("pdftotext", "pdftoppm", "pdffonts"):
        if shutil.which(tool) is None:
            unavailable("poppler-utils (pdftotext, pdftoppm, pdffonts)", FileNotFoundError(tool))
    (ARTIFACTS / "reports").mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "reports" / f"credit-report-{number}.pdf"
    path.write_bytes(pdf)
    return path


def _poppler(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout
