"""Records a source reports deleted (Airbyte's `_ab_cdc_deleted_at`): marked by id, restored when seen again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from sync.store import Store, mark_records_deleted, upsert_source_records
from sync.store.models import SourceRecord

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)


def states(store: Store) -> dict[str, tuple[bool, datetime | None]]:
    with store.session() as session:
        rows = session.execute(select(SourceRecord.source_record_id, SourceRecord.deleted, SourceRecord.deleted_at))
        return {r.source_record_id: (r.deleted, r.deleted_at and r.deleted_at.replace(tzinfo=UTC)) for r in rows}


def test_only_the_named_live_records_of_that_stream_are_marked(store: Store, rec) -> None:
    with store.session() as session:
        upsert_source_records(session, [rec(1, name="Ann"), rec(2, name="Bob"), rec(3, name="Cy"),
                                        rec(1, name="Ann", stream="companies")], seen_at=T0, pass_id=None)
    with store.session() as session:
        assert mark_records_deleted(session, "sheet", "contacts", ["1", "3", "404"], at=T1) == 2
    with store.session() as session:
        assert mark_records_deleted(session, "sheet", "contacts", ["1"], at=T1) == 0  # already deleted
    marked = states(store)
    assert marked["2"] == (False, None) and marked["3"] == (True, T1)
    with store.session() as session:
        companies = session.scalars(select(SourceRecord.deleted).where(SourceRecord.stream == "companies")).one()
    assert companies is False


def test_a_deleted_record_seen_again_is_restored(store: Store, rec) -> None:
    with store.session() as session:
        upsert_source_records(session, [rec(1, name="Ann")], seen_at=T0, pass_id=None)
        mark_records_deleted(session, "sheet", "contacts", ["1"], at=T0)
    with store.session() as session:
        counts = upsert_source_records(session, [rec(1, name="Ann")], seen_at=T1, pass_id=None)
    assert counts.restored == 1 and states(store)["1"] == (False, None)
