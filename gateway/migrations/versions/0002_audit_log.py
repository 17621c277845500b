"""Audit log: leaves, stored hashes, checkpoints, and the openings retention may delete.

Revision ID: 0002_audit
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.storage.types import UTCDateTime

revision = "0002_audit"
down_revision = "0001"
branch_labels = None
depends_on = None

# 64-bit on PostgreSQL; INTEGER PRIMARY KEY (the rowid) on SQLite.
LOG_INDEX = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _index(name: str) -> sa.Column[int]:
    return sa.Column(name, LOG_INDEX, primary_key=True, autoincrement=False)


def upgrade() -> None:
    op.create_table(
        "audit_leaves",
        _index("leaf_index"),
        sa.Column("leaf", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "audit_hashes",
        _index("hash_index"),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "audit_checkpoints",
        _index("tree_size"),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "audit_openings",
        _index("leaf_index"),
        sa.Column("subject_salt", sa.LargeBinary, nullable=False),
        sa.Column("response_salt", sa.LargeBinary),
    )


def downgrade() -> None:
    op.drop_table("audit_openings")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_hashes")
    op.drop_table("audit_leaves")
