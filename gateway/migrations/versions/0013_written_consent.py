"""Written consents records rest on (Art. 62 para. 2): given in the gateway or registered.

Revision ID: 0013_written_consent
Revises: 0005_archive
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.storage.types import UTCDateTime

revision = "0013_written_consent"
down_revision = "0005_archive"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "written_consents",
        sa.Column("provider", sa.String(64), primary_key=True),
        sa.Column("reference", sa.String(128), primary_key=True),
        sa.Column("subject_key", sa.String(64), nullable=False, index=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("text_version", sa.String(64)),
        sa.Column("signed_on", sa.Date),
        sa.Column("given_at", UTCDateTime, nullable=False),
        sa.Column("withdrawn_at", UTCDateTime),
    )


def downgrade() -> None:
    op.drop_table("written_consents")
