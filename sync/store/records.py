"""Source records, connector state, quarantine and the interaction index.

Every function takes a Session and never commits: the caller owns the transaction, which
is what lets ingest commit a batch of records and its state checkpoint together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

import orjson
from sqlalchemy import CursorResult, insert, select, tuple_, update
from sqlalchemy.orm import Session

from sync.store.engine import dialect_insert
from sync.store.models import (
    ConnectorState,
    Interaction,
    Quarantine,
    SourceRecord,
    SourceRecordVersion,
    utcnow,
)
from sync.store.types import (
    EncodedSourceRecordIn,
    InteractionIndexIn,
    QuarantineIn,
    QuarantineRow,
    SourceKey,
    SourceRecordIn,
    UpsertCounts,
)

__all__ = [
    "all_states",
    "attach_interactions",
    "get_state",
    "mark_missing_deleted",
    "mark_records_deleted",
    "open_quarantine",
    "quarantine_rows",
    "resolve_missing_quarantine",
    "save_state",
    "upsert_interactions",
    "upsert_source_records",
]

# Keeps every IN (...) list and multi-row statement well under driver parameter limits.
CHUNK = 500
_NO_SYNC = {"synchronize_session": False}
T = TypeVar("T")


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def rowcount(result: Any) -> int:
    """Rows matched by an UPDATE or DELETE."""
    return int(cast(CursorResult[Any], result).rowcount)


# ---------------------------------------------------------------- source records


def _existing(session: Session, keys: Iterable[SourceKey]) -> dict[SourceKey, Any]:
    by_stream: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source, stream, record_id in keys:
        by_stream[(source, stream)].append(record_id)
    found: dict[SourceKey, Any] = {}
    for (source, stream), ids in by_stream.items():
        for part in chunks(ids):
            rows = session.execute(
                select(SourceRecord.id, SourceRecord.source_record_id, SourceRecord.version,
                       SourceRecord.content_hash, SourceRecord.deleted)
                .where(SourceRecord.source == source, SourceRecord.stream == stream,
                       SourceRecord.source_record_id.in_(part)))
            for row in rows:
                found[(source, stream, row.source_record_id)] = row
    return found


Incoming = SourceRecordIn | EncodedSourceRecordIn


def upsert_source_records(
    session: Session, items: Sequence[Incoming], *, seen_at: datetime, pass_id: str | None
) -> UpsertCounts:
    """Store a batch idempotently: new versions only where the content hash changed."""
    latest: dict[SourceKey, Incoming] = {}
    for item in items:  # a key repeated within the batch: the last one wins
        latest[item.key] = item
    existing = _existing(session, latest)

    new_items: list[Incoming] = []
    updates: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    unchanged_ids: list[int] = []
    pks: dict[SourceKey, int] = {}
    changed = restored = 0
    for key, item in latest.items():
        row = existing.get(key)
        if row is None:
            new_items.append(item)
            continue
        pks[key] = row.id
        same = row.content_hash == item.content_hash
        if same and not row.deleted:
            unchanged_ids.append(row.id)
            continue
        if row.deleted:
            restored += 1  # back from the dead; a content change also gets its version below
        else:
            changed += 1
        version = row.version if same else row.version + 1
        updates.append({
            "id": row.id, "entity": item.entity, "version": version,
            "content_hash": item.content_hash, "raw": item.raw, "canonical": item.canonical,
            "source_updated_at": item.source_updated_at,
            "last_seen_at": seen_at, "last_seen_pass": pass_id,
            "deleted": False, "deleted_at": None,
        })
        if not same:
            versions.append(_version_row(row.id, version, item, seen_at))

    if new_items and session.get_bind().dialect.name == "sqlite":
        pks.update(_insert_new_sqlite(session, new_items, seen_at=seen_at, pass_id=pass_id))
    elif new_items:
        new_rows = [{
            "source": item.source, "stream": item.stream,
            "source_record_id": item.source_record_id, "entity": item.entity,
            "version": 1, "content_hash": item.content_hash, "raw": item.raw,
            "canonical": item.canonical, "source_updated_at": item.source_updated_at,
            "first_seen_at": seen_at, "last_seen_at": seen_at, "last_seen_pass": pass_id,
            "deleted": False, "deleted_at": None,
        } for item in new_items]
        inserted = session.execute(
            insert(SourceRecord).returning(
                SourceRecord.id, SourceRecord.source, SourceRecord.stream,
                SourceRecord.source_record_id),
            new_rows)
        for row in inserted:
            key = (row.source, row.stream, row.source_record_id)
            pks[key] = row.id
            versions.append(_version_row(row.id, 1, latest[key], seen_at))
    if updates:
        session.execute(update(SourceRecord), updates, execution_options=_NO_SYNC)
    for part in chunks(unchanged_ids):
        session.execute(update(SourceRecord).where(SourceRecord.id.in_(part))
                        .values(last_seen_at=seen_at, last_seen_pass=pass_id),
                        execution_options=_NO_SYNC)
    if versions:
        session.execute(insert(SourceRecordVersion), versions)
    return UpsertCounts(new=len(new_items), changed=changed, unchanged=len(unchanged_ids),
                        restored=restored, pks=pks)


# New records on SQLite skip SQLAlchemy's per-value processing: this is the bulk of a first
# ingest. The values written are the ones the ORM path writes (timestamps through the column
# types' own processors); JSON is written once by orjson for both tables and reads back equal.
_NEW_COLUMNS = ("source", "stream", "source_record_id", "entity", "version", "content_hash", "raw", "canonical",
                "source_updated_at", "first_seen_at", "last_seen_at", "last_seen_pass", "deleted", "deleted_at")
_VERSION_COLUMNS = ("source_record_id", "version", "content_hash", "raw", "canonical", "recorded_at")
_ROWS_PER_INSERT = 1000  # 14 parameters a row: well under SQLite's 32766 variables
_BULK_CACHE = "PRAGMA cache_size=-65536"  # KiB: 64 MB for this connection
# WAL pages before SQLite copies them into the database (and syncs it): 40 MB rather than 4, so a
# bulk load of gigabytes syncs a hundred times rather than a thousand; durability is the same
_BULK_CHECKPOINT = "PRAGMA wal_autocheckpoint=10000"


def _insert_sql(table: str, columns: Sequence[str], rows: int, returning: str = "") -> str:
    values = "(" + ", ".join("?" * len(columns)) + ")"
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
            + ", ".join([values] * rows) + (f" RETURNING {returning}" if returning else ""))


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def _texts(item: Incoming) -> tuple[str, str]:
    if type(item) is EncodedSourceRecordIn:
        return item.raw_json, item.canonical_json
    return _json_text(item.raw), _json_text(item.canonical)


def _insert_new_sqlite(
    session: Session, items: Sequence[Incoming], *, seen_at: datetime, pass_id: str | None
) -> dict[SourceKey, int]:
    """INSERT the batch's new source records and their first versions; returns their ids by key."""
    dialect = session.get_bind().dialect
    columns = SourceRecord.__table__.c
    stamp = columns.first_seen_at.type.dialect_impl(dialect).bind_processor(dialect)
    when = stamp(seen_at) if stamp else seen_at
    false = columns.deleted.type.dialect_impl(dialect).bind_processor(dialect)
    no = false(False) if false else False
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    # SQLite's default page cache is 2 MB: a bulk load into a big store then re-reads and rewrites
    # the same index pages (record ids are hashes, so inserts land all over the unique index)
    cursor.execute(_BULK_CACHE)
    cursor.execute(_BULK_CHECKPOINT)
    pks: dict[SourceKey, int] = {}
    versions: list[tuple[Any, ...]] = []
    try:
        for part in chunks(items, _ROWS_PER_INSERT):
            params: list[Any] = []
            texts: dict[SourceKey, tuple[Incoming, str, str]] = {}
            for item in part:
                raw, canonical = _texts(item)
                texts[item.key] = (item, raw, canonical)
                updated = stamp(item.source_updated_at) if stamp and item.source_updated_at else None
                params.extend((item.source, item.stream, item.source_record_id, item.entity, 1, item.content_hash,
                               raw, canonical, updated, when, when, pass_id, no, None))
            cursor.execute(_insert_sql("source_records", _NEW_COLUMNS, len(part), "id, source, stream, "
                                       "source_record_id"), params)
            for pk, source, stream, record_id in cursor.fetchall():
                key = (source, stream, record_id)
                pks[key] = pk
                item, raw, canonical = texts[key]
                versions.append((pk, 1, item.content_hash, raw, canonical, when))
        cursor.executemany(_insert_sql("source_record_versions", _VERSION_COLUMNS, 1), versions)
    finally:
        cursor.close()
    return pks


def _version_row(pk: int, version: int, item: Incoming, at: datetime) -> dict[str, Any]:
    return {"source_record_id": pk, "version": version, "content_hash": item.content_hash,
            "raw": item.raw, "canonical": item.canonical, "recorded_at": at}


def mark_missing_deleted(
    session: Session, source: str, stream: str, pass_id: str, *, at: datetime
) -> int:
    """Mark live records of (source, stream) not seen in full pass `pass_id` as deleted."""
    result = session.execute(
        update(SourceRecord)
        .where(SourceRecord.source == source, SourceRecord.stream == stream,
               SourceRecord.deleted.is_(False),
               SourceRecord.last_seen_pass.is_distinct_from(pass_id))
        .values(deleted=True, deleted_at=at),
        execution_options=_NO_SYNC)
    return rowcount(result)


def mark_records_deleted(
    session: Session, source: str, stream: str, record_ids: Sequence[str], *, at: datetime
) -> int:
    """Mark these live records of (source, stream) deleted (the source said so); returns how many."""
    marked = 0
    for part in chunks(list(record_ids)):
        marked += rowcount(session.execute(
            update(SourceRecord)
            .where(SourceRecord.source == source, SourceRecord.stream == stream,
                   SourceRecord.source_record_id.in_(part), SourceRecord.deleted.is_(False))
            .values(deleted=True, deleted_at=at),
            execution_options=_NO_SYNC))
    return marked


# ---------------------------------------------------------------- connector state


def get_state(session: Session, source: str, stream: str) -> dict[str, Any] | None:
    """The saved state of one stream, or None before its first checkpoint."""
    return session.scalar(select(ConnectorState.state).where(
        ConnectorState.source == source, ConnectorState.stream == stream))


def save_state(session: Session, source: str, stream: str, state: dict[str, Any]) -> None:
    """Checkpoint one stream's state (in the caller's transaction, with its records)."""
    now = utcnow()
    stmt = dialect_insert(session, ConnectorState).values(
        source=source, stream=stream, state=state, updated_at=now)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["source", "stream"], set_={"state": state, "updated_at": now}))


def all_states(session: Session, source: str) -> dict[str, dict[str, Any]]:
    """Every stream's saved state for one source, by stream name."""
    rows = session.execute(select(ConnectorState.stream, ConnectorState.state)
                           .where(ConnectorState.source == source))
    return {row.stream: row.state for row in rows}


# ---------------------------------------------------------------- quarantine


def quarantine_rows(
    session: Session, items: Sequence[QuarantineIn], *, seen_at: datetime, pass_id: str | None
) -> int:
    """Quarantine bad rows idempotently by (source, stream, row_key); returns how many are new."""
    latest = {(i.source, i.stream, i.row_key): i for i in items}
    if not latest:
        return 0
    known: set[SourceKey] = set()
    for part in chunks(list(latest)):
        known.update(session.execute(
            select(Quarantine.source, Quarantine.stream, Quarantine.row_key)
            .where(tuple_(Quarantine.source, Quarantine.stream, Quarantine.row_key).in_(part)))
            .tuples())
    rows = [{"source": i.source, "stream": i.stream, "row_key": i.row_key,
             "row_number": i.row_number, "file": i.file, "field": i.field, "reason": i.reason,
             "raw": i.raw, "first_seen_at": seen_at, "last_seen_at": seen_at,
             "last_seen_pass": pass_id, "resolved_at": None} for i in latest.values()]
    # one statement run for every row (executemany): a multi-row VALUES of hundreds of rows is
    # compiled afresh each time, which cost more than the rest of a batch's writes
    stmt = dialect_insert(session, Quarantine.__table__)
    excluded = stmt.excluded
    session.connection().execute(stmt.on_conflict_do_update(
        index_elements=["source", "stream", "row_key"],
        set_={name: excluded[name] for name in (
            "row_number", "file", "field", "reason", "last_seen_at", "last_seen_pass",
            "resolved_at")}), rows)
    return len(latest.keys() - known)


def resolve_missing_quarantine(
    session: Session, source: str, stream: str, pass_id: str, *, at: datetime
) -> int:
    """Resolve open quarantine rows of (source, stream) that full pass `pass_id` no longer saw."""
    result = session.execute(
        update(Quarantine)
        .where(Quarantine.source == source, Quarantine.stream == stream,
               Quarantine.resolved_at.is_(None),
               Quarantine.last_seen_pass.is_distinct_from(pass_id))
        .values(resolved_at=at),
        execution_options=_NO_SYNC)
    return rowcount(result)


def open_quarantine(session: Session, source: str | None = None) -> list[QuarantineRow]:
    """Unresolved quarantined rows, optionally of one source, oldest first."""
    stmt = select(Quarantine).where(Quarantine.resolved_at.is_(None))
    if source is not None:
        stmt = stmt.where(Quarantine.source == source)
    stmt = stmt.order_by(Quarantine.source, Quarantine.stream, Quarantine.first_seen_at,
                         Quarantine.id).execution_options(populate_existing=True)
    return [QuarantineRow(
        id=q.id, source=q.source, stream=q.stream, row_key=q.row_key, row_number=q.row_number,
        file=q.file, field=q.field, reason=q.reason, raw=q.raw, first_seen_at=q.first_seen_at,
        last_seen_at=q.last_seen_at, resolved_at=q.resolved_at)
        for q in session.scalars(stmt)]


# ---------------------------------------------------------------- interactions


def upsert_interactions(session: Session, items: Sequence[InteractionIndexIn]) -> None:
    """Index interaction source records by phone and e-mail (keeps their golden_id)."""
    latest = {i.source_record_pk: i for i in items}
    rows = [{"source_record_pk": i.source_record_pk, "kind": i.kind,
             "occurred_at": i.occurred_at, "phone": i.phone, "email": i.email}
            for i in latest.values()]
    for part in chunks(rows):
        stmt = dialect_insert(session, Interaction).values(list(part))
        excluded = stmt.excluded
        session.execute(stmt.on_conflict_do_update(
            index_elements=["source_record_pk"],
            set_={name: excluded[name] for name in ("kind", "occurred_at", "phone", "email")}))


def attach_interactions(
    session: Session, golden_by_phone: Mapping[str, str], golden_by_email: Mapping[str, str]
) -> int:
    """Point every interaction at its golden record, by phone first, then by e-mail.

    The maps are the whole current picture: an interaction whose phone and e-mail match no
    golden record is detached (golden_id NULL). Returns how many interactions changed.
    """
    changes: list[dict[str, Any]] = []
    rows = session.execute(select(Interaction.id, Interaction.phone, Interaction.email,
                                  Interaction.golden_id))
    for row in rows:
        target = (golden_by_phone.get(row.phone) if row.phone else None) or (
            golden_by_email.get(row.email) if row.email else None)
        if target != row.golden_id:
            changes.append({"id": row.id, "golden_id": target})
    for part in chunks(changes):
        session.execute(update(Interaction), list(part), execution_options=_NO_SYNC)
    return len(changes)
