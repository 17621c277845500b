"""The credit archive: subjects (the only raw identifiers), records, append-only versions.

Revision ID: 0005_archive
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.storage.types import UTCDateTime

revision = "0005_archive"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_subjects",
        sa.Column("subject_key", sa.String(64), primary_key=True),
        sa.Column("identifier_kind", sa.String(16), nullable=False),
        sa.Column("identifier_value", sa.String(64), nullable=False),
        sa.Column("document_type", sa.String(32)),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "records",
        sa.Column("record_id", sa.String(40), primary_key=True),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("provider_record_id", sa.String(128), nullable=False),
        sa.Column(
            "subject_key",
            sa.String(64),
            sa.ForeignKey("credit_subjects.subject_key"),
            index=True,
        ),
        sa.Column("item_code", sa.String(64), nullable=False),
        sa.Column("catalog_version", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("under_objection", sa.Boolean, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("purged_at", UTCDateTime),
        sa.UniqueConstraint(
            "provider", "provider_record_id", name="uq_records_provider_record_id"
        ),
    )
    op.create_index(
        "ix_records_item_code_period_start", "records", ["item_code", "period_start"]
    )
    op.create_table(
        "record_versions",
        sa.Column(
            "record_id", sa.String(40), sa.ForeignKey("records.record_id"), primary_key=True
        ),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("fields", sa.JSON),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("decided_on", sa.Date),
        sa.Column("basis", sa.JSON),
        sa.Column("written_consent_ref", sa.String(128)),
        sa.Column("reason", sa.String(500)),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("basis_status", sa.String(16)),
        sa.Column("basis_changed_on", sa.Date),
        sa.Column("notice_on", sa.Date),
        sa.Column("leaf_index", sa.BigInteger),
        sa.Column("changed_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("record_versions")
    op.drop_index("ix_records_item_code_period_start", "records")
    op.drop_table("records")
    op.drop_table("credit_subjects")
