"""Helpers for push tests: golden records seeded straight into the store, links, provenance, table counts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from mappings import content_hash
from sync.store import Store, save_golden


def person(i: int, **overrides: Any) -> dict[str, Any]:
    """Golden record fields for person number i."""
    fields: dict[str, Any] = {
        "full_name": f"Person{i} Example", "given_name": f"Person{i}", "family_name": "Example",
        "emails": [f"p{i}@example.test"], "phones": [f"+1415555{i:04d}"], "company": f"Firm {i % 7}",
        "job_title": None, "address": {"city": "Springfield"}, "consent": {}, "custom": {}, "tags": [],
        "birth_date": None, "locale": None, "patronymic": None, "sources": ["sheet"]}
    fields.update(overrides)
    return fields


def seed_golden(store: Store, records: list[dict[str, Any]], ids: list[str] | None = None) -> list[str]:
    """Write golden records as the match stage would; returns their ids."""
    ids = ids or [str(uuid.uuid4()) for _ in records]
    now = datetime.now(UTC)
    with store.session() as session:
        for golden_id, fields in zip(ids, records, strict=True):
            save_golden(session, golden_id, fields=fields, provenance={}, content_hash=content_hash(fields), now=now)
    return ids


def provenance_of(*record_ids: str, source: str = "sheet", stream: str = "contacts") -> dict[str, Any]:
    """A golden record's provenance naming the given source records (as survivorship writes it)."""
    return {f"field{i}": {"source": source, "stream": stream, "source_record_id": rid, "updated_at": "2024-01-01"}
            for i, rid in enumerate(record_ids)}


def link(store: Store, golden_id: str, *record_ids: str, source: str = "sheet", stream: str = "contacts") -> None:
    """Make source records (created if needed) belong to a golden record."""
    from sync.store import LinkIn, SourceRecordIn, set_links, upsert_source_records

    now = datetime.now(UTC)
    records = [SourceRecordIn(source=source, stream=stream, source_record_id=rid, entity="customer",
                              raw={"id": rid}, canonical={"full_name": rid}, content_hash=rid)
               for rid in record_ids]
    with store.session() as session:
        counts = upsert_source_records(session, records, seen_at=now, pass_id=None)
        set_links(session, [LinkIn(counts.pks[r.key], golden_id, 1.0, "exact") for r in records], now=now)


def retire(store: Store, golden_id: str) -> None:
    from sync.store import retire_golden

    with store.session() as session:
        retire_golden(session, golden_id, now=datetime.now(UTC))


def set_provenance(store: Store, golden_id: str, provenance: dict[str, Any]) -> None:
    from sqlalchemy import update

    from sync.store.models import GoldenRecord

    with store.session() as session:
        session.execute(update(GoldenRecord).where(GoldenRecord.id == golden_id).values(provenance=provenance))


def table_counts(store: Store) -> dict[str, int]:
    """Rows per table: a plan must leave every one of them as it was."""
    from sqlalchemy import func, select

    from sync.store.models import Base

    with store.session() as session:
        return {name: int(session.scalar(select(func.count()).select_from(table)) or 0)
                for name, table in Base.metadata.tables.items()}
