"""Quarantine (bad rows, idempotent, resolved when gone) and the interaction index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from sync.store import (
    InteractionIndexIn,
    QuarantineIn,
    Store,
    attach_interactions,
    open_quarantine,
    quarantine_rows,
    resolve_missing_quarantine,
    save_golden,
    upsert_interactions,
    upsert_source_records,
)
from sync.store.models import Interaction, Quarantine

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)


def bad(key: str, reason: str = "phone: not a number", *, row: int = 2,
        source: str = "sheet") -> QuarantineIn:
    return QuarantineIn(source=source, stream="contacts", row_key=key, row_number=row,
                        file="contacts.xlsx", field="phone", reason=reason,
                        raw={"phone": "call me", "key": key})


def test_quarantine_is_idempotent_by_row_key(store: Store) -> None:
    with store.session() as session:
        assert quarantine_rows(session, [bad("k1"), bad("k2"), bad("k1")], seen_at=T0,
                               pass_id="p1") == 2
    with store.session() as session:
        assert quarantine_rows(session, [bad("k1", "phone: still bad", row=7), bad("k3")],
                               seen_at=T1, pass_id="p2") == 1
    with store.session() as session:
        rows = {q.row_key: q for q in open_quarantine(session)}
    assert set(rows) == {"k1", "k2", "k3"}
    k1 = rows["k1"]
    assert (k1.reason, k1.row_number, k1.first_seen_at, k1.last_seen_at) == (
        "phone: still bad", 7, T0, T1)
    assert k1.raw == {"phone": "call me", "key": "k1"}


def test_rows_no_longer_seen_are_resolved_and_reopen_when_they_return(store: Store) -> None:
    with store.session() as session:
        quarantine_rows(session, [bad("k1"), bad("k2"), bad("o1", source="forms")],
                        seen_at=T0, pass_id="p1")
        quarantine_rows(session, [bad("k1")], seen_at=T1, pass_id="p2")
        assert resolve_missing_quarantine(session, "sheet", "contacts", "p2", at=T1) == 1
        assert resolve_missing_quarantine(session, "sheet", "contacts", "p2", at=T2) == 0
    with store.session() as session:
        assert [q.row_key for q in open_quarantine(session)] == ["o1", "k1"]
        assert [q.row_key for q in open_quarantine(session, "sheet")] == ["k1"]
        resolved = session.scalars(select(Quarantine).where(Quarantine.row_key == "k2")).one()
        assert resolved.resolved_at == T1

    with store.session() as session:
        assert quarantine_rows(session, [bad("k2")], seen_at=T2, pass_id="p3") == 0
    with store.session() as session:
        assert sorted(q.row_key for q in open_quarantine(session, "sheet")) == ["k1", "k2"]


def _interactions(store: Store, rec) -> dict[str, int]:
    with store.session() as session:
        counts = upsert_source_records(
            session, [rec(f"c{i}", entity="interaction", name=f"call {i}") for i in range(4)],
            seen_at=T0, pass_id=None)
        for gid in ("g-ann", "g-bob"):
            save_golden(session, gid, fields={"full_name": gid}, provenance={},
                        content_hash=gid, now=T0)
    return {key[2]: pk for key, pk in counts.pks.items()}


def test_interactions_attach_by_phone_then_email(store: Store, rec) -> None:
    pk = _interactions(store, rec)
    with store.session() as session:
        upsert_interactions(session, [
            InteractionIndexIn(pk["c0"], "call", T0, "+4930111", None),
            InteractionIndexIn(pk["c1"], "call", T0, "+4930999", "bob@example.com"),
            InteractionIndexIn(pk["c2"], "form", None, None, "ann@example.com"),
            InteractionIndexIn(pk["c3"], "form", None, None, "nobody@example.com"),
        ])
    by_phone = {"+4930111": "g-ann", "+4930999": "g-bob"}
    by_email = {"ann@example.com": "g-ann", "bob@example.com": "g-ann"}
    with store.session() as session:
        assert attach_interactions(session, by_phone, by_email) == 3
        assert attach_interactions(session, by_phone, by_email) == 0
    with store.session() as session:
        attached = {row.source_record_pk: row.golden_id for row in session.execute(
            select(Interaction.source_record_pk, Interaction.golden_id))}
    # phone wins over e-mail for c1
    assert attached == {pk["c0"]: "g-ann", pk["c1"]: "g-bob", pk["c2"]: "g-ann",
                        pk["c3"]: None}

    with store.session() as session:  # re-indexing keeps golden ids; a new phone moves it
        upsert_interactions(session, [
            InteractionIndexIn(pk["c0"], "call", T1, "+4930999", None),
            InteractionIndexIn(pk["c2"], "form", None, None, "ann@example.com"),
        ])
        row = session.scalars(select(Interaction).where(
            Interaction.source_record_pk == pk["c0"])).one()
        assert (row.golden_id, row.phone, row.occurred_at) == ("g-ann", "+4930999", T1)
        assert attach_interactions(session, by_phone, {}) == 2  # c0 → bob, c2 detached
        assert session.scalar(select(Interaction.golden_id).where(
            Interaction.source_record_pk == pk["c2"])) is None
