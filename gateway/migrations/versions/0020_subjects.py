"""Every credit subject: enrolled persons (ID number or, without one, another document),
their other documents, legal persons and their representatives and agents, restoration
applications (Art. 66 para. 1), responsibility notes (Art. 32).

Revision ID: 0020_subjects
Revises: 0005_archive
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gateway.storage.types import UTCDateTime

revision = "0020_subjects"
down_revision = "0005_archive"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("citizens") as batch:
        batch.alter_column("username", existing_type=sa.String(64), nullable=True)
        batch.alter_column("id_number", existing_type=sa.String(18), nullable=True)
        batch.alter_column("password_hash", existing_type=sa.String(200), nullable=True)
        batch.add_column(sa.Column("document_type", sa.String(32)))
        batch.add_column(sa.Column("document_number", sa.String(64)))
        batch.add_column(sa.Column("full_name", sa.String(100)))
        batch.create_unique_constraint(
            "uq_citizens_document", ["document_type", "document_number"]
        )
    op.create_table(
        "person_documents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("citizen_id", sa.String(32), sa.ForeignKey("citizens.id"), nullable=False),
        sa.Column("document_type", sa.String(32), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.UniqueConstraint("document_type", "number", name="uq_person_documents_document"),
    )
    op.create_index("ix_person_documents_citizen_id", "person_documents", ["citizen_id"])
    op.create_table(
        "entities",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("credit_code", sa.String(18), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column(
            "representative_id", sa.String(32), sa.ForeignKey("citizens.id"), nullable=False
        ),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_entities_representative_id", "entities", ["representative_id"])
    op.create_table(
        "entity_agents",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("entity_id", sa.String(32), sa.ForeignKey("entities.id"), nullable=False),
        sa.Column("citizen_id", sa.String(32), sa.ForeignKey("citizens.id"), nullable=False),
        sa.Column("document_reference", sa.String(128), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("granted_at", UTCDateTime, nullable=False),
        sa.Column("withdrawn_at", UTCDateTime),
    )
    op.create_index("ix_entity_agents_entity_id", "entity_agents", ["entity_id"])
    op.create_index("ix_entity_agents_citizen_id", "entity_agents", ["citizen_id"])
    op.create_table(
        "restoration_applications",
        sa.Column("application_id", sa.String(40), primary_key=True),
        sa.Column("record_id", sa.String(40), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("subject_key", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("attachment_ref", sa.String(200)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("filed_at", UTCDateTime, nullable=False),
        sa.Column("decided_at", UTCDateTime),
        sa.Column("decision_reason", sa.String(500)),
    )
    for column in ("record_id", "provider", "subject_key"):
        op.create_index(
            f"ix_restoration_applications_{column}", "restoration_applications", [column]
        )
    op.create_table(
        "responsibility_notes",
        sa.Column("note_id", sa.String(40), primary_key=True),
        sa.Column("person_key", sa.String(64), nullable=False),
        sa.Column(
            "record_id", sa.String(40), sa.ForeignKey("records.record_id"), nullable=False
        ),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("noted_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("person_key", "record_id", name="uq_responsibility_notes_person_record"),
    )
    op.create_index("ix_responsibility_notes_person_key", "responsibility_notes", ["person_key"])
    op.create_index("ix_responsibility_notes_record_id", "responsibility_notes", ["record_id"])


def downgrade() -> None:
    op.drop_table("responsibility_notes")
    op.drop_table("restoration_applications")
    op.drop_table("entity_agents")
    op.drop_table("entities")
    op.drop_table("person_documents")
    with op.batch_alter_table("citizens") as batch:
        batch.drop_constraint("uq_citizens_document", type_="unique")
        batch.drop_column("full_name")
        batch.drop_column("document_number")
        batch.drop_column("document_type")
