"""Each subject's file has a revision that every change of it replaces (Art. 39-41, 62-66).

``archive_files`` holds, per subject key, a random 64-bit revision; triggers on ``records``,
``record_versions`` and ``subject_statements`` draw a new one in the transaction of any insert,
update or delete touching the subject's file - whichever process, job or statement writes it. A
rendered view is kept by the revision it was read with (:mod:`gateway.archive.views`): an
inquiry reads the revision (one short row) instead of the whole file, and a change anywhere is
seen at once by every process. Random rather than counted, so that two databases - a test's
fresh one, a restored backup - never give the same subject the same revision for different
files.

Revision ID: 0033_archive_revisions
Revises: 0014_rules_archive
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033_archive_revisions"
down_revision = "0014_rules_archive"
branch_labels = None
depends_on = None

# What each table's row names of the file it belongs to, as SQL over a row ``{row}`` (NEW/OLD).
SUBJECTS_OF = {
    "records": "SELECT {row}.subject_key AS subject_key",
    "record_versions": "SELECT subject_key FROM records WHERE record_id = {row}.record_id",
    "subject_statements": "SELECT {row}.subject_key AS subject_key",
}
ROWS = {"INSERT": ("NEW",), "UPDATE": ("NEW", "OLD"), "DELETE": ("OLD",)}


def upgrade() -> None:
    op.create_table(
        "archive_files",
        sa.Column("subject_key", sa.String(64), primary_key=True),
        sa.Column("revision", sa.BigInteger, nullable=False),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    draw = "random()" if sqlite else "floor(random() * 9.2e18)::bigint"
    op.execute(
        f"INSERT INTO archive_files (subject_key, revision) SELECT subject_key, {draw} FROM "
        "(SELECT subject_key FROM records WHERE subject_key IS NOT NULL "
        "UNION SELECT subject_key FROM subject_statements) AS held"
    )
    for statement in _sqlite_triggers() if sqlite else _postgresql_triggers():
        op.execute(statement)


def _sqlite_triggers() -> list[str]:
    statements = []
    for table, subjects in SUBJECTS_OF.items():
        for event, rows in ROWS.items():
            changed = " UNION ".join(subjects.format(row=row) for row in rows)
            statements.append(
                f"CREATE TRIGGER archive_files_{table}_{event.lower()} AFTER {event} ON {table} "
                "BEGIN INSERT OR REPLACE INTO archive_files (subject_key, revision) "
                f"SELECT subject_key, random() FROM ({changed}) WHERE subject_key IS NOT NULL; "
                "END"
            )
    return statements


def _postgresql_triggers() -> list[str]:
    statements = [
        "CREATE FUNCTION archive_files_revise(changed text[]) RETURNS void LANGUAGE sql AS $$ "
        "INSERT INTO archive_files (subject_key, revision) "
        "SELECT subject_key, floor(random() * 9.2e18)::bigint "
        "FROM (SELECT DISTINCT unnest(changed) AS subject_key) AS held "
        "WHERE subject_key IS NOT NULL "
        "ON CONFLICT (subject_key) DO UPDATE SET revision = EXCLUDED.revision $$"
    ]
    for table, subjects in SUBJECTS_OF.items():
        branches = " ".join(
            f"{'IF' if not number else 'ELSIF'} TG_OP = '{event}' THEN PERFORM "
            "archive_files_revise(ARRAY("
            + " UNION ".join(subjects.format(row=row) for row in rows)
            + "));"
            for number, (event, rows) in enumerate(ROWS.items())
        )
        statements += [
            f"CREATE FUNCTION archive_files_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {branches} END IF; RETURN NULL; END $$",
            f"CREATE TRIGGER archive_files_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION archive_files_{table}()",
        ]
    return statements


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in SUBJECTS_OF:
            for event in ROWS:
                op.execute(f"DROP TRIGGER archive_files_{table}_{event.lower()}")
    else:
        for table in SUBJECTS_OF:
            op.execute(f"DROP TRIGGER archive_files_{table} ON {table}")
            op.execute(f"DROP FUNCTION archive_files_{table}()")
        op.execute("DROP FUNCTION archive_files_revise(text[])")
    op.drop_table("archive_files")
