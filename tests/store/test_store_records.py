"""Source records and connector state: idempotent upserts, versions, deletions, checkpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from sync.store import (
    Store,
    UpsertCounts,
    all_states,
    get_state,
    mark_missing_deleted,
    save_state,
    upsert_source_records,
)
from sync.store.models import SourceRecord, SourceRecordVersion

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)


def versions(session: Session, record_id: str) -> list[tuple[int, str]]:
    return [(v.version, v.raw["name"]) for v in session.scalars(
        select(SourceRecordVersion).join(SourceRecord,
                                         SourceRecord.id == SourceRecordVersion.source_record_id)
        .where(SourceRecord.source_record_id == record_id)
        .order_by(SourceRecordVersion.version))]


def record(session: Session, record_id: str) -> SourceRecord:
    return session.scalars(select(SourceRecord).where(
        SourceRecord.source_record_id == record_id)).one()


def test_first_upsert_creates_records_and_version_one(store: Store, rec) -> None:
    with store.session() as session:
        counts = upsert_source_records(session, [rec(1, name="Ann"), rec(2, name="Bob")],
                                       seen_at=T0, pass_id="p1")
    assert counts == UpsertCounts(new=2, changed=0, unchanged=0, restored=0)
    assert set(counts.pks) == {("sheet", "contacts", "1"), ("sheet", "contacts", "2")}
    with store.session() as session:
        ann = record(session, "1")
        assert (ann.version, ann.first_seen_at, ann.last_seen_at, ann.last_seen_pass,
                ann.deleted) == (1, T0, T0, "p1", False)
        assert ann.id == counts.pks[("sheet", "contacts", "1")]
        assert ann.canonical == {"full_name": "Ann", "emails": []}
        assert versions(session, "1") == [(1, "Ann")]


def test_same_batch_twice_is_idempotent(store: Store, rec) -> None:
    batch = [rec(i, name=f"n{i}") for i in range(5)]
    with store.session() as session:
        upsert_source_records(session, batch, seen_at=T0, pass_id="p1")
    with store.session() as session:
        counts = upsert_source_records(session, batch, seen_at=T1, pass_id="p2")
    assert counts == UpsertCounts(new=0, changed=0, unchanged=5, restored=0)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(SourceRecordVersion)) == 5
        first = record(session, "0")
        assert (first.version, first.first_seen_at, first.last_seen_at,
                first.last_seen_pass) == (1, T0, T1, "p2")


def test_changed_content_gets_version_two_and_keeps_both(store: Store, rec) -> None:
    with store.session() as session:
        upsert_source_records(session, [rec(1, name="Ann")], seen_at=T0, pass_id=None)
    with store.session() as session:
        counts = upsert_source_records(session, [rec(1, name="Anne", updated=T1)], seen_at=T1,
                                       pass_id=None)
    assert counts == UpsertCounts(new=0, changed=1, unchanged=0, restored=0)
    with store.session() as session:
        ann = record(session, "1")
        assert (ann.version, ann.raw["name"], ann.source_updated_at) == (2, "Anne", T1)
        assert ann.content_hash == rec(1, name="Anne").content_hash
        assert versions(session, "1") == [(1, "Ann"), (2, "Anne")]


def test_duplicate_keys_in_one_batch_last_one_wins(store: Store, rec) -> None:
    with store.session() as session:
        counts = upsert_source_records(
            session, [rec(1, name="first"), rec(2, name="x"), rec(1, name="last")],
            seen_at=T0, pass_id="p1")
    assert counts == UpsertCounts(new=2, changed=0, unchanged=0, restored=0)
    with store.session() as session:
        assert record(session, "1").raw["name"] == "last"
        assert versions(session, "1") == [(1, "last")]


def test_same_id_in_other_stream_is_another_record(store: Store, rec) -> None:
    with store.session() as session:
        counts = upsert_source_records(
            session, [rec(1, name="a"), rec(1, name="a", stream="leads"),
                      rec(1, name="a", source="forms")], seen_at=T0, pass_id=None)
    assert counts.new == 3 and len(set(counts.pks.values())) == 3


def test_mark_missing_deleted_and_restore(store: Store, rec) -> None:
    with store.session() as session:
        upsert_source_records(session, [rec(1, name="a"), rec(2, name="b"), rec(3, name="c"),
                                        rec(9, name="other", stream="leads")],
                              seen_at=T0, pass_id="p1")
        upsert_source_records(session, [rec(1, name="a")], seen_at=T1, pass_id="p2")
        assert mark_missing_deleted(session, "sheet", "contacts", "p2", at=T1) == 2
        assert mark_missing_deleted(session, "sheet", "contacts", "p2", at=T2) == 0
    with store.session() as session:
        assert [(r.source_record_id, r.deleted, r.deleted_at) for r in session.scalars(
            select(SourceRecord).order_by(SourceRecord.source_record_id))] == [
            ("1", False, None), ("2", True, T1), ("3", True, T1), ("9", False, None)]

    with store.session() as session:
        counts = upsert_source_records(session, [rec(2, name="b"), rec(3, name="C!")],
                                       seen_at=T2, pass_id="p3")
    assert counts == UpsertCounts(new=0, changed=0, unchanged=0, restored=2)
    with store.session() as session:
        two, three = record(session, "2"), record(session, "3")
        assert (two.deleted, two.deleted_at, two.version, two.last_seen_pass) == (
            False, None, 1, "p3")
        assert (three.deleted, three.version) == (False, 2)
        assert versions(session, "2") == [(1, "b")]
        assert versions(session, "3") == [(1, "c"), (2, "C!")]


def test_records_seen_without_a_pass_are_missing_from_a_full_pass(store: Store, rec) -> None:
    with store.session() as session:
        upsert_source_records(session, [rec(1, name="a")], seen_at=T0, pass_id=None)
        assert mark_missing_deleted(session, "sheet", "contacts", "full-1", at=T1) == 1


def test_a_batch_of_500_costs_a_handful_of_statements(store: Store, rec) -> None:
    first = [rec(i, name=f"n{i}") for i in range(500)]
    second = [rec(i, name=f"n{i}" if i % 2 else f"changed{i}") for i in range(500)]
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with store.session() as session:
        assert upsert_source_records(session, first, seen_at=T0, pass_id="p1").new == 500
    with store.session() as session:
        counts = upsert_source_records(session, second, seen_at=T1, pass_id="p2")
    assert counts == UpsertCounts(new=0, changed=250, unchanged=250, restored=0)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2  # one per batch, for the existing keys
    # insertmanyvalues and executemany may split, but never one statement per row
    assert len(statements) < 30


def test_state_is_saved_and_replaced(store: Store) -> None:
    with store.session() as session:
        assert get_state(session, "crm", "contacts") is None
        save_state(session, "crm", "contacts", {"cursor": "a"})
        save_state(session, "crm", "deals", {"cursor": 1})
        save_state(session, "other", "contacts", {"cursor": "z"})
    with store.session() as session:
        save_state(session, "crm", "contacts", {"cursor": "b", "page": [1, 2]})
    with store.session() as session:
        assert get_state(session, "crm", "contacts") == {"cursor": "b", "page": [1, 2]}
        assert all_states(session, "crm") == {"contacts": {"cursor": "b", "page": [1, 2]},
                                              "deals": {"cursor": 1}}


def test_records_and_checkpoint_commit_or_roll_back_together(store: Store, rec) -> None:
    with store.session() as session:
        upsert_source_records(session, [rec(1, name="a")], seen_at=T0, pass_id=None)
        save_state(session, "sheet", "contacts", {"offset": 1})
    with pytest.raises(RuntimeError, match="crash"), store.session() as session:
        upsert_source_records(session, [rec(2, name="b"), rec(1, name="a2")], seen_at=T1,
                              pass_id=None)
        save_state(session, "sheet", "contacts", {"offset": 2})
        raise RuntimeError("crash before commit")
    with store.session() as session:
        assert get_state(session, "sheet", "contacts") == {"offset": 1}
        assert [(r.source_record_id, r.version) for r in session.scalars(
            select(SourceRecord))] == [("1", 1)]
        assert versions(session, "1") == [(1, "a")]
