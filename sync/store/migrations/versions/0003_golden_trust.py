"""Golden records people can trust: pins, merges with before-images, destination actions, erasure.

Revision ID: 0003_golden_trust
Revises: 0002_inbox
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_golden_trust"
down_revision: str | Sequence[str] | None = "0002_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model types: a migration must not change when the models do.
TS = sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _pk() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def upgrade() -> None:
    """Create the pin, change-history, destination-action, review-state and erasure tables."""
    op.create_table(
        "golden_pins",
        _pk(),
        sa.Column("golden_id", sa.String(36), nullable=False),
        sa.Column("field", sa.String(), nullable=False),
        sa.Column("value", _json(), nullable=False),
        sa.Column("pinned_by", sa.String(), nullable=False),
        sa.Column("pinned_at", TS, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["golden_id"], ["golden_records.id"],
                                name="fk_golden_pins_golden_id_golden_records"),
        sa.UniqueConstraint("golden_id", "field", name="uq_golden_pins_golden_id_field"),
    )
    op.create_table(
        "golden_changes",
        _pk(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("golden_id", sa.String(36), nullable=False),
        sa.Column("other_id", sa.String(36), nullable=False),
        sa.Column("suggestion_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("before", _json(), nullable=False),
        sa.Column("after", _json(), nullable=False),
        sa.Column("undone_at", TS, nullable=True),
        sa.Column("undone_by", sa.String(), nullable=True),
        sa.CheckConstraint("kind IN ('merge', 'split')", name="ck_golden_changes_kind"),
    )
    op.create_index("ix_golden_changes_golden_id", "golden_changes", ["golden_id"])
    op.create_index("ix_golden_changes_other_id", "golden_changes", ["other_id"])
    op.create_table(
        "destination_actions",
        _pk(),
        sa.Column("destination", sa.String(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("golden_id", sa.String(36), nullable=False),
        sa.Column("remote_id", sa.String(), nullable=True),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("done_at", TS, nullable=True),
        sa.CheckConstraint("action IN ('merge', 're-create', 'delete')", name="ck_destination_actions_action"),
        sa.CheckConstraint("status IN ('pending', 'done', 'failed')", name="ck_destination_actions_status"),
    )
    op.create_index("ix_destination_actions_status_destination", "destination_actions", ["status", "destination"])
    op.create_index("ix_destination_actions_golden_id", "destination_actions", ["golden_id"])
    op.create_table(
        "review_state",
        _pk(),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("changed_at", TS, nullable=True),
    )
    op.execute("INSERT INTO review_state (id, generation) VALUES (1, 0)")
    op.create_table(
        "subject_keys",
        sa.Column("golden_id", sa.String(36), primary_key=True),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "erasure_receipts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("identifiers", _json(), nullable=False),
        sa.Column("touched", _json(), nullable=False),
    )
    op.create_table(
        "erasure_tombstones",
        _pk(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(), nullable=False),
        sa.Column("receipt_id", sa.String(36), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["receipt_id"], ["erasure_receipts.id"],
                                name="fk_erasure_tombstones_receipt_id_erasure_receipts"),
        sa.UniqueConstraint("kind", "digest", name="uq_erasure_tombstones_kind_digest"),
    )
    op.create_table(
        "audit_redactions",
        _pk(),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("receipt_id", sa.String(36), nullable=False),
        sa.Column("redacted_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["audit_id"], ["audit_log.id"], name="fk_audit_redactions_audit_id_audit_log"),
        sa.ForeignKeyConstraint(["receipt_id"], ["erasure_receipts.id"],
                                name="fk_audit_redactions_receipt_id_erasure_receipts"),
        sa.UniqueConstraint("audit_id", name="uq_audit_redactions_audit_id"),
    )


def downgrade() -> None:
    """Drop them again."""
    for table in ("audit_redactions", "erasure_tombstones", "erasure_receipts", "subject_keys", "review_state"):
        op.drop_table(table)
    op.drop_index("ix_destination_actions_golden_id", table_name="destination_actions")
    op.drop_index("ix_destination_actions_status_destination", table_name="destination_actions")
    op.drop_table("destination_actions")
    op.drop_index("ix_golden_changes_other_id", table_name="golden_changes")
    op.drop_index("ix_golden_changes_golden_id", table_name="golden_changes")
    op.drop_table("golden_changes")
    op.drop_table("golden_pins")
