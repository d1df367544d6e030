"""The push plan: what one destination needs, per golden record, computed from the store alone.

Actions: **create** (no remote record yet), **update** (its outbound payload changed since the
last push), **merge** (a retired golden record's remote record folds into its survivor's),
**delete** (erased, or retired with no sources left and `on_retired: archive`), **noop** (nothing
changed, or dead-lettered and unchanged since) and **reject** (cannot be pushed as it is; it
goes to dead letters without a CRM call). Planning reads only; `--plan` writes nothing anywhere.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from mappings import content_hash
from mappings.outbound import OutboundSpec
from sync.store import (
    Store,
    erased_golden_ids,
    load_dead_letters,
    load_golden,
    load_xrefs,
    pending_deletes,
    survivors_of,
)

__all__ = ["ACTIONS", "Plan", "PlanRow", "plan_push"]

Action = Literal["create", "update", "merge", "delete", "noop", "reject"]
ACTIONS: tuple[Action, ...] = ("create", "update", "merge", "delete", "noop", "reject")
_CSV_COLUMNS = ("golden_id", "action", "how", "remote_id", "into_golden", "into_remote", "reason", "fields")


@dataclass(frozen=True)
class PlanRow:
    """One golden record's step. `how` refines merge (api, archive, repoint) and delete (erase, archive)."""

    golden_id: str
    action: Action
    how: str = ""
    remote_id: str | None = None
    into_golden: str | None = None
    into_remote: str | None = None
    reason: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    record_hash: str | None = None


@dataclass
class Plan:
    """Every golden record's step for one destination, in the order they will be applied."""

    destination: str
    rows: list[PlanRow]
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def of(self, action: Action) -> list[PlanRow]:
        return [row for row in self.rows if row.action == action]

    def counts(self) -> dict[str, int]:
        found = Counter(row.action for row in self.rows)
        return {action: found.get(action, 0) for action in ACTIONS}

    @property
    def writes(self) -> int:
        """Rows that need a CRM call."""
        return sum(1 for r in self.rows if r.action in ("create", "update", "delete")
                   or (r.action == "merge" and r.how != "repoint"))

    def summary(self, limit: int = 20) -> list[str]:
        """Lines a person reads: the counts, then the first rows that would change something."""
        counts = ", ".join(f"{n} {a}" for a, n in self.counts().items() if n)
        lines = [f"push plan for {self.destination}: {counts or 'nothing to do'} ({self.writes} need a CRM call)"]
        changing = [r for r in self.rows if r.action != "noop"]
        for row in changing[:limit]:
            target = f" → {row.into_golden} ({row.into_remote})" if row.into_golden else ""
            remote = f" [{row.remote_id}]" if row.remote_id else ""
            how = f" ({row.how})" if row.how else ""
            lines.append(f"  {row.action}{how} {row.golden_id}{remote}{target}: {row.reason}")
        if len(changing) > limit:
            lines.append(f"  … and {len(changing) - limit} more (see the plan file)")
        return lines

    def write(self, path: Path) -> Path:
        """Write the plan as JSON (a `.json` path) or CSV (anything else); returns the path."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".json":
            document = {"destination": self.destination, "generated_at": self.generated_at.isoformat(),
                        "counts": self.counts(), "rows": [asdict(r) for r in self.rows]}
            path.write_text(json.dumps(document, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
            return path
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(_CSV_COLUMNS)
            for r in self.rows:
                writer.writerow([r.golden_id, r.action, r.how, r.remote_id or "", r.into_golden or "",
                                 r.into_remote or "", r.reason,
                                 json.dumps(r.payload, ensure_ascii=False, sort_keys=True) if r.payload else ""])
        return path


def _claims(rows: Sequence[PlanRow], unique_fields: Sequence[str], holders: set[str]) -> dict[str, str]:
    """golden id → why it may not write its unique key (another golden record claims the same value)."""
    taken: dict[tuple[str, str], str] = {}
    blocked: dict[str, str] = {}
    # records already in the CRM keep their values; newcomers queue behind them
    for row in sorted(rows, key=lambda r: (r.golden_id not in holders, r.golden_id)):
        for name in unique_fields:
            value = row.payload.get(name)
            if not isinstance(value, str) or not value:
                continue
            key = (name, value.strip().lower())
            owner = taken.setdefault(key, row.golden_id)
            if owner != row.golden_id:
                blocked[row.golden_id] = (
                    f"{name} {value!r} is also golden record {owner}'s, and the CRM keeps one record per {name}: "
                    "merge the two golden records (crmsync review) or correct the value at its source")
    return blocked


def plan_push(store: Store, destination: str, spec: OutboundSpec, *, merge_mode: str = "api",
              on_retired: str = "keep", unique_fields: Sequence[str] = ()) -> Plan:
    """The plan for `destination`: merges first, then deletes, updates, creates, noops and rejects."""
    with store.session() as session:
        active = load_golden(session)
        xrefs = load_xrefs(session, destination)
        letters = load_dead_letters(session, destination)
        queued = pending_deletes(session, destination)
        erased = erased_golden_ids(session) | set(queued)
        gone = [g for g in xrefs if g not in active and g not in erased]
        retired = load_golden(session, gone, status=None)
        survivors = survivors_of(session, {g: retired[g].provenance for g in gone if g in retired})
    merges: list[PlanRow] = []
    deletes: list[PlanRow] = []
    adopted: dict[str, str] = {}  # survivor without a remote record → the retired record it takes over
    for golden_id in sorted(gone):
        remote = xrefs[golden_id].remote_id
        survivor = survivors.get(golden_id)
        if survivor is None:
            if on_retired == "archive":
                deletes.append(PlanRow(golden_id, "delete", "archive", remote,
                                       reason="retired: no source record left (on_retired: archive)"))
            else:
                merges.append(PlanRow(golden_id, "noop", "", remote,
                                      reason="retired: no source record left; kept in the CRM (on_retired: keep)"))
            continue
        if survivor not in xrefs and survivor not in adopted:
            adopted[survivor] = golden_id
            merges.append(PlanRow(golden_id, "merge", "repoint", remote, survivor, remote,
                                  reason=f"merged into {survivor}, which takes over this CRM record"))
            continue
        target = xrefs[survivor].remote_id if survivor in xrefs else xrefs[adopted[survivor]].remote_id
        merges.append(PlanRow(golden_id, "merge", merge_mode, remote, survivor, target,
                              reason=f"merged into {survivor}" + (" (the CRM's merge)" if merge_mode == "api"
                                                                   else " (survivor updated, this one archived)")))
    for golden_id in sorted(erased):
        remote = xrefs[golden_id].remote_id if golden_id in xrefs else queued.get(golden_id)
        if remote is not None:
            deletes.append(PlanRow(golden_id, "delete", "erase", remote,
                                   reason="erased (GDPR): deleted for good in the CRM"))

    rows: list[PlanRow] = []
    for golden_id, golden in active.items():
        if golden_id in erased:
            continue
        payload = spec.render(golden_id, golden.fields)
        digest = content_hash(payload)
        xref = xrefs.get(golden_id)
        remote = xref.remote_id if xref else (xrefs[adopted[golden_id]].remote_id if golden_id in adopted else None)
        letter = letters.get(golden_id)
        if xref is not None and xref.last_pushed_hash == digest:
            rows.append(PlanRow(golden_id, "noop", "", remote, reason="unchanged since the last push",
                                payload=payload, record_hash=digest))
        elif letter is not None and letter.record_hash == digest:
            rows.append(PlanRow(golden_id, "noop", "dead-lettered", remote, payload=payload, record_hash=digest,
                                reason=f"refused before and unchanged since: {letter.error}"))
        elif not payload:
            rows.append(PlanRow(golden_id, "reject", "", remote, payload=payload, record_hash=digest,
                                reason="the outbound mapping gives no field for this record; map more fields"))
        elif remote is not None:
            rows.append(PlanRow(golden_id, "update", "adopt" if xref is None else "", remote, payload=payload,
                                record_hash=digest, reason="changed since the last push" if xref and
                                xref.last_pushed_hash else "not pushed in its current form yet"))
        else:
            rows.append(PlanRow(golden_id, "create", "", None, payload=payload, record_hash=digest,
                                reason="not in the CRM yet (looked up by its keys before it is created)"))
    blocked = _claims(rows, unique_fields, set(xrefs) | set(adopted))
    rows = [PlanRow(r.golden_id, "reject", "conflict", r.remote_id, reason=blocked[r.golden_id],
                    payload=r.payload, record_hash=r.record_hash)
            if r.golden_id in blocked and r.action in ("create", "update") else r for r in rows]
    order = {"update": 0, "create": 1, "noop": 2, "reject": 3}
    rows.sort(key=lambda r: (order[r.action], r.golden_id))
    merges.sort(key=lambda r: (r.action != "merge", r.golden_id))
    return Plan(destination, [*merges, *deletes, *rows])
