"""Witness cosignatures of the audit log's checkpoints (C2SP tlog-cosignature/v1).

Revision ID: 0008_cosignatures
Revises: 0006_access_log
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.storage.types import UTCDateTime

revision = "0008_cosignatures"
down_revision = "0006_access_log"
branch_labels = None
depends_on = None

# 64-bit on PostgreSQL; INTEGER on SQLite (as the other tables of the log).
LOG_INDEX = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_cosignatures",
        sa.Column("tree_size", LOG_INDEX, primary_key=True, autoincrement=False),
        sa.Column("witness_key", sa.String(255), primary_key=True),
        sa.Column("signature_line", sa.Text, nullable=False),
        sa.Column("cosigned_at", sa.BigInteger, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_cosignatures")
