"""Golden records and links: versions, retirement, change counting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from sync.store import (
    LinkIn,
    NotFoundError,
    Store,
    count_golden,
    current_links,
    delete_links_for_missing,
    load_customer_records,
    load_golden,
    mark_missing_deleted,
    retire_golden,
    save_golden,
    set_links,
    upsert_source_records,
)
from sync.store.models import Link

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)
PROV = {"full_name": {"source": "sheet", "stream": "contacts", "source_record_id": "1",
                      "updated_at": T0.isoformat()}}


def _save(session, gid: str, name: str, now: datetime) -> str:
    return save_golden(session, gid, fields={"full_name": name}, provenance=PROV,
                       content_hash=f"h:{name}", now=now)


def test_save_golden_new_changed_unchanged_and_versions(store: Store) -> None:
    with store.session() as session:
        assert _save(session, "g1", "Ann", T0) == "new"
    with store.session() as session:
        assert _save(session, "g1", "Ann", T1) == "unchanged"
        assert load_golden(session)["g1"].version == 1
        assert _save(session, "g1", "Anne", T1) == "changed"
    with store.session() as session:
        g1 = load_golden(session)["g1"]
    assert (g1.version, g1.fields, g1.provenance, g1.content_hash, g1.status) == (
        2, {"full_name": "Anne"}, PROV, "h:Anne", "active")
    assert (g1.created_at, g1.updated_at) == (T0, T1)


def test_retire_and_revive(store: Store) -> None:
    with store.session() as session:
        _save(session, "g1", "Ann", T0)
        _save(session, "g2", "Bob", T0)
        assert retire_golden(session, "g2", now=T1) is True
        assert retire_golden(session, "g2", now=T1) is False
        with pytest.raises(NotFoundError):
            retire_golden(session, "nope", now=T1)
    with store.session() as session:
        assert set(load_golden(session)) == {"g1"}
        assert load_golden(session, status="retired")["g2"].version == 2
        assert set(load_golden(session, status=None)) == {"g1", "g2"}
        assert set(load_golden(session, ids=["g2", "g3"], status=None)) == {"g2"}
        assert load_golden(session, ids=[]) == {}
        assert (count_golden(session), count_golden(session, status=None)) == (1, 2)
        # the same content saved again brings it back, as a change
        assert _save(session, "g2", "Bob", T2) == "changed"
        revived = load_golden(session, ids=["g2"])["g2"]
        assert (revived.status, revived.version, revived.updated_at) == ("active", 3, T2)
        assert count_golden(session) == 2


def _records(store: Store, rec) -> dict[str, int]:
    with store.session() as session:
        counts = upsert_source_records(
            session, [rec(i, name=f"n{i}", updated=T0 if i == 1 else None) for i in (1, 2, 3)]
            + [rec("call", entity="interaction", name="c")], seen_at=T0, pass_id="p1")
        for gid in ("ga", "gb"):
            _save(session, gid, gid, T0)
    return {key[2]: pk for key, pk in counts.pks.items()}


def test_load_customer_records_skips_deleted_and_interactions(store: Store, rec) -> None:
    pk = _records(store, rec)
    with store.session() as session:
        upsert_source_records(session, [rec(1, name="n1", updated=T0), rec(2, name="n2")],
                              seen_at=T1, pass_id="p2")
        mark_missing_deleted(session, "sheet", "contacts", "p2", at=T1)
    with store.session() as session:
        loaded = load_customer_records(session)
    assert [c.pk for c in loaded] == [pk["1"], pk["2"]]
    first = loaded[0]
    assert (first.source, first.stream, first.source_record_id, first.source_updated_at,
            first.first_seen_at, first.last_seen_at) == ("sheet", "contacts", "1", T0, T0, T1)
    assert first.canonical == {"full_name": "n1", "emails": []}


def test_set_links_counts_real_changes(store: Store, rec) -> None:
    pk = _records(store, rec)
    links = [LinkIn(pk["1"], "ga", 1.0, "exact:email", {"email": "same"}),
             LinkIn(pk["2"], "ga", 0.93, "score", {"name": "close"}),
             LinkIn(pk["3"], "gb", 1.0, "singleton")]
    with store.session() as session:
        assert set_links(session, links, now=T0) == 3
    with store.session() as session:
        assert set_links(session, links, now=T1) == 0
        # explanation and decider changes are stored but are not moves
        assert set_links(session, [LinkIn(pk["2"], "ga", 0.93, "score", {"name": "closer"},
                                          decided_by="user:alice")], now=T1) == 0
        assert set_links(session, [LinkIn(pk["2"], "gb", 0.93, "score"),
                                   LinkIn(pk["3"], "gb", 0.5, "singleton"),
                                   LinkIn(pk["1"], "ga", 1.0, "exact:phone")], now=T2) == 3
    with store.session() as session:
        assert current_links(session) == {pk["1"]: "ga", pk["2"]: "gb", pk["3"]: "gb"}
        one = session.scalars(select(Link).where(Link.source_record_pk == pk["1"])).one()
        assert (one.method, one.created_at, one.updated_at) == ("exact:phone", T0, T2)
        two = session.scalars(select(Link).where(Link.source_record_pk == pk["2"])).one()
        assert (two.explanation, two.decided_by) == (None, "system")


def test_set_links_duplicate_source_record_last_wins(store: Store, rec) -> None:
    pk = _records(store, rec)
    with store.session() as session:
        assert set_links(session, [LinkIn(pk["1"], "ga", 1.0, "a"),
                                   LinkIn(pk["1"], "gb", 1.0, "b")], now=T0) == 1
        assert current_links(session) == {pk["1"]: "gb"}


def test_links_of_deleted_records_are_removed(store: Store, rec) -> None:
    pk = _records(store, rec)
    with store.session() as session:
        set_links(session, [LinkIn(pk[k], "ga", 1.0, "exact:email") for k in ("1", "2", "3")],
                  now=T0)
        upsert_source_records(session, [rec(1, name="n1", updated=T0)], seen_at=T1,
                              pass_id="p2")
        assert mark_missing_deleted(session, "sheet", "contacts", "p2", at=T1) == 3
        assert delete_links_for_missing(session) == 2
        assert delete_links_for_missing(session) == 0
        assert current_links(session) == {pk["1"]: "ga"}
