"""The uses of a batch of the audit log are counted in one statement that reaches each grant by
its key, on either store, whatever the planner knows of the table: on a PostgreSQL table never
analyzed, a statement that also let it use the index on state and expiry read every active
grant for every batch (14 ms with 260 grants, 56 ms with 104,000), under the log's lock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select
from sqlmodel import Session

from consent.requests import new_grant_id
from gateway.consents.repository import GRANTS, SqlGrantStore, _count_uses
from tests.gateway.consents.factories import Flow

ACTIVE_GRANTS = 3000
ASKED = 4


def test_the_batch_count_reaches_each_grant_by_its_key(flow: Flow) -> None:
    asked = _active_grants(flow)[:ASKED]
    with flow.engine.connect() as connection:
        if connection.dialect.name == "postgresql":  # as if never analyzed
            connection.exec_driver_sql(
                "DELETE FROM pg_statistic WHERE starelid = 'consent_grants'::regclass"
            )
            connection.commit()
        statement, parameters = _count_statement(connection, asked)
        reached = _grant_accesses(connection, statement, parameters)
        connection.rollback()
    assert reached and all(access == "by key" for access in reached), reached


def _active_grants(flow: Flow) -> list[str]:
    """``ACTIVE_GRANTS`` active grants: copies of one approved."""
    grant_id = flow.active()
    with flow.engine.begin() as connection:
        row = connection.execute(select(GRANTS).where(GRANTS.c.grant_id == grant_id)).one()
        copies = [{**row._asdict(), "grant_id": new_grant_id()} for _ in range(ACTIVE_GRANTS)]
        connection.execute(insert(GRANTS), copies)
    return [copy["grant_id"] for copy in copies]


def _count_statement(connection: Connection, asked: Sequence[str]) -> tuple[str, Any]:
    """The SQL and the parameters the batch count sends to the driver for ``asked`` (the
    statement run at the driver level, as :meth:`SqlGrantStore.consume_uses` runs it)."""
    now = datetime.now(UTC)
    uses = {grant_id: 1 for grant_id in asked}
    compiled = _count_uses(connection.dialect.name, skip_locked=True).compiled(connection.dialect)
    given = {"asked": orjson.dumps(uses).decode(), "first": now, "last": now}
    store = SqlGrantStore(Session(bind=connection), skip_locked=True)
    assert store.consume_uses(uses, now, now) == set(asked)
    return compiled.sql, compiled.parameters(given)


def _grant_accesses(connection: Connection, statement: str, parameters: Any) -> list[str]:
    """How the plan of ``statement`` reads the grants table: "by key", or how else."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        details = [row[-1] for row in rows if " consent_grants" in row[-1]]
        return ["by key" if "(grant_id=?)" in detail else detail for detail in details]
    plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
    return [
        "by key" if _index(node) == "consent_grants_pkey" else node["Node Type"]
        for node in _nodes(plan.scalar_one()[0]["Plan"])
        if node.get("Relation Name") == "consent_grants" and node["Node Type"] != "ModifyTable"
    ]


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", []) for n in _nodes(child))]


def _index(node: dict[str, Any]) -> str | None:
    """The index a scan reads by (a bitmap heap scan: its bitmap index scan's)."""
    if node["Node Type"] == "Bitmap Heap Scan":
        return _index(node["Plans"][0])
    name: str | None = node.get("Index Name")
    return name
