"""Tampering with the stored log is detected (Art. 61(3)), by ``gateway audit verify``.

Each mutation edits the database as an insider with SQL access would: a leaf, a stored hash or
a checkpoint changed, deleted, reordered or inserted. ``verify --local`` (leaves, stored
hashes and checkpoints) must fail on every one; ``verify --export`` of an export taken after
the mutation must fail on every one that the export carries (leaves and checkpoints).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, Table, delete, insert, select, update
from typer.testing import CliRunner, Result

from gateway.audit_log.models import CHECKPOINTS, HASHES, LEAVES
from gateway.audit_log.repository import latest_verification
from gateway.cli import app
from gateway.settings import Settings
from gateway.storage.db import make_engine
from tests.gateway.audit.factories import append_entries, audit_log_of

runner = CliRunner()
SIZES = (5, 12, 20)
TABLES = (LEAVES, HASHES, CHECKPOINTS)
Mutation = Callable[[Connection], None]


def _shift(connection: Connection, table: Table, key: str, start: int, by: int) -> None:
    column = table.c[key]
    connection.execute(update(table).where(column >= start).values({key: column + 1000}))
    connection.execute(update(table).where(column >= 1000).values({key: column - 1000 + by}))


def change_leaf(connection: Connection) -> None:
    connection.execute(update(LEAVES).where(LEAVES.c.leaf_index == 7).values(leaf=b"forged"))


def delete_leaf(connection: Connection) -> None:
    connection.execute(delete(LEAVES).where(LEAVES.c.leaf_index == 7))
    _shift(connection, LEAVES, "leaf_index", 8, -1)


def delete_last_leaf(connection: Connection) -> None:
    connection.execute(delete(LEAVES).where(LEAVES.c.leaf_index == 19))


def swap_leaves(connection: Connection) -> None:
    for old, new in ((3, -1), (4, 3), (-1, 4)):
        connection.execute(update(LEAVES).where(LEAVES.c.leaf_index == old).values(leaf_index=new))


def insert_leaf(connection: Connection) -> None:
    _shift(connection, LEAVES, "leaf_index", 10, 1)
    leaf = connection.execute(select(LEAVES.c.leaf, LEAVES.c.created_at).limit(1)).one()
    connection.execute(
        insert(LEAVES), {"leaf_index": 10, "leaf": leaf.leaf, "created_at": leaf.created_at}
    )


def change_hash(connection: Connection) -> None:
    connection.execute(update(HASHES).where(HASHES.c.hash_index == 9).values(hash=bytes(32)))


def delete_hash(connection: Connection) -> None:
    connection.execute(delete(HASHES).where(HASHES.c.hash_index == 9))


def change_checkpoint(connection: Connection) -> None:
    note = connection.execute(select(CHECKPOINTS.c.note).where(CHECKPOINTS.c.tree_size == 12))
    origin, size, root, rest = note.scalar_one().split("\n", 3)
    forged = "\n".join([origin, size, ("B" if root[0] == "A" else "A") + root[1:], rest])
    connection.execute(update(CHECKPOINTS).where(CHECKPOINTS.c.tree_size == 12).values(note=forged))


def delete_checkpoint(connection: Connection) -> None:
    connection.execute(delete(CHECKPOINTS).where(CHECKPOINTS.c.tree_size == 12))


def delete_latest_checkpoint(connection: Connection) -> None:
    connection.execute(delete(CHECKPOINTS).where(CHECKPOINTS.c.tree_size == 20))


def swap_checkpoints(connection: Connection) -> None:
    rows = connection.execute(select(CHECKPOINTS.c.tree_size, CHECKPOINTS.c.note)).all()
    notes = {row.tree_size: row.note for row in rows}
    for size, other in ((5, 12), (12, 5)):
        connection.execute(
            update(CHECKPOINTS).where(CHECKPOINTS.c.tree_size == size).values(note=notes[other])
        )


IN_EXPORTS = (
    change_leaf,
    delete_leaf,
    delete_last_leaf,
    swap_leaves,
    insert_leaf,
    change_checkpoint,
    delete_checkpoint,
    delete_latest_checkpoint,
    swap_checkpoints,
)
ONLY_LOCAL = (change_hash, delete_hash)


@pytest.fixture
def env(migrated: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A 20-entry log with checkpoints at 5, 12 and 20, each verified once (in the state)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GATEWAY_VAR_DIR", str(migrated.var_dir))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", migrated.resolved_database_url)
    with audit_log_of(migrated) as audit_log:
        for before, size in zip((0, *SIZES), SIZES, strict=False):
            append_entries(audit_log, size - before, first=before)
            audit_log.publish_now()
            assert verify("--local").exit_code == 0
    engine = make_engine(migrated.resolved_database_url)
    with engine.begin() as connection:  # keep only the three checkpoints the test names
        connection.execute(delete(CHECKPOINTS).where(CHECKPOINTS.c.tree_size.not_in(SIZES)))
    yield engine
    engine.dispose()


def verify(*source: str) -> Result:
    return runner.invoke(app, ["audit", "verify", *source, "--state", "state.json"])


def verify_export() -> Result:
    """Export the database as it is now, then verify the export with the pinned key."""
    exported = runner.invoke(app, ["audit", "export", "--output", "log.jsonl"])
    return exported if exported.exit_code else verify("--export", "log.jsonl")


@contextmanager
def mutated(engine: Engine, mutation: Mutation) -> Iterator[None]:
    """Apply ``mutation``; put every row back afterwards."""
    with engine.connect() as connection:
        rows = {table.name: connection.execute(select(table)).mappings().all() for table in TABLES}
    with engine.begin() as connection:
        mutation(connection)
    try:
        yield
    finally:
        with engine.begin() as connection:
            for table in TABLES:
                connection.execute(delete(table))
                connection.execute(insert(table), [dict(row) for row in rows[table.name]])


def assert_detected(result: Result, mutation: Mutation) -> None:
    assert result.exit_code == 1, f"{mutation.__name__} was not detected:\n{result.output}"
    assert result.stderr.startswith("verification FAILED: "), result.stderr


def test_the_untouched_log_verifies_both_ways(env: Engine) -> None:
    local = verify("--local")
    assert local.exit_code == 0, local.output
    assert "leaves          20" in local.stdout
    assert "stored hashes   38 match the leaves" in local.stdout
    assert verify_export().exit_code == 0


def test_every_mutation_is_detected(env: Engine) -> None:
    for mutation in IN_EXPORTS + ONLY_LOCAL:
        with mutated(env, mutation):
            assert_detected(verify("--local"), mutation)
            if mutation in IN_EXPORTS:
                assert_detected(verify_export(), mutation)
        assert verify("--local").exit_code == 0, f"{mutation.__name__} was not undone"


def test_each_local_run_is_recorded_for_the_regulator_console(env: Engine) -> None:
    assert verify("--local").exit_code == 0
    with env.connect() as connection:
        passed = latest_verification(connection)
    assert passed is not None and (passed.passed, passed.tree_size) == (True, 20)
    with mutated(env, change_leaf):
        result = verify("--local")
        assert_detected(result, change_leaf)
    with env.connect() as connection:
        failed = latest_verification(connection)
    assert failed is not None and (failed.passed, failed.tree_size) == (False, None)
    assert result.stderr == f"verification FAILED: {failed.detail}\n"
