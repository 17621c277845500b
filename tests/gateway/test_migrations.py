"""Migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
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
