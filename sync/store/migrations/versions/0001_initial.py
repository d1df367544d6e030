"""Initial schema: source records, golden records, links, review, push, runs, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model types: a migration must not change when the models do.
TS = sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _pk() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True)


_SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE is not allowed'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE is not allowed'); END""",
)
_PG_TRIGGERS = (
    """CREATE FUNCTION crmsync_audit_log_append_only() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
           RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
               USING ERRCODE = 'insufficient_privilege';
       END;
       $$""",
    """CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION crmsync_audit_log_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
       FOR EACH STATEMENT EXECUTE FUNCTION crmsync_audit_log_append_only()""",
)


def upgrade() -> None:
    """Create every table, index and the audit-log guards."""
    op.create_table(
        "source_records",
        _pk(),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("stream", sa.String(), nullable=False),
        sa.Column("source_record_id", sa.String(), nullable=False),
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("raw", _json(), nullable=False),
        sa.Column("canonical", _json(), nullable=False),
        sa.Column("source_updated_at", TS, nullable=True),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("last_seen_pass", sa.String(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", TS, nullable=True),
        sa.UniqueConstraint("source", "stream", "source_record_id",
                            name="uq_source_records_source_stream_source_record_id"),
        sa.CheckConstraint("entity IN ('customer', 'interaction')",
                           name="ck_source_records_entity"),
    )
    op.create_index("ix_source_records_source_stream_last_seen_pass", "source_records",
                    ["source", "stream", "last_seen_pass"])

    op.create_table(
        "source_record_versions",
        _pk(),
        sa.Column("source_record_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("raw", _json(), nullable=False),
        sa.Column("canonical", _json(), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["source_record_id"], ["source_records.id"], ondelete="CASCADE",
                                name="fk_source_record_versions_source_record_id_source_records"),
        sa.UniqueConstraint("source_record_id", "version",
                            name="uq_source_record_versions_source_record_id_version"),
    )

    op.create_table(
        "golden_records",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("fields", _json(), nullable=False),
        sa.Column("provenance", _json(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("status IN ('active', 'retired')", name="ck_golden_records_status"),
    )
    op.create_index("ix_golden_records_status", "golden_records", ["status"])

    op.create_table(
        "links",
        _pk(),
        sa.Column("source_record_pk", sa.Integer(), nullable=False),
        sa.Column("golden_id", sa.String(36), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("explanation", _json(), nullable=True),
        sa.Column("decided_by", sa.String(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["source_record_pk"], ["source_records.id"],
                                name="fk_links_source_record_pk_source_records"),
        sa.ForeignKeyConstraint(["golden_id"], ["golden_records.id"],
                                name="fk_links_golden_id_golden_records"),
        sa.UniqueConstraint("source_record_pk", name="uq_links_source_record_pk"),
    )
    op.create_index("ix_links_golden_id", "links", ["golden_id"])

    op.create_table(
        "merge_suggestions",
        _pk(),
        sa.Column("golden_a", sa.String(36), nullable=False),
        sa.Column("golden_b", sa.String(36), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("explanation", _json(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reviewer", sa.String(), nullable=True),
        sa.Column("assignee", sa.String(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["golden_a"], ["golden_records.id"],
                                name="fk_merge_suggestions_golden_a_golden_records"),
        sa.ForeignKeyConstraint(["golden_b"], ["golden_records.id"],
                                name="fk_merge_suggestions_golden_b_golden_records"),
        sa.UniqueConstraint("golden_a", "golden_b", name="uq_merge_suggestions_golden_a_golden_b"),
        sa.CheckConstraint("golden_a < golden_b", name="ck_merge_suggestions_ordered_pair"),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'rejected', 'deferred')",
                           name="ck_merge_suggestions_status"),
    )
    op.create_index("ix_merge_suggestions_status", "merge_suggestions", ["status"])
    op.create_index("ix_merge_suggestions_golden_b", "merge_suggestions", ["golden_b"])

    op.create_table(
        "cannot_links",
        _pk(),
        sa.Column("source_record_a", sa.Integer(), nullable=False),
        sa.Column("source_record_b", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["source_record_a"], ["source_records.id"],
                                name="fk_cannot_links_source_record_a_source_records"),
        sa.ForeignKeyConstraint(["source_record_b"], ["source_records.id"],
                                name="fk_cannot_links_source_record_b_source_records"),
        sa.UniqueConstraint("source_record_a", "source_record_b",
                            name="uq_cannot_links_source_record_a_source_record_b"),
        sa.CheckConstraint("source_record_a < source_record_b",
                           name="ck_cannot_links_ordered_pair"),
    )
    op.create_index("ix_cannot_links_source_record_b", "cannot_links", ["source_record_b"])

    op.create_table(
        "destination_xrefs",
        _pk(),
        sa.Column("destination", sa.String(), nullable=False),
        sa.Column("golden_id", sa.String(36), nullable=False),
        sa.Column("remote_id", sa.String(), nullable=False),
        sa.Column("last_pushed_hash", sa.String(), nullable=True),
        sa.Column("last_pushed_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["golden_id"], ["golden_records.id"],
                                name="fk_destination_xrefs_golden_id_golden_records"),
        sa.UniqueConstraint("destination", "golden_id",
                            name="uq_destination_xrefs_destination_golden_id"),
        sa.UniqueConstraint("destination", "remote_id",
                            name="uq_destination_xrefs_destination_remote_id"),
    )
    op.create_index("ix_destination_xrefs_golden_id", "destination_xrefs", ["golden_id"])

    op.create_table(
        "connector_state",
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("stream", sa.String(), nullable=False),
        sa.Column("state", _json(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("source", "stream", name="pk_connector_state"),
    )

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("flow", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("counts", _json(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("orchestrator_run_id", sa.String(), nullable=True),
        sa.CheckConstraint("status IN ('running', 'completed', 'failed', 'crashed')",
                           name="ck_sync_runs_status"),
    )
    op.create_index("ix_sync_runs_started_at", "sync_runs", ["started_at"])
    op.create_index("ix_sync_runs_status", "sync_runs", ["status"])

    op.create_table(
        "dead_letters",
        _pk(),
        sa.Column("destination", sa.String(), nullable=False),
        sa.Column("golden_id", sa.String(36), nullable=True),
        sa.Column("record_hash", sa.String(), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", TS, nullable=False),
        sa.Column("last_failed_at", TS, nullable=False),
        sa.Column("resolved_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["golden_id"], ["golden_records.id"],
                                name="fk_dead_letters_golden_id_golden_records"),
    )
    op.create_index("ix_dead_letters_destination_golden_id", "dead_letters",
                    ["destination", "golden_id"])
    op.create_index("ix_dead_letters_golden_id", "dead_letters", ["golden_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("entity_type", sa.String(), nullable=False),
        sa.Column("entity_id", sa.String(), nullable=False),
        sa.Column("before", _json(), nullable=True),
        sa.Column("after", _json(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("run_id", sa.String(36), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_log_entity_type_entity_id", "audit_log",
                    ["entity_type", "entity_id"])
    op.create_index("ix_audit_log_entity_id", "audit_log", ["entity_id"])
    op.create_index("ix_audit_log_run_id", "audit_log", ["run_id"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])

    op.create_table(
        "quarantine",
        _pk(),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("stream", sa.String(), nullable=False),
        sa.Column("row_key", sa.String(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=True),
        sa.Column("file", sa.String(), nullable=True),
        sa.Column("field", sa.String(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", _json(), nullable=False),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("last_seen_pass", sa.String(), nullable=True),
        sa.Column("resolved_at", TS, nullable=True),
        sa.UniqueConstraint("source", "stream", "row_key",
                            name="uq_quarantine_source_stream_row_key"),
    )
    op.create_index("ix_quarantine_source_stream_last_seen_pass", "quarantine",
                    ["source", "stream", "last_seen_pass"])

    op.create_table(
        "interactions",
        _pk(),
        sa.Column("source_record_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("occurred_at", TS, nullable=True),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("golden_id", sa.String(36), nullable=True),
        sa.ForeignKeyConstraint(["source_record_pk"], ["source_records.id"], ondelete="CASCADE",
                                name="fk_interactions_source_record_pk_source_records"),
        sa.ForeignKeyConstraint(["golden_id"], ["golden_records.id"], ondelete="SET NULL",
                                name="fk_interactions_golden_id_golden_records"),
        sa.UniqueConstraint("source_record_pk", name="uq_interactions_source_record_pk"),
    )
    op.create_index("ix_interactions_golden_id", "interactions", ["golden_id"])
    op.create_index("ix_interactions_phone", "interactions", ["phone"])
    op.create_index("ix_interactions_email", "interactions", ["email"])

    dialect = op.get_bind().dialect.name
    for statement in _PG_TRIGGERS if dialect == "postgresql" else _SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    """Drop everything upgrade() created."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS crmsync_audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    for table in ("interactions", "quarantine", "audit_log", "dead_letters", "sync_runs",
                  "connector_state", "destination_xrefs", "cannot_links", "merge_suggestions",
                  "links", "golden_records", "source_record_versions", "source_records"):
        op.drop_table(table)
