"""The review queue: merge suggestions ordered by uncertainty × impact, and one shown side by side."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from dedupe.survivorship import FIELD_KINDS
from sync.store import (
    OPEN,
    GoldenRow,
    LinkedSource,
    Store,
    SuggestionRow,
    get_suggestion_row,
    linked_sources,
    list_suggestion_rows,
    load_golden,
)

__all__ = [
    "EvidenceRow",
    "FieldRow",
    "QueueItem",
    "SuggestionDetail",
    "get_suggestion",
    "list_suggestions",
    "priority",
]


def priority(score: float, records: int) -> float:
    """Uncertainty × impact: 1 at a score of 0.5, 0 at 0 or 1, times the source records affected."""
    return round((1.0 - 2.0 * abs(score - 0.5)) * records, 6)


@dataclass(frozen=True)
class QueueItem:
    """One suggestion in the queue, with what ranks it."""

    id: int
    golden_a: str
    golden_b: str
    score: float
    status: str
    assignee: str | None
    reviewer: str | None
    version: int
    records: int  # source records on both sides: what a decision changes
    sources: tuple[str, ...]
    priority: float
    sentence: str
    reason: str


@dataclass(frozen=True)
class FieldRow:
    """One field of two golden records side by side; `differs` marks the ones to look at."""

    field: str
    a: Any
    b: Any
    differs: bool
    from_a: str | None  # where the value came from: 'source/stream/id'
    from_b: str | None


@dataclass(frozen=True)
class EvidenceRow:
    """One comparison the engine made between the strongest pair of records."""

    comparison: str
    level: str
    bits: float


@dataclass(frozen=True)
class SuggestionDetail:
    """Everything a reviewer needs to decide one suggestion."""

    item: QueueItem
    golden_a: GoldenRow
    golden_b: GoldenRow
    fields: list[FieldRow]
    evidence: list[EvidenceRow]
    records_a: list[LinkedSource]
    records_b: list[LinkedSource]
    pair: tuple[int | None, int | None]  # the strongest pair of source records (store ids)


def _item(row: SuggestionRow, records: dict[str, list[LinkedSource]]) -> QueueItem:
    both = [r for r in records.get(row.golden_a, []) + records.get(row.golden_b, []) if not r.deleted]
    explanation = row.explanation or {}
    return QueueItem(id=row.id, golden_a=row.golden_a, golden_b=row.golden_b, score=row.score, status=row.status,
                     assignee=row.assignee, reviewer=row.reviewer, version=row.version, records=len(both),
                     sources=tuple(sorted({r.source for r in both})), priority=priority(row.score, len(both)),
                     sentence=str(explanation.get("sentence", "")), reason=str(explanation.get("reason", "")))


def _by_golden(sources: Iterable[LinkedSource]) -> dict[str, list[LinkedSource]]:
    found: dict[str, list[LinkedSource]] = {}
    for s in sources:
        found.setdefault(s.golden_id, []).append(s)
    return found


def list_suggestions(store: Store, *, statuses: Collection[str] = ("pending",), source: str | None = None,
                     min_score: float | None = None, max_score: float | None = None,
                     assignee: str | None = None, unassigned: bool = False,
                     limit: int | None = None) -> list[QueueItem]:
    """Suggestions to review, most worth a person's time first (uncertainty × records affected).

    Filters: a source either side holds records from, a score band (inclusive), an assignee (or
    only unassigned ones). Suggestions whose golden records are no longer both active are left out.
    """
    unknown = set(statuses) - {*OPEN, "accepted", "rejected"}
    if unknown:
        raise ValueError(f"unknown status(es) {sorted(unknown)}; use pending, deferred, accepted or rejected")
    with store.session() as session:
        rows = list_suggestion_rows(session, statuses)
        ids = {g for r in rows for g in (r.golden_a, r.golden_b)}
        active = set(load_golden(session, ids)) if ids else set()
        records = _by_golden(linked_sources(session, ids)) if ids else {}
    items = []
    for row in rows:
        if row.status in OPEN and not {row.golden_a, row.golden_b} <= active:
            continue
        if min_score is not None and row.score < min_score or max_score is not None and row.score > max_score:
            continue
        if unassigned and row.assignee is not None or assignee is not None and row.assignee != assignee:
            continue
        item = _item(row, records)
        if source is not None and source not in item.sources:
            continue
        items.append(item)
    items.sort(key=lambda i: (-i.priority, abs(i.score - 0.5), i.id))
    return items[:limit] if limit is not None else items


def _flatten(fields: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name in [*FIELD_KINDS, "sources"]:
        value = fields.get(name)
        if FIELD_KINDS.get(name) == "group":
            for key, part in sorted((value or {}).items()):
                flat[f"{name}.{key}"] = part
        else:
            flat[name] = value
    return flat


def _origin(provenance: dict[str, Any], path: str) -> str | None:
    origin = provenance.get(path)
    if not isinstance(origin, dict):
        return None
    if origin.get("source") == "pin":
        return f"pinned by {origin.get('pinned_by')}"
    return f"{origin.get('source')}/{origin.get('stream')}/{origin.get('source_record_id')}"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, a)) == sorted(map(str, b))
    return bool(a == b)


def side_by_side(a: GoldenRow, b: GoldenRow) -> list[FieldRow]:
    """Both golden records' values field by field, skipping fields neither has."""
    flat_a, flat_b = _flatten(a.fields), _flatten(b.fields)
    rows = []
    for path in dict.fromkeys([*flat_a, *flat_b]):
        va, vb = flat_a.get(path), flat_b.get(path)
        if va in (None, "", [], {}) and vb in (None, "", [], {}):
            continue
        rows.append(FieldRow(path, va, vb, not _same(va, vb), _origin(a.provenance, path),
                             _origin(b.provenance, path)))
    return rows


def get_suggestion(store: Store, suggestion_id: int) -> SuggestionDetail:
    """One suggestion with both golden records side by side, the explanation and the per-field evidence."""
    with store.session() as session:
        row = get_suggestion_row(session, suggestion_id)
        golden = load_golden(session, [row.golden_a, row.golden_b], status=None)
        records = _by_golden(linked_sources(session, [row.golden_a, row.golden_b]))
    comparisons = (row.explanation or {}).get("comparisons") or {}
    evidence = sorted((EvidenceRow(name, str(e.get("level")), float(e.get("bits", 0.0)))
                       for name, e in comparisons.items() if isinstance(e, dict)),
                      key=lambda e: -abs(e.bits))
    pair = ((row.explanation or {}).get("record_a"), (row.explanation or {}).get("record_b"))
    return SuggestionDetail(item=_item(row, records), golden_a=golden[row.golden_a], golden_b=golden[row.golden_b],
                            fields=side_by_side(golden[row.golden_a], golden[row.golden_b]), evidence=evidence,
                            records_a=records.get(row.golden_a, []), records_b=records.get(row.golden_b, []),
                            pair=pair)


__all__ += ["side_by_side"]
