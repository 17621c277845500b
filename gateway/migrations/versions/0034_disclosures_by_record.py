"""Disclosures keyed by record, then by inquiry (Art. 67): the notices look them up by record,
so the key serves them and the index on the record alone goes. Each authorized inquiry wrote
each of its records into the table and two indexes; it now writes them into the table and one.
Every row is kept as it was. The key is rebuilt: SQLite copies the table, PostgreSQL builds the
new key's index holding the table's exclusive lock - on a large table, an upgrade to plan for.

Revision ID: 0034_disclosures_by_record
Revises: 0007_rights
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0034_disclosures_by_record"
down_revision = "0007_rights"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _rekey(["record_id", "leaf_index"], index=False)


def downgrade() -> None:
    _rekey(["leaf_index", "record_id"], index=True)


def _rekey(key: list[str], *, index: bool) -> None:
    """The table's primary key made ``key``, with or without the index on the record alone;
    on SQLite by copying the table (it cannot alter a key), on PostgreSQL in place."""
    with op.batch_alter_table("disclosures", recreate="auto") as table:
        if index:
            table.create_index("ix_disclosures_record_id", ["record_id"])
        else:
            table.drop_index("ix_disclosures_record_id")
        if op.get_bind().dialect.name != "sqlite":  # the copy takes the new key in its place
            table.drop_constraint("disclosures_pkey", type_="primary")
        table.create_primary_key("disclosures_pkey", key)
