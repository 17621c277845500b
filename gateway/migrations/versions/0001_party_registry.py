"""Party registry: clients, agencies' legal bases, citizen accounts.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parties",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False, unique=True),
        sa.Column("credit_code", sa.String(18)),
        sa.Column("sector", sa.String(64)),
        sa.Column("webhook_url", sa.String(500)),
        sa.Column("jwks", sa.JSON, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "legal_bases",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("party_id", sa.String(32), sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
    )
    op.create_index("ix_legal_bases_party_id", "legal_bases", ["party_id"])
    op.create_table(
        "citizens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("id_number", sa.String(18), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("real_name_verified", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("citizens")
    op.drop_index("ix_legal_bases_party_id", "legal_bases")
    op.drop_table("legal_bases")
    op.drop_table("parties")
