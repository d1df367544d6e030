"""Golden records and the links that say which source records each one is made of."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from sync.store.engine import NotFoundError
from sync.store.models import GoldenRecord, Link, SourceRecord
from sync.store.records import chunks, rowcount
from sync.store.types import GoldenRow, LinkIn, SaveResult, StoredCustomer

__all__ = [
    "count_golden",
    "current_links",
    "delete_links_for_missing",
    "load_customer_records",
    "load_golden",
    "retire_golden",
    "save_golden",
    "set_links",
]

_NO_SYNC = {"synchronize_session": False}


def load_customer_records(session: Session) -> list[StoredCustomer]:
    """Every live (not deleted) customer source record, in primary-key order."""
    rows = session.execute(
        select(SourceRecord.id, SourceRecord.source, SourceRecord.stream,
               SourceRecord.source_record_id, SourceRecord.canonical,
               SourceRecord.source_updated_at, SourceRecord.first_seen_at,
               SourceRecord.last_seen_at)
        .where(SourceRecord.entity == "customer", SourceRecord.deleted.is_(False))
        .order_by(SourceRecord.id))
    return [StoredCustomer(
        pk=r.id, source=r.source, stream=r.stream, source_record_id=r.source_record_id,
        canonical=r.canonical, source_updated_at=r.source_updated_at,
        first_seen_at=r.first_seen_at, last_seen_at=r.last_seen_at) for r in rows]


def current_links(session: Session) -> dict[int, str]:
    """Source record id → golden id, for every linked source record."""
    rows = session.execute(select(Link.source_record_pk, Link.golden_id))
    return {row.source_record_pk: row.golden_id for row in rows}


def _golden_row(g: GoldenRecord) -> GoldenRow:
    return GoldenRow(id=g.id, status=g.status, fields=g.fields,  # type: ignore[arg-type]
                     provenance=g.provenance, content_hash=g.content_hash, version=g.version,
                     created_at=g.created_at, updated_at=g.updated_at)


def load_golden(
    session: Session, ids: Collection[str] | None = None, status: str | None = "active"
) -> dict[str, GoldenRow]:
    """Golden records by id: all of them or those in `ids`; `status=None` means any status."""
    base = select(GoldenRecord).execution_options(populate_existing=True)
    if status is not None:
        base = base.where(GoldenRecord.status == status)
    if ids is None:
        return {g.id: _golden_row(g) for g in session.scalars(base.order_by(GoldenRecord.id))}
    found: dict[str, GoldenRow] = {}
    for part in chunks(sorted(set(ids))):
        for g in session.scalars(base.where(GoldenRecord.id.in_(part))):
            found[g.id] = _golden_row(g)
    return found


def save_golden(
    session: Session,
    golden_id: str,
    *,
    fields: dict[str, Any],
    provenance: dict[str, Any],
    content_hash: str,
    now: datetime,
) -> SaveResult:
    """Create or update a golden record; a new version only when its content (or status) moves."""
    current = session.execute(
        select(GoldenRecord.status, GoldenRecord.content_hash)
        .where(GoldenRecord.id == golden_id)).one_or_none()
    if current is None:
        session.execute(insert(GoldenRecord).values(
            id=golden_id, status="active", fields=fields, provenance=provenance,
            content_hash=content_hash, version=1, created_at=now, updated_at=now))
        return "new"
    if current.status == "active" and current.content_hash == content_hash:
        return "unchanged"
    session.execute(
        update(GoldenRecord).where(GoldenRecord.id == golden_id)
        .values(status="active", fields=fields, provenance=provenance,
                content_hash=content_hash, version=GoldenRecord.version + 1, updated_at=now),
        execution_options=_NO_SYNC)
    return "changed"


def retire_golden(session: Session, golden_id: str, *, now: datetime) -> bool:
    """Retire a golden record (its sources now belong elsewhere); False if already retired."""
    result = session.execute(
        update(GoldenRecord)
        .where(GoldenRecord.id == golden_id, GoldenRecord.status == "active")
        .values(status="retired", version=GoldenRecord.version + 1, updated_at=now),
        execution_options=_NO_SYNC)
    if rowcount(result):
        return True
    if session.scalar(select(GoldenRecord.id).where(GoldenRecord.id == golden_id)) is None:
        raise NotFoundError(f"no golden record with id {golden_id!r} to retire")
    return False


def _differs(a: float, b: float) -> bool:
    return not math.isclose(a, b, rel_tol=0.0, abs_tol=1e-9)


def set_links(session: Session, links: Sequence[LinkIn], *, now: datetime) -> int:
    """Upsert links by source record; returns how many changed golden id, method or score.

    A new link counts as a change. Explanation and decider are updated without counting.
    """
    latest = {link.source_record_pk: link for link in links}  # the last one wins
    existing: dict[int, Any] = {}
    for part in chunks(sorted(latest)):
        for row in session.execute(
                select(Link.id, Link.source_record_pk, Link.golden_id, Link.score, Link.method,
                       Link.explanation, Link.decided_by)
                .where(Link.source_record_pk.in_(part))):
            existing[row.source_record_pk] = row

    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    changed = 0
    for pk, link in latest.items():
        values = {"golden_id": link.golden_id, "score": float(link.score), "method": link.method,
                  "explanation": link.explanation, "decided_by": link.decided_by,
                  "updated_at": now}
        row = existing.get(pk)
        if row is None:
            inserts.append({"source_record_pk": pk, "created_at": now, **values})
            changed += 1
            continue
        moved = (row.golden_id != link.golden_id or row.method != link.method
                 or _differs(row.score, link.score))
        if moved or row.explanation != link.explanation or row.decided_by != link.decided_by:
            updates.append({"id": row.id, **values})
        changed += moved
    if inserts:
        session.execute(insert(Link), inserts)
    for part in chunks(updates):
        session.execute(update(Link), list(part), execution_options=_NO_SYNC)
    return changed


def delete_links_for_missing(session: Session) -> int:
    """Delete the links of source records that are marked deleted; returns how many."""
    gone = select(SourceRecord.id).where(SourceRecord.deleted.is_(True))
    result = session.execute(delete(Link).where(Link.source_record_pk.in_(gone)),
                             execution_options=_NO_SYNC)
    return rowcount(result)


def count_golden(session: Session, status: str | None = "active") -> int:
    """How many golden records there are (active ones by default; None counts all)."""
    stmt = select(func.count()).select_from(GoldenRecord)
    if status is not None:
        stmt = stmt.where(GoldenRecord.status == status)
    return int(session.scalar(stmt) or 0)
