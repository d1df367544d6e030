"""Run bookkeeping: every stage run leaves a row in sync_runs, also when it fails."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from sync.redaction import redact
from sync.store import Store, finish_run, mark_stale_runs_crashed, start_run
from sync.store.models import SyncRun

__all__ = ["RunHandle", "pipeline_totals", "reap_stale_runs", "recorded_run", "running_runs"]


@dataclass
class RunHandle:
    """The id of a recorded run and what the stage reports into it before it ends."""

    run_id: str
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # set for a run that finished but should be marked failed


@contextmanager
def recorded_run(store: Store, flow: str, target: str | None = None,
                 orchestrator_run_id: str | None = None) -> Iterator[RunHandle]:
    """Start a sync run row, yield its handle, and close it as completed or failed."""
    with store.session() as session:
        run_id = start_run(session, flow, target, orchestrator_run_id)
    handle = RunHandle(run_id)
    try:
        yield handle
    except BaseException as exc:
        with store.session() as session:
            finish_run(session, run_id, status="failed", counts=handle.counts,
                       error=redact(f"{type(exc).__name__}: {exc}"))
        raise
    status = "failed" if handle.error else "completed"
    with store.session() as session:
        finish_run(session, run_id, status=status, counts=handle.counts,
                   error=redact(handle.error) if handle.error else None)


def reap_stale_runs(store: Store, older_than: timedelta,
                    finished: Callable[[Collection[str]], set[str]] | None = None) -> int:
    """Mark 'running' rows crashed: those older than `older_than`, and those whose orchestrator
    flow run `finished` says has already ended (a process killed with -9 never closes its row)."""
    with store.session() as session:
        crashed = mark_stale_runs_crashed(session, older_than)
        running = {row.id: row for row in session.scalars(
            select(SyncRun).where(SyncRun.status == "running", SyncRun.orchestrator_run_id.is_not(None)))}
    if not running or finished is None:
        return crashed
    ended = finished({row.orchestrator_run_id for row in running.values() if row.orchestrator_run_id})
    for row in running.values():
        if row.orchestrator_run_id in ended:
            with store.session() as session:
                finish_run(session, row.id, status="crashed", counts=row.counts,
                           error=f"its flow run {row.orchestrator_run_id} ended while the row said 'running'; "
                                 "the process most likely died (marked crashed by the next run)")
            crashed += 1
    return crashed


def running_runs(store: Store, flow: str, target: str | None = None) -> list[str]:
    """Ids of the runs of `flow` (on `target`) still marked 'running'."""
    stmt = select(SyncRun.id).where(SyncRun.status == "running", SyncRun.flow == flow)
    if target is not None:
        stmt = stmt.where(SyncRun.target == target)
    with store.session() as session:
        return list(session.scalars(stmt))


_TOTALS = {  # summary row kind → column → the name the total goes by in `crmsync status`
    "source": {"read": "read", "new": "new", "changed": "changed", "failed": "quarantined"},
    "match": {"new": "golden_new", "changed": "golden_changed", "merged": "merged", "suggested": "suggested"},
    "destination": {"pushed": "pushed", "failed": "dead_lettered"},
}


def pipeline_totals(counts: dict[str, Any]) -> dict[str, int]:
    """A pipeline row's summary table added up into one line: read/new/changed/quarantined over the sources,
    golden_new/golden_changed/merged/suggested from the match, pushed/dead_lettered over the destinations,
    and failed_stages for the sources and destinations that failed."""
    totals: dict[str, int] = {}
    for row in counts.get("summary") or []:
        if not isinstance(row, dict):
            continue
        for column, name in _TOTALS.get(str(row.get("kind")), {}).items():
            value = row.get(column)
            if isinstance(value, int) and not isinstance(value, bool):
                totals[name] = totals.get(name, 0) + value
        if str(row.get("status", "ok")).startswith("failed"):
            totals["failed_stages"] = totals.get("failed_stages", 0) + 1
    return totals
