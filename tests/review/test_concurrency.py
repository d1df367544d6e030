"""Two reviewers deciding the same suggestion at the same moment, over two connections (threads):
one wins, the other gets a ConflictError, and the store is exactly what the winner's decision made."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from sync.review import ConflictError, accept, defer, list_suggestions, reject
from sync.store import Store, list_suggestion_rows, load_golden, open_store, query_audit
from sync.store.models import CannotLink, GoldenChange

Decision = Callable[[Store, int, str, int], object]
DECISIONS: dict[str, Decision] = {
    "accept": lambda s, sid, who, v: accept(s, sid, actor=who, expected_version=v),
    "reject": lambda s, sid, who, v: reject(s, sid, actor=who, expected_version=v),
    "defer": lambda s, sid, who, v: defer(s, sid, actor=who, expected_version=v),
}


def race(url: str, sid: int, version: int, first: str, second: str) -> tuple[dict[str, object], dict[str, Exception]]:
    """Both reviewers decide at once, each through its own engine and connection."""
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}
    errors: dict[str, Exception] = {}

    def reviewer(name: str, decision: str) -> None:
        own = open_store(url)  # a second engine: a separate connection pool, as two app processes would have
        try:
            barrier.wait(timeout=10)
            results[name] = DECISIONS[decision](own, sid, f"user:{name}", version)
        except ConflictError as exc:
            errors[name] = exc
        finally:
            own.dispose()

    threads = [threading.Thread(target=reviewer, args=("ann", first)),
               threading.Thread(target=reviewer, args=("bob", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a reviewer hung: the decisions deadlocked"
    return results, errors


@pytest.mark.parametrize(("first", "second"), [("accept", "reject"), ("accept", "accept"), ("reject", "defer")])
def test_simultaneous_decisions_one_wins_the_other_conflicts(matched: Store, store_url: str, first: str,
                                                           second: str) -> None:
    item = list_suggestions(matched)[0]
    results, errors = race(store_url, item.id, item.version, first, second)
    assert len(results) == 1 and len(errors) == 1, (results, errors)
    winner = next(iter(results))
    loser = next(iter(errors))
    decision = {"ann": first, "bob": second}[winner]
    message = str(errors[loser])
    assert f"suggestion #{item.id}" in message and "nothing was changed" in message

    with matched.session() as session:
        row = next(r for r in list_suggestion_rows(session, None) if r.id == item.id)
        golden = load_golden(session, status=None)
        cannot = session.scalar(select(func.count()).select_from(CannotLink))
        merges = session.scalar(select(func.count()).select_from(GoldenChange))
        audit = [(e.action, e.actor) for e in query_audit(session, entity_id=str(item.id))]
    status = {"accept": "accepted", "reject": "rejected", "defer": "deferred"}[decision]
    assert (row.status, row.reviewer, row.version) == (status, f"user:{winner}", item.version + 1)
    assert audit == [(f"suggestion.{decision}", f"user:{winner}")]
    retired = [g for g, r in golden.items() if r.status == "retired"]
    if decision == "accept":
        assert (len(retired), merges, cannot) == (1, 1, 0)
    elif decision == "reject":
        assert (retired, merges, cannot) == ([], 0, 2)
    else:
        assert (retired, merges, cannot) == ([], 0, 0)


def test_interleaved_sessions_on_two_connections(matched: Store, store_url: str) -> None:
    """Reviewer B loads, reviewer A decides and commits, then B decides on what it loaded."""
    other = open_store(store_url)
    try:
        item_a = list_suggestions(matched)[0]
        item_b = list_suggestions(other)[0]
        assert item_a.version == item_b.version
        reject(matched, item_a.id, actor="user:ann", expected_version=item_a.version)
        with pytest.raises(ConflictError, match="already rejected by user:ann"):
            accept(other, item_b.id, actor="user:bob", expected_version=item_b.version)
        with other.session() as session:
            assert all(r.status == "active" for r in load_golden(session, status=None).values())
    finally:
        other.dispose()
