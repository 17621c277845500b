"""Key rings and DPoP: withdrawn signing keys, the DPoP proof replay cache, and the clients
whose access tokens must be DPoP-bound.

Revision ID: 0017_keyring
Revises: 0004_consent_flow
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.storage.types import UTCDateTime

revision = "0017_keyring"
down_revision = "0004_consent_flow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_withdrawn_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("withdrawn_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "oauth_dpop_jtis",
        sa.Column("jkt", sa.String(64), primary_key=True),
        sa.Column("jti", sa.String(256), primary_key=True),
        sa.Column("expires_at", UTCDateTime, nullable=False, index=True),
    )
    with op.batch_alter_table("parties") as batch:
        batch.add_column(
            sa.Column(
                "dpop_bound_access_tokens", sa.Boolean, nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("parties") as batch:
        batch.drop_column("dpop_bound_access_tokens")
    op.drop_table("oauth_dpop_jtis")
    op.drop_table("oauth_withdrawn_keys")
