"""The review queue and decisions on SQLite and PostgreSQL: order, filters, side by side, accept,
reject (and when a rejected pair comes back), defer, assign, bulk accept, optimistic locking."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sync.review import (
    ConflictError,
    accept,
    assign,
    bulk_accept,
    defer,
    get_suggestion,
    list_suggestions,
    preview_bulk_accept,
    reject,
)
from sync.store import Store, list_suggestion_rows, load_golden, query_audit
from sync.store.models import CannotLink, Link
from tests.review.conftest import ScriptedMatcher, customer, golden_of, ingest, run_match

ANN = "user:ann"
BOB = "user:bob"


def queue(store: Store) -> dict[str, int]:
    """Suggestion id by the person pair it is about ('ann/anne', 'bob/rob')."""
    found = {}
    for item in list_suggestions(store):
        detail = get_suggestion(store, item.id)
        names = sorted(r.source_record_id for r in detail.records_a + detail.records_b)
        found["ann/anne" if "1" in names else "bob/rob"] = item.id
    return found


def test_queue_is_ordered_by_uncertainty_times_impact_and_filters(matched: Store) -> None:
    items = list_suggestions(matched)
    assert [(round(i.score, 2), i.records) for i in items] == [(0.55, 3), (0.9, 2)]
    assert items[0].priority == pytest.approx(0.9 * 3) and items[1].priority == pytest.approx(0.2 * 2)
    assert items[0].sentence == "same surname; e-mail differs" and items[0].reason == "uncertain"
    assert [i.score for i in list_suggestions(matched, source="web")] == [0.9]
    assert [i.score for i in list_suggestions(matched, min_score=0.6)] == [0.9]
    assert [i.score for i in list_suggestions(matched, max_score=0.6)] == [0.55]
    assert list_suggestions(matched, limit=1)[0].score == 0.55
    ids = queue(matched)
    assign(matched, ids["bob/rob"], "bob", actor=ANN)
    assert [i.id for i in list_suggestions(matched, assignee="bob")] == [ids["bob/rob"]]
    assert [i.id for i in list_suggestions(matched, unassigned=True)] == [ids["ann/anne"]]
    with pytest.raises(ValueError, match="unknown status"):
        list_suggestions(matched, statuses=("open",))


def test_side_by_side_marks_differences_and_carries_the_evidence(matched: Store) -> None:
    detail = get_suggestion(matched, queue(matched)["ann/anne"])
    rows = {r.field: r for r in detail.fields}
    assert (rows["full_name"].a, rows["full_name"].b, rows["full_name"].differs) in (
        ("Ann Lee", "Anne Lee", True), ("Anne Lee", "Ann Lee", True))
    assert rows["company"].differs and rows["emails"].differs
    assert rows["custom.person"].differs
    assert "birth_date" not in rows  # neither side has one
    assert {rows["full_name"].from_a, rows["full_name"].from_b} >= {"sheet/contacts/3"}
    assert [e.comparison for e in detail.evidence] == ["family_name", "email", "phone"]  # strongest first
    assert detail.evidence[0].level == "exact" and detail.evidence[1].bits == -3.1
    assert sorted(r.source_record_id for r in detail.records_a + detail.records_b) == ["1", "2", "3"]
    assert None not in detail.pair


def test_accept_merges_and_the_merge_survives_the_next_match_run(matched: Store, matcher: ScriptedMatcher) -> None:
    sid = queue(matched)["ann/anne"]
    ann, anne = golden_of(matched, "crm", "1"), golden_of(matched, "sheet", "3")
    outcome = accept(matched, sid, actor=ANN)
    assert (outcome.survivor, outcome.loser, outcome.records) == (ann, anne, 3)  # the bigger record survives
    with matched.session() as session:
        golden = load_golden(session, status=None)
        methods = session.execute(select(Link.method, func.count()).where(Link.golden_id == ann)
                                  .group_by(Link.method)).all()
        entries = query_audit(session, entity_id=str(sid))
    assert golden[anne].status == "retired" and golden[ann].fields["company"] in ("Acme", "Acme Inc")
    assert sorted(golden[ann].fields["emails"]) == ["ann.lee@y.com", "ann@x.com", "anne@z.com"]
    assert dict(methods) == {"manual": 3}
    assert [(e.action, e.actor, e.after["status"]) for e in entries] == [("suggestion.accept", ANN, "accepted")]

    report = run_match(matched, matcher)  # the engine still thinks Ann and Anne are two people
    assert report.golden_total == 4 and report.suggestions_pending == 1
    assert golden_of(matched, "sheet", "3") == ann
    with pytest.raises(ConflictError, match="already accepted by user:ann"):
        accept(matched, sid, actor=BOB)


def test_reject_keeps_them_apart_until_one_side_gains_a_record(matched: Store, matcher: ScriptedMatcher) -> None:
    sid = queue(matched)["ann/anne"]
    outcome = reject(matched, sid, actor=ANN, reason="different people, same office")
    assert outcome.cannot_links == 2 and outcome.suggestion.status == "rejected"
    report = run_match(matched, matcher)
    assert report.suggestions_pending == 1 and report.suggestions_reopened == 0
    with matched.session() as session:
        assert [r.status for r in list_suggestion_rows(session, None) if r.id == sid] == ["rejected"]
        assert session.scalar(select(func.count()).select_from(CannotLink)) == 2

    ingest(matched, [customer("web", "7", "anne", name="Anne Lee", emails=["anne@z.com"])])  # Anne changes
    report = run_match(matched, matcher)
    assert report.suggestions_reopened == 1
    with matched.session() as session:
        row = next(r for r in list_suggestion_rows(session, None) if r.id == sid)
        entries = query_audit(session, entity_id=str(sid))
    assert (row.status, row.reviewer) == ("pending", None)
    assert [e.action for e in entries] == ["suggestion.reject", "suggestion.reopen"]


def test_defer_and_assign_and_stale_versions(matched: Store) -> None:
    sid = queue(matched)["bob/rob"]
    seen = next(i for i in list_suggestions(matched) if i.id == sid)
    assign(matched, sid, "bob", actor=ANN)
    with pytest.raises(ConflictError, match=r"changed since you loaded it \(version 1, now 2\)"):
        defer(matched, sid, actor=BOB, expected_version=seen.version)
    deferred = defer(matched, sid, actor=BOB)
    assert (deferred.status, deferred.reviewer, deferred.assignee) == ("deferred", BOB, "bob")
    assert sid not in [i.id for i in list_suggestions(matched)]
    assert [i.id for i in list_suggestions(matched, statuses=("deferred",))] == [sid]
    accept(matched, sid, actor=ANN)  # a deferred suggestion can still be decided


def test_bulk_accept_previews_then_merges_what_it_showed(matched: Store) -> None:
    preview = preview_bulk_accept(matched, 0.5)
    assert len(preview.suggestion_ids) == 2
    assert (preview.golden_changed, preview.golden_retired, preview.records) == (2, 2, 5)
    assert preview_bulk_accept(matched, 0.8).golden_retired == 1
    with matched.session() as session:
        assert len(load_golden(session)) == 5  # a preview changes nothing
    result = bulk_accept(matched, preview, actor=ANN)
    assert result.accepted == list(preview.suggestion_ids) and result.conflicts == {}
    with matched.session() as session:
        assert set(load_golden(session)) == set(preview.groups) | {golden_of(matched, "crm", "6")}


def test_bulk_accept_chains_merge_transitively(store: Store) -> None:
    ingest(store, [customer("crm", "1", "a", name="A"), customer("crm", "2", "b", name="B"),
                   customer("crm", "3", "c", name="C")])
    run_match(store, ScriptedMatcher({("a", "b"): 0.8, ("b", "c"): 0.75}))
    preview = preview_bulk_accept(store, 0.7)
    assert (preview.golden_changed, preview.golden_retired) == (1, 2)
    result = bulk_accept(store, preview, actor=ANN)
    assert len(result.accepted) == 2 and result.conflicts == {}
    with store.session() as session:
        assert list(load_golden(session)) == list(preview.groups)


def test_a_stale_reviewer_gets_a_conflict_and_writes_nothing(matched: Store) -> None:
    sid = queue(matched)["ann/anne"]
    first = next(i for i in list_suggestions(matched) if i.id == sid)  # both reviewers load version 1
    second = next(i for i in list_suggestions(matched) if i.id == sid)
    accept(matched, sid, actor=ANN, expected_version=first.version)
    with pytest.raises(ConflictError, match="already accepted by user:ann"):
        reject(matched, sid, actor=BOB, expected_version=second.version)
    with matched.session() as session:
        assert session.scalar(select(func.count()).select_from(CannotLink)) == 0
        assert [e.action for e in query_audit(session, entity_id=str(sid))] == ["suggestion.accept"]
