"""Subject rights: objections, disclosures, deletion notices, restorations, job leases.

Revision ID: 0007_rights
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.storage.types import UTCDateTime

revision = "0007_rights"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "objections",
        sa.Column("objection_id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("citizen_id", sa.String(64), nullable=False),
        sa.Column("subject_key", sa.String(64), nullable=False, index=True),
        sa.Column("record_id", sa.String(40), index=True),
        sa.Column("item_code", sa.String(64)),
        sa.Column("holder", sa.String(64), nullable=False, index=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("attachment_ref", sa.String(200)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("filed_at", UTCDateTime, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("filed_leaf", sa.BigInteger, nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("answer_reason", sa.String(500)),
        sa.Column("answered_at", UTCDateTime),
        sa.Column("answered_leaf", sa.BigInteger),
        sa.Column("overdue_leaf", sa.BigInteger),
    )
    op.create_index("ix_objections_state_due_on", "objections", ["state", "due_on"])
    op.create_table(
        "disclosures",
        sa.Column("leaf_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("record_id", sa.String(40), primary_key=True, index=True),
        sa.Column("requester", sa.String(64), nullable=False),
    )
    op.create_table(
        "deletion_notices",
        sa.Column("notice_id", sa.String(40), primary_key=True),
        sa.Column("recipient", sa.String(64), nullable=False, index=True),
        sa.Column("record_id", sa.String(40), nullable=False),
        sa.Column("item_code", sa.String(64), nullable=False),
        sa.Column("subject_key", sa.String(64)),
        sa.Column("cause", sa.String(24), nullable=False),
        sa.Column("stopped_on", sa.Date, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("sent_leaf", sa.BigInteger, nullable=False),
        sa.Column("acknowledged_at", UTCDateTime),
        sa.Column("acknowledged_leaf", sa.BigInteger),
        sa.Column("overdue_leaf", sa.BigInteger),
        sa.UniqueConstraint(
            "record_id", "recipient", name="uq_deletion_notices_record_recipient"
        ),
    )
    op.create_index(
        "ix_deletion_notices_acknowledged_at_due_on",
        "deletion_notices",
        ["acknowledged_at", "due_on"],
    )
    op.create_table(
        "restorations",
        sa.Column("record_id", sa.String(40), primary_key=True),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("decision", sa.JSON, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_leases")
    op.drop_table("restorations")
    op.drop_index("ix_deletion_notices_acknowledged_at_due_on", "deletion_notices")
    op.drop_table("deletion_notices")
    op.drop_table("disclosures")
    op.drop_index("ix_objections_state_due_on", "objections")
    op.drop_table("objections")
