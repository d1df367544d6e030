"""The sync dashboard: recent runs per flow, dead letters with a retry action, and three charts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from crmsync.web.auth import Viewer, csrf_protect, require_role
from crmsync.web.charts import Bar, bar_chart, histogram, line_chart
from crmsync.web.pages import back, flash, project_of, render, store_of
from sync.store import NotFoundError, recent_runs
from sync.store.dashboard import dead_letters, pair_scores, records_per_source_per_day, request_retry
from sync.store.types import RunRow

__all__ = ["router"]

router = APIRouter()
_viewer = require_role("viewer")
_admin = require_role("admin")
RUNS_PER_FLOW = 10


def _duration(run: RunRow) -> str:
    if run.finished_at is None:
        return "running"
    seconds = (run.finished_at - run.started_at).total_seconds()
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _counts(counts: dict[str, Any]) -> str:
    """The headline numbers of a run's counts, flattened one level (ingest counts are per stream)."""
    parts = []
    for key, value in counts.items():
        if isinstance(value, int | float) and not isinstance(value, bool) and value:
            parts.append(f"{key.replace('_', ' ')} {value}")
        elif isinstance(value, dict) and key not in ("engine", "survivorship"):
            inner = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in value.items()
                              if isinstance(v, int) and not isinstance(v, bool) and v)
            if inner:
                parts.append(f"{key}: {inner}")
    return "; ".join(parts)


def _int(counts: dict[str, Any], key: str) -> int:
    value = counts.get(key, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, viewer: Annotated[Viewer, Depends(_viewer)]) -> HTMLResponse:
    """Runs, dead letters, charts."""
    project = project_of(request)
    with store_of(request).session() as session:
        runs = recent_runs(session, limit=500)
        letters = dead_letters(session)
        per_source = records_per_source_per_day(session)
        links, suggestions = pair_scores(session)
    flows: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        shown = flows.setdefault(run.flow, [])
        if len(shown) < RUNS_PER_FLOW:
            shown.append({"run": run, "duration": _duration(run), "counts": _counts(run.counts)})
    matches = [r for r in reversed(runs) if r.flow == "match" and r.status == "completed"][-30:]
    bars = [Bar(r.started_at.strftime("%m-%d %H:%M"),
                (max(0, _int(r.counts, "merged_records") - _int(r.counts, "merged_clusters")),
                 _int(r.counts, "suggestions_new"))) for r in matches]
    charts = {
        "records": line_chart("Source records per source over time (running total)", per_source),
        "duplicates": bar_chart("Duplicates found per match run", bars, ("merged automatically", "suggested")),
        "scores": histogram("Match scores", {"automatic links": links, "suggestions": suggestions},
                            {"review": project.match.review, "auto-merge": project.match.auto_merge}),
    }
    return render(request, "dashboard.html", flows=flows, letters=letters, charts=charts,
                  now=datetime.now(UTC))


@router.post("/dead-letters/{letter_id}/retry", dependencies=[Depends(csrf_protect)])
def retry(request: Request, letter_id: int, viewer: Annotated[Viewer, Depends(_admin)]) -> RedirectResponse:
    """Have the next push run send the record again."""
    try:
        with store_of(request).session() as session:
            letter = request_retry(session, letter_id, actor=viewer.actor, now=datetime.now(UTC))
    except NotFoundError as exc:
        return flash(back("/dashboard"), str(exc), "error")
    return flash(back("/dashboard"), f"Dead letter #{letter.id} for {letter.destination} will be sent again on the "
                 "next push run.")
