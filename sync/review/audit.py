"""Reading the audit log for people: by customer, run or time window, exported as CSV or JSON.

A customer's history follows it through merges and splits (the golden records merged into it or
split from it are part of its story). Sealed personal values are opened; those of erased people
show as erased. Text passes the one redaction filter on its way out.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal, TextIO

from sync.redaction import redact
from sync.store import AuditEntry, Store, change_history, read_audit

__all__ = ["AUDIT_COLUMNS", "audit_entries", "write_audit"]

AUDIT_COLUMNS = ("id", "at", "actor", "action", "entity_type", "entity_id", "field", "before", "after", "reason",
                 "run_id")


def _related(store: Store, golden_id: str) -> list[str]:
    """The golden record and every one merged into it or split from it, transitively."""
    seen = [golden_id]
    with store.session() as session:
        for current in seen:
            for change in change_history(session, current):
                for other in (change.golden_id, change.other_id):
                    if other not in seen:
                        seen.append(other)
    return seen


def audit_entries(store: Store, *, customer: str | None = None, run_id: str | None = None,
                  since: datetime | None = None, until: datetime | None = None,
                  limit: int | None = None) -> list[AuditEntry]:
    """Audit entries matching every filter given, oldest first (`since` inclusive, `until` exclusive)."""
    ids: Sequence[str | None] = _related(store, customer) if customer else [None]
    found: dict[int, AuditEntry] = {}
    with store.session() as session:
        for entity_id in ids:
            for entry in read_audit(session, entity_id=entity_id, run_id=run_id, since=since, until=until):
                found[entry.id] = entry
    entries = [found[k] for k in sorted(found)]
    return entries[-limit:] if limit else entries


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return redact(value)
    return redact(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))


def _clean(value: Any) -> Any:
    """A JSON value with every string passed through the redaction filter."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


_EMPTY = (None, "", [], {})


def _rows(entry: AuditEntry) -> Iterable[dict[str, str]]:
    """One CSV row per changed field: before → after side by side."""
    base = {"id": str(entry.id), "at": entry.at.isoformat(), "actor": redact(entry.actor), "action": entry.action,
            "entity_type": entry.entity_type, "entity_id": entry.entity_id, "reason": _text(entry.reason),
            "run_id": entry.run_id or ""}
    before, after = entry.before, entry.after
    if isinstance(before, dict) or isinstance(after, dict):
        b = before if isinstance(before, dict) else {}
        a = after if isinstance(after, dict) else {}
        fields = [f for f in dict.fromkeys([*b, *a]) if b.get(f) not in _EMPTY or a.get(f) not in _EMPTY]
        if fields:
            for name in fields:
                yield {**base, "field": name, "before": _text(b.get(name)), "after": _text(a.get(name))}
            return
    yield {**base, "field": "", "before": _text(before), "after": _text(after)}


def write_audit(entries: Sequence[AuditEntry], out: TextIO, fmt: Literal["csv", "json"] = "csv") -> int:
    """Write entries as CSV (one row per changed field) or JSON (one object per entry); returns rows written."""
    if fmt == "json":
        document = [{"id": e.id, "at": e.at.isoformat(), "actor": redact(e.actor), "action": e.action,
                     "entity_type": e.entity_type, "entity_id": e.entity_id, "before": _clean(e.before),
                     "after": _clean(e.after), "reason": _clean(e.reason), "run_id": e.run_id} for e in entries]
        json.dump(document, out, ensure_ascii=False, indent=2, default=str)
        out.write("\n")
        return len(document)
    if fmt != "csv":
        raise ValueError(f"unknown audit format {fmt!r}; use csv or json")
    writer = csv.DictWriter(out, fieldnames=AUDIT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for entry in entries:
        for row in _rows(entry):
            writer.writerow(row)
            count += 1
    return count
