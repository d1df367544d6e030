"""Sync runs: one row per flow run, with its status, timings and counts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, get_args

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from sync.store.engine import NotFoundError
from sync.store.models import SyncRun, utcnow
from sync.store.records import rowcount
from sync.store.types import RunRow, RunStatus

__all__ = ["finish_run", "get_run", "mark_stale_runs_crashed", "recent_runs", "start_run"]

_FINAL = frozenset(get_args(RunStatus)) - {"running"}


def start_run(
    session: Session,
    flow: str,
    target: str | None = None,
    orchestrator_run_id: str | None = None,
    *,
    now: datetime | None = None,
) -> str:
    """Record that a flow started; returns the new run id."""
    run_id = str(uuid.uuid4())
    session.execute(insert(SyncRun).values(
        id=run_id, flow=flow, target=target, status="running", started_at=now or utcnow(),
        counts={}, orchestrator_run_id=orchestrator_run_id))
    return run_id


def finish_run(
    session: Session,
    run_id: str,
    *,
    status: RunStatus,
    counts: dict[str, Any],
    error: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record how a run ended: 'completed', 'failed' or 'crashed', with its counts."""
    if status not in _FINAL:
        raise ValueError(f"finish_run status must be one of {sorted(_FINAL)}, not {status!r}")
    result = session.execute(
        update(SyncRun).where(SyncRun.id == run_id)
        .values(status=status, counts=counts, error=error, finished_at=now or utcnow()),
        execution_options={"synchronize_session": False})
    if rowcount(result) == 0:
        raise NotFoundError(f"no sync run with id {run_id!r}; list runs with recent_runs()")


def _row(run: SyncRun) -> RunRow:
    return RunRow(id=run.id, flow=run.flow, target=run.target, status=run.status,  # type: ignore[arg-type]
                  started_at=run.started_at, finished_at=run.finished_at, counts=run.counts,
                  error=run.error, orchestrator_run_id=run.orchestrator_run_id)


def get_run(session: Session, run_id: str) -> RunRow | None:
    """One run by id, or None."""
    run = session.scalars(select(SyncRun).where(SyncRun.id == run_id)
                          .execution_options(populate_existing=True)).one_or_none()
    return _row(run) if run is not None else None


def recent_runs(session: Session, limit: int = 20) -> list[RunRow]:
    """The most recently started runs, newest first."""
    stmt = (select(SyncRun).order_by(SyncRun.started_at.desc(), SyncRun.id).limit(limit)
            .execution_options(populate_existing=True))
    return [_row(run) for run in session.scalars(stmt)]


def mark_stale_runs_crashed(
    session: Session, older_than: timedelta, *, now: datetime | None = None
) -> int:
    """Mark runs still 'running' after `older_than` as crashed (their process died)."""
    now = now or utcnow()
    result = session.execute(
        update(SyncRun)
        .where(SyncRun.status == "running", SyncRun.started_at < now - older_than)
        .values(status="crashed", finished_at=now,
                error=f"the run was still 'running' after {older_than}; its process "
                      "most likely died (marked crashed by the next run)"),
        execution_options={"synchronize_session": False})
    return rowcount(result)
