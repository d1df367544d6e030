"""The web-form inbox: raw submissions written by the webhook, read back as a source.

Writers and readers meet on the inbox sequence (`inbox.id`): a reader that has seen every
id up to N must never later find a committed row below N, or it would skip it for good.
SQLite has one writer at a time and AUTOINCREMENT, so ids commit in order; on PostgreSQL
concurrent transactions could commit ids out of order, so writers take a transaction-scoped
advisory lock (held until commit) around their inserts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from sync.store.engine import Store, dialect_insert, open_store
from sync.store.models import InboxSubmission
from sync.store.records import chunks

__all__ = [
    "InboxAdd",
    "InboxRow",
    "InboxSubmissionIn",
    "add_submissions",
    "count_submissions",
    "inbox_sources",
    "open_durable_store",
    "read_submissions",
]

_PG_INBOX_LOCK = 0x63726D696E626F78  # any constant; the same in every crmsync process
_INSERT_CHUNK = 200


@dataclass(frozen=True)
class InboxSubmissionIn:
    """One submission as the webhook received it: the raw body and its parsed fields."""

    source: str
    submission_id: str
    shape: str  # json | form | tilda | jotform | typeform
    content_type: str
    body: bytes
    fields: dict[str, Any]
    received_at: datetime


@dataclass(frozen=True)
class InboxAdd:
    """What storing one submission did: its inbox id, and whether it was new."""

    id: int
    new: bool


@dataclass(frozen=True)
class InboxRow:
    """One stored submission, as a reader gets it back."""

    id: int
    source: str
    submission_id: str
    shape: str
    content_type: str
    body: bytes
    fields: dict[str, Any]
    received_at: datetime


def add_submissions(session: Session, items: Sequence[InboxSubmissionIn]) -> list[InboxAdd]:
    """Store submissions idempotently by (source, submission_id); results in input order.

    A submission already in the inbox (or earlier in the same batch) is not stored again:
    its result carries the existing id and `new=False`.
    """
    if not items:
        return []
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_INBOX_LOCK})
    first: dict[tuple[str, str], InboxSubmissionIn] = {}
    for item in items:
        first.setdefault((item.source, item.submission_id), item)
    inserted: dict[tuple[str, str], int] = {}
    rows = [{"source": i.source, "submission_id": i.submission_id, "shape": i.shape,
             "content_type": i.content_type, "body": i.body, "fields": i.fields,
             "received_at": i.received_at} for i in first.values()]
    for part in chunks(rows, _INSERT_CHUNK):
        stmt = dialect_insert(session, InboxSubmission).values(list(part))
        stmt = stmt.on_conflict_do_nothing(index_elements=["source", "submission_id"]).returning(
            InboxSubmission.id, InboxSubmission.source, InboxSubmission.submission_id)
        for row in session.execute(stmt):
            inserted[(row.source, row.submission_id)] = row.id
    existing = _existing_ids([key for key in first if key not in inserted], session)
    results: list[InboxAdd] = []
    reported: set[tuple[str, str]] = set()
    for item in items:
        key = (item.source, item.submission_id)
        if key in inserted and key not in reported:
            results.append(InboxAdd(inserted[key], True))
        else:
            results.append(InboxAdd(inserted.get(key) or existing[key], False))
        reported.add(key)
    return results


def _existing_ids(keys: list[tuple[str, str]], session: Session) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    by_source: dict[str, list[str]] = {}
    for source, submission_id in keys:
        by_source.setdefault(source, []).append(submission_id)
    for source, ids in by_source.items():
        for part in chunks(ids):
            rows = session.execute(
                select(InboxSubmission.id, InboxSubmission.submission_id)
                .where(InboxSubmission.source == source, InboxSubmission.submission_id.in_(part)))
            for row in rows:
                found[(source, row.submission_id)] = row.id
    return found


def read_submissions(
    session: Session, *, source: str | None, after_id: int = 0, limit: int = 500
) -> list[InboxRow]:
    """Submissions with an inbox id above `after_id`, oldest first (one source, or all)."""
    stmt = select(InboxSubmission).where(InboxSubmission.id > after_id)
    if source is not None:
        stmt = stmt.where(InboxSubmission.source == source)
    stmt = stmt.order_by(InboxSubmission.id).limit(limit)
    return [InboxRow(id=s.id, source=s.source, submission_id=s.submission_id, shape=s.shape,
                     content_type=s.content_type, body=s.body, fields=s.fields,
                     received_at=s.received_at)
            for s in session.scalars(stmt)]


def count_submissions(session: Session, source: str | None = None) -> int:
    """How many submissions the inbox holds (for one source, or in all)."""
    stmt = select(func.count()).select_from(InboxSubmission)
    if source is not None:
        stmt = stmt.where(InboxSubmission.source == source)
    return int(session.scalar(stmt) or 0)


def inbox_sources(session: Session) -> list[str]:
    """The source names that have submissions in the inbox."""
    return sorted(session.scalars(select(InboxSubmission.source).distinct()))


def _full_sync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def open_durable_store(url: str) -> Store:
    """Open the store for writers that promise durability (the webhook's 200).

    SQLite in WAL mode with `synchronous=NORMAL` survives a process crash but may lose the
    last commits on power loss; `FULL` syncs the WAL on every commit. PostgreSQL's default
    `synchronous_commit=on` already does.
    """
    store = open_store(url)
    if store.dialect == "sqlite":
        event.listen(store.engine, "connect", _full_sync)
        store.engine.dispose()  # pooled connections were opened with NORMAL
    return store
