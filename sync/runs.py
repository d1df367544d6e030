"""Run bookkeeping: every stage run leaves a row in sync_runs, also when it fails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sync.redaction import redact
from sync.store import Store, finish_run, start_run

__all__ = ["RunHandle", "recorded_run"]


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
