"""The review queue for a web page: filtered in SQL, ranked from a few numbers per suggestion, read a page at a time.

`sync.review.list_suggestions` loads every golden record of every suggestion (fields and
provenance) to rank them, which takes seconds with ten thousand suggestions. The admin app needs
only ids, scores and live record counts to rank, and full rows for the fifty it shows; these
queries give exactly that, with the same filters and the same meaning (see tests/web).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from sync.store.models import GoldenRecord, Link, MergeSuggestion, SourceRecord
from sync.store.records import chunks
from sync.store.review import OPEN, SuggestionRow

__all__ = ["RankInput", "customer_sources", "queue_candidates", "suggestion_rows"]


@dataclass(frozen=True)
class RankInput:
    """What ranking one suggestion needs: its score and the live source records on both sides."""

    id: int
    score: float
    records: int


def queue_candidates(session: Session, *, status: str, source: str | None = None, min_score: float | None = None,
                     max_score: float | None = None, assignee: str | None = None,
                     unassigned: bool = False) -> list[RankInput]:
    """Suggestions in `status` matching the filters (both golden records active when open), unranked."""
    live = (select(Link.golden_id, func.count().label("n"))
            .join(SourceRecord, SourceRecord.id == Link.source_record_pk)
            .where(SourceRecord.deleted.is_(False)).group_by(Link.golden_id).subquery())
    count_a, count_b = aliased(live), aliased(live)
    stmt = (select(MergeSuggestion.id, MergeSuggestion.score,
                   func.coalesce(count_a.c.n, 0) + func.coalesce(count_b.c.n, 0))
            .outerjoin(count_a, count_a.c.golden_id == MergeSuggestion.golden_a)
            .outerjoin(count_b, count_b.c.golden_id == MergeSuggestion.golden_b)
            .where(MergeSuggestion.status == status))
    if status in OPEN:
        ga, gb = aliased(GoldenRecord), aliased(GoldenRecord)
        stmt = (stmt.join(ga, ga.id == MergeSuggestion.golden_a).join(gb, gb.id == MergeSuggestion.golden_b)
                .where(ga.status == "active", gb.status == "active"))
    if min_score is not None:
        stmt = stmt.where(MergeSuggestion.score >= min_score)
    if max_score is not None:
        stmt = stmt.where(MergeSuggestion.score <= max_score)
    if unassigned:
        stmt = stmt.where(MergeSuggestion.assignee.is_(None))
    elif assignee is not None:
        stmt = stmt.where(MergeSuggestion.assignee == assignee)
    if source is not None:
        holders = (select(Link.golden_id).join(SourceRecord, SourceRecord.id == Link.source_record_pk)
                   .where(SourceRecord.source == source, SourceRecord.deleted.is_(False)))
        stmt = stmt.where(or_(MergeSuggestion.golden_a.in_(holders), MergeSuggestion.golden_b.in_(holders)))
    return [RankInput(int(i), float(s), int(n)) for i, s, n in session.execute(stmt)]


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


def customer_sources(session: Session) -> list[str]:
    """The sources that hold customer records, by name (for the queue's source filter)."""
    return list(session.scalars(select(SourceRecord.source).where(SourceRecord.entity == "customer")
                                .distinct().order_by(SourceRecord.source)))
