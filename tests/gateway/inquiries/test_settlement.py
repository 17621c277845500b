"""An authorized inquiry's use is counted in the transaction of its audit entry (Art. 61(2)):
exactly ``max_uses`` of many concurrent inquiries are served, each with its allowed entry, and a
lifecycle change holding the grant's row (PostgreSQL) denies the inquiry instead of stalling
the log."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

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
