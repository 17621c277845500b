"""Authorization server state and consent grants.

Revision ID: 0003_consent
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.storage.types import UTCDateTime

revision = "0003_consent"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_assertion_jtis",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("jti", sa.String(256), primary_key=True),
        sa.Column("expires_at", UTCDateTime, nullable=False, index=True),
    )
    op.create_table(
        "oauth_revoked_tokens",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("expires_at", UTCDateTime, nullable=False, index=True),
    )
    op.create_table(
        "consent_grants",
        sa.Column("grant_id", sa.String(64), primary_key=True),
        sa.Column("requester", sa.String(64), nullable=False, index=True),
        sa.Column("subject_key", sa.String(64), nullable=False, index=True),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("requested_categories", sa.JSON, nullable=False),
        sa.Column("validity_days", sa.Integer, nullable=False),
        sa.Column("max_uses", sa.Integer, nullable=False),
        sa.Column("requested_at", UTCDateTime, nullable=False),
        sa.Column("pending_until", UTCDateTime, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("granted_categories", sa.JSON, nullable=False),
        sa.Column("written_consents", sa.JSON, nullable=False),
        sa.Column("not_before", UTCDateTime),
        sa.Column("expires_at", UTCDateTime),
        sa.Column("revoked_at", UTCDateTime),
        sa.Column("uses", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("consent_grants")
    op.drop_table("oauth_revoked_tokens")
    op.drop_table("oauth_assertion_jtis")
