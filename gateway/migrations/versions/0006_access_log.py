"""The subject's access log (Art. 63): the subject key beside a leaf's openings, indexed.

Revision ID: 0006_access_log
Revises: 0002_audit
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_access_log"
down_revision = "0002_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_openings") as batch:
        batch.add_column(sa.Column("subject_key", sa.String(64)))
    op.create_index("ix_audit_openings_subject_key", "audit_openings", ["subject_key"])


def downgrade() -> None:
    op.drop_index("ix_audit_openings_subject_key", table_name="audit_openings")
    with op.batch_alter_table("audit_openings") as batch:
        batch.drop_column("subject_key")
