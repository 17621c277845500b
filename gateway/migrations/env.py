"""Alembic environment: one URL from the gateway's settings, for SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import context

from gateway.storage.db import make_engine

url = context.config.get_main_option("sqlalchemy.url")
if url is None:
    raise RuntimeError("sqlalchemy.url is not set")

engine = make_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        render_as_batch=connection.dialect.name == "sqlite",
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
