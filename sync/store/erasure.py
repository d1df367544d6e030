"""Personal data that can be erased: sealed audit payloads, tombstones, receipts, and the scrubbing.

The audit log is append-only (database triggers), so personal values in it cannot be deleted.
They are therefore written *sealed*: encrypted with a key of their golden record
(`subject_keys`). Erasing a person deletes that key, which leaves the sealed values as ciphertext
nobody can read; `audit_redactions` lists the entries so exports say why. Entries other code
writes in plain text are listed there too, but only sealing keeps them out of the table itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote, quote_plus

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from sync.store.audit import query_audit
from sync.store.models import (
    AuditLog,
    AuditRedaction,
    CannotLink,
    DeadLetter,
    ErasureReceipt,
    ErasureTombstone,
    GoldenChange,
    GoldenPin,
    GoldenRecord,
    InboxSubmission,
    Interaction,
    Link,
    MergeSuggestion,
    Quarantine,
    SourceRecord,
    SourceRecordVersion,
    SubjectKey,
    SyncRun,
    utcnow,
)
from sync.store.records import chunks, quarantine_rows, rowcount
from sync.store.types import AuditEntry, QuarantineIn

__all__ = [
    "ERASED",
    "ERASURE_KEY_ENV",
    "append_personal_audit",
    "delete_subject_keys",
    "digest",
    "read_audit",
    "record_receipt",
    "redact_audit",
    "seal",
    "tombstoned",
    "unseal_entries",
]

ERASURE_KEY_ENV = "CRMSYNC_ERASURE_KEY"
ERASED = "[erased]"
_SEALED = "sealed"
_CACHE = "crmsync_subject_keys"


# ---------------------------------------------------------------- sealing audit payloads


def _keys(session: Session, golden_ids: Collection[str], *, create: bool, now: datetime) -> dict[str, Fernet]:
    cache: dict[str, Fernet] = session.info.setdefault(_CACHE, {})
    wanted = [g for g in set(golden_ids) if g not in cache]
    for part in chunks(sorted(wanted)):
        for row in session.execute(select(SubjectKey.golden_id, SubjectKey.key).where(SubjectKey.golden_id.in_(part))):
            cache[row.golden_id] = Fernet(row.key.encode("ascii"))
    missing = [g for g in wanted if g not in cache]
    if create and missing:
        rows = [{"golden_id": g, "key": Fernet.generate_key().decode("ascii"), "created_at": now} for g in missing]
        for part in chunks(rows):
            session.execute(insert(SubjectKey), list(part))
        cache.update({r["golden_id"]: Fernet(r["key"].encode("ascii")) for r in rows})
    return {g: cache[g] for g in golden_ids if g in cache}


def _sealed(key: Fernet, subject: str, value: Any) -> Any:
    if value is None:
        return None
    token = key.encrypt(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8"))
    return {_SEALED: token.decode("ascii"), "subject": subject}


def seal(session: Session, golden_id: str, value: Any, *, now: datetime | None = None) -> Any:
    """A JSON value encrypted with the golden record's key (None stays None)."""
    return _sealed(_keys(session, [golden_id], create=True, now=now or utcnow())[golden_id], golden_id, value)


def append_personal_audit(session: Session, entries: Sequence[Mapping[str, Any]], *, now: datetime | None = None
                          ) -> None:
    """Append audit entries about golden records, their before/after sealed with each record's key.

    Each entry has the keys of `append_audit` (actor, action, entity_id, ...); entity_type
    defaults to 'golden_record' and `at` to now.
    """
    if not entries:
        return
    now = now or utcnow()
    keys = _keys(session, {e["entity_id"] for e in entries}, create=True, now=now)
    rows = [{"at": e.get("at") or now, "actor": e["actor"], "action": e["action"],
             "entity_type": e.get("entity_type", "golden_record"), "entity_id": str(e["entity_id"]),
             "before": _sealed(keys[e["entity_id"]], e["entity_id"], e.get("before")),
             "after": _sealed(keys[e["entity_id"]], e["entity_id"], e.get("after")),
             "reason": e.get("reason"), "run_id": e.get("run_id")} for e in entries]
    for part in chunks(rows):
        session.execute(insert(AuditLog), list(part))


def _is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and _SEALED in value and "subject" in value


def unseal_entries(session: Session, entries: Sequence[AuditEntry]) -> list[AuditEntry]:
    """Entries with sealed payloads opened; erased ones (key gone, or redacted) show ERASED."""
    subjects = {v["subject"] for e in entries for v in (e.before, e.after) if _is_sealed(v)}
    keys = _keys(session, subjects, create=False, now=utcnow())
    redacted: dict[int, str] = {}
    for part in chunks(sorted({e.id for e in entries})):
        rows = session.execute(select(AuditRedaction.audit_id, AuditRedaction.receipt_id)
                               .where(AuditRedaction.audit_id.in_(part)))
        redacted.update((audit_id, receipt_id) for audit_id, receipt_id in rows)

    def opened(value: Any, entry_id: int) -> Any:
        if entry_id in redacted:
            return None if value is None else {ERASED: redacted[entry_id]}
        if not _is_sealed(value):
            return value
        key = keys.get(value["subject"])
        if key is None:
            return {ERASED: "key deleted"}
        try:
            return json.loads(key.decrypt(value[_SEALED].encode("ascii")))
        except InvalidToken:
            return {ERASED: "unreadable"}

    return [replace(e, before=opened(e.before, e.id), after=opened(e.after, e.id)) for e in entries]


def read_audit(session: Session, **filters: Any) -> list[AuditEntry]:
    """`query_audit` with sealed payloads opened (see `unseal_entries`)."""
    return unseal_entries(session, query_audit(session, **filters))


def delete_subject_keys(session: Session, golden_ids: Collection[str]) -> int:
    """Delete the keys of these golden records: their sealed audit values can never be read again."""
    session.info.get(_CACHE, {}).clear()
    deleted = 0
    for part in chunks(sorted(set(golden_ids))):
        deleted += rowcount(session.execute(delete(SubjectKey).where(SubjectKey.golden_id.in_(part)),
                                            execution_options={"synchronize_session": False}))
    return deleted


def redact_audit(session: Session, entity_ids: Collection[str], receipt_id: str, *, now: datetime) -> int:
    """List every audit entry about these entities as redacted by an erasure; how many were added."""
    ids: set[int] = set()
    for part in chunks(sorted(set(entity_ids))):
        ids.update(session.scalars(select(AuditLog.id).where(AuditLog.entity_id.in_(part))))
    known: set[int] = set()
    for part in chunks(sorted(ids)):
        known.update(session.scalars(select(AuditRedaction.audit_id).where(AuditRedaction.audit_id.in_(part))))
    rows = [{"audit_id": i, "receipt_id": receipt_id, "redacted_at": now} for i in sorted(ids - known)]
    for part in chunks(rows):
        session.execute(insert(AuditRedaction), list(part))
    return len(rows)


# ---------------------------------------------------------------- tombstones and receipts

_DEFAULT_KEY = b"crmsync-erasure-tombstones-v1"


def digest(kind: str, value: str) -> str:
    """A keyed hash of an identifier, normalised by kind; the key comes from CRMSYNC_ERASURE_KEY.

    Without that key the hash is only as strong as the identifier is hard to guess (a phone
    number is not): set the variable in production and keep it out of the database.
    """
    key = os.environ.get(ERASURE_KEY_ENV, "").encode("utf-8") or _DEFAULT_KEY
    text = " ".join(value.split()).casefold() if kind in ("email", "name") else value.strip()
    return hmac.new(key, f"{kind}:{text}".encode(), hashlib.sha256).hexdigest()


def record_receipt(session: Session, *, receipt_id: str, actor: str, reason: str | None,
                   identifiers: Mapping[str, Iterable[str]], now: datetime) -> int:
    """Start a receipt and keep one tombstone per hashed identifier; returns how many tombstones are new.

    Identifiers are digests by kind, except 'golden_id' (random ids, listed as they are).
    """
    session.execute(insert(ErasureReceipt).values(id=receipt_id, at=now, actor=actor, reason=reason,
                                                  identifiers={k: sorted(set(v)) for k, v in identifiers.items()},
                                                  touched={}))
    new = 0
    for kind, digests in identifiers.items():
        if kind == "golden_id":
            continue  # ids are listed in the receipt, not hashed
        known = tombstoned(session, kind, digests)
        rows = [{"kind": kind, "digest": d, "receipt_id": receipt_id, "created_at": now}
                for d in sorted(set(digests) - known)]
        if rows:
            session.execute(insert(ErasureTombstone), rows)
        new += len(rows)
    return new


def finish_receipt(session: Session, receipt_id: str, touched: dict[str, Any]) -> None:
    """Write down every place an erasure touched."""
    session.execute(update(ErasureReceipt).where(ErasureReceipt.id == receipt_id).values(touched=touched),
                    execution_options={"synchronize_session": False})


def tombstoned(session: Session, kind: str, digests: Iterable[str]) -> set[str]:
    """Which of these digests belong to an erased person."""
    found: set[str] = set()
    for part in chunks(sorted(set(digests))):
        found.update(session.scalars(select(ErasureTombstone.digest).where(
            ErasureTombstone.kind == kind, ErasureTombstone.digest.in_(part))))
    return found


def has_tombstones(session: Session) -> bool:
    """Whether anyone was ever erased (so re-ingested records need checking)."""
    return session.scalar(select(ErasureTombstone.id).limit(1)) is not None


def receipts(session: Session) -> list[dict[str, Any]]:
    """Every erasure receipt, oldest first."""
    return [{"id": r.id, "at": r.at, "actor": r.actor, "reason": r.reason, "identifiers": r.identifiers,
             "touched": r.touched} for r in session.scalars(select(ErasureReceipt).order_by(ErasureReceipt.at))]


# ---------------------------------------------------------------- finding and removing a person


@dataclass
class Footprint:
    """Everywhere one person is: golden records, source records, and rows that mention them."""

    golden_ids: set[str] = field(default_factory=set)
    customer_pks: set[int] = field(default_factory=set)
    interaction_pks: set[int] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)  # every e-mail of the person's records
    phones: set[str] = field(default_factory=set)  # the phones asked for: shared office lines stay out
    phones_seen: set[str] = field(default_factory=set)  # every phone of the person's records
    names: set[str] = field(default_factory=set)
    source_keys: set[str] = field(default_factory=set)  # 'source/stream/id'
    inbox_ids: set[int] = field(default_factory=set)
    quarantine_ids: set[int] = field(default_factory=set)
    dead_letter_ids: set[int] = field(default_factory=set)
    run_ids: set[str] = field(default_factory=set)  # runs whose counts quote an identifier


def _mentions(text: str, needles: Iterable[str]) -> bool:
    lowered = text.casefold()
    return any(n and n.casefold() in lowered for n in needles)


def _needles(emails: Iterable[str], phones: Iterable[str]) -> set[str]:
    """Identifiers as they may appear in stored text: plain, form-encoded, URL-encoded."""
    found: set[str] = set()
    for value in [*emails, *phones]:
        found |= {value, quote_plus(value), quote(value, safe="")}
        if value.startswith("+"):
            found.add(value[1:])
    return found


def _grow_golden(session: Session, golden_ids: set[str]) -> None:
    """Add every golden record merged into, or split from, these ones (the same person's history)."""
    frontier = set(golden_ids)
    while frontier:
        rows = session.execute(select(GoldenChange.golden_id, GoldenChange.other_id).where(
            or_(GoldenChange.golden_id.in_(frontier), GoldenChange.other_id.in_(frontier)))).all()
        frontier = {g for row in rows for g in row} - golden_ids
        golden_ids |= frontier


def find_footprint(session: Session, *, emails: Collection[str], phones: Collection[str],
                   golden_ids: Collection[str]) -> Footprint:
    """Everything of the person with these e-mails, phones or golden records."""
    fp = Footprint(golden_ids=set(golden_ids), phones=set(phones), emails=set(emails))
    rows = session.execute(select(SourceRecord.id, SourceRecord.canonical).where(SourceRecord.entity == "customer")
                           ).yield_per(2000)
    for pk, canonical in rows:
        if set(canonical.get("emails") or []) & fp.emails or set(canonical.get("phones") or []) & fp.phones:
            fp.customer_pks.add(pk)
    for part in chunks(sorted(fp.customer_pks)):
        fp.golden_ids.update(session.scalars(select(Link.golden_id).where(Link.source_record_pk.in_(part))))
    _grow_golden(session, fp.golden_ids)
    for part in chunks(sorted(fp.golden_ids)):
        fp.customer_pks.update(session.scalars(select(Link.source_record_pk).where(Link.golden_id.in_(part))))
    for part in chunks(sorted(fp.customer_pks)):
        for r in session.execute(select(SourceRecord.source, SourceRecord.stream, SourceRecord.source_record_id,
                                        SourceRecord.canonical).where(SourceRecord.id.in_(part))):
            fp.source_keys.add(f"{r.source}/{r.stream}/{r.source_record_id}")
            fp.emails.update(r.canonical.get("emails") or [])
            fp.phones_seen.update(r.canonical.get("phones") or [])
            fp.names.update(n for n in (r.canonical.get("full_name"), " ".join(
                p for p in (r.canonical.get("given_name"), r.canonical.get("family_name")) if p)) if n)
    fp.phones_seen |= fp.phones
    fp.interaction_pks.update(session.scalars(select(Interaction.source_record_pk).where(or_(
        Interaction.golden_id.in_(sorted(fp.golden_ids) or [""]), Interaction.email.in_(sorted(fp.emails) or [""]),
        Interaction.phone.in_(sorted(fp.phones) or [""])))))
    needles = _needles(fp.emails, fp.phones)
    for row in session.execute(select(InboxSubmission.id, InboxSubmission.fields, InboxSubmission.body)
                               ).yield_per(1000):
        if _mentions(json.dumps(row.fields, ensure_ascii=False) + row.body.decode("utf-8", "replace"), needles):
            fp.inbox_ids.add(row.id)
    for row in session.execute(select(Quarantine.id, Quarantine.raw, Quarantine.reason)).yield_per(1000):
        if _mentions(json.dumps(row.raw, ensure_ascii=False) + row.reason, needles):
            fp.quarantine_ids.add(row.id)
    for row in session.execute(select(DeadLetter.id, DeadLetter.golden_id, DeadLetter.payload, DeadLetter.error)):
        if row.golden_id in fp.golden_ids or _mentions(json.dumps(row.payload, ensure_ascii=False) + row.error,
                                                       needles):
            fp.dead_letter_ids.add(row.id)
    for row in session.execute(select(SyncRun.id, SyncRun.counts, SyncRun.error)):
        if _mentions(json.dumps(row.counts, ensure_ascii=False) + (row.error or ""), needles | fp.names):
            fp.run_ids.add(row.id)
    return fp


def _scrub(value: Any, needles: Collection[str]) -> Any:
    if isinstance(value, str):
        for needle in sorted(needles, key=len, reverse=True):
            if needle and needle.casefold() in value.casefold():
                value = ERASED
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, needles) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, needles) for v in value]
    return value


def _count(session: Session, stmt: Any) -> int:
    return rowcount(session.execute(stmt, execution_options={"synchronize_session": False}))


def remove_footprint(session: Session, fp: Footprint, *, receipt_id: str, now: datetime) -> dict[str, int]:
    """Delete or scrub every row of the footprint; returns rows touched per table."""
    pks = sorted(fp.customer_pks | fp.interaction_pks)
    ids = sorted(fp.golden_ids)
    touched: dict[str, int] = {}

    def add(table: str, n: int) -> None:
        touched[table] = touched.get(table, 0) + n

    for part in chunks(ids):
        add("links", _count(session, delete(Link).where(Link.golden_id.in_(part))))
        add("interactions", _count(session, update(Interaction).where(Interaction.golden_id.in_(part))
                                   .values(golden_id=None)))
    for table, n in delete_source_records(session, pks).items():
        add(table, n)
    for part in chunks(ids):
        add("golden_pins", _count(session, delete(GoldenPin).where(GoldenPin.golden_id.in_(part))))
        add("merge_suggestions", _count(session, delete(MergeSuggestion).where(
            or_(MergeSuggestion.golden_a.in_(part), MergeSuggestion.golden_b.in_(part)))))
        add("golden_changes", _count(session, update(GoldenChange).where(
            or_(GoldenChange.golden_id.in_(part), GoldenChange.other_id.in_(part)))
            .values(before={"erased": receipt_id}, after={"erased": receipt_id})))
        add("golden_records", _count(session, update(GoldenRecord).where(GoldenRecord.id.in_(part)).values(
            status="retired", fields={}, provenance={}, content_hash=f"erased:{receipt_id}",
            version=GoldenRecord.version + 1, updated_at=now)))
    add("inbox", _count(session, delete(InboxSubmission).where(InboxSubmission.id.in_(sorted(fp.inbox_ids)))))
    add("quarantine", _count(session, delete(Quarantine).where(Quarantine.id.in_(sorted(fp.quarantine_ids)))))
    add("dead_letters", _count(session, delete(DeadLetter).where(DeadLetter.id.in_(sorted(fp.dead_letter_ids)))))
    needles = _needles(fp.emails, fp.phones) | fp.names
    for run in session.scalars(select(SyncRun).where(SyncRun.id.in_(sorted(fp.run_ids)))):
        run.counts = _scrub(run.counts, needles)
        run.error = _scrub(run.error, needles)
        add("sync_runs", 1)
    session.flush()
    add("subject_keys", delete_subject_keys(session, ids))
    add("audit_redactions", redact_audit(session, [*ids, *map(str, pks)], receipt_id, now=now))
    return {k: v for k, v in sorted(touched.items()) if v}


def delete_source_records(session: Session, pks: Collection[int]) -> dict[str, int]:
    """Delete source records with their versions, links, cannot-links and interaction rows."""
    touched: dict[str, int] = {}
    for part in chunks(sorted(set(pks))):
        for table, stmt in (
                ("links", delete(Link).where(Link.source_record_pk.in_(part))),
                ("cannot_links", delete(CannotLink).where(
                    or_(CannotLink.source_record_a.in_(part), CannotLink.source_record_b.in_(part)))),
                ("interactions", delete(Interaction).where(Interaction.source_record_pk.in_(part))),
                ("source_record_versions", delete(SourceRecordVersion).where(
                    SourceRecordVersion.source_record_id.in_(part))),
                ("source_records", delete(SourceRecord).where(SourceRecord.id.in_(part)))):
            touched[table] = touched.get(table, 0) + _count(session, stmt)
    return touched


def quarantine_returning(session: Session, *, now: datetime) -> list[str]:
    """Take re-ingested records of erased people out of the store and flag them in quarantine.

    Nothing of the record is kept: the quarantine row names the source key and the reason only.
    Returns the flagged keys ('source/stream/id').
    """
    if not has_tombstones(session):
        return []
    flagged = flag_erased_records(session)
    if not flagged:
        return []
    quarantine_rows(session, [QuarantineIn(
        source=source, stream=stream, row_key=f"erased:{rid}", row_number=None, file=None, field=None, raw={},
        reason=f"erased person: this record's {why} belongs to a person erased under GDPR, so it was not "
               "restored; delete it at the source (or, if the person came back and consented, re-enter them)")
        for _, source, stream, rid, why in flagged], seen_at=now, pass_id=None)
    delete_source_records(session, [pk for pk, *_ in flagged])
    return [f"{source}/{stream}/{rid}" for _, source, stream, rid, _ in flagged]


def flag_erased_records(session: Session) -> list[tuple[int, str, str, str, str]]:
    """Live source records of an erased person that came back: (pk, source, stream, id, why).

    A record comes back when its source key, an e-mail of it, or a phone someone asked to erase
    is tombstoned. Only the source key and ids are returned, never the record's values.
    """
    found = []
    keys = tombstoned_kinds(session)
    rows = session.execute(select(SourceRecord.id, SourceRecord.source, SourceRecord.stream,
                                  SourceRecord.source_record_id, SourceRecord.entity, SourceRecord.canonical)
                           .where(SourceRecord.deleted.is_(False))).yield_per(2000)
    for r in rows:
        canonical = r.canonical or {}
        emails = list(canonical.get("emails") or []) + ([canonical["email"]] if canonical.get("email") else [])
        phones = list(canonical.get("phones") or []) + ([canonical["phone"]] if canonical.get("phone") else [])
        why = ("source record" if digest("source_record", f"{r.source}/{r.stream}/{r.source_record_id}")
               in keys["source_record"] else
               "e-mail" if any(digest("email", e) in keys["email"] for e in emails) else
               "phone" if any(digest("phone", p) in keys["phone"] for p in phones) else None)
        if why:
            found.append((r.id, r.source, r.stream, r.source_record_id, why))
    return found


def tombstoned_kinds(session: Session) -> dict[str, set[str]]:
    """Every tombstone digest, by kind."""
    kinds: dict[str, set[str]] = {"source_record": set(), "email": set(), "phone": set()}
    for kind, value in session.execute(select(ErasureTombstone.kind, ErasureTombstone.digest)):
        kinds.setdefault(kind, set()).add(value)
    return kinds


__all__ += ["Footprint", "delete_source_records", "find_footprint", "finish_receipt", "flag_erased_records",
            "has_tombstones",
            "quarantine_returning", "receipts", "remove_footprint", "tombstoned_kinds"]
