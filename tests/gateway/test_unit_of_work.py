"""The request's unit of work commits before the response leaves, or the response is an error."""

from __future__ import annotations

import time

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from gateway.deps import DbSession
from gateway.parties.models import SEEDED_VALID_FROM, LegalBasis, Party
from gateway.storage.db import kept_unit_of_work
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


# -- the unit of work a thread keeps its session for ------------------------------------------


def _probe_party(name: str) -> Party:
    return Party(role="regulator", name=name, client_id=f"{name}-client", jwks={"keys": []})


def test_a_kept_unit_starts_as_a_new_one_would(app: FastAPI) -> None:
    engine: Engine = app.state.engine
    with kept_unit_of_work(engine) as first:
        party = _probe_party("kept")
        first.add(party)
    with kept_unit_of_work(engine) as second:
        assert second is first
        assert not second.in_transaction() and not second.identity_map
        loaded = second.get(Party, party.id)
        assert loaded is not None and loaded.name == "kept"  # the first unit committed
    with Session(engine) as other:
        renamed = other.get(Party, party.id)
        assert renamed is not None
        renamed.name = "renamed"
        other.commit()
    with kept_unit_of_work(engine) as third:
        assert third is first
        reloaded = third.get(Party, party.id)
        assert reloaded is not None and reloaded.name == "renamed"  # nothing stale kept


def test_a_kept_unit_that_fails_stores_nothing_and_the_next_one_works(app: FastAPI) -> None:
    engine: Engine = app.state.engine
    with pytest.raises(RuntimeError), kept_unit_of_work(engine) as failing:
        failing.add(_probe_party("failed"))
        failing.flush()
        raise RuntimeError("the unit fails after its write")
    with kept_unit_of_work(engine) as next_unit:
        assert next_unit is failing
        assert next_unit.exec(select(Party).where(Party.name == "failed")).first() is None


def test_a_kept_unit_begun_inside_another_gets_its_own_session(app: FastAPI) -> None:
    engine: Engine = app.state.engine
    with kept_unit_of_work(engine) as kept:
        pass
    with kept_unit_of_work(engine) as outer:
        assert outer is kept
        outer.add(_probe_party("outer"))
        outer.flush()
        with kept_unit_of_work(engine) as inner:
            assert inner is not outer
        assert outer.in_transaction()  # the inner unit's end did not end the outer's
    with Session(engine) as other:
        assert other.exec(select(Party).where(Party.name == "outer")).first() is not None
