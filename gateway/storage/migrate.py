"""Alembic migrations, run programmatically; the app refuses an unmigrated database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from problems import ServiceUnavailable

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class SchemaNotCurrent(ServiceUnavailable):
    title = "Database schema not current"
    slug = "schema-not-current"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "heads")


def head_revisions(url: str) -> str:
    """The revisions the code needs, as one comma-separated line (one per migration branch)."""
    heads = ScriptDirectory.from_config(alembic_config(url)).get_heads()
    return ",".join(sorted(heads))


def current_revisions(engine: Engine) -> str | None:
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) or None


def require_current(engine: Engine) -> None:
    """Raise with a one-line explanation unless the schema is at the latest migrations."""
    url = engine.url.render_as_string(hide_password=False)
    current, head = current_revisions(engine), head_revisions(url)
    if current != head:
        raise SchemaNotCurrent(
            f"database schema is at {current or 'no revision'}, the code needs {head}: "
            "run `gateway db upgrade` first"
        )
