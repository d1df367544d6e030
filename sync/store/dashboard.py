"""What the admin app's sync dashboard and golden-record page read, and the dead-letter retry they offer.

Aggregates are computed in SQL so the pages stay fast on big stores. Every function takes a
Session and never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from sync.store.audit import append_audit
from sync.store.engine import NotFoundError
from sync.store.models import DeadLetter, Interaction, Link, MergeSuggestion, SourceRecord
from sync.store.records import rowcount

__all__ = [
    "RETRY_MARK",
    "DeadLetterView",
    "InteractionView",
    "dead_letters",
    "interactions_of_golden",
    "pair_scores",
    "records_per_source_per_day",
    "request_retry",
]

# A dead letter whose hash is this no longer matches any record, so the next push plan sends it again.
RETRY_MARK = "retry-requested"


@dataclass(frozen=True)
class DeadLetterView:
    """An unresolved dead letter as the dashboard shows it (the CRM's error, not the payload)."""

    id: int
    destination: str
    golden_id: str | None
    error: str
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    retry_requested: bool


@dataclass(frozen=True)
class InteractionView:
    """A call or form submission attached to a golden record."""

    id: int
    kind: str
    occurred_at: datetime | None
    source: str
    stream: str
    source_record_id: str


def dead_letters(session: Session, *, limit: int = 200) -> list[DeadLetterView]:
    """Unresolved dead letters, most recently failed first."""
    rows = session.scalars(select(DeadLetter).where(DeadLetter.resolved_at.is_(None))
                           .order_by(DeadLetter.last_failed_at.desc(), DeadLetter.id.desc()).limit(limit)
                           .execution_options(populate_existing=True))
    return [DeadLetterView(d.id, d.destination, d.golden_id, d.error, d.attempts, d.first_failed_at,
                           d.last_failed_at, d.record_hash == RETRY_MARK) for d in rows]


def request_retry(session: Session, dead_letter_id: int, *, actor: str, now: datetime) -> DeadLetterView:
    """Have the next push run send this record again even though it has not changed; audited."""
    result = session.execute(update(DeadLetter).where(DeadLetter.id == dead_letter_id,
                                                      DeadLetter.resolved_at.is_(None))
                             .values(record_hash=RETRY_MARK), execution_options={"synchronize_session": False})
    if rowcount(result) != 1:
        raise NotFoundError(f"no unresolved dead letter #{dead_letter_id}; it may have gone through meanwhile")
    letter = session.scalars(select(DeadLetter).where(DeadLetter.id == dead_letter_id)
                             .execution_options(populate_existing=True)).one()
    append_audit(session, actor=actor, action="dead_letter.retry", entity_type="dead_letter",
                 entity_id=str(dead_letter_id), before={"attempts": letter.attempts}, after={"retry": True},
                 reason=f"retry requested for {letter.destination} (golden {letter.golden_id})", at=now)
    return DeadLetterView(letter.id, letter.destination, letter.golden_id, letter.error, letter.attempts,
                          letter.first_failed_at, letter.last_failed_at, True)


def _day(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def records_per_source_per_day(session: Session) -> dict[str, dict[date, int]]:
    """source → day → source records first seen that day (deleted ones included: they arrived)."""
    day = func.date(SourceRecord.first_seen_at)
    rows = session.execute(select(SourceRecord.source, day, func.count()).where(SourceRecord.entity == "customer")
                           .group_by(SourceRecord.source, day))
    found: dict[str, dict[date, int]] = {}
    for source, when, count in rows:
        found.setdefault(source, {})[_day(when)] = int(count)
    return found


def pair_scores(session: Session) -> tuple[list[float], list[float]]:
    """Scores of the engine's automatic links (not single-record ones) and of every merge suggestion."""
    links = session.scalars(select(Link.score).where(Link.method.not_in(("new", "manual"))))
    suggestions = session.scalars(select(MergeSuggestion.score))
    return [float(s) for s in links], [float(s) for s in suggestions]


def interactions_of_golden(session: Session, golden_id: str, *, limit: int = 100) -> list[InteractionView]:
    """The newest interactions (calls, form submissions) attached to a golden record."""
    rows = session.execute(
        select(Interaction.id, Interaction.kind, Interaction.occurred_at, SourceRecord.source, SourceRecord.stream,
               SourceRecord.source_record_id)
        .join(SourceRecord, SourceRecord.id == Interaction.source_record_pk)
        .where(Interaction.golden_id == golden_id)
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(limit))
    return [InteractionView(*r) for r in rows]
