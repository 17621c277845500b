"""The request's unit of work commits before the response leaves, or the response is an error."""

from __future__ import annotations

import time

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from gateway.deps import DbSession
from gateway.parties.models import SEEDED_VALID_FROM, LegalBasis, Party
from tests.live import serve


def _slow_commits(engine: Engine) -> None:
    def delay(_connection: object) -> None:
        time.sleep(0.4)

    event.listen(engine, "commit", delay)


def test_a_stored_change_is_committed_when_the_answer_arrives(app: FastAPI) -> None:
    @app.post("/probe/party")
    def add_party(session: DbSession) -> dict[str, str]:
        party = Party(role="regulator", name="probe", client_id="probe-client", jwks={"keys": []})
        session.add(party)
        return {"id": party.id}

    engine: Engine = app.state.engine
    _slow_commits(engine)
    with serve(app) as base:
        created = httpx.post(f"{base}/probe/party", timeout=10).json()
        with Session(engine) as session:
            assert session.get(Party, created["id"]) is not None


def test_a_failed_commit_is_the_answer(app: FastAPI) -> None:
    @app.post("/probe/orphan")
    def add_orphan(session: DbSession) -> dict[str, str]:
        session.add(
            LegalBasis(
                party_id="no-such-party",
                code="x",
                title="x",
                categories=[],
                valid_from=SEEDED_VALID_FROM,
            )
        )
        return {"status": "stored"}

    with serve(app) as base:
        response = httpx.post(f"{base}/probe/orphan", timeout=10)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    with Session(app.state.engine) as session:
        assert session.exec(select(LegalBasis).where(LegalBasis.code == "x")).first() is None
