"""The inquiry routes served without the framework's dependency solving run exactly what it
would have run for them: the app's screen, then the channel's caller - the screen run with the
inquiry's reads, on the event loop or, when it may wait for more than a read, in one worker
thread with them, and the token's revocation read by the inquiry itself: a token revoked after
it was verified is refused 401 before anything is registered or counted, on every channel and
whatever the inquiry asked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import jwt
import pytest
from fastapi import FastAPI, routing
from sqlalchemy import event

from gateway import offload
from gateway.archive import service as archive_service
from gateway.archive.views import RenderedViews
from gateway.auth import inquirer, screen
from gateway.consents.repository import _GRANT_FILE_AND_TOKEN
from gateway.inquiries import reads as channel_reads
from gateway.oauth.repository import SqlRevokedTokens
from gateway.oauth.service import VerifiedTokens
from gateway.parties import accounts
from gateway.ratelimit import PUBLIC_LOOKUP
from gateway.routes.inquiries import CHANNELS, InquiryRoute
from gateway.storage.bridge import on_loop
from gateway.storage.reads import DriverReads, LoopReads, Query
from tests.gateway.factories import access_token
from tests.gateway.inquiries.factories import World
from tests.gateway.test_problems import assert_problem

T = TypeVar("T")


def test_the_routes_served_directly_declare_the_screen_and_their_caller_only(app: FastAPI) -> None:
    served = {}
    for context in routing.iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, InquiryRoute):
            channel = CHANNELS[route.path]
            declared = [dependency.call for dependency in context.dependant.dependencies]
            served[route.path] = route.direct_call(channel) is not None
            if served[route.path]:
                assert declared == [screen, inquirer(channel)], route.path
    assert served == {path: path != PUBLIC_LOOKUP for path in CHANNELS}


SERVED_BY = {
    "authorized": "establishment",
    "sharing": "agency",
    "authority": "agency",
    "self": "citizen",
}


@pytest.mark.parametrize("shared_budget", [False, True], ids=["budget-in-memory", "redis"])
def test_an_inquiry_hands_its_screen_and_its_reads_to_a_thread_only_when_the_screen_waits(
    world: World, monkeypatch: pytest.MonkeyPatch, shared_budget: bool
) -> None:
    """With the budget in memory the screen and the reads run on the event loop, on both
    stores; with a budget kept in Redis (a screen that may wait for it) they go to a worker
    thread together: one hand-over per inquiry."""
    asked = {
        channel: (world.request(channel), world.headers(persona))
        for channel, persona in SERVED_BY.items()
    }
    submitted: list[object] = []

    class Counting(ThreadPoolExecutor):
        def submit(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
            submitted.append(function)
            return super().submit(function, *args, **kwargs)

    monkeypatch.setattr(world.state.rate_limits, "shared", shared_budget)
    handed = {}
    with Counting(max_workers=2) as pool:
        monkeypatch.setattr(offload, "_POOL", pool)
        for channel, ((method, path, body), headers) in asked.items():
            before = len(submitted)
            response = world.client.request(method, path, json=body, headers=headers)
            assert response.status_code == 200, response.text
            handed[channel] = len(submitted) - before
    assert handed == dict.fromkeys(SERVED_BY, 1 if shared_budget else 0)


def test_on_postgresql_every_read_of_an_inquiry_is_awaited_on_the_event_loop(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every channel, its view rendered anew and its token verified in full: on PostgreSQL no
    statement blocks the event loop - each read is awaited on an asynchronous connection -;
    on SQLite the reads are made on the loop (they never wait for a writer)."""
    on_the_loop: list[str] = []
    awaited: list[str] = []
    engine = world.state.engine
    real_run, real_fetch = DriverReads.run, LoopReads.fetch_all

    def run(reads: DriverReads, read: Callable[[Any], T]) -> T:
        if on_loop():
            on_the_loop.append("driver read")
        return real_run(reads, read)

    async def fetch_all(reads: LoopReads, sql: str, parameters: Any) -> Sequence[Any]:
        awaited.append(sql)
        return await real_fetch(reads, sql, parameters)

    def executed(*_: object) -> None:
        if on_loop():
            on_the_loop.append("statement")

    monkeypatch.setattr(DriverReads, "run", run)
    monkeypatch.setattr(LoopReads, "fetch_all", fetch_all)
    monkeypatch.setattr(VerifiedTokens, "current", lambda *_: None)  # each verified in full
    monkeypatch.setattr(archive_service, "_RENDERED", RenderedViews())  # render every view
    event.listen(engine, "before_cursor_execute", executed)
    try:
        for channel, persona in {**SERVED_BY, "public": None}.items():
            method, path, body = world.request(channel)
            response = world.client.request(method, path, json=body, headers=world.headers(persona))
            assert response.status_code == 200, response.text
    finally:
        event.remove(engine, "before_cursor_execute", executed)
    if engine.dialect.name == "postgresql":
        assert on_the_loop == []
        assert len(awaited) >= len(SERVED_BY) + 1
    else:
        assert "driver read" in on_the_loop
        assert awaited == []


READS = {
    "authorized": [_GRANT_FILE_AND_TOKEN],
    "sharing": [channel_reads._SECTOR[1]],
    "authority": [channel_reads._BASES[1]],
    "self": [accounts._DOCUMENTS, channel_reads._NOTES[1]],
}


@pytest.mark.parametrize("channel", READS)
def test_once_its_view_is_kept_an_inquiry_reads_its_decision_file_and_token_in_one_statement(
    world: World, monkeypatch: pytest.MonkeyPatch, channel: str
) -> None:
    """Once the view is kept, an inquiry reads one statement: what its channel decides on (the
    grant, the requester's sector or legal bases, the notes about the citizen), the revision the
    view is kept by and whether its token is refused - a self inquiry after the citizen's
    identifier, which its subject key is computed from."""
    method, path, body = world.request(channel)
    headers = world.headers(SERVED_BY[channel])
    read: list[Query] = []
    real = DriverReads.all

    def counted(reads: DriverReads, query: Query, **parameters: Any) -> list[Any]:
        read.append(query)
        return real(reads, query, **parameters)

    monkeypatch.setattr(DriverReads, "all", counted)
    for _ in range(2):  # the first renders the view, the second finds it kept
        read.clear()
        response = world.client.request(method, path, json=body, headers=headers)
        assert response.status_code == 200, response.text
    assert read == READS[channel]


def test_a_token_revoked_after_its_verification_is_refused_on_every_channel(
    world: World,
) -> None:
    """Each channel's token serves one inquiry - verified in full, then remembered - and is
    revoked: its next inquiry is refused 401, with nothing registered and no use counted."""
    for channel in SERVED_BY:
        request = world.request(channel)
        headers = _fresh_headers(world, channel)
        assert world.send_with(request, headers).status_code == 200
        _revoke(world, headers)
        size = world.log_size()
        grant_id = (request[2] or {}).get("grant_id")
        uses = None if grant_id is None else world.uses(grant_id)
        refused = world.send_with(request, headers)
        assert assert_problem(refused, 401)["error"] == "invalid_token", channel
        assert refused.headers["www-authenticate"].startswith("Bearer "), channel
        assert world.log_size() == size, channel
        assert grant_id is None or world.uses(grant_id) == uses


def test_a_revoked_token_is_refused_whatever_its_inquiry_would_have_been_refused_for(
    world: World,
) -> None:
    """An inquiry that would be refused and registered - no such grant (nothing for the
    token's revocation to be read with), a purpose the grant does not name, a category outside
    the sharing scope (income) - is refused 401 instead when its token is revoked: the refusal of
    an unauthenticated caller is not registered."""
    grant_id = world.grant()
    asked = {
        "establishment": [
            world.authorized("g-no-such-grant"),
            world.authorized(grant_id, purpose="credit_card_approval"),
        ],
        "agency": [world.sharing(categories=["basic", "income"])],
    }
    for persona, requests in asked.items():
        headers = _fresh_headers(world, persona)
        for request in requests:  # registered refusals while the token is good
            response = world.send_with(request, headers)
            assert response.status_code in (403, 404, 422), response.text
        _revoke(world, headers)
        size = world.log_size()
        for request in requests:
            assert assert_problem(world.send_with(request, headers), 401)
        assert world.log_size() == size
    assert world.uses(grant_id) == 0


def _fresh_headers(world: World, channel_or_persona: str) -> dict[str, str]:
    """A token of its own (the module's are kept for other tests)."""
    persona = SERVED_BY.get(channel_or_persona, channel_or_persona)
    if persona == "citizen":
        token = world.flow.citizen_token()
    else:
        token = access_token(world.client, world.flow.credentials[persona])
    return {"Authorization": f"Bearer {token}"}


def _revoke(world: World, headers: dict[str, str]) -> None:
    token = headers["Authorization"].removeprefix("Bearer ")
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    SqlRevokedTokens(world.flow.engine).revoke(jti, datetime.now(UTC) + timedelta(hours=1))
