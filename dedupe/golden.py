"""Golden records from clusters: survivorship ("most recent non-empty value wins") and stable ids."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dedupe.types import Cluster, GoldenValues, MatchRecord

__all__ = ["assign_golden_ids", "survive"]

_LIST_FIELDS = ("emails", "phones", "tags")
_GROUP_FIELDS = ("address", "consent", "custom")
_SKIP = {"ref", "source_updated_at"}


def _order(records: Sequence[MatchRecord]) -> list[MatchRecord]:
    """Newest first; ties broken by source key so the result never depends on input order."""
    return sorted(records, key=lambda r: (r.recency, r.customer.ref.key()), reverse=True)


def _origin(record: MatchRecord) -> dict[str, Any]:
    ref = record.customer.ref
    return {"source": ref.source, "stream": ref.stream, "source_record_id": ref.source_record_id,
            "updated_at": record.recency.isoformat()}


def survive(records: Sequence[MatchRecord]) -> GoldenValues:
    """Most recent non-empty value per field; lists are the union, newest first."""
    ordered = _order(records)
    dumps = [(r, r.customer.model_dump(mode="json", exclude=_SKIP)) for r in ordered]
    fields: dict[str, Any] = {}
    provenance: dict[str, dict[str, Any]] = {}
    names = dumps[0][1].keys() if dumps else ()
    for name in names:
        if name in _LIST_FIELDS:
            merged: list[Any] = []
            for record, dump in dumps:
                for item in dump[name]:
                    if item not in merged:
                        merged.append(item)
                        provenance.setdefault(f"{name}[{item}]", _origin(record))
            fields[name] = merged
            if merged:
                provenance[name] = provenance[f"{name}[{merged[0]}]"]
        elif name in _GROUP_FIELDS:
            group: dict[str, Any] = {}
            for record, dump in dumps:
                for key, value in (dump[name] or {}).items():
                    if value not in (None, "") and key not in group:
                        group[key] = value
                        provenance[f"{name}.{key}"] = _origin(record)
            fields[name] = group
        else:
            fields[name] = None
            for record, dump in dumps:
                if dump[name] not in (None, ""):
                    fields[name] = dump[name]
                    provenance[name] = _origin(record)
                    break
    fields["sources"] = sorted({r.customer.ref.source for r in ordered})
    return GoldenValues(fields, provenance)


def assign_golden_ids(
    clusters: Sequence[Cluster],
    previous: Mapping[int, str],
    new_id: Callable[[], str],
) -> list[str]:
    """One golden id per cluster, reusing the id most of its members already had.

    Larger clusters choose first, so when a golden record splits, its biggest part keeps the id.
    """
    order = sorted(range(len(clusters)), key=lambda i: (-len(clusters[i].members), min(clusters[i].keys)))
    taken: set[str] = set()
    result: dict[int, str] = {}
    for index in order:
        votes = Counter(previous[k] for k in clusters[index].keys if k in previous)
        candidates = sorted(votes, key=lambda gid: (-votes[gid], gid))
        chosen = next((gid for gid in candidates if gid not in taken), None) or new_id()
        taken.add(chosen)
        result[index] = chosen
    return [result[i] for i in range(len(clusters))]
