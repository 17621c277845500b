"""The registries the regulator keeps: legal bases with statute, scope, validity and versions;
the purposes registry in the database, seeded from ``consent/purposes.yaml``.

Revision ID: 0030_registry
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import sqlalchemy as sa
from alembic import op

from consent.purposes import load_purposes
from gateway.registry.repository import CATEGORIES
from gateway.storage.types import UTCDateTime

revision = "0030_registry"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = ("version", "statute", "scope", "valid_from", "valid_until", "withdrawn_at", "leaf_index")
SINCE_EVER = "2000-01-01"
"""Bases registered before they had a validity window are in force since before the gateway."""


def upgrade() -> None:
    with op.batch_alter_table("legal_bases") as batch:
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("statute", sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("scope", sa.String(1000), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("valid_from", sa.Date, nullable=False, server_default=SINCE_EVER)
        )
        batch.add_column(sa.Column("valid_until", sa.Date))
        batch.add_column(sa.Column("withdrawn_at", UTCDateTime))
        batch.add_column(sa.Column("leaf_index", sa.Integer))
        batch.create_unique_constraint("uq_legal_bases_version", ["party_id", "code", "version"])
    purposes = op.create_table(
        "purposes",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("registered_at", UTCDateTime, nullable=False),
        sa.Column("retired_at", UTCDateTime),
        sa.Column("leaf_index", sa.Integer),
        sa.UniqueConstraint("code", "version", name="uq_purposes_version"),
    )
    op.create_index("ix_purposes_code", "purposes", ["code"])
    seed = load_purposes(CATEGORIES)
    now = datetime.now(UTC)
    op.bulk_insert(
        purposes,
        [
            {
                "id": uuid4().hex,
                "code": purpose.code,
                "version": 1,
                "definition": purpose.model_dump(mode="json"),
                "registered_at": now,
            }
            for purpose in seed
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_purposes_code", "purposes")
    op.drop_table("purposes")
    with op.batch_alter_table("legal_bases") as batch:
        batch.drop_constraint("uq_legal_bases_version", type_="unique")
        for column in COLUMNS:
            batch.drop_column(column)
