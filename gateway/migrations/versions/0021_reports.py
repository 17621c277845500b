"""Issued credit reports (Art. 39 para. 5).

Revision ID: 0021_reports
Revises: 0005_archive
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.storage.types import UTCDateTime

revision = "0021_reports"
down_revision = "0005_archive"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issued_reports",
        sa.Column("number", sa.String(32), primary_key=True),
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("citizen_id", sa.String(64), nullable=False),
        sa.Column("use", sa.String(32), nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("issued_at", UTCDateTime, nullable=False),
        sa.Column("valid_until", UTCDateTime, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("superseded_by", sa.String(32)),
        sa.Column("jws", sa.Text),
        sa.Column("leaf_index", sa.BigInteger, nullable=False),
        sa.Column("changed_at", UTCDateTime, nullable=False),
    )
    op.create_index(
        "ix_issued_reports_subject_key", "issued_reports", ["subject_key", "issued_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_issued_reports_subject_key", table_name="issued_reports")
    op.drop_table("issued_reports")
