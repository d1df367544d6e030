"""Destination cross-references, dead letters and push audit: what the push engine reads and records.

Every function takes a Session and never commits. The engine records a batch's remote ids, its
dead letters and its audit entries in one transaction, so "sent" and "recorded" can only drift
apart by a crash between the CRM call and the commit, which the next run's look-up absorbs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.orm import Session

from sync.store.erasure import append_personal_audit
from sync.store.models import (
    AuditLog,
    DeadLetter,
    DestinationAction,
    DestinationXref,
    GoldenRecord,
    Link,
    SourceRecord,
)
from sync.store.records import chunks

__all__ = [
    "ERASE_ACTION",
    "DeadLetterRow",
    "PushedRecord",
    "XrefRow",
    "audit_remote_change",
    "clear_pushed_hash",
    "dead_letter",
    "delete_xref",
    "erased_golden_ids",
    "finish_destination_actions",
    "golden_status",
    "pending_deletes",
    "load_dead_letters",
    "load_xrefs",
    "move_xref",
    "record_pushes",
    "resolve_dead_letters",
    "survivors_of",
]

_NO_SYNC = {"synchronize_session": False}
ERASE_ACTION = "golden.erase"


@dataclass(frozen=True)
class XrefRow:
    """Where one golden record lives in one destination."""

    golden_id: str
    remote_id: str
    last_pushed_hash: str | None
    last_pushed_at: datetime | None


@dataclass(frozen=True)
class DeadLetterRow:
    """An unresolved dead letter: the payload the CRM refused and why."""

    id: int
    golden_id: str | None
    record_hash: str
    payload: dict[str, Any]
    error: str
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime


@dataclass(frozen=True)
class PushedRecord:
    """A write the CRM accepted, to be recorded: xref, pushed hash and an audit entry."""

    golden_id: str
    remote_id: str
    record_hash: str | None
    action: str  # create, update, merge, repoint
    payload: dict[str, Any]


def load_xrefs(session: Session, destination: str) -> dict[str, XrefRow]:
    """golden id → its cross-reference in `destination`."""
    rows = session.execute(
        select(DestinationXref.golden_id, DestinationXref.remote_id, DestinationXref.last_pushed_hash,
               DestinationXref.last_pushed_at).where(DestinationXref.destination == destination))
    return {r.golden_id: XrefRow(r.golden_id, r.remote_id, r.last_pushed_hash, r.last_pushed_at) for r in rows}


def load_dead_letters(session: Session, destination: str) -> dict[str, DeadLetterRow]:
    """golden id → its unresolved dead letter in `destination`."""
    rows = session.scalars(select(DeadLetter).where(DeadLetter.destination == destination,
                                                    DeadLetter.resolved_at.is_(None)).order_by(DeadLetter.id))
    return {d.golden_id: DeadLetterRow(d.id, d.golden_id, d.record_hash, d.payload, d.error, d.attempts,
                                       d.first_failed_at, d.last_failed_at) for d in rows if d.golden_id}


def erased_golden_ids(session: Session) -> set[str]:
    """Golden records with a GDPR erasure on record (the audit entry `golden.erase` that erasure writes)."""
    rows = session.execute(select(AuditLog.entity_id).where(AuditLog.action == ERASE_ACTION,
                                                             AuditLog.entity_type == "golden_record"))
    return {r.entity_id for r in rows}


def pending_deletes(session: Session, destination: str) -> dict[str, str]:
    """golden id → remote id, for deletions queued for `destination` (by a GDPR erasure) and not done yet."""
    rows = session.execute(select(DestinationAction.golden_id, DestinationAction.remote_id).where(
        DestinationAction.destination == destination, DestinationAction.action == "delete",
        DestinationAction.status == "pending", DestinationAction.remote_id.is_not(None)))
    return {r.golden_id: r.remote_id for r in rows}


def finish_destination_actions(session: Session, destination: str, golden_ids: Collection[str], action: str, *,
                               now: datetime) -> int:
    """Mark the queued actions (merge, re-create, delete) of these golden records done; returns how many."""
    done = 0
    for part in chunks(sorted(set(golden_ids))):
        result = session.execute(update(DestinationAction).where(
            DestinationAction.destination == destination, DestinationAction.action == action,
            DestinationAction.status == "pending", DestinationAction.golden_id.in_(part))
            .values(status="done", done_at=now, attempts=DestinationAction.attempts + 1),
            execution_options=_NO_SYNC)
        done += int(getattr(result, "rowcount", 0) or 0)
    return done


def survivors_of(session: Session, retired: Mapping[str, Mapping[str, Any]]) -> dict[str, str | None]:
    """For each retired golden record (id → its provenance), the active golden record its sources joined.

    A retired record's provenance still names the source records its values came from; where
    those records are linked now tells which golden record absorbed it. None: no live source left.
    """
    keys_of: dict[str, set[tuple[str, str, str]]] = {}
    for golden_id, provenance in retired.items():
        keys_of[golden_id] = {(o["source"], o["stream"], str(o["source_record_id"]))
                              for o in provenance.values()
                              if isinstance(o, dict) and {"source", "stream", "source_record_id"} <= o.keys()}
    wanted = sorted({k for keys in keys_of.values() for k in keys})
    now_in: dict[tuple[str, str, str], str] = {}
    for part in chunks(wanted):
        rows = session.execute(
            select(SourceRecord.source, SourceRecord.stream, SourceRecord.source_record_id, Link.golden_id)
            .join(Link, Link.source_record_pk == SourceRecord.id)
            .join(GoldenRecord, GoldenRecord.id == Link.golden_id)
            .where(tuple_(SourceRecord.source, SourceRecord.stream, SourceRecord.source_record_id).in_(part),
                   SourceRecord.deleted.is_(False), GoldenRecord.status == "active"))
        for r in rows:
            now_in[(r.source, r.stream, r.source_record_id)] = r.golden_id
    result: dict[str, str | None] = {}
    for golden_id, keys in keys_of.items():
        votes = Counter(now_in[k] for k in keys if k in now_in)
        result[golden_id] = min(votes, key=lambda g: (-votes[g], g)) if votes else None
    return result


def record_pushes(session: Session, destination: str, pushed: Sequence[PushedRecord], *, now: datetime,
                  run_id: str | None) -> list[tuple[PushedRecord, str]]:
    """Upsert the xrefs, resolve dead letters and audit each write; returns (record, other golden id) clashes.

    A clash is a remote id the CRM answered with that already belongs to another golden record
    here (two golden records share an e-mail the CRM keys on): it is not recorded, the caller
    dead-letters it.
    """
    if not pushed:
        return []
    ids = [p.golden_id for p in pushed]
    mine: dict[str, int] = {}
    for part in chunks(sorted(set(ids))):
        for r in session.execute(select(DestinationXref.id, DestinationXref.golden_id).where(
                DestinationXref.destination == destination, DestinationXref.golden_id.in_(part))):
            mine[r.golden_id] = r.id
    holders: dict[str, str] = {}
    for part in chunks(sorted({p.remote_id for p in pushed})):
        for r in session.execute(select(DestinationXref.remote_id, DestinationXref.golden_id).where(
                DestinationXref.destination == destination, DestinationXref.remote_id.in_(part))):
            holders[r.remote_id] = r.golden_id
    clashes, inserts, updates, audits, done = [], [], [], [], []
    for record in pushed:
        holder = holders.get(record.remote_id)
        if holder is not None and holder != record.golden_id:
            clashes.append((record, holder))
            continue
        holders[record.remote_id] = record.golden_id
        values = {"remote_id": record.remote_id, "last_pushed_hash": record.record_hash, "last_pushed_at": now}
        if record.golden_id in mine:
            updates.append({"id": mine[record.golden_id], **values})
        else:
            inserts.append({"destination": destination, "golden_id": record.golden_id, **values})
            mine[record.golden_id] = -1
        done.append(record.golden_id)
        audits.append({"at": now, "actor": f"flow:{run_id}" if run_id else "system",
                       "action": f"push.{record.action}", "entity_type": "golden_record",
                       "entity_id": record.golden_id, "before": None,
                       "after": {"destination": destination, "remote_id": record.remote_id,
                                 "fields": record.payload}, "reason": None, "run_id": run_id})
    if updates:
        session.execute(update(DestinationXref), updates, execution_options=_NO_SYNC)
    if inserts:
        session.execute(insert(DestinationXref), inserts)
    if audits:  # payloads are personal data: sealed, so that an erasure makes them unreadable
        append_personal_audit(session, audits, now=now)
    resolve_dead_letters(session, destination, done, now=now)
    finish_destination_actions(session, destination, done, "re-create", now=now)
    return clashes


def audit_remote_change(session: Session, destination: str, golden_id: str, action: str, *, now: datetime,
                        run_id: str | None, before: Any = None, after: Any = None, reason: str | None = None) -> None:
    """One audit entry for a remote change that is not a plain write (merge, archive, delete)."""
    append_personal_audit(session, [{
        "at": now, "actor": f"flow:{run_id}" if run_id else "system", "action": f"push.{action}",
        "entity_type": "golden_record", "entity_id": golden_id, "before": before,
        "after": {"destination": destination, **(after or {})}, "reason": reason, "run_id": run_id}], now=now)


def delete_xref(session: Session, destination: str, golden_id: str) -> None:
    """Forget where a golden record lives in `destination` (its remote record is gone or merged away)."""
    session.execute(delete(DestinationXref).where(DestinationXref.destination == destination,
                                                  DestinationXref.golden_id == golden_id),
                    execution_options=_NO_SYNC)


def move_xref(session: Session, destination: str, from_golden: str, to_golden: str) -> None:
    """Hand a remote record over to another golden record (its survivor); the next write settles it."""
    session.execute(update(DestinationXref).where(DestinationXref.destination == destination,
                                                  DestinationXref.golden_id == from_golden)
                    .values(golden_id=to_golden, last_pushed_hash=None), execution_options=_NO_SYNC)


def clear_pushed_hash(session: Session, destination: str, golden_ids: Collection[str]) -> None:
    """Make the next plan write these records again (after a merge changed them in the CRM)."""
    for part in chunks(sorted(set(golden_ids))):
        session.execute(update(DestinationXref).where(DestinationXref.destination == destination,
                                                      DestinationXref.golden_id.in_(part))
                        .values(last_pushed_hash=None), execution_options=_NO_SYNC)


def dead_letter(session: Session, destination: str, golden_id: str, *, record_hash: str,
                payload: dict[str, Any], error: str, now: datetime) -> None:
    """Record (or refresh) the unresolved dead letter of a record the CRM refused."""
    current = session.execute(select(DeadLetter.id).where(
        DeadLetter.destination == destination, DeadLetter.golden_id == golden_id,
        DeadLetter.resolved_at.is_(None))).scalar_one_or_none()
    if current is None:
        session.execute(insert(DeadLetter).values(
            destination=destination, golden_id=golden_id, record_hash=record_hash, payload=payload, error=error,
            attempts=1, first_failed_at=now, last_failed_at=now))
        return
    session.execute(update(DeadLetter).where(DeadLetter.id == current).values(
        record_hash=record_hash, payload=payload, error=error, attempts=DeadLetter.attempts + 1,
        last_failed_at=now), execution_options=_NO_SYNC)


def resolve_dead_letters(session: Session, destination: str, golden_ids: Iterable[str], *, now: datetime) -> int:
    """Mark the unresolved dead letters of these records resolved (they went through); returns how many."""
    resolved = 0
    for part in chunks(sorted(set(golden_ids))):
        result = session.execute(update(DeadLetter).where(
            DeadLetter.destination == destination, DeadLetter.golden_id.in_(part),
            DeadLetter.resolved_at.is_(None)).values(resolved_at=now), execution_options=_NO_SYNC)
        resolved += int(getattr(result, "rowcount", 0) or 0)
    return resolved


def golden_status(session: Session, golden_ids: Collection[str]) -> dict[str, str]:
    """golden id → status, for the given ids."""
    found: dict[str, str] = {}
    for part in chunks(sorted(set(golden_ids))):
        for r in session.execute(select(GoldenRecord.id, GoldenRecord.status).where(GoldenRecord.id.in_(part))):
            found[r.id] = r.status
    return found

