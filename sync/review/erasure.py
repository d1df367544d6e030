"""GDPR erasure of one person: everywhere they are, a tombstone, a receipt, deletions queued.

What goes: the person's source records (with their versions and interactions), the values of
their golden records (kept as empty, retired rows so destinations can be told to delete the
remote records), pins, suggestions, merge before-images, inbox submissions, quarantined rows and
dead letters that mention them, and identifiers quoted in run reports. The audit log cannot
change (append-only by trigger): the values it holds about the person were written sealed with
the golden record's key, and that key is deleted, so they can never be read again; the entries
are also listed in `audit_redactions`, so exports say they were erased and by which receipt.
What stays: keyed hashes of the identifiers (the tombstone, so an old copy ingested again is
quarantined instead of restored) and the receipt, which names tables, counts and golden ids only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mappings import TransformError, normalize_email, normalize_phone
from sync.review.common import ReviewError
from sync.review.merging import lock
from sync.store import (
    Footprint,
    NotFoundError,
    Store,
    append_audit,
    digest,
    find_footprint,
    finish_receipt,
    load_golden,
    queue_destination_action,
    record_receipt,
    remove_footprint,
    xrefs_of,
)

__all__ = ["ErasurePreview", "ErasureResult", "erase", "preview_erasure"]


@dataclass(frozen=True)
class ErasurePreview:
    """What an erasure would remove, counted, before anything is removed."""

    golden_ids: tuple[str, ...]
    source_records: int
    interactions: int
    inbox: int
    quarantine: int
    dead_letters: int
    destinations: tuple[str, ...]  # where the person was pushed: deletions will be queued there


@dataclass(frozen=True)
class ErasureResult:
    """The erasure receipt: its id, the golden records erased and every table touched."""

    receipt_id: str
    golden_ids: tuple[str, ...]
    touched: dict[str, int]
    tombstones: int
    destination_actions: int


def _identifiers(emails: Sequence[str], phones: Sequence[str], region: str | None) -> tuple[list[str], list[str]]:
    try:
        return ([normalize_email(e) for e in emails], [normalize_phone(p, region) for p in phones])
    except TransformError as exc:
        raise ReviewError(f"cannot erase: {exc}") from None


def _find(session: Session, emails: list[str], phones: list[str], golden_ids: Sequence[str]) -> Footprint:
    if not (emails or phones or golden_ids):
        raise ReviewError("name the person to erase: --email, --phone or --golden-id")
    known = load_golden(session, golden_ids, status=None) if golden_ids else {}
    missing = [g for g in golden_ids if g not in known]
    if missing:
        raise NotFoundError(f"no golden record(s) {missing}; nothing was erased")
    return find_footprint(session, emails=emails, phones=phones, golden_ids=golden_ids)


def preview_erasure(store: Store, *, emails: Sequence[str] = (), phones: Sequence[str] = (),
                    golden_ids: Sequence[str] = (), phone_region: str | None = None) -> ErasurePreview:
    """Count what erasing this person would remove; changes nothing."""
    mails, tels = _identifiers(emails, phones, phone_region)
    with store.session() as session:
        fp = _find(session, mails, tels, golden_ids)
        xrefs = xrefs_of(session, fp.golden_ids)
    return ErasurePreview(golden_ids=tuple(sorted(fp.golden_ids)), source_records=len(fp.customer_pks),
                          interactions=len(fp.interaction_pks), inbox=len(fp.inbox_ids),
                          quarantine=len(fp.quarantine_ids), dead_letters=len(fp.dead_letter_ids),
                          destinations=tuple(sorted({d for held in xrefs.values() for d in held})))


def erase(store: Store, *, actor: str, emails: Sequence[str] = (), phones: Sequence[str] = (),
          golden_ids: Sequence[str] = (), reason: str | None = None, phone_region: str | None = None
          ) -> ErasureResult:
    """Erase one person everywhere, in one transaction; returns the receipt."""
    mails, tels = _identifiers(emails, phones, phone_region)
    receipt_id = str(uuid.uuid4())
    with store.session() as session:
        now = lock(session)
        fp = _find(session, mails, tels, golden_ids)
        ids = sorted(fp.golden_ids)
        xrefs = xrefs_of(session, ids)
        tombstones = record_receipt(session, receipt_id=receipt_id, actor=actor, reason=reason, now=now, identifiers={
            "email": [digest("email", e) for e in fp.emails], "phone": [digest("phone", p) for p in fp.phones],
            "phone_seen": [digest("phone", p) for p in fp.phones_seen], "name": [digest("name", n) for n in fp.names],
            "source_record": [digest("source_record", k) for k in fp.source_keys], "golden_id": ids})
        touched = remove_footprint(session, fp, receipt_id=receipt_id, now=now)
        actions = 0
        for golden_id in ids:
            for destination, remote_id in sorted(xrefs.get(golden_id, {}).items()):
                queue_destination_action(session, destination=destination, action="delete", golden_id=golden_id,
                                         remote_id=remote_id, payload={"receipt": receipt_id},
                                         reason="GDPR erasure: delete the person for good", by=actor, now=now)
                actions += 1
            append_audit(session, actor=actor, action="golden.erase", entity_type="golden_record", entity_id=golden_id,
                         after={"receipt": receipt_id}, reason="GDPR erasure", at=now)
        append_audit(session, actor=actor, action="erasure.receipt", entity_type="erasure", entity_id=receipt_id,
                     after={"tables": touched, "golden_records": len(ids), "destination_actions": actions},
                     reason=reason, at=now)
        finish_receipt(session, receipt_id, {**touched, "golden_ids": ids, "destination_actions": actions})
    return ErasureResult(receipt_id, tuple(ids), touched, tombstones, actions)
