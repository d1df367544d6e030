"""Merge suggestions and cannot-link pairs: what matching leaves for a person to decide."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sync.store.models import CannotLink, MergeSuggestion

__all__ = ["SuggestionIn", "add_cannot_link", "load_cannot_links", "replace_pending_suggestions"]


@dataclass(frozen=True)
class SuggestionIn:
    """A suggested merge of two golden records (in any order), with score and explanation."""

    golden_a: str
    golden_b: str
    score: float
    explanation: dict[str, Any]


def load_cannot_links(session: Session) -> list[tuple[int, int]]:
    """Every pair of source records that must never share a golden record."""
    rows = session.execute(select(CannotLink.source_record_a, CannotLink.source_record_b))
    return [(a, b) for a, b in rows]


def add_cannot_link(session: Session, record_a: int, record_b: int, *, reason: str | None,
                    created_by: str, now: datetime) -> bool:
    """Record that two source records are different customers; False if already recorded."""
    a, b = sorted((record_a, record_b))
    exists = session.scalar(select(CannotLink.id).where(CannotLink.source_record_a == a,
                                                        CannotLink.source_record_b == b))
    if exists is not None:
        return False
    session.add(CannotLink(source_record_a=a, source_record_b=b, reason=reason, created_by=created_by,
                           created_at=now))
    return True


def replace_pending_suggestions(session: Session, items: Sequence[SuggestionIn], *, now: datetime
                                ) -> tuple[int, int]:
    """Make the pending queue what matching found now: (new, withdrawn).

    Decided suggestions (accepted, rejected, deferred) are never touched; a pending one that is
    suggested again keeps its id, reviewer and assignee and gets the new score and explanation.
    """
    wanted: dict[tuple[str, str], SuggestionIn] = {}
    for item in items:
        key = tuple(sorted((item.golden_a, item.golden_b)))
        if key[0] != key[1] and (key not in wanted or wanted[key].score < item.score):  # type: ignore[index]
            wanted[key] = item  # type: ignore[index]
    existing = {(s.golden_a, s.golden_b): s for s in session.scalars(select(MergeSuggestion))}
    new = 0
    for key, item in wanted.items():
        row = existing.get(key)
        if row is None:
            session.add(MergeSuggestion(golden_a=key[0], golden_b=key[1], score=item.score,
                                        explanation=item.explanation, status="pending", version=1,
                                        created_at=now))
            new += 1
        elif row.status == "pending" and (row.score != item.score or row.explanation != item.explanation):
            row.score, row.explanation, row.version = item.score, item.explanation, row.version + 1
    stale = [s.id for key, s in existing.items() if s.status == "pending" and key not in wanted]
    if stale:
        session.execute(delete(MergeSuggestion).where(MergeSuggestion.id.in_(stale)))
    return new, len(stale)
