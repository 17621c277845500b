"""Second factors of citizen accounts: passkeys and TOTP authenticators (Art. 61(2)).

Revision ID: 0019_factors
Revises: 0004_consent_flow
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.storage.types import UTCDateTime

revision = "0019_factors"
down_revision = "0004_consent_flow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "citizen_factors",
        sa.Column("factor_id", sa.String(40), primary_key=True),
        sa.Column(
            "citizen_id", sa.String(32), sa.ForeignKey("citizens.id"), nullable=False, index=True
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("totp_secret", sa.String(64)),
        sa.Column("last_step", sa.Integer),
        sa.Column("credential_id", sa.String(1400), unique=True),
        sa.Column("public_key", sa.Text),
        sa.Column("sign_count", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("confirmed_at", UTCDateTime),
    )


def downgrade() -> None:
    op.drop_table("citizen_factors")
