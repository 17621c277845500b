"""Lenient designation (Art. 26 para. 2) on record versions; the subjects' own statements,
self-declarations and pledges attached to their records (Art. 37 para. 2).

Revision ID: 0014_rules_archive
Revises: 0005_archive
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.storage.types import UTCDateTime

revision = "0014_rules_archive"
down_revision = "0005_archive"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("record_versions", sa.Column("corrected_on", sa.Date))
    op.add_column("record_versions", sa.Column("lenient", sa.JSON))
    op.create_table(
        "subject_statements",
        sa.Column("statement_id", sa.String(40), primary_key=True),
        sa.Column("subject_key", sa.String(64), nullable=False, index=True),
        sa.Column(
            "record_id", sa.String(40), sa.ForeignKey("records.record_id"), nullable=False
        ),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("text", sa.String(1000), nullable=False),
        sa.Column("made_at", UTCDateTime, nullable=False),
        sa.Column("leaf_index", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("subject_statements")
    op.drop_column("record_versions", "lenient")
    op.drop_column("record_versions", "corrected_on")
