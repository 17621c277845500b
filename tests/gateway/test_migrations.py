"""Migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

import gateway.storage.tables  # noqa: F401  (registers every table)
from gateway.settings import Settings
from gateway.storage import migrate
from gateway.storage.db import make_engine


def test_migrated_schema_matches_the_models(migrated: Settings) -> None:
    engine = make_engine(migrated.resolved_database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent(migrated: Settings) -> None:
    migrate.upgrade(migrated.resolved_database_url)
    engine = make_engine(migrated.resolved_database_url)
    assert migrate.current_revisions(engine) == migrate.head_revisions(
        migrated.resolved_database_url
    )
    engine.dispose()


DISCLOSE = "INSERT INTO disclosures (leaf_index, record_id, requester) VALUES (:l, :r, :q)"


def test_disclosures_keep_every_row_when_keyed_by_record(database_url: str) -> None:
    """0034 changes the key of ``disclosures`` (record, then leaf) and drops the index on the
    record alone; both ways, every row stays as it was."""
    rows = [(1, "rec-a", "bank-1"), (2, "rec-a", "bank-2"), (2, "rec-b", "bank-2")]
    config = migrate.alembic_config(database_url)
    command.upgrade(config, "0007_rights")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(DISCLOSE),
                [{"l": leaf, "r": record, "q": requester} for leaf, record, requester in rows],
            )
        command.upgrade(config, "heads")
        assert _disclosures(engine) == rows
        assert _keys(engine) == (["record_id", "leaf_index"], [])
        command.downgrade(config, "0007_rights")
        assert _disclosures(engine) == rows
        assert _keys(engine) == (["leaf_index", "record_id"], [["record_id"]])
    finally:
        engine.dispose()


def _disclosures(engine: Engine) -> list[tuple[int, str, str]]:
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT leaf_index, record_id, requester FROM disclosures ORDER BY 1, 2")
        )
        return [(int(leaf), record, requester) for leaf, record, requester in found]


def _keys(engine: Engine) -> tuple[list[str], list[list[str | None]]]:
    """The primary key's columns and each index's."""
    found = inspect(engine)
    indexes = [index["column_names"] for index in found.get_indexes("disclosures")]
    return found.get_pk_constraint("disclosures")["constrained_columns"], indexes
