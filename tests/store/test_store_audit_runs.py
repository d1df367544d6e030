"""The append-only audit log and the sync-run lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sync.store import (
    NotFoundError,
    Store,
    append_audit,
    finish_run,
    get_run,
    mark_stale_runs_crashed,
    query_audit,
    recent_runs,
    start_run,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def _fill_audit(store: Store) -> None:
    with store.session() as session:
        append_audit(session, actor="flow:r1", action="golden.create", entity_type="golden",
                     entity_id="g1", after={"full_name": "Ann"}, run_id="r1", at=_minutes(0))
        append_audit(session, actor="user:alice", action="golden.merge", entity_type="golden",
                     entity_id="g1", before={"full_name": "Ann"}, after={"full_name": "Anne"},
                     reason="same person", at=_minutes(10))
        append_audit(session, actor="flow:r1", action="golden.create", entity_type="golden",
                     entity_id="g2", after={"full_name": "Bob"}, run_id="r1", at=_minutes(20))


def test_audit_entries_are_queried_by_entity_run_and_time(store: Store) -> None:
    _fill_audit(store)
    with store.session() as session:
        g1 = query_audit(session, entity_id="g1")
        assert [(e.action, e.actor) for e in g1] == [("golden.create", "flow:r1"),
                                                     ("golden.merge", "user:alice")]
        merge = g1[1]
        assert (merge.before, merge.after, merge.reason, merge.run_id, merge.at) == (
            {"full_name": "Ann"}, {"full_name": "Anne"}, "same person", None, _minutes(10))
        assert g1[0].before is None
        assert [e.entity_id for e in query_audit(session, run_id="r1")] == ["g1", "g2"]
        assert [e.entity_id for e in query_audit(session, since=_minutes(10))] == ["g1", "g2"]
        assert [e.entity_id for e in query_audit(session, until=_minutes(10))] == ["g1"]
        newest_two = query_audit(session, limit=2)
        assert [e.at for e in newest_two] == [_minutes(10), _minutes(20)]


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET actor = 'user:mallory'",
    "DELETE FROM audit_log",
])
def test_audit_log_is_append_only_in_the_database(store: Store, statement: str) -> None:
    _fill_audit(store)
    with pytest.raises(DBAPIError, match="append-only"), store.session() as session:
        session.execute(text(statement))
    with store.session() as session:
        assert [e.actor for e in query_audit(session)] == ["flow:r1", "user:alice", "flow:r1"]


def test_run_lifecycle(store: Store) -> None:
    with store.session() as session:
        run_id = start_run(session, "ingest", "sheet", orchestrator_run_id="prefect-1",
                           now=_minutes(0))
        running = get_run(session, run_id)
        assert running is not None
        assert (running.status, running.finished_at, running.counts, running.target,
                running.orchestrator_run_id) == ("running", None, {}, "sheet", "prefect-1")
    with store.session() as session:
        finish_run(session, run_id, status="completed", counts={"new": 3, "changed": 1},
                   now=_minutes(2))
    with store.session() as session:
        done = get_run(session, run_id)
    assert done is not None
    assert (done.status, done.counts, done.error, done.finished_at) == (
        "completed", {"new": 3, "changed": 1}, None, _minutes(2))
    assert done.duration_seconds == 120


def test_failed_runs_keep_their_error_and_bad_input_is_refused(store: Store) -> None:
    with store.session() as session:
        run_id = start_run(session, "push", "hubspot")
        finish_run(session, run_id, status="failed", counts={}, error="401 from hubspot")
        assert get_run(session, run_id).error == "401 from hubspot"  # type: ignore[union-attr]
        with pytest.raises(ValueError, match="status"):
            finish_run(session, run_id, status="running", counts={})
        with pytest.raises(NotFoundError, match="no sync run"):
            finish_run(session, "missing", status="completed", counts={})
        assert get_run(session, "missing") is None


def test_recent_runs_newest_first(store: Store) -> None:
    with store.session() as session:
        ids = [start_run(session, f"flow{i}", now=_minutes(i)) for i in range(5)]
    with store.session() as session:
        assert [r.id for r in recent_runs(session, limit=3)] == ids[:1:-1]
        assert len(recent_runs(session)) == 5


def test_stale_running_runs_are_marked_crashed(store: Store) -> None:
    with store.session() as session:
        stale = start_run(session, "ingest", now=_minutes(0))
        fresh = start_run(session, "ingest", now=_minutes(55))
        finished = start_run(session, "match", now=_minutes(0))
        finish_run(session, finished, status="completed", counts={}, now=_minutes(1))
    with store.session() as session:
        assert mark_stale_runs_crashed(session, timedelta(minutes=30), now=_minutes(60)) == 1
        assert mark_stale_runs_crashed(session, timedelta(minutes=30), now=_minutes(60)) == 0
    with store.session() as session:
        crashed = get_run(session, stale)
        assert crashed is not None
        assert (crashed.status, crashed.finished_at) == ("crashed", _minutes(60))
        assert "died" in (crashed.error or "")
        assert get_run(session, fresh).status == "running"  # type: ignore[union-attr]
        assert get_run(session, finished).status == "completed"  # type: ignore[union-attr]
