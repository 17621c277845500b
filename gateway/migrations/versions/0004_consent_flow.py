"""The consent flow: the requester's pseudonym and the artefact beside each grant, indexes
for the expiry sweep, establishments' contact details for receipts, the webhook outbox.

Revision ID: 0004_consent_flow
Revises: 0003_consent
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.storage.types import UTCDateTime

revision = "0004_consent_flow"
down_revision = "0003_consent"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consent_grants") as batch:
        batch.add_column(
            sa.Column("subject_pseudonym", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("artefact", sa.Text))
    op.create_index(
        "ix_consent_grants_state_pending_until", "consent_grants", ["state", "pending_until"]
    )
    op.create_index(
        "ix_consent_grants_state_expires_at", "consent_grants", ["state", "expires_at"]
    )
    with op.batch_alter_table("parties") as batch:
        batch.add_column(sa.Column("postal_address", sa.String(300)))
        batch.add_column(sa.Column("contact_email", sa.String(200)))
        batch.add_column(sa.Column("contact_phone", sa.String(40)))
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("target", sa.String(64), nullable=False, index=True),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, index=True),
        sa.Column("last_attempt_at", UTCDateTime),
        sa.Column("last_status", sa.Integer),
        sa.Column("delivered_at", UTCDateTime),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_until", UTCDateTime),
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    with op.batch_alter_table("parties") as batch:
        batch.drop_column("contact_phone")
        batch.drop_column("contact_email")
        batch.drop_column("postal_address")
    op.drop_index("ix_consent_grants_state_expires_at", "consent_grants")
    op.drop_index("ix_consent_grants_state_pending_until", "consent_grants")
    with op.batch_alter_table("consent_grants") as batch:
        batch.drop_column("artefact")
        batch.drop_column("subject_pseudonym")
