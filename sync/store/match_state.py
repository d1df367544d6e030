"""What incremental matching needs from the store: its saved state and what changed since it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from sync.store.models import GoldenRecord, Interaction, Link, SourceRecord, SourceRecordVersion
from sync.store.records import get_state, save_state

__all__ = ["CallRow", "active_golden_ids", "calls_with_phone", "changed_since", "deleted_linked", "last_version_id",
           "load_leads", "load_match_state", "save_leads", "save_match_state"]

# kept beside the connectors' checkpoints, under a source name no connector uses
_SOURCE, _STREAM = "crmsync:match", "golden"
_LEADS = "leads"  # phone → golden id of the lead an unknown caller became


@dataclass(frozen=True)
class CallRow:
    """A call interaction as lead detection sees it."""

    phone: str
    email: str | None
    occurred_at: datetime | None


def load_match_state(session: Session) -> dict[str, Any] | None:
    """The state the last full or incremental match left: settings fingerprint, model, watermark."""
    return get_state(session, _SOURCE, _STREAM)


def save_match_state(session: Session, state: dict[str, Any]) -> None:
    """Save the match state in the caller's transaction (with the golden records it describes)."""
    save_state(session, _SOURCE, _STREAM, state)


def changed_since(session: Session, since: datetime, after_version: int = 0) -> set[int]:
    """Customer source records with content the last match did not see.

    That is a version row stored after `after_version` (the last match's highest), or one recorded
    at or after `since` (a little before the last match began: an ingest committing while it read)
    that is newer than the record's link.
    """
    rows = session.execute(
        select(SourceRecordVersion.source_record_id).distinct()
        .join(SourceRecord, SourceRecord.id == SourceRecordVersion.source_record_id)
        .outerjoin(Link, Link.source_record_pk == SourceRecord.id)
        .where(SourceRecord.entity == "customer",
               or_(SourceRecordVersion.id > after_version,
                   and_(SourceRecordVersion.recorded_at >= since,
                        or_(Link.id.is_(None), Link.updated_at < SourceRecordVersion.recorded_at)))))
    return {row[0] for row in rows}


def last_version_id(session: Session) -> int:
    """The highest source-record version row id (a watermark that ignores clocks)."""
    return int(session.scalar(select(func.max(SourceRecordVersion.id))) or 0)


def deleted_linked(session: Session) -> set[int]:
    """Deleted customer source records that still have a link (their golden record may need rebuilding)."""
    rows = session.execute(
        select(SourceRecord.id).join(Link, Link.source_record_pk == SourceRecord.id)
        .where(SourceRecord.deleted.is_(True), SourceRecord.entity == "customer"))
    return {row[0] for row in rows}


def active_golden_ids(session: Session) -> set[str]:
    """Ids of the active golden records."""
    return set(session.scalars(select(GoldenRecord.id).where(GoldenRecord.status == "active")))


def load_leads(session: Session) -> dict[str, str]:
    """Leads made from calls by unknown numbers: phone → golden id."""
    return dict((get_state(session, _SOURCE, _LEADS) or {}).get("by_phone", {}))


def save_leads(session: Session, by_phone: dict[str, str]) -> None:
    """Save the lead registry (in the caller's transaction, with the golden records it names)."""
    save_state(session, _SOURCE, _LEADS, {"by_phone": dict(sorted(by_phone.items()))})


def calls_with_phone(session: Session) -> list[CallRow]:
    """Every call interaction that has a phone number, oldest first."""
    rows = session.execute(
        select(Interaction.phone, Interaction.email, Interaction.occurred_at)
        .join(SourceRecord, SourceRecord.id == Interaction.source_record_pk)
        .where(Interaction.kind == "call", Interaction.phone.is_not(None), SourceRecord.deleted.is_(False))
        .order_by(Interaction.occurred_at, Interaction.id))
    return [CallRow(r.phone, r.email, r.occurred_at) for r in rows]
