"""One golden record for people: show it (values, provenance, pins, sources, history), pin, merge, split.

These open their own transaction each; the web app and the CLI call them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dedupe.survivorship import SurvivorshipRules
from sync.review.common import ReviewError, compute_values, diff_fields, parse_pin_value
from sync.review.merging import (
    MergeOutcome,
    SplitOutcome,
    UnmergeOutcome,
    lock,
    merge_in_session,
    split_in_session,
    unmerge_in_session,
)
from sync.store import (
    ActionRow,
    AuditEntry,
    ChangeRow,
    GoldenRow,
    LinkedSource,
    NotFoundError,
    PinRow,
    SourceKey,
    Store,
    append_personal_audit,
    change_history,
    destination_actions,
    linked_sources,
    load_golden,
    load_pins,
    read_audit,
    remove_pin,
    set_pin,
    source_record_pks,
    update_golden,
    xrefs_of,
)

__all__ = ["GoldenView", "merge", "parse_record_ref", "pin", "show_golden", "split", "unmerge", "unpin"]


@dataclass(frozen=True)
class GoldenView:
    """A golden record with everything that explains it."""

    golden: GoldenRow
    pins: dict[str, PinRow]
    records: list[LinkedSource]
    history: list[AuditEntry]  # oldest first
    changes: list[ChangeRow]  # merges and splits it took part in
    destinations: dict[str, str]  # destination → remote id
    actions: list[ActionRow]  # destination actions queued for it


def show_golden(store: Store, golden_id: str, *, history: int | None = 100) -> GoldenView:
    """A golden record (any status), its pins, source records, audit history and merges."""
    with store.session() as session:
        rows = load_golden(session, [golden_id], status=None)
        if golden_id not in rows:
            raise NotFoundError(f"no golden record {golden_id!r}; list suggestions or export to find ids")
        return GoldenView(
            golden=rows[golden_id], pins=load_pins(session, [golden_id]).get(golden_id, {}),
            records=linked_sources(session, [golden_id]),
            history=read_audit(session, entity_id=golden_id, limit=history),
            changes=change_history(session, golden_id),
            destinations=xrefs_of(session, [golden_id]).get(golden_id, {}),
            actions=destination_actions(session, status=None, golden_id=golden_id))


def _repin(store: Store, golden_id: str, field: str, value: Any | None, *, actor: str, rules: SurvivorshipRules,
           reason: str | None) -> GoldenRow:
    with store.session() as session:
        now = lock(session)
        rows = load_golden(session, [golden_id])
        if golden_id not in rows:
            raise NotFoundError(f"no active golden record {golden_id!r}")
        current = load_pins(session, [golden_id]).get(golden_id, {}).get(field)
        if value is None:
            if not remove_pin(session, golden_id, field):
                raise ReviewError(f"{field} is not pinned on {golden_id}")
        else:
            set_pin(session, golden_id, field, value, by=actor, now=now, reason=reason)
        values, digest = compute_values(session, golden_id, rules)
        update_golden(session, golden_id, expected_version=rows[golden_id].version, now=now,
                      fields=values.fields, provenance=values.provenance, content_hash=digest)
        old, new = diff_fields(rows[golden_id].fields, values.fields)
        append_personal_audit(session, [{
            "actor": actor, "action": "golden.pin" if value is not None else "golden.unpin", "entity_id": golden_id,
            "before": {"pin": {field: current.value if current else None}, **old},
            "after": {"pin": {field: value}, **new}, "reason": reason}], now=now)
        return load_golden(session, [golden_id])[golden_id]


def pin(store: Store, golden_id: str, field: str, text: str, *, actor: str, rules: SurvivorshipRules | None = None,
        reason: str | None = None) -> GoldenRow:
    """Fix a field's value ('address.city', an e-mail to be primary, ...): it wins until unpinned."""
    return _repin(store, golden_id, field, parse_pin_value(field, text), actor=actor,
                  rules=rules or SurvivorshipRules(), reason=reason)


def unpin(store: Store, golden_id: str, field: str, *, actor: str, rules: SurvivorshipRules | None = None,
          reason: str | None = None) -> GoldenRow:
    """Remove a pin: the field goes back to its survivorship rule."""
    return _repin(store, golden_id, field, None, actor=actor, rules=rules or SurvivorshipRules(), reason=reason)


def merge(store: Store, survivor: str, loser: str, *, actor: str, rules: SurvivorshipRules | None = None,
          expected_versions: dict[str, int] | None = None, reason: str | None = None) -> MergeOutcome:
    """Merge golden record `loser` into `survivor` by hand."""
    with store.session() as session:
        now = lock(session)
        return merge_in_session(session, survivor, loser, actor=actor, rules=rules or SurvivorshipRules(), now=now,
                                expected_versions=expected_versions, reason=reason)


def unmerge(store: Store, golden_id: str, *, actor: str, change_id: int | None = None) -> UnmergeOutcome:
    """Undo the latest merge into a golden record, restoring both records exactly as they were."""
    with store.session() as session:
        now = lock(session)
        return unmerge_in_session(session, golden_id, actor=actor, now=now, change_id=change_id)


def parse_record_ref(text: str) -> int | SourceKey:
    """A source record named by store id ('17') or by key ('crm/contacts/0042')."""
    if text.isdigit():
        return int(text)
    parts = text.split("/", 2)
    if len(parts) != 3 or not all(parts):
        raise ReviewError(f"record {text!r}: name it by store id (17) or as SOURCE/STREAM/ID (crm/contacts/0042)")
    return (parts[0], parts[1], parts[2])


def split(store: Store, golden_id: str, records: list[int | SourceKey], *, actor: str,
          rules: SurvivorshipRules | None = None) -> SplitOutcome:
    """Split the named source records off a golden record into a new one."""
    with store.session() as session:
        now = lock(session, datetime.now(UTC))
        keys = [r for r in records if isinstance(r, tuple)]
        found = source_record_pks(session, keys)
        unknown = ["/".join(k) for k in keys if k not in found]
        if unknown:
            raise ReviewError(f"no source record(s) {unknown}; see the golden record's records with "
                              "`crmsync golden show ID`")
        pks = [r if isinstance(r, int) else found[r] for r in records]
        return split_in_session(session, golden_id, pks, actor=actor, rules=rules or SurvivorshipRules(), now=now)
