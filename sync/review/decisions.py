"""Deciding merge suggestions: accept (merge), reject (cannot-link), defer, assign, bulk accept.

Every decision names the suggestion version the reviewer saw. If someone else decided or
changed the suggestion in the meantime, the decision fails with a ConflictError and nothing is
written: one reviewer wins, the other is told, and the store is never half-changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from dedupe.survivorship import SurvivorshipRules
from sync.review.merging import MergeOutcome, lock, merge_in_session
from sync.review.queue import list_suggestions
from sync.store import (
    ConflictError,
    NotFoundError,
    Store,
    SuggestionRow,
    append_audit,
    assign_suggestion,
    cannot_link_pairs,
    decide_suggestion,
    get_suggestion_row,
    link_rows,
    linked_sources,
    load_golden,
)

__all__ = ["BulkPreview", "BulkResult", "RejectOutcome", "accept", "assign", "bulk_accept", "defer",
           "preview_bulk_accept", "reject"]


@dataclass(frozen=True)
class RejectOutcome:
    """A rejection: the suggestion and how many record pairs are now kept apart."""

    suggestion: SuggestionRow
    cannot_links: int


def _audit(session: Session, row: SuggestionRow, before: str, actor: str, action: str, now: datetime,
           reason: str | None = None) -> None:
    append_audit(session, actor=actor, action=f"suggestion.{action}", entity_type="merge_suggestion",
                 entity_id=str(row.id), before={"status": before}, after={"status": row.status,
                                                                          "assignee": row.assignee},
                 reason=reason or f"{row.golden_a} / {row.golden_b} (score {row.score:.3f})", at=now)


def _survivor(session: Session, a: str, b: str) -> tuple[str, str]:
    """The golden record with more source records survives; then the older one; then the smaller id."""
    sizes = {g: 0 for g in (a, b)}
    for link in link_rows(session, [a, b]):
        sizes[link.golden_id] += 1
    rows = load_golden(session, [a, b], status=None)
    missing = [g for g in (a, b) if g not in rows]
    if missing:
        raise NotFoundError(f"golden record(s) {missing} of the suggestion no longer exist")
    first = min((a, b), key=lambda g: (-sizes[g], rows[g].created_at, g))
    return first, b if first == a else a


def accept(store: Store, suggestion_id: int, *, actor: str, rules: SurvivorshipRules | None = None,
           expected_version: int | None = None) -> MergeOutcome:
    """Accept a suggestion: merge its two golden records (the bigger one survives)."""
    with store.session() as session:
        now = lock(session)
        row = get_suggestion_row(session, suggestion_id)
        decided = decide_suggestion(session, suggestion_id, expected_version=expected_version or row.version,
                                    status="accepted", reviewer=actor, now=now)
        survivor, loser = _survivor(session, row.golden_a, row.golden_b)
        outcome = merge_in_session(session, survivor, loser, actor=actor, rules=rules or SurvivorshipRules(),
                                   now=now, suggestion_id=suggestion_id)
        _audit(session, decided, row.status, actor, "accept", now, reason=f"merged {loser} into {survivor} "
                                                                          f"(change #{outcome.change_id})")
    return outcome


def reject(store: Store, suggestion_id: int, *, actor: str, expected_version: int | None = None,
           reason: str | None = None) -> RejectOutcome:
    """Reject a suggestion: every record pair across the two golden records becomes a cannot-link.

    Matching then never suggests them again, unless one side gains a source record that was not
    part of this decision: then the suggestion comes back as pending.
    """
    with store.session() as session:
        now = lock(session)
        row = get_suggestion_row(session, suggestion_id)
        decided = decide_suggestion(session, suggestion_id, expected_version=expected_version or row.version,
                                    status="rejected", reviewer=actor, now=now)
        sides = {g: [s.pk for s in linked_sources(session, [g])] for g in (row.golden_a, row.golden_b)}
        pairs = cannot_link_pairs(session, sides[row.golden_a], sides[row.golden_b],
                                  reason=reason or f"suggestion #{suggestion_id} rejected", by=actor, now=now)
        _audit(session, decided, row.status, actor, "reject", now,
               reason=(reason + "; " if reason else "") + f"{pairs} record pair(s) kept apart")
    return RejectOutcome(decided, pairs)


def defer(store: Store, suggestion_id: int, *, actor: str, expected_version: int | None = None) -> SuggestionRow:
    """Put a suggestion aside for later; it leaves the pending queue but stays open."""
    with store.session() as session:
        now = datetime.now(UTC)
        row = get_suggestion_row(session, suggestion_id)
        decided = decide_suggestion(session, suggestion_id, expected_version=expected_version or row.version,
                                    status="deferred", reviewer=actor, now=now)
        _audit(session, decided, row.status, actor, "defer", now)
    return decided


def assign(store: Store, suggestion_id: int, assignee: str | None, *, actor: str,
           expected_version: int | None = None) -> SuggestionRow:
    """Give a suggestion to a reviewer (None: to nobody)."""
    with store.session() as session:
        now = datetime.now(UTC)
        row = get_suggestion_row(session, suggestion_id)
        changed = assign_suggestion(session, suggestion_id, expected_version=expected_version or row.version,
                                    assignee=assignee)
        _audit(session, changed, row.status, actor, "assign", now, reason=f"assigned to {assignee or 'nobody'}")
    return changed


# ---------------------------------------------------------------- bulk


@dataclass(frozen=True)
class BulkPreview:
    """What accepting every pending suggestion at or above a score would do, before it is done."""

    min_score: float
    suggestion_ids: tuple[int, ...]  # in the order they would be accepted (highest score first)
    groups: dict[str, tuple[str, ...]]  # survivor → golden records merged into it
    records: int  # source records in those golden records

    @property
    def golden_changed(self) -> int:
        """Golden records whose values change (the survivors)."""
        return len(self.groups)

    @property
    def golden_retired(self) -> int:
        """Golden records merged away."""
        return sum(len(losers) for losers in self.groups.values())


@dataclass
class BulkResult:
    """What a bulk accept did."""

    accepted: list[int] = field(default_factory=list)
    conflicts: dict[int, str] = field(default_factory=dict)  # suggestion id → why it was left alone
    merges: list[MergeOutcome] = field(default_factory=list)


def preview_bulk_accept(store: Store, min_score: float, *, source: str | None = None,
                        assignee: str | None = None) -> BulkPreview:
    """Preview a bulk accept: which suggestions, which golden records merge into which."""
    items = sorted(list_suggestions(store, min_score=min_score, source=source, assignee=assignee),
                   key=lambda i: (-i.score, i.id))
    with store.session() as session:
        ids = {g for i in items for g in (i.golden_a, i.golden_b)}
        sizes = {g: 0 for g in ids}
        for link in link_rows(session, ids):
            sizes[link.golden_id] += 1
        created = {g: row.created_at for g, row in load_golden(session, ids).items()}
    into: dict[str, str] = {}

    def find(g: str) -> str:
        while g in into:
            g = into[g]
        return g

    chosen = []
    for item in items:  # the same order and survivor rule accept() uses, one after the other
        a, b = find(item.golden_a), find(item.golden_b)
        if a == b:
            continue
        survivor = min((a, b), key=lambda g: (-sizes[g], created[g], g))
        loser = b if survivor == a else a
        into[loser] = survivor
        sizes[survivor] += sizes[loser]
        chosen.append(item.id)
    groups: dict[str, list[str]] = {}
    for loser in into:
        groups.setdefault(find(loser), []).append(loser)
    records = sum(sizes[s] for s in groups)
    return BulkPreview(min_score, tuple(chosen), {s: tuple(sorted(ls)) for s, ls in sorted(groups.items())}, records)


def bulk_accept(store: Store, preview: BulkPreview, *, actor: str,
                rules: SurvivorshipRules | None = None) -> BulkResult:
    """Accept the suggestions of a preview, one transaction each; ones changed since are left alone."""
    result = BulkResult()
    for suggestion_id in preview.suggestion_ids:
        try:
            with store.session() as session:
                row = get_suggestion_row(session, suggestion_id)
            if row.score < preview.min_score:
                result.conflicts[suggestion_id] = f"score fell to {row.score:.3f} since the preview"
                continue
            result.merges.append(accept(store, suggestion_id, actor=actor, rules=rules,
                                        expected_version=row.version))
            result.accepted.append(suggestion_id)
        except (ConflictError, NotFoundError) as exc:
            result.conflicts[suggestion_id] = str(exc)
    return result
