"""An authorized inquiry's use is counted in the transaction of its audit entry (Art. 61(2)):
exactly ``max_uses`` of many concurrent inquiries are served, each with its allowed entry - also
when several inquiries of one batch of the log use one grant, whether PostgreSQL's event loop
writes the batch or, when a grant cannot cover all its uses, the thread - and a lifecycle
change holding the grant's row (PostgreSQL) denies the inquiry instead of stalling the log. An
inquiry whose client goes away while it waits for the log is registered all the same."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, event
from sqlmodel import Session, col, select

from audit.errors import AuditUnavailable
from audit.leaf import Outcome, encode
from audit.merkle import leaf_hash
from audit.sequencer import Batch
from consent.inquiry import Inquiry
from gateway.audit_log.repository import Companion, LoopLogStore, Settlement, SqlLogStore
from gateway.consents.repository import SqlGrantStore
from gateway.inquiries.service import CountedUse
from gateway.rights.models import Disclosure
from gateway.storage.db import unit_of_work
from gateway.storage.reads import LoopWrites
from tests.gateway.audit.factories import entry
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
    free = world.grant()
    uses = [_use(world, grant_id), _use(world, free), _use(world, grant_id), _use(world, free)]
    with unit_of_work(world.flow.engine) as lifecycle_change:
        assert SqlGrantStore(lifecycle_change).find(grant_id, lock=True) is not None
        _settle_together(world, uses)  # the batch's count does not wait for the row either
    assert _reasons(uses) == ["concurrent_change", None, "concurrent_change", None]
    assert world.uses(grant_id) == 1 and world.uses(free) == 2


def test_a_batch_counts_each_use_of_a_grant_and_denies_those_beyond_its_limit(
    world: World, in_thread: list[int]
) -> None:
    """Several inquiries of one batch use one grant: every use counts, as if they came one
    after the other - a grant with uses to spare and one the batch uses up exactly serve all;
    one with fewer left than asked serves the first ones and denies the others alone, and only
    the inquiries served have their records written as received. On PostgreSQL the event
    loop's transaction, which counts all or none, rolls back and the thread writes the batch."""
    ample, exact, short = world.grant(max_uses=5), world.grant(max_uses=2), world.grant(max_uses=2)
    grants = [short, ample, exact, short, ample, short, exact, short, ample]
    uses = [_use(world, grant_id) for grant_id in grants]
    in_thread.clear()  # the grants' own entries
    start = _settle_together(world, uses)
    assert _reasons(uses) == [None] * 5 + ["exhausted", None, "exhausted", None]
    assert [world.uses(grant_id) for grant_id in (ample, exact, short)] == [3, 2, 2]
    served = [start + offset for offset, use in enumerate(uses) if use.denial is None]
    assert _disclosed(world, start, len(uses)) == served
    assert in_thread == [len(uses)]


def test_a_batch_whose_grants_cover_all_its_uses_is_written_as_one_by_one_would(
    world: World, in_thread: list[int]
) -> None:
    """On PostgreSQL the event loop writes it, its uses counted in one statement sent with the
    COMMIT, and no thread; the counts and the records received are those of one by one."""
    ample, exact = world.grant(max_uses=5), world.grant(max_uses=2)
    uses = [_use(world, grant_id) for grant_id in (ample, exact, ample, exact, ample)]
    in_thread.clear()  # the grants' own entries
    start = _settle_together(world, uses)
    assert _reasons(uses) == [None] * 5
    assert [world.uses(grant_id) for grant_id in (ample, exact)] == [3, 2]
    assert _disclosed(world, start, len(uses)) == list(range(start, start + len(uses)))
    assert in_thread == ([] if _on_the_loop(world) else [len(uses)])


def test_a_failed_settlement_of_the_batch_leaves_the_use_counts_exact(world: World) -> None:
    """When another settlement of the batch raises, the batch's settlements run again one by one:
    the failing one fails alone, the uses are counted once each and the grant's limit holds."""
    short = world.grant(max_uses=2)

    def failing(session: Session, leaf_index: int) -> None:
        raise RuntimeError("a settlement that fails")

    uses = [_use(world, short) for _ in range(3)]
    store, hashes, start = _store_settling(world, [uses[0], failing, uses[1], uses[2]])
    with pytest.raises(AuditUnavailable):
        store.settled(hashes[1])
    for hashed in hashes[:1] + hashes[2:]:
        store.settled(hashed)
    assert _reasons(uses) == [None, None, "exhausted"]
    assert world.uses(short) == 2
    assert _disclosed(world, start, len(hashes)) == [start, start + 2]


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


def _use(world: World, grant_id: str) -> CountedUse:
    """The settlement of an inquiry the grant covers, decided now."""
    with unit_of_work(world.flow.engine) as session:
        grant = SqlGrantStore(session).get(grant_id)
    assert grant is not None
    categories = frozenset({"basic"})
    inquiry = Inquiry(grant_id, grant.requester, grant.subject_key, grant.purpose, categories)
    return CountedUse(inquiry, datetime.now(UTC), (f"record-of-{grant_id}", "record-2"))


def _store_settling(
    world: World, settlements: Sequence[Settlement]
) -> tuple[SqlLogStore, list[bytes], int]:
    """The log's store after it wrote one batch of entries with ``settlements``, as the
    sequencer hands it a batch; with the entries' leaf hashes and the index of the first."""
    store = SqlLogStore(world.flow.engine)
    leaves = tuple(encode(entry(number)[0]) for number in range(len(settlements)))
    hashes = tuple(map(leaf_hash, leaves))
    for hashed, settlement in zip(hashes, settlements, strict=True):
        store.expect(hashed, Companion(settlement=settlement))
    batch = Batch(leaves, hashes)
    if not _on_the_loop(world):
        return store, list(hashes), store.append_batch(batch)

    async def on_the_loop() -> int:
        loop_store = LoopLogStore(store, LoopWrites(world.flow.engine))
        try:
            return await loop_store.append_batch(batch)
        finally:
            await loop_store.close()

    return store, list(hashes), asyncio.run(on_the_loop())


def _on_the_loop(world: World) -> bool:
    """Whether a serving process writes an inquiry's batch on its event loop: PostgreSQL."""
    return world.flow.engine.dialect.name == "postgresql"


@pytest.fixture
def in_thread(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The batches the thread's transaction wrote (:meth:`SqlLogStore.append_pending`), by
    size."""
    written: list[int] = []
    real = SqlLogStore.append_pending

    def counted(self: SqlLogStore, pending: Any) -> int:
        written.append(len(pending.batch.leaves))
        return real(self, pending)

    monkeypatch.setattr(SqlLogStore, "append_pending", counted)
    return written


def _settle_together(world: World, uses: Sequence[CountedUse]) -> int:
    store, hashes, start = _store_settling(world, uses)
    for hashed in hashes:
        store.settled(hashed)
    return start


def _reasons(uses: Sequence[CountedUse]) -> list[str | None]:
    return [None if use.denial is None else use.denial.reason for use in uses]


def _disclosed(world: World, start: int, count: int) -> list[int]:
    """The entries among ``count`` from ``start`` whose inquiry's records are recorded as
    received (each with both its records)."""
    with unit_of_work(world.flow.engine) as session:
        rows = session.exec(
            select(Disclosure).where(
                col(Disclosure.leaf_index) >= start, col(Disclosure.leaf_index) < start + count
            )
        ).all()
    leaves = sorted({row.leaf_index for row in rows})
    assert len(rows) == 2 * len(leaves)
    return leaves
