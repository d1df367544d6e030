"""Merge and unmerge by hand: before-images, exact restore, what the next match run does, splits,
undo order, destination actions and audit entries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from sync.review import ConflictError, ReviewError, merge, pin, show_golden, split, unmerge
from sync.store import Store, destination_actions, query_audit
from sync.store.models import CannotLink, DestinationXref, GoldenPin, GoldenRecord, Interaction, Link
from tests.review.conftest import ScriptedMatcher, customer, golden_of, ingest, pk_of, run_match

ANN = "user:ann"


def snapshot(store: Store) -> dict[str, Any]:
    """Everything an unmerge must restore, field by field (versions and timestamps move on)."""
    with store.session() as session:
        golden = {g.id: {"status": g.status, "fields": g.fields, "provenance": g.provenance,
                         "content_hash": g.content_hash} for g in session.scalars(select(GoldenRecord))}
        links = {link.source_record_pk: (link.golden_id, link.score, link.method, link.explanation,
                                         link.decided_by) for link in session.scalars(select(Link))}
        pins = sorted((p.golden_id, p.field, p.value, p.pinned_by) for p in session.scalars(select(GoldenPin)))
        interactions = {i.id: i.golden_id for i in session.scalars(select(Interaction))}
    return {"golden": golden, "links": links, "pins": pins, "interactions": interactions}


def add_xref(store: Store, golden_id: str, destination: str, remote_id: str) -> None:
    with store.session() as session:
        session.add(DestinationXref(destination=destination, golden_id=golden_id, remote_id=remote_id))


def test_merge_then_unmerge_restores_the_golden_records_field_by_field(matched: Store) -> None:
    ann, bob = golden_of(matched, "crm", "1"), golden_of(matched, "web", "4")
    pin(matched, ann, "company", "Acme Corp", actor=ANN)
    pin(matched, bob, "company", "Stone & Co", actor=ANN)  # both pin company: the survivor's pin wins
    pin(matched, bob, "job_title", "Owner", actor=ANN)  # only the loser pins this: it moves to the survivor
    add_xref(matched, bob, "hubspot", "hs-204")
    before = snapshot(matched)

    outcome = merge(matched, ann, bob, actor=ANN, reason="same person, two e-mails")
    merged = snapshot(matched)
    assert merged["golden"][bob]["status"] == "retired"
    assert merged["golden"][ann]["fields"]["company"] == "Acme Corp"
    assert merged["golden"][ann]["fields"]["job_title"] == "Owner"
    assert {v[0] for v in merged["links"].values() if v[0] in (ann, bob)} == {ann}
    assert merged["golden"][ann]["provenance"]["job_title"]["pinned_by"] == ANN
    [action] = [a for a in destination_actions_of(matched) if a.action == "merge"]
    assert (action.destination, action.golden_id, action.remote_id, action.payload["survivor"]) == (
        "hubspot", bob, "hs-204", ann)

    restored = unmerge(matched, ann, actor=ANN)
    assert (restored.change_id, restored.survivor, restored.restored) == (outcome.change_id, ann, bob)
    after = snapshot(matched)
    for golden_id in before["golden"]:
        for field in ("status", "fields", "provenance", "content_hash"):
            assert after["golden"][golden_id][field] == before["golden"][golden_id][field], (golden_id, field)
    assert after["links"] == before["links"]
    assert after["pins"] == before["pins"]
    assert after["interactions"] == before["interactions"]
    assert after == before
    assert restored.cannot_links == 2  # Ann's two records × Bob's one: kept apart from now on
    recreate = [a for a in destination_actions_of(matched) if a.action == "re-create"]
    assert [(a.destination, a.golden_id, a.payload["split_from"]) for a in recreate] == [("hubspot", bob, ann)]
    with matched.session() as session:
        actions = [(e.action, e.actor) for e in query_audit(session, entity_id=ann)]
    assert ("golden.merge", ANN) in actions and ("golden.unmerge", ANN) in actions


def destination_actions_of(store: Store) -> list[Any]:
    with store.session() as session:
        return destination_actions(session)


def test_merges_and_unmerges_survive_the_next_match_run(matched: Store, matcher: ScriptedMatcher) -> None:
    bob, cy = golden_of(matched, "web", "4"), golden_of(matched, "crm", "6")
    merge(matched, bob, cy, actor=ANN)
    report = run_match(matched, matcher)
    assert report.golden_total == 4 and golden_of(matched, "crm", "6") == bob
    assert report.golden_unchanged == 4  # the match run rebuilt exactly what the merge made
    unmerge(matched, bob, actor=ANN)
    report = run_match(matched, matcher)
    assert report.golden_total == 5
    assert (golden_of(matched, "web", "4"), golden_of(matched, "crm", "6")) == (bob, cy)  # ids are stable
    assert report.golden_new == 0 and report.golden_unchanged == 5


def test_unmerge_undoes_merges_newest_first(matched: Store) -> None:
    ann, bob, cy = (golden_of(matched, s, r) for s, r in (("crm", "1"), ("web", "4"), ("crm", "6")))
    first = merge(matched, ann, bob, actor=ANN)
    second = merge(matched, ann, cy, actor=ANN)
    with pytest.raises(ReviewError, match=f"change #{first.change_id} is not the latest merge of"):
        unmerge(matched, ann, actor=ANN, change_id=first.change_id)
    with pytest.raises(ConflictError, match=f"undo change #{second.change_id}"):
        unmerge(matched, bob, actor=ANN)  # bob is retired: its only change is the merge into ann
    assert unmerge(matched, ann, actor=ANN).restored == cy
    assert unmerge(matched, ann, actor=ANN).restored == bob
    with pytest.raises(ReviewError, match="has no merge to undo"):
        unmerge(matched, ann, actor=ANN)


def test_merge_refuses_what_it_cannot_do(matched: Store) -> None:
    ann, bob = golden_of(matched, "crm", "1"), golden_of(matched, "web", "4")
    with pytest.raises(ReviewError, match="with itself"):
        merge(matched, ann, ann, actor=ANN)
    with pytest.raises(ConflictError, match="changed since it was loaded"):
        merge(matched, ann, bob, actor=ANN, expected_versions={ann: 99})
    merge(matched, ann, bob, actor=ANN)
    with pytest.raises(ConflictError, match="is retired"):
        merge(matched, bob, ann, actor=ANN)


def test_split_moves_records_out_and_matching_keeps_them_apart(matched: Store, matcher: ScriptedMatcher) -> None:
    ann = golden_of(matched, "crm", "1")
    add_xref(matched, ann, "hubspot", "hs-1")
    outcome = split(matched, ann, [("sheet", "contacts", "2")], actor=ANN)
    assert golden_of(matched, "sheet", "2") == outcome.new_golden_id
    view = show_golden(matched, outcome.new_golden_id)
    assert view.golden.fields["emails"] == ["ann.lee@y.com"]
    assert [(a.action, a.payload["split_from"], a.payload["survivor_remote_id"]) for a in view.actions] == [
        ("re-create", ann, "hs-1")]
    assert show_golden(matched, ann).golden.fields["emails"] == ["ann@x.com"]
    with matched.session() as session:
        assert session.execute(select(CannotLink.source_record_a, CannotLink.source_record_b)).all() == [
            tuple(sorted((pk_of(matched, "crm", "1"), pk_of(matched, "sheet", "2"))))]
    report = run_match(matched, matcher)  # the engine still puts both of Ann's records together
    assert report.golden_total == 6
    assert golden_of(matched, "sheet", "2") == outcome.new_golden_id and golden_of(matched, "crm", "1") == ann
    with pytest.raises(ReviewError, match="some, not all"):
        split(matched, ann, [pk_of(matched, "crm", "1")], actor=ANN)
    with pytest.raises(ReviewError, match="not in golden record"):
        split(matched, ann, [pk_of(matched, "web", "4")], actor=ANN)


def test_new_records_join_a_merged_golden_record(matched: Store, matcher: ScriptedMatcher) -> None:
    bob, rob = golden_of(matched, "web", "4"), golden_of(matched, "web", "5")
    merge(matched, bob, rob, actor=ANN)
    ingest(matched, [customer("crm", "9", "rob", name="Robert Stone", emails=["rob@x.com"])],
           at=datetime(2025, 4, 1, tzinfo=UTC))
    run_match(matched, matcher)
    assert golden_of(matched, "crm", "9") == bob  # the engine put it with Rob; Rob is in Bob's record now
