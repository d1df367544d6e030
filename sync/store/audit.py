"""The append-only audit log: who changed what, when, before and after, in which run.

The database itself refuses UPDATE and DELETE on audit_log (triggers from migration 0001).
Callers pass what may be stored: record ids and field values, never credentials.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from sync.store.models import AuditLog, utcnow
from sync.store.types import AuditEntry

__all__ = ["append_audit", "query_audit"]


def append_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
    run_id: str | None = None,
    at: datetime | None = None,
) -> None:
    """Append one entry (actor: 'system', 'user:<name>' or 'flow:<run id>')."""
    session.execute(insert(AuditLog).values(
        at=at or utcnow(), actor=actor, action=action, entity_type=entity_type,
        entity_id=str(entity_id), before=before, after=after, reason=reason, run_id=run_id))


def query_audit(
    session: Session,
    *,
    entity_id: str | None = None,
    run_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Entries matching every filter given, oldest first; `limit` keeps the newest ones.

    `since` is inclusive and `until` exclusive.
    """
    stmt = select(AuditLog)
    if entity_id is not None:
        stmt = stmt.where(AuditLog.entity_id == str(entity_id))
    if run_id is not None:
        stmt = stmt.where(AuditLog.run_id == run_id)
    if since is not None:
        stmt = stmt.where(AuditLog.at >= since)
    if until is not None:
        stmt = stmt.where(AuditLog.at < until)
    stmt = stmt.order_by(AuditLog.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    entries = [AuditEntry(
        id=a.id, at=a.at, actor=a.actor, action=a.action, entity_type=a.entity_type,
        entity_id=a.entity_id, before=a.before, after=a.after, reason=a.reason, run_id=a.run_id)
        for a in session.scalars(stmt)]
    entries.reverse()
    return entries
