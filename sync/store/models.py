"""SQLAlchemy models of the store; migration 0001_initial creates exactly these tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AuditLog",
    "Base",
    "CannotLink",
    "ConnectorState",
    "DeadLetter",
    "DestinationXref",
    "GoldenRecord",
    "Interaction",
    "Link",
    "MergeSuggestion",
    "Quarantine",
    "SourceRecord",
    "SourceRecordVersion",
    "SyncRun",
    "UTCDateTime",
    "utcnow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite has no time zones, so values are normalised to UTC before they are written
    (which also keeps its text comparison in chronological order). Naive datetimes are
    refused: guessing their zone is how timestamps silently shift by hours.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to the store; "
                             "pass a timezone-aware datetime (e.g. datetime.now(UTC))")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _json(*, nullable: bool = False) -> JSON:
    # A Python None in a nullable column means SQL NULL, not the JSON literal 'null'.
    return JSON(none_as_null=nullable).with_variant(JSONB(none_as_null=nullable), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class SourceRecord(Base):
    __tablename__ = "source_records"
    __table_args__ = (
        UniqueConstraint("source", "stream", "source_record_id"),
        Index("ix_source_records_source_stream_last_seen_pass", "source", "stream",
              "last_seen_pass"),
        CheckConstraint("entity IN ('customer', 'interaction')", name="entity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String)
    stream: Mapped[str] = mapped_column(String)
    source_record_id: Mapped[str] = mapped_column(String)
    entity: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    content_hash: Mapped[str] = mapped_column(String)
    raw: Mapped[dict[str, Any]] = mapped_column(_json())
    canonical: Mapped[dict[str, Any]] = mapped_column(_json())
    source_updated_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    last_seen_pass: Mapped[str | None] = mapped_column(String)
    deleted: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[datetime | None]


class SourceRecordVersion(Base):
    __tablename__ = "source_record_versions"
    __table_args__ = (UniqueConstraint("source_record_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_record_id: Mapped[int] = mapped_column(
        ForeignKey("source_records.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String)
    raw: Mapped[dict[str, Any]] = mapped_column(_json())
    canonical: Mapped[dict[str, Any]] = mapped_column(_json())
    recorded_at: Mapped[datetime]


class GoldenRecord(Base):
    __tablename__ = "golden_records"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'retired')", name="status"),
        Index("ix_golden_records_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    fields: Mapped[dict[str, Any]] = mapped_column(_json())
    provenance: Mapped[dict[str, Any]] = mapped_column(_json())
    content_hash: Mapped[str] = mapped_column(String)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Link(Base):
    __tablename__ = "links"
    __table_args__ = (Index("ix_links_golden_id", "golden_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_record_pk: Mapped[int] = mapped_column(ForeignKey("source_records.id"), unique=True)
    golden_id: Mapped[str] = mapped_column(ForeignKey("golden_records.id"))
    score: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String)
    explanation: Mapped[Any | None] = mapped_column(_json(nullable=True))
    decided_by: Mapped[str] = mapped_column(String, default="system")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MergeSuggestion(Base):
    """A pair of golden records that may be one customer; pairs are stored ordered (a < b)."""

    __tablename__ = "merge_suggestions"
    __table_args__ = (
        UniqueConstraint("golden_a", "golden_b"),
        CheckConstraint("golden_a < golden_b", name="ordered_pair"),
        CheckConstraint("status IN ('pending', 'accepted', 'rejected', 'deferred')",
                        name="status"),
        Index("ix_merge_suggestions_status", "status"),
        Index("ix_merge_suggestions_golden_b", "golden_b"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    golden_a: Mapped[str] = mapped_column(ForeignKey("golden_records.id"))
    golden_b: Mapped[str] = mapped_column(ForeignKey("golden_records.id"))
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[dict[str, Any]] = mapped_column(_json())
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reviewer: Mapped[str | None] = mapped_column(String)
    assignee: Mapped[str | None] = mapped_column(String)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class CannotLink(Base):
    """Two source records a person said are different customers; stored ordered (a < b)."""

    __tablename__ = "cannot_links"
    __table_args__ = (
        UniqueConstraint("source_record_a", "source_record_b"),
        CheckConstraint("source_record_a < source_record_b", name="ordered_pair"),
        Index("ix_cannot_links_source_record_b", "source_record_b"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_record_a: Mapped[int] = mapped_column(ForeignKey("source_records.id"))
    source_record_b: Mapped[int] = mapped_column(ForeignKey("source_records.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime]


class DestinationXref(Base):
    __tablename__ = "destination_xrefs"
    __table_args__ = (
        UniqueConstraint("destination", "golden_id"),
        UniqueConstraint("destination", "remote_id"),
        Index("ix_destination_xrefs_golden_id", "golden_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination: Mapped[str] = mapped_column(String)
    golden_id: Mapped[str] = mapped_column(ForeignKey("golden_records.id"))
    remote_id: Mapped[str] = mapped_column(String)
    last_pushed_hash: Mapped[str | None] = mapped_column(String)
    last_pushed_at: Mapped[datetime | None]


class ConnectorState(Base):
    __tablename__ = "connector_state"

    source: Mapped[str] = mapped_column(String, primary_key=True)
    stream: Mapped[str] = mapped_column(String, primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(_json())
    updated_at: Mapped[datetime]


class SyncRun(Base):
    __tablename__ = "sync_runs"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'completed', 'failed', 'crashed')",
                        name="status"),
        Index("ix_sync_runs_started_at", "started_at"),
        Index("ix_sync_runs_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    flow: Mapped[str] = mapped_column(String)
    target: Mapped[str | None] = mapped_column(String)
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    counts: Mapped[dict[str, Any]] = mapped_column(_json())
    error: Mapped[str | None] = mapped_column(Text)
    orchestrator_run_id: Mapped[str | None] = mapped_column(String)


class DeadLetter(Base):
    __tablename__ = "dead_letters"
    __table_args__ = (
        Index("ix_dead_letters_destination_golden_id", "destination", "golden_id"),
        Index("ix_dead_letters_golden_id", "golden_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination: Mapped[str] = mapped_column(String)
    golden_id: Mapped[str | None] = mapped_column(ForeignKey("golden_records.id"))
    record_hash: Mapped[str] = mapped_column(String)
    payload: Mapped[dict[str, Any]] = mapped_column(_json())
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class AuditLog(Base):
    """Append-only: migration 0001 adds triggers that reject UPDATE and DELETE."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity_type_entity_id", "entity_type", "entity_id"),
        Index("ix_audit_log_entity_id", "entity_id"),
        Index("ix_audit_log_run_id", "run_id"),
        Index("ix_audit_log_at", "at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String)
    action: Mapped[str] = mapped_column(String)
    entity_type: Mapped[str] = mapped_column(String)
    entity_id: Mapped[str] = mapped_column(String)
    before: Mapped[Any | None] = mapped_column(_json(nullable=True))
    after: Mapped[Any | None] = mapped_column(_json(nullable=True))
    reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(36))


class Quarantine(Base):
    __tablename__ = "quarantine"
    __table_args__ = (
        UniqueConstraint("source", "stream", "row_key"),
        Index("ix_quarantine_source_stream_last_seen_pass", "source", "stream",
              "last_seen_pass"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String)
    stream: Mapped[str] = mapped_column(String)
    row_key: Mapped[str] = mapped_column(String)
    row_number: Mapped[int | None] = mapped_column(Integer)
    file: Mapped[str | None] = mapped_column(String)
    field: Mapped[str | None] = mapped_column(String)
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict[str, Any]] = mapped_column(_json())
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    last_seen_pass: Mapped[str | None] = mapped_column(String)
    resolved_at: Mapped[datetime | None]


class Interaction(Base):
    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_golden_id", "golden_id"),
        Index("ix_interactions_phone", "phone"),
        Index("ix_interactions_email", "email"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_record_pk: Mapped[int] = mapped_column(
        ForeignKey("source_records.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[str] = mapped_column(String)
    occurred_at: Mapped[datetime | None]
    phone: Mapped[str | None] = mapped_column(String)
    email: Mapped[str | None] = mapped_column(String)
    golden_id: Mapped[str | None] = mapped_column(
        ForeignKey("golden_records.id", ondelete="SET NULL"))


class InboxSubmission(Base):
    """A raw web-form submission, stored before the webhook answers 200 (migration 0002).

    `id` is the inbox sequence: readers page by it, so it must grow in commit order (SQLite
    AUTOINCREMENT; on PostgreSQL writers serialise on an advisory lock, see inbox.py).
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("source", "submission_id"),
        Index("ix_inbox_source_id", "source", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String)
    submission_id: Mapped[str] = mapped_column(String)
    shape: Mapped[str] = mapped_column(String(16))
    content_type: Mapped[str] = mapped_column(String)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    fields: Mapped[dict[str, Any]] = mapped_column(_json())
    received_at: Mapped[datetime]


__all__ += ["InboxSubmission"]


# ---------------------------------------------------------------- golden trust (migration 0003)


class GoldenPin(Base):
    """A value an admin fixed on a golden record; it wins over every source until unpinned."""

    __tablename__ = "golden_pins"
    __table_args__ = (UniqueConstraint("golden_id", "field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    golden_id: Mapped[str] = mapped_column(ForeignKey("golden_records.id"))
    field: Mapped[str] = mapped_column(String)
    value: Mapped[Any] = mapped_column(_json())
    pinned_by: Mapped[str] = mapped_column(String)
    pinned_at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)


class GoldenChange(Base):
    """A merge or a split a person made, with the before-images an undo restores."""

    __tablename__ = "golden_changes"
    __table_args__ = (
        CheckConstraint("kind IN ('merge', 'split')", name="kind"),
        Index("ix_golden_changes_golden_id", "golden_id"),
        Index("ix_golden_changes_other_id", "other_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    golden_id: Mapped[str] = mapped_column(String(36))  # the survivor of a merge, the record split
    other_id: Mapped[str] = mapped_column(String(36))  # the merged-away record, the split-off one
    suggestion_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String)
    at: Mapped[datetime]
    before: Mapped[dict[str, Any]] = mapped_column(_json())
    after: Mapped[dict[str, Any]] = mapped_column(_json())
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[str | None] = mapped_column(String)


class DestinationAction(Base):
    """What a destination CRM needs after a person's decision, for the push engine to carry out."""

    __tablename__ = "destination_actions"
    __table_args__ = (
        CheckConstraint("action IN ('merge', 're-create', 'delete')", name="action"),
        CheckConstraint("status IN ('pending', 'done', 'failed')", name="status"),
        Index("ix_destination_actions_status_destination", "status", "destination"),
        Index("ix_destination_actions_golden_id", "golden_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination: Mapped[str] = mapped_column(String)
    action: Mapped[str] = mapped_column(String(16))
    golden_id: Mapped[str] = mapped_column(String(36))
    remote_id: Mapped[str | None] = mapped_column(String)
    payload: Mapped[dict[str, Any]] = mapped_column(_json())
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None]


class ReviewState(Base):
    """One row: a counter every manual change moves, so a match run sees people's concurrent work."""

    __tablename__ = "review_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime | None]


class SubjectKey(Base):
    """The key sealing one golden record's personal data in the audit log; erasure deletes it."""

    __tablename__ = "subject_keys"

    golden_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime]


class ErasureReceipt(Base):
    """Proof of one erasure: hashed identifiers asked for and every place touched (ids, counts)."""

    __tablename__ = "erasure_receipts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String)
    reason: Mapped[str | None] = mapped_column(Text)
    identifiers: Mapped[dict[str, Any]] = mapped_column(_json())
    touched: Mapped[dict[str, Any]] = mapped_column(_json())


class ErasureTombstone(Base):
    """A keyed hash of an erased identifier: re-ingesting it is flagged, never silently restored."""

    __tablename__ = "erasure_tombstones"
    __table_args__ = (UniqueConstraint("kind", "digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String)
    receipt_id: Mapped[str] = mapped_column(ForeignKey("erasure_receipts.id"))
    created_at: Mapped[datetime]


class AuditRedaction(Base):
    """An audit entry whose before/after belonged to an erased person: exports show it redacted."""

    __tablename__ = "audit_redactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit_log.id"), unique=True)
    receipt_id: Mapped[str] = mapped_column(ForeignKey("erasure_receipts.id"))
    redacted_at: Mapped[datetime]


__all__ += ["AuditRedaction", "DestinationAction", "ErasureReceipt", "ErasureTombstone", "GoldenChange",
            "GoldenPin", "ReviewState", "SubjectKey"]
