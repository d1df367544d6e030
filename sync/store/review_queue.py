"""The review queue for a web page: filtered in SQL, ranked from a few numbers per suggestion, read a page at a time.

`sync.review.list_suggestions` loads every golden record of every suggestion (fields and
provenance) to rank them, which takes seconds with ten thousand suggestions. The admin app needs
only ids, scores and live record counts to rank, and full rows for the fifty it shows; these
queries give exactly that, with the same filters and the same meaning (see tests/web).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from sync.store.models import GoldenRecord, Link, MergeSuggestion, SourceRecord
from sync.store.records import chunks
from sync.store.review import OPEN, SuggestionRow

__all__ = ["RankInput", "record_sources", "queue_candidates", "suggestion_rows"]


@dataclass(frozen=True)
class RankInput:
    """What ranking one suggestion needs: its score and the live source records on both sides."""

    id: int
    score: float
    records: int


def queue_candidates(session: Session, *, status: str, source: str | None = None, min_score: float | None = None,
                     max_score: float | None = None, assignee: str | None = None,
                     unassigned: bool = False) -> list[RankInput]:
    """Suggestions in `status` matching the filters (both golden records active when open), unranked.

    Counts come from the links index; the wide golden and source record rows are only read for the
    few that are retired or deleted (joining them per suggestion is what made a plain query slow).
    """
    def linked(side: Any) -> Any:  # counted on the links index, in the database
        return select(func.count()).where(Link.golden_id == side).scalar_subquery()

    stmt = select(MergeSuggestion.id, MergeSuggestion.score, MergeSuggestion.golden_a, MergeSuggestion.golden_b,
                  linked(MergeSuggestion.golden_a) + linked(MergeSuggestion.golden_b)
                  ).where(MergeSuggestion.status == status)
    if min_score is not None:
        stmt = stmt.where(MergeSuggestion.score >= min_score)
    if max_score is not None:
        stmt = stmt.where(MergeSuggestion.score <= max_score)
    if unassigned:
        stmt = stmt.where(MergeSuggestion.assignee.is_(None))
    elif assignee is not None:
        stmt = stmt.where(MergeSuggestion.assignee == assignee)
    rows = session.execute(stmt).tuples().all()
    if not rows:
        return []
    if status in OPEN:  # retired golden records are few; active ones are most of the table
        # '<' or '>' rather than '!=', so the status index answers it without reading every row
        inactive = set(session.scalars(select(GoldenRecord.id).where(
            or_(GoldenRecord.status < "active", GoldenRecord.status > "active"))))
        if inactive:
            rows = [r for r in rows if r[2] not in inactive and r[3] not in inactive]
    # Deleted source records still have their links; they are few, so subtract them here.
    gone = dict(session.execute(
        select(Link.golden_id, func.count()).where(Link.source_record_pk.in_(
            select(SourceRecord.id).where(SourceRecord.deleted.is_(True)))).group_by(Link.golden_id)).tuples().all())
    if source is not None:
        holders = set(session.scalars(
            select(Link.golden_id).join(SourceRecord, SourceRecord.id == Link.source_record_pk)
            .where(SourceRecord.source == source, SourceRecord.deleted.is_(False)).distinct()))
        rows = [r for r in rows if r[2] in holders or r[3] in holders]
    if gone:
        return [RankInput(i, s, n - gone.get(a, 0) - gone.get(b, 0)) for i, s, a, b, n in rows]
    return [RankInput(i, s, n) for i, s, _, _, n in rows]


def suggestion_rows(session: Session, ids: Collection[int]) -> dict[int, SuggestionRow]:
    """Full rows of the given suggestions (one page of the queue)."""
    found: dict[int, SuggestionRow] = {}
    ordered: Sequence[int] = sorted(set(ids))
    for part in chunks(ordered):
        for s in session.scalars(select(MergeSuggestion).where(MergeSuggestion.id.in_(list(part)))
                                 .execution_options(populate_existing=True)):
            found[s.id] = SuggestionRow(id=s.id, golden_a=s.golden_a, golden_b=s.golden_b, score=s.score,
                                        explanation=s.explanation, status=s.status, reviewer=s.reviewer,
                                        assignee=s.assignee, version=s.version, created_at=s.created_at,
                                        decided_at=s.decided_at)
    return found


def record_sources(session: Session) -> list[str]:
    """The sources that hold records, by name (for the queue's source filter; read off an index)."""
    return list(session.scalars(select(SourceRecord.source).distinct().order_by(SourceRecord.source)))
