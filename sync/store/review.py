"""What people decide about golden records: suggestions under optimistic locking, pins, merges and
splits with their before-images, and the actions destinations need afterwards.

Every function takes a Session and never commits. A manual change starts with
`begin_manual_change`, which serialises people's changes with each other and with the write
phase of a match run (see `lock_for_match`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session

from sync.store.engine import NotFoundError, StoreError
from sync.store.models import (
    CannotLink,
    DestinationAction,
    DestinationXref,
    GoldenChange,
    GoldenPin,
    GoldenRecord,
    Interaction,
    Link,
    MergeSuggestion,
    ReviewState,
    SourceRecord,
)
from sync.store.records import chunks, rowcount
from sync.store.types import SourceKey, StoredCustomer

__all__ = [
    "ActionRow",
    "ChangeRow",
    "ConflictError",
    "LinkRow",
    "PinRow",
    "SuggestionRow",
    "begin_manual_change",
    "change_history",
    "decide_suggestion",
    "destination_actions",
    "get_suggestion_row",
    "interactions_of",
    "latest_change",
    "link_rows",
    "list_suggestion_rows",
    "load_pins",
    "lock_for_match",
    "manual_links",
    "mark_change_undone",
    "open_changes_after",
    "pin_rows",
    "queue_destination_action",
    "record_change",
    "remove_pin",
    "reopen_rejected",
    "repoint_suggestions",
    "replace_pins",
    "review_generation",
    "set_interaction_golden",
    "set_pin",
    "update_golden",
    "xrefs_of",
]

_NO_SYNC = {"synchronize_session": False}
OPEN = ("pending", "deferred")


class ConflictError(StoreError):
    """Someone else changed the suggestion or golden record first: reload it and decide again."""


@dataclass(frozen=True)
class SuggestionRow:
    """A merge suggestion as stored."""

    id: int
    golden_a: str
    golden_b: str
    score: float
    explanation: dict[str, Any]
    status: str
    reviewer: str | None
    assignee: str | None
    version: int
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class PinRow:
    """A pinned value as stored."""

    golden_id: str
    field: str
    value: Any
    pinned_by: str
    pinned_at: datetime
    reason: str | None


@dataclass(frozen=True)
class LinkRow:
    """A link as stored: which golden record a source record is in, and who decided it how."""

    source_record_pk: int
    golden_id: str
    score: float
    method: str
    explanation: Any
    decided_by: str


@dataclass(frozen=True)
class LinkedSource:
    """A source record in a golden record: its key, whether it still exists, and how it was linked."""

    pk: int
    source: str
    stream: str
    source_record_id: str
    deleted: bool
    golden_id: str
    method: str
    score: float
    decided_by: str


@dataclass(frozen=True)
class ChangeRow:
    """A merge or split, with its before- and after-images."""

    id: int
    kind: str
    golden_id: str
    other_id: str
    suggestion_id: int | None
    actor: str
    at: datetime
    before: dict[str, Any]
    after: dict[str, Any]
    undone_at: datetime | None
    undone_by: str | None


@dataclass(frozen=True)
class ActionRow:
    """One thing a destination must do (merge, re-create, delete) for the push engine."""

    id: int
    destination: str
    action: str
    golden_id: str
    remote_id: str | None
    payload: dict[str, Any]
    reason: str | None
    created_by: str
    created_at: datetime
    status: str


# ---------------------------------------------------------------- serialising people and matching


def begin_manual_change(session: Session, now: datetime) -> int:
    """Take the review lock (first write of the transaction) and move the generation; returns it."""
    session.execute(update(ReviewState).where(ReviewState.id == 1)
                    .values(generation=ReviewState.generation + 1, changed_at=now), execution_options=_NO_SYNC)
    return review_generation(session)


def lock_for_match(session: Session) -> int:
    """Take the review lock for a match run's writes; returns the generation people are at."""
    session.execute(update(ReviewState).where(ReviewState.id == 1)
                    .values(generation=ReviewState.generation), execution_options=_NO_SYNC)
    return review_generation(session)


def review_generation(session: Session) -> int:
    """How many manual changes the store has seen."""
    return int(session.scalar(select(ReviewState.generation).where(ReviewState.id == 1)) or 0)


# ---------------------------------------------------------------- suggestions


def _suggestion(s: MergeSuggestion) -> SuggestionRow:
    return SuggestionRow(id=s.id, golden_a=s.golden_a, golden_b=s.golden_b, score=s.score,
                         explanation=s.explanation, status=s.status, reviewer=s.reviewer, assignee=s.assignee,
                         version=s.version, created_at=s.created_at, decided_at=s.decided_at)


def list_suggestion_rows(session: Session, statuses: Collection[str] | None = OPEN) -> list[SuggestionRow]:
    """Suggestions in the given statuses (None: all), by id."""
    stmt = select(MergeSuggestion).order_by(MergeSuggestion.id).execution_options(populate_existing=True)
    if statuses is not None:
        stmt = stmt.where(MergeSuggestion.status.in_(list(statuses)))
    return [_suggestion(s) for s in session.scalars(stmt)]


def get_suggestion_row(session: Session, suggestion_id: int) -> SuggestionRow:
    """One suggestion, or NotFoundError."""
    row = session.scalars(select(MergeSuggestion).where(MergeSuggestion.id == suggestion_id)
                          .execution_options(populate_existing=True)).one_or_none()
    if row is None:
        raise NotFoundError(f"no merge suggestion #{suggestion_id}; list them with `crmsync suggestions`")
    return _suggestion(row)


def _conflict(session: Session, suggestion_id: int, expected_version: int) -> ConflictError:
    current = get_suggestion_row(session, suggestion_id)
    if current.status not in OPEN:
        who = f" by {current.reviewer}" if current.reviewer else ""
        return ConflictError(f"suggestion #{suggestion_id} was already {current.status}{who}; "
                             "nothing was changed, reload the queue")
    return ConflictError(f"suggestion #{suggestion_id} changed since you loaded it (version {expected_version}, "
                         f"now {current.version}); nothing was changed, reload it and decide again")


def decide_suggestion(session: Session, suggestion_id: int, *, expected_version: int, status: str,
                      reviewer: str, now: datetime) -> SuggestionRow:
    """Set an open suggestion's status if it is still at `expected_version`, else ConflictError."""
    result = session.execute(
        update(MergeSuggestion)
        .where(MergeSuggestion.id == suggestion_id, MergeSuggestion.version == expected_version,
               MergeSuggestion.status.in_(OPEN))
        .values(status=status, reviewer=reviewer, decided_at=now, version=MergeSuggestion.version + 1),
        execution_options=_NO_SYNC)
    if rowcount(result) != 1:
        raise _conflict(session, suggestion_id, expected_version)
    return get_suggestion_row(session, suggestion_id)


def assign_suggestion(session: Session, suggestion_id: int, *, expected_version: int,
                      assignee: str | None) -> SuggestionRow:
    """Give an open suggestion to a reviewer (None: to nobody), under the same locking."""
    result = session.execute(
        update(MergeSuggestion)
        .where(MergeSuggestion.id == suggestion_id, MergeSuggestion.version == expected_version,
               MergeSuggestion.status.in_(OPEN))
        .values(assignee=assignee, version=MergeSuggestion.version + 1), execution_options=_NO_SYNC)
    if rowcount(result) != 1:
        raise _conflict(session, suggestion_id, expected_version)
    return get_suggestion_row(session, suggestion_id)


def undo_acceptance(session: Session, suggestion_id: int, *, by: str, now: datetime) -> bool:
    """An accepted suggestion whose merge was undone counts as rejected by whoever undid it."""
    result = session.execute(
        update(MergeSuggestion).where(MergeSuggestion.id == suggestion_id, MergeSuggestion.status == "accepted")
        .values(status="rejected", reviewer=by, decided_at=now, version=MergeSuggestion.version + 1),
        execution_options=_NO_SYNC)
    return rowcount(result) == 1


def repoint_suggestions(session: Session, loser: str, survivor: str) -> tuple[int, int]:
    """After a merge, open suggestions about the loser are about the survivor: (moved, dropped).

    A suggestion that would pair the survivor with itself, or repeat one that exists, is dropped.
    """
    moved = dropped = 0
    rows = session.scalars(select(MergeSuggestion).where(
        MergeSuggestion.status.in_(OPEN), or_(MergeSuggestion.golden_a == loser, MergeSuggestion.golden_b == loser)))
    for row in list(rows):
        other = row.golden_b if row.golden_a == loser else row.golden_a
        a, b = sorted((survivor, other))
        exists = session.scalar(select(MergeSuggestion.id).where(MergeSuggestion.golden_a == a,
                                                                 MergeSuggestion.golden_b == b))
        if a == b or exists is not None:
            session.delete(row)
            dropped += 1
        else:
            row.golden_a, row.golden_b, row.version = a, b, row.version + 1
            moved += 1
    session.flush()
    return moved, dropped


def reopen_rejected(session: Session, pairs: Iterable[tuple[str, str]]) -> list[int]:
    """Rejected suggestions for these golden pairs go back to pending: one side changed since."""
    reopened = []
    for pair in pairs:
        a, b = sorted(pair)
        row = session.scalars(select(MergeSuggestion).where(
            MergeSuggestion.golden_a == a, MergeSuggestion.golden_b == b,
            MergeSuggestion.status == "rejected")).one_or_none()
        if row is not None:
            row.status, row.reviewer, row.decided_at, row.version = "pending", None, None, row.version + 1
            reopened.append(row.id)
    session.flush()
    return reopened


# ---------------------------------------------------------------- pins


def pin_rows(session: Session, golden_ids: Collection[str]) -> list[dict[str, Any]]:
    """The pins of these golden records as plain data (for before-images)."""
    rows = session.scalars(select(GoldenPin).where(GoldenPin.golden_id.in_(list(golden_ids)))
                           .order_by(GoldenPin.golden_id, GoldenPin.field))
    return [{"golden_id": p.golden_id, "field": p.field, "value": p.value, "pinned_by": p.pinned_by,
             "pinned_at": p.pinned_at.isoformat(), "reason": p.reason} for p in rows]


def load_pins(session: Session, golden_ids: Collection[str] | None = None) -> dict[str, dict[str, PinRow]]:
    """Golden id → field → pin, for all golden records or those in `golden_ids`."""
    stmt = select(GoldenPin).order_by(GoldenPin.golden_id, GoldenPin.field)
    if golden_ids is not None:
        stmt = stmt.where(GoldenPin.golden_id.in_(list(golden_ids)))
    found: dict[str, dict[str, PinRow]] = defaultdict(dict)
    for p in session.scalars(stmt):
        found[p.golden_id][p.field] = PinRow(p.golden_id, p.field, p.value, p.pinned_by, p.pinned_at, p.reason)
    return dict(found)


def set_pin(session: Session, golden_id: str, field: str, value: Any, *, by: str, now: datetime,
            reason: str | None = None) -> None:
    """Pin a value on a golden record, replacing an earlier pin of the same field."""
    session.execute(delete(GoldenPin).where(GoldenPin.golden_id == golden_id, GoldenPin.field == field),
                    execution_options=_NO_SYNC)
    session.execute(insert(GoldenPin).values(golden_id=golden_id, field=field, value=value, pinned_by=by,
                                             pinned_at=now, reason=reason))


def remove_pin(session: Session, golden_id: str, field: str) -> bool:
    """Unpin a field; False when it was not pinned."""
    result = session.execute(delete(GoldenPin).where(GoldenPin.golden_id == golden_id, GoldenPin.field == field),
                             execution_options=_NO_SYNC)
    return rowcount(result) > 0


def replace_pins(session: Session, golden_ids: Collection[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Make the pins of these golden records exactly `rows` (as `pin_rows` returns them)."""
    session.execute(delete(GoldenPin).where(GoldenPin.golden_id.in_(list(golden_ids))), execution_options=_NO_SYNC)
    values = [{**row, "pinned_at": datetime.fromisoformat(row["pinned_at"])} for row in rows]
    if values:
        session.execute(insert(GoldenPin), values)


# ---------------------------------------------------------------- links and golden records


def manual_links(session: Session) -> dict[int, str]:
    """Source record id → golden id, for every link a person decided (merges, splits)."""
    rows = session.execute(select(Link.source_record_pk, Link.golden_id).where(Link.method == "manual"))
    return {row.source_record_pk: row.golden_id for row in rows}


def link_rows(session: Session, golden_ids: Collection[str]) -> list[LinkRow]:
    """Every link into these golden records, by source record."""
    rows = session.execute(select(Link.source_record_pk, Link.golden_id, Link.score, Link.method, Link.explanation,
                                  Link.decided_by)
                           .where(Link.golden_id.in_(list(golden_ids))).order_by(Link.source_record_pk))
    return [LinkRow(r.source_record_pk, r.golden_id, r.score, r.method, r.explanation, r.decided_by) for r in rows]


def records_of(session: Session, golden_ids: Collection[str]) -> dict[str, list[StoredCustomer]]:
    """The live customer source records linked to each of these golden records."""
    found: dict[str, list[StoredCustomer]] = {g: [] for g in golden_ids}
    rows = [r for part in chunks(sorted(found)) for r in session.execute(
        select(Link.golden_id, SourceRecord.id, SourceRecord.source, SourceRecord.stream,
               SourceRecord.source_record_id, SourceRecord.canonical, SourceRecord.source_updated_at,
               SourceRecord.first_seen_at, SourceRecord.last_seen_at)
        .join(SourceRecord, SourceRecord.id == Link.source_record_pk)
        .where(Link.golden_id.in_(list(part)), SourceRecord.deleted.is_(False),
               SourceRecord.entity == "customer").order_by(SourceRecord.id))]
    for r in rows:
        found[r.golden_id].append(StoredCustomer(
            pk=r.id, source=r.source, stream=r.stream, source_record_id=r.source_record_id, canonical=r.canonical,
            source_updated_at=r.source_updated_at, first_seen_at=r.first_seen_at, last_seen_at=r.last_seen_at))
    return found


def linked_sources(session: Session, golden_ids: Collection[str]) -> list[LinkedSource]:
    """Every source record linked to these golden records (deleted ones too), by id."""
    rows = [r for part in chunks(sorted(set(golden_ids))) for r in session.execute(
        select(SourceRecord.id, SourceRecord.source, SourceRecord.stream, SourceRecord.source_record_id,
               SourceRecord.deleted, Link.golden_id, Link.method, Link.score, Link.decided_by)
        .join(Link, Link.source_record_pk == SourceRecord.id)
        .where(Link.golden_id.in_(list(part))).order_by(SourceRecord.id))]
    return [LinkedSource(r.id, r.source, r.stream, r.source_record_id, r.deleted, r.golden_id, r.method, r.score,
                         r.decided_by) for r in rows]


def source_record_pks(session: Session, keys: Collection[SourceKey]) -> dict[SourceKey, int]:
    """Store ids of source records by (source, stream, source_record_id); unknown keys are left out."""
    found: dict[SourceKey, int] = {}
    for part in chunks(sorted(keys)):
        for r in session.execute(select(SourceRecord.source, SourceRecord.stream, SourceRecord.source_record_id,
                                        SourceRecord.id)
                                 .where(tuple_(SourceRecord.source, SourceRecord.stream,
                                               SourceRecord.source_record_id).in_(list(part)))):
            found[(r.source, r.stream, r.source_record_id)] = r.id
    return found


def update_golden(session: Session, golden_id: str, *, expected_version: int, now: datetime,
                  **values: Any) -> int:
    """Change a golden record if it is still at `expected_version` (else ConflictError); the new version."""
    result = session.execute(
        update(GoldenRecord).where(GoldenRecord.id == golden_id, GoldenRecord.version == expected_version)
        .values(**values, version=GoldenRecord.version + 1, updated_at=now), execution_options=_NO_SYNC)
    if rowcount(result) != 1:
        raise ConflictError(f"golden record {golden_id} changed since it was loaded (version {expected_version}); "
                            "nothing was changed, reload it and try again")
    return expected_version + 1


def interactions_of(session: Session, golden_ids: Collection[str]) -> dict[int, str]:
    """Interaction id → golden id for interactions attached to these golden records."""
    rows = session.execute(select(Interaction.id, Interaction.golden_id)
                           .where(Interaction.golden_id.in_(list(golden_ids))))
    return {row.id: row.golden_id for row in rows}


def set_interaction_golden(session: Session, mapping: Mapping[int, str | None]) -> None:
    """Attach interactions to golden records (None detaches)."""
    for part in chunks([{"id": k, "golden_id": v} for k, v in mapping.items()]):
        session.execute(update(Interaction), list(part), execution_options=_NO_SYNC)


def cannot_link_pairs(session: Session, left: Collection[int], right: Collection[int], *, reason: str,
                      by: str, now: datetime) -> int:
    """Record that no record of `left` is the same customer as any of `right`; how many pairs are new."""
    pairs = {(min(a, b), max(a, b)) for a in left for b in right if a != b}
    known: set[tuple[int, int]] = set()
    for part in chunks(sorted({a for a, _ in pairs})):
        known.update(session.execute(select(CannotLink.source_record_a, CannotLink.source_record_b)
                                     .where(CannotLink.source_record_a.in_(list(part)))).tuples())
    new = [{"source_record_a": a, "source_record_b": b, "reason": reason, "created_by": by, "created_at": now}
           for a, b in sorted(pairs - known)]
    for part in chunks(new):
        session.execute(insert(CannotLink), list(part))
    return len(new)


# ---------------------------------------------------------------- merge and split history


def _change(c: GoldenChange) -> ChangeRow:
    return ChangeRow(id=c.id, kind=c.kind, golden_id=c.golden_id, other_id=c.other_id, suggestion_id=c.suggestion_id,
                     actor=c.actor, at=c.at, before=c.before, after=c.after, undone_at=c.undone_at,
                     undone_by=c.undone_by)


def record_change(session: Session, *, kind: str, golden_id: str, other_id: str, actor: str, at: datetime,
                  before: dict[str, Any], after: dict[str, Any], suggestion_id: int | None = None) -> int:
    """Keep a merge or split with its before-image; returns its id."""
    row = GoldenChange(kind=kind, golden_id=golden_id, other_id=other_id, suggestion_id=suggestion_id, actor=actor,
                       at=at, before=before, after=after)
    session.add(row)
    session.flush()
    return row.id


def latest_change(session: Session, golden_id: str, kind: str = "merge") -> ChangeRow | None:
    """The newest change of this kind a golden record took part in (either side) that is not undone."""
    row = session.scalars(select(GoldenChange).where(or_(GoldenChange.golden_id == golden_id,
                                                         GoldenChange.other_id == golden_id),
                                                     GoldenChange.kind == kind, GoldenChange.undone_at.is_(None))
                          .order_by(GoldenChange.id.desc()).limit(1)).one_or_none()
    return _change(row) if row is not None else None


def open_changes_after(session: Session, change: ChangeRow) -> list[ChangeRow]:
    """Changes made later to either golden record of `change` and not undone: undo those first."""
    ids = [change.golden_id, change.other_id]
    rows = session.scalars(select(GoldenChange).where(
        GoldenChange.id > change.id, GoldenChange.undone_at.is_(None),
        or_(GoldenChange.golden_id.in_(ids), GoldenChange.other_id.in_(ids))).order_by(GoldenChange.id))
    return [_change(r) for r in rows]


def mark_change_undone(session: Session, change_id: int, *, by: str, now: datetime) -> None:
    """Record that a change was undone."""
    session.execute(update(GoldenChange).where(GoldenChange.id == change_id).values(undone_at=now, undone_by=by),
                    execution_options=_NO_SYNC)


def change_history(session: Session, golden_id: str) -> list[ChangeRow]:
    """Every merge and split a golden record took part in, oldest first."""
    rows = session.scalars(select(GoldenChange).where(or_(GoldenChange.golden_id == golden_id,
                                                          GoldenChange.other_id == golden_id))
                           .order_by(GoldenChange.id))
    return [_change(r) for r in rows]


# ---------------------------------------------------------------- destinations


def xrefs_of(session: Session, golden_ids: Collection[str]) -> dict[str, dict[str, str]]:
    """Golden id → destination → remote id, for the golden records destinations hold."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for row in session.execute(select(DestinationXref.golden_id, DestinationXref.destination,
                                      DestinationXref.remote_id).where(DestinationXref.golden_id.in_(list(golden_ids)))):
        found[row.golden_id][row.destination] = row.remote_id
    return dict(found)


def queue_destination_action(session: Session, *, destination: str, action: str, golden_id: str,
                             remote_id: str | None, payload: dict[str, Any], reason: str, by: str,
                             now: datetime) -> int:
    """Queue a merge, re-create or delete for the push engine; returns its id."""
    row = DestinationAction(destination=destination, action=action, golden_id=golden_id, remote_id=remote_id,
                            payload=payload, reason=reason, created_by=by, created_at=now, status="pending",
                            attempts=0)
    session.add(row)
    session.flush()
    return row.id


def destination_actions(session: Session, status: str | None = "pending",
                        golden_id: str | None = None) -> list[ActionRow]:
    """Queued destination actions, oldest first."""
    stmt = select(DestinationAction).order_by(DestinationAction.id)
    if status is not None:
        stmt = stmt.where(DestinationAction.status == status)
    if golden_id is not None:
        stmt = stmt.where(DestinationAction.golden_id == golden_id)
    return [ActionRow(a.id, a.destination, a.action, a.golden_id, a.remote_id, a.payload, a.reason, a.created_by,
                      a.created_at, a.status) for a in session.scalars(stmt)]


def count_suggestions(session: Session, statuses: Collection[str] = OPEN) -> int:
    """How many suggestions are in these statuses."""
    return int(session.scalar(select(func.count()).select_from(MergeSuggestion)
                              .where(MergeSuggestion.status.in_(list(statuses)))) or 0)


__all__ += ["OPEN", "LinkedSource", "assign_suggestion", "cannot_link_pairs", "count_suggestions", "linked_sources",
            "records_of", "source_record_pks", "undo_acceptance"]
