"""An authorized inquiry's use is counted in the transaction of its audit entry (Art. 61(2)):
exactly ``max_uses`` of many concurrent inquiries are served, each with its allowed entry, and a
lifecycle change holding the grant's row (PostgreSQL) denies the inquiry instead of stalling
the log. An inquiry whose client goes away while it waits for the log is registered all the
same."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import Connection, event

from audit.leaf import Outcome
from gateway.consents.repository import SqlGrantStore
from gateway.storage.db import unit_of_work
from tests.gateway.inquiries.factories import World
from tests.gateway.test_problems import assert_problem

CONCURRENT = 12
MAX_USES = 3


def test_exactly_max_uses_of_concurrent_inquiries_are_served(world: World) -> None:
    grant_id = world.grant(max_uses=MAX_USES)
    _, path, body = world.authorized(grant_id)
    headers = world.headers("establishment")
    before = world.log_size()
    start = threading.Barrier(CONCURRENT)

    def attempt(_: int) -> httpx.Response:
        start.wait()
        response: httpx.Response = world.client.post(path, json=body, headers=headers)
        return response

    with ThreadPoolExecutor(CONCURRENT) as pool:
        responses = list(pool.map(attempt, range(CONCURRENT)))
    served = [response.json()["audit"] for response in responses if response.status_code == 200]
    refused = [assert_problem(r, 403)["reason"] for r in responses if r.status_code != 200]
    assert len(served) == MAX_USES and set(refused) == {"exhausted"}
    assert world.uses(grant_id) == MAX_USES
    assert all(world.event(receipt["leaf_index"]).outcome is Outcome.ALLOWED for receipt in served)
    denied = [world.event(index) for index in range(before, world.log_size())]
    assert [e.reason_code for e in denied if e.outcome is Outcome.DENIED] == refused


def test_a_grant_held_by_a_lifecycle_change_denies_the_inquiry(world: World) -> None:
    """The log's transaction does not wait for a grant row another transaction holds: that
    one may be waiting for its own entry in the very batch (PostgreSQL row locks)."""
    if world.flow.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: a transaction that writes holds the whole database")
    grant_id = world.grant()
    with unit_of_work(world.flow.engine) as lifecycle_change:
        assert SqlGrantStore(lifecycle_change).find(grant_id, lock=True) is not None
        response = world.send(world.authorized(grant_id), "establishment")
    assert assert_problem(response, 403)["reason"] == "concurrent_change"
    assert world.event(world.log_size() - 1).reason_code == "concurrent_change"
    assert world.uses(grant_id) == 0
    assert world.send(world.authorized(grant_id), "establishment").status_code == 200


def test_a_request_cancelled_while_it_waits_for_the_log_is_registered_whole(
    world: World,
) -> None:
    """The client goes away while its inquiry waits for the log, and the grant expires
    meanwhile: the registration goes on - the allowed entry, then the denial of the use the
    grant no longer covers - though nobody is answered."""
    grant_id = world.grant()
    _, path, body = world.authorized(grant_id)
    headers = world.headers("establishment")
    before = world.log_size()
    entered, release = threading.Event(), threading.Event()

    def hold_the_log(_connection: Connection) -> None:
        if threading.current_thread().name == "audit-sequencer" and not release.is_set():
            entered.set()
            release.wait()

    async def cancelled() -> None:
        transport = httpx.ASGITransport(app=world.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            request = asyncio.create_task(client.post(path, json=body, headers=headers))
            assert await asyncio.to_thread(entered.wait, 30)  # its entry's batch has started
            world.expire(grant_id)
            request.cancel()
            with pytest.raises(asyncio.CancelledError):
                await request
        release.set()
        registering = asyncio.all_tasks() - {asyncio.current_task()}
        await asyncio.gather(*registering, return_exceptions=True)  # nobody to answer

    event.listen(world.flow.engine, "begin", hold_the_log)
    try:
        asyncio.run(cancelled())
    finally:
        release.set()
        event.remove(world.flow.engine, "begin", hold_the_log)
    events = [world.event(index) for index in range(before, world.log_size())]
    assert [(e.grant_id, e.outcome, e.reason_code) for e in events] == [
        (grant_id, Outcome.ALLOWED, ""),
        (grant_id, Outcome.DENIED, "expired"),
    ]
    assert world.uses(grant_id) == 0
