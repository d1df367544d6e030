"""Merge, unmerge and split golden records: reversible, audited, and queued for destinations.

A merge links every source record of both golden records to the survivor by hand (method
'manual'), so the next match run keeps them together; the loser is retired. Its before-image
(both golden records, their links, pins and interactions) is kept in `golden_changes`, and an
unmerge puts exactly that back, adding cannot-links so matching keeps the two apart from then on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from dedupe.golden import MANUAL
from dedupe.survivorship import SurvivorshipRules
from sync.review.common import ReviewError, compute_values, diff_fields, golden_image, link_image
from sync.store import (
    ChangeRow,
    ConflictError,
    GoldenRow,
    LinkIn,
    NotFoundError,
    append_personal_audit,
    begin_manual_change,
    cannot_link_pairs,
    interactions_of,
    latest_change,
    link_rows,
    load_golden,
    mark_change_undone,
    open_changes_after,
    pin_rows,
    queue_destination_action,
    record_change,
    records_of,
    replace_pins,
    repoint_suggestions,
    save_golden,
    set_interaction_golden,
    set_links,
    undo_acceptance,
    update_golden,
    xrefs_of,
)

__all__ = ["MergeOutcome", "SplitOutcome", "UnmergeOutcome", "merge_in_session", "split_in_session",
           "unmerge_in_session"]


@dataclass(frozen=True)
class MergeOutcome:
    """What a merge did."""

    change_id: int
    survivor: str
    loser: str
    records: int  # source records now in the survivor
    destination_actions: int


@dataclass(frozen=True)
class UnmergeOutcome:
    """What an unmerge restored."""

    change_id: int
    survivor: str
    restored: str
    cannot_links: int
    destination_actions: int


@dataclass(frozen=True)
class SplitOutcome:
    """What a split did: the records that left, in their new golden record."""

    change_id: int
    golden_id: str
    new_golden_id: str
    records: tuple[int, ...]
    cannot_links: int
    destination_actions: int


def _active(session: Session, ids: list[str]) -> dict[str, GoldenRow]:
    rows = load_golden(session, ids, status=None)
    for golden_id in ids:
        if golden_id not in rows:
            raise NotFoundError(f"no golden record {golden_id!r}; find ids with `crmsync suggestions` or the export")
        if rows[golden_id].status != "active":
            raise ConflictError(f"golden record {golden_id} is retired (merged away or without sources); "
                                "reload and pick an active one")
    return rows


def _before_image(session: Session, ids: list[str], rows: dict[str, GoldenRow]) -> dict[str, Any]:
    return {"golden": {g: golden_image(rows[g]) for g in ids},
            "links": [link_image(link) for link in link_rows(session, ids)],
            "pins": pin_rows(session, ids),
            "interactions": {str(k): v for k, v in sorted(interactions_of(session, ids).items())}}


def _after_image(session: Session, ids: list[str]) -> dict[str, Any]:
    rows = load_golden(session, ids, status=None)
    return {"golden": {g: golden_image(rows[g]) for g in ids},
            "links": [link_image(link) for link in link_rows(session, ids)]}


def merge_in_session(session: Session, survivor: str, loser: str, *, actor: str, rules: SurvivorshipRules,
                     now: datetime | None = None, suggestion_id: int | None = None,
                     expected_versions: dict[str, int] | None = None, reason: str | None = None) -> MergeOutcome:
    """Merge `loser` into `survivor` inside the caller's transaction (which must hold the review lock)."""
    now = now or datetime.now(UTC)
    if survivor == loser:
        raise ReviewError(f"cannot merge golden record {survivor} with itself")
    ids = [survivor, loser]
    rows = _active(session, ids)
    for golden_id, version in (expected_versions or {}).items():
        if rows[golden_id].version != version:
            raise ConflictError(f"golden record {golden_id} changed since it was loaded (version {version}, "
                                f"now {rows[golden_id].version}); nothing was changed, reload it")
    before = _before_image(session, ids, rows)
    kept = [p for p in before["pins"] if p["golden_id"] == survivor]
    kept_fields = {p["field"] for p in kept}
    moved = [{**p, "golden_id": survivor} for p in before["pins"]
             if p["golden_id"] == loser and p["field"] not in kept_fields]
    replace_pins(session, ids, kept + moved)  # the survivor's own pins win over the loser's
    set_links(session, [LinkIn(source_record_pk=link["source_record_pk"], golden_id=survivor, score=1.0,
                               method=MANUAL, explanation={"sentence": f"merged by {actor}", "merged": loser},
                               decided_by=actor) for link in before["links"]], now=now)
    values, digest = compute_values(session, survivor, rules)
    update_golden(session, survivor, expected_version=rows[survivor].version, now=now, status="active",
                  fields=values.fields, provenance=values.provenance, content_hash=digest)
    update_golden(session, loser, expected_version=rows[loser].version, now=now, status="retired")
    set_interaction_golden(session, {int(k): survivor for k, v in before["interactions"].items() if v == loser})
    repoint_suggestions(session, loser, survivor)
    xrefs = xrefs_of(session, ids)
    actions = 0
    for destination, remote_id in sorted(xrefs.get(loser, {}).items()):
        queue_destination_action(
            session, destination=destination, action="merge", golden_id=loser, remote_id=remote_id,
            payload={"survivor": survivor, "loser": loser,
                     "survivor_remote_id": xrefs.get(survivor, {}).get(destination), "loser_remote_id": remote_id},
            reason=f"{loser} was merged into {survivor}", by=actor, now=now)
        actions += 1
    change_id = record_change(session, kind="merge", golden_id=survivor, other_id=loser, actor=actor, at=now,
                              before=before, after=_after_image(session, ids), suggestion_id=suggestion_id)
    why = f"merged {loser} into {survivor} (change #{change_id}" + (
        f", suggestion #{suggestion_id})" if suggestion_id else ")") + (f": {reason}" if reason else "")
    old, new = diff_fields(rows[survivor].fields, values.fields)
    append_personal_audit(session, [
        {"actor": actor, "action": "golden.merge", "entity_id": survivor, "before": old, "after": new, "reason": why},
        {"actor": actor, "action": "golden.retire", "entity_id": loser, "before": rows[loser].fields,
         "reason": why}], now=now)
    return MergeOutcome(change_id, survivor, loser, len(before["links"]), actions)


def _change_to_undo(session: Session, golden_id: str, change_id: int | None) -> ChangeRow:
    change = latest_change(session, golden_id)
    if change_id is not None and (change is None or change.id != change_id):
        raise ReviewError(f"change #{change_id} is not the latest merge of {golden_id} still in effect; "
                          "merges are undone newest first")
    if change is None:
        raise ReviewError(f"golden record {golden_id} has no merge to undo; to take source records out of it, "
                          "name them: crmsync unmerge ID --record SOURCE/STREAM/ID")
    if "golden" not in change.before:
        raise ReviewError(f"merge #{change.id} involved a person who was erased since; it cannot be undone")
    later = open_changes_after(session, change)
    if later:
        raise ConflictError(f"undo change #{later[-1].id} ({later[-1].kind} of {later[-1].golden_id}) first: "
                            f"it came after merge #{change.id}")
    return change


def unmerge_in_session(session: Session, golden_id: str, *, actor: str, now: datetime | None = None,
                       change_id: int | None = None) -> UnmergeOutcome:
    """Undo the latest merge into `golden_id`, restoring both golden records as they were before it."""
    now = now or datetime.now(UTC)
    change = _change_to_undo(session, golden_id, change_id)
    survivor, loser = change.golden_id, change.other_id
    ids = [survivor, loser]
    current = load_golden(session, ids, status=None)
    if current[loser].status != "retired":
        raise ConflictError(f"golden record {loser} is active again (a match run revived it); "
                            f"merge #{change.id} cannot be undone as it was")
    for gid in ids:
        image = change.before["golden"][gid]
        update_golden(session, gid, expected_version=current[gid].version, now=now, status=image["status"],
                      fields=image["fields"], provenance=image["provenance"], content_hash=image["content_hash"])
    set_links(session, [LinkIn(**link) for link in change.before["links"]], now=now)
    replace_pins(session, ids, change.before["pins"])
    set_interaction_golden(session, {int(k): v for k, v in change.before["interactions"].items()})
    sides = {gid: [link["source_record_pk"] for link in change.before["links"] if link["golden_id"] == gid]
             for gid in ids}
    apart = cannot_link_pairs(session, sides[survivor], sides[loser], reason=f"unmerge of merge #{change.id}",
                              by=actor, now=now)
    if change.suggestion_id is not None:
        undo_acceptance(session, change.suggestion_id, by=actor, now=now)
    xrefs = xrefs_of(session, ids)
    actions = 0
    for destination in sorted(set(xrefs.get(survivor, {})) | set(xrefs.get(loser, {}))):
        queue_destination_action(
            session, destination=destination, action="re-create", golden_id=loser,
            remote_id=xrefs.get(loser, {}).get(destination),
            payload={"golden_id": loser, "split_from": survivor,
                     "survivor_remote_id": xrefs.get(survivor, {}).get(destination)},
            reason=f"merge #{change.id} of {loser} into {survivor} was undone: {loser} needs its own record again",
            by=actor, now=now)
        actions += 1
    mark_change_undone(session, change.id, by=actor, now=now)
    why = f"undid merge #{change.id}"
    old, new = diff_fields(current[survivor].fields, change.before["golden"][survivor]["fields"])
    append_personal_audit(session, [
        {"actor": actor, "action": "golden.unmerge", "entity_id": survivor, "before": old, "after": new,
         "reason": why},
        {"actor": actor, "action": "golden.restore", "entity_id": loser,
         "after": change.before["golden"][loser]["fields"], "reason": why}], now=now)
    return UnmergeOutcome(change.id, survivor, loser, apart, actions)


def split_in_session(session: Session, golden_id: str, record_pks: list[int], *, actor: str,
                     rules: SurvivorshipRules, now: datetime | None = None) -> SplitOutcome:
    """Move the named source records out of a golden record into a new one, kept apart from then on."""
    now = now or datetime.now(UTC)
    rows = _active(session, [golden_id])
    links = link_rows(session, [golden_id])
    linked = {link.source_record_pk for link in links}
    leaving = sorted(set(record_pks))
    missing = [pk for pk in leaving if pk not in linked]
    if missing:
        raise ReviewError(f"source record(s) {missing} are not in golden record {golden_id}; "
                          "see its records with `crmsync golden show ID`")
    staying = sorted(linked - set(leaving))
    if not leaving or not staying:
        raise ReviewError("name some, not all, of the golden record's source records to split off")
    before = _before_image(session, [golden_id], rows)
    new_id = str(uuid.uuid4())
    live = records_of(session, [golden_id])[golden_id]
    values, digest = compute_values(session, new_id, rules, [r for r in live if r.pk in leaving])
    save_golden(session, new_id, fields=values.fields, provenance=values.provenance, content_hash=digest, now=now)
    set_links(session, [LinkIn(source_record_pk=pk, golden_id=new_id, score=1.0, method=MANUAL,
                               explanation={"sentence": f"split off by {actor}", "split_from": golden_id},
                               decided_by=actor) for pk in leaving], now=now)
    kept, kept_digest = compute_values(session, golden_id, rules)
    update_golden(session, golden_id, expected_version=rows[golden_id].version, now=now, status="active",
                  fields=kept.fields, provenance=kept.provenance, content_hash=kept_digest)
    apart = cannot_link_pairs(session, leaving, staying, reason=f"split of {golden_id}", by=actor, now=now)
    actions = 0
    for destination, remote_id in sorted(xrefs_of(session, [golden_id]).get(golden_id, {}).items()):
        queue_destination_action(
            session, destination=destination, action="re-create", golden_id=new_id, remote_id=None,
            payload={"golden_id": new_id, "split_from": golden_id, "survivor_remote_id": remote_id},
            reason=f"split off {golden_id}: create it as a new record, never matched onto {remote_id}",
            by=actor, now=now)
        actions += 1
    change_id = record_change(session, kind="split", golden_id=golden_id, other_id=new_id, actor=actor, at=now,
                              before=before, after=_after_image(session, [golden_id, new_id]))
    why = f"split {len(leaving)} source record(s) off {golden_id} into {new_id} (change #{change_id})"
    old, new = diff_fields(rows[golden_id].fields, kept.fields)
    append_personal_audit(session, [
        {"actor": actor, "action": "golden.split", "entity_id": golden_id, "before": old, "after": new,
         "reason": why},
        {"actor": actor, "action": "golden.create", "entity_id": new_id, "after": values.fields, "reason": why}],
        now=now)
    return SplitOutcome(change_id, golden_id, new_id, tuple(leaving), apart, actions)


def lock(session: Session, now: datetime | None = None) -> datetime:
    """Take the review lock for a manual change; returns the time to stamp it with."""
    now = now or datetime.now(UTC)
    begin_manual_change(session, now)
    return now


__all__ += ["lock"]
