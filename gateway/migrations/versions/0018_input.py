"""One party per unified social credit code (Art. 34): a unique index on ``parties``.

Revision ID: 0018_input
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0018_input"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_parties_credit_code", "parties", ["credit_code"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_parties_credit_code", table_name="parties")
