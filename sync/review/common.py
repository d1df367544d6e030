"""What the review operations share: errors, actors, before-images and recomputing golden values."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session

from dedupe.golden import survive
from dedupe.survivorship import Pin, SurvivorshipRules, field_kind
from dedupe.types import GoldenValues, MatchRecord
from mappings import Customer, TransformError, content_hash, normalize_email, normalize_phone
from sync.store import GoldenRow, LinkRow, StoredCustomer, load_pins, records_of

__all__ = [
    "ReviewError",
    "compute_values",
    "diff_fields",
    "golden_image",
    "link_image",
    "parse_pin_value",
    "user_actor",
]


class ReviewError(ValueError):
    """A review request that cannot be carried out as asked; the message says what to do instead."""


_NAME = re.compile(r"[A-Za-z0-9_.@+-]{1,64}")


def user_actor(name: str) -> str:
    """The audit actor for a person: 'user:<name>'."""
    name = name.removeprefix("user:")
    if not _NAME.fullmatch(name):
        raise ReviewError(f"reviewer name {name!r}: use 1-64 letters, digits or . _ @ + - (e.g. 'ann')")
    return f"user:{name}"


def golden_image(row: GoldenRow) -> dict[str, Any]:
    """A golden record's restorable state (the version moves on, so it is not part of it)."""
    return {"id": row.id, "status": row.status, "fields": row.fields, "provenance": row.provenance,
            "content_hash": row.content_hash}


def link_image(link: LinkRow) -> dict[str, Any]:
    """A link's restorable state."""
    return asdict(link)


def diff_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ: (before, after)."""
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def _match_records(stored: Sequence[StoredCustomer]) -> list[MatchRecord]:
    return [MatchRecord(s.pk, Customer.model_validate(s.canonical), s.first_seen_at) for s in stored]


def compute_values(session: Session, golden_id: str, rules: SurvivorshipRules,
                   stored: Sequence[StoredCustomer] | None = None) -> tuple[GoldenValues, str]:
    """A golden record's values from its live source records and pins, with their content hash."""
    if stored is None:
        stored = records_of(session, [golden_id])[golden_id]
    pins = {f: Pin(p.value, p.pinned_by, p.pinned_at) for f, p in load_pins(session, [golden_id]).get(
        golden_id, {}).items()}
    values = survive(_match_records(stored), rules, pins)
    return values, content_hash({"fields": values.fields, "provenance": values.provenance})


_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}


def parse_pin_value(path: str, text: str) -> Any:
    """The value to pin from what a person typed, in canonical form (e-mails lowercased, phones E.164)."""
    kind = field_kind(path)
    if kind is None or path == "sources":
        raise ReviewError(f"cannot pin {path!r}: pin a customer field such as full_name, company, emails, "
                          "phones or address.city")
    if kind == "group":
        raise ReviewError(f"pin one part of {path!r}, e.g. {path}.city")
    head = path.partition(".")[0]
    try:
        if head == "emails":
            return normalize_email(text)
        if head == "phones":
            return normalize_phone(text, None)
    except TransformError as exc:
        raise ReviewError(f"cannot pin {path}: {exc}") from None
    if head == "consent":
        if text.strip().lower() in _TRUE | _FALSE:
            return text.strip().lower() in _TRUE
        raise ReviewError(f"consent is yes or no, not {text!r}")
    if not text.strip():
        raise ReviewError(f"cannot pin an empty value on {path}; unpin the field instead")
    return text.strip()
