"""The console's index of the audit log, and the record of local verifier runs.

Revision ID: 0031_oversight_index
Revises: 0031_console
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.storage.types import UTCDateTime

revision = "0031_oversight_index"
down_revision = "0031_console"
branch_labels = None
depends_on = None

LOG_INDEX = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "oversight_entries",
        sa.Column("leaf_index", LOG_INDEX, primary_key=True, autoincrement=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("day", sa.Date, nullable=False, index=True),
        sa.Column("hour", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("requester", sa.String(64), nullable=False, index=True),
        sa.Column("purpose", sa.String(128), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_verifications",
        sa.Column("verification_id", sa.Integer, primary_key=True),
        sa.Column("verified_at", UTCDateTime, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("tree_size", sa.BigInteger),
        sa.Column("detail", sa.String(500), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_verifications")
    op.drop_table("oversight_entries")
