"""Subjects' notifications: preferences, marks, digests, the log cursor; the outbox's channel.

Revision ID: 0022_notifications
Revises: 0004_consent_flow
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.storage.types import UTCDateTime

revision = "0022_notifications"
down_revision = "0004_consent_flow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_preferences",
        sa.Column("citizen_id", sa.String(64), primary_key=True),
        sa.Column("subject_key", sa.String(64), nullable=False, index=True),
        sa.Column("email", sa.String(254)),
        sa.Column("email_enabled", sa.Boolean, nullable=False),
        sa.Column("phone", sa.String(20)),
        sa.Column("sms_enabled", sa.Boolean, nullable=False),
        sa.Column("events", sa.JSON, nullable=False),
        sa.Column("inquiry_digest", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "notification_marks",
        sa.Column("subject_key", sa.String(64), primary_key=True),
        sa.Column("event", sa.String(40), primary_key=True),
        sa.Column("reference", sa.String(64), primary_key=True),
        sa.Column("told_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "notification_digests",
        sa.Column("subject_key", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("inquiries", sa.Integer, nullable=False),
    )
    op.create_table(
        "notification_cursor",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("next_leaf", sa.BigInteger, nullable=False),
    )
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(8), nullable=False, server_default="webhook")
        )
        batch.add_column(sa.Column("subject_key", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("subject_key")
        batch.drop_column("channel")
    op.drop_table("notification_cursor")
    op.drop_table("notification_digests")
    op.drop_table("notification_marks")
    op.drop_table("notification_preferences")
