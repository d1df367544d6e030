"""Terminal output: progress bars while stages run, summary tables when they end."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from crmsync.config import Project
    from flows import PipelineReport
    from sync.ingest import IngestReport
    from sync.match import MatchReport
    from sync.push.apply import PushReport
    from sync.store import RunRow

_PROBLEMS_SHOWN = 15


class _StreamProgress:
    """Callable handed to ingest: one progress line per stream, counting rows landed."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, object] = {}

    def __call__(self, stream: str, handled: int) -> None:
        if stream not in self.tasks:
            self.tasks[stream] = self.progress.add_task(f"ingest {stream}", total=None)
        self.progress.advance(self.tasks[stream], handled)  # type: ignore[arg-type]


@contextmanager
def progress_bars(console: Console) -> Iterator[_StreamProgress]:
    """Rich progress display for the duration of a run (hidden when output is not a terminal)."""
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True,
                        disable=not console.is_terminal)
    with progress:
        yield _StreamProgress(progress)


def print_ingest_reports(console: Console, reports: Sequence[IngestReport]) -> None:
    """Per source and stream: read, new, changed, unchanged, deleted, quarantined, status."""
    table = Table(title="Ingest", title_justify="left")
    for column in ("Source", "Stream", "Read", "New", "Changed", "Unchanged", "Deleted", "Quarantined"):
        table.add_column(column, justify="right" if column not in ("Source", "Stream") else "left")
    table.add_column("Status")
    problems: list[str] = []
    for report in reports:
        if report.error:
            table.add_row(report.source, "—", *["" for _ in range(6)], f"[red]failed: {report.error}")
        for stream in report.streams.values():
            status = f"[red]failed: {stream.error}" if stream.error else "[green]ok"
            table.add_row(report.source, stream.stream, str(stream.read), str(stream.new),
                          str(stream.changed + stream.restored), str(stream.unchanged), str(stream.deleted),
                          str(stream.quarantined), status)
        problems.extend(report.problems)
    console.print(table)
    if problems:
        console.print(f"[bold yellow]Quarantined rows and dropped values[/] ({len(problems)}):")
        for line in problems[:_PROBLEMS_SHOWN]:
            console.print(f"  • {line}", highlight=False, markup=False)
        if len(problems) > _PROBLEMS_SHOWN:
            console.print(f"  … and {len(problems) - _PROBLEMS_SHOWN} more (see the Quarantine sheet)")


def print_match_report(console: Console, report: MatchReport) -> None:
    """Golden records: how many, what changed, what was merged."""
    console.print(
        f"[bold]Match[/]: {report.records} source records → {report.golden_total} golden records "
        f"({report.golden_new} new, {report.golden_changed} changed, {report.golden_unchanged} unchanged, "
        f"{report.golden_retired} retired); merged {report.merged_records} records into "
        f"{report.merged_clusters} golden records; {report.suggestions_pending} merge suggestions waiting for "
        f"review ({report.suggestions_new} new); {report.interactions_attached} interactions attached"
    )


def print_pipeline_report(console: Console, project: Project, report: PipelineReport, *,
                          wall_seconds: float, flow_seconds: float) -> None:
    """The end-of-run summary, with where the time went."""
    print_ingest_reports(console, report.ingest)
    if report.match:
        print_match_report(console, report.match)
    if report.export:
        console.print(f"[bold]Export[/]: {report.export.golden} golden records → {report.export.path}")
    if report.push:
        print_push_reports(console, report.push)
    url = make_url(project.database_url()).render_as_string(hide_password=True)
    console.print(f"[bold]Store[/]: {url}")
    stages = sum(report.stage_seconds.values())
    orchestration = max(0.0, flow_seconds - stages)
    other = max(0.0, wall_seconds - flow_seconds)
    console.print(
        f"[bold]Time[/]: {wall_seconds:.1f} s wall · stages {stages:.1f} s · "
        f"Prefect {orchestration:.1f} s ({orchestration / wall_seconds:.0%}) · "
        f"start-up and other {other:.1f} s"
    )


def print_push_reports(console: Console, reports: Sequence[PushReport]) -> None:
    """Per destination: created, updated, merged, deleted, no-op, dead-lettered, and the CRM calls it took."""
    table = Table(title="Push", title_justify="left")
    for column in ("Destination", "Created", "Updated", "Merged", "Deleted", "No-op", "Dead-lettered", "Requests",
                   "429s"):
        table.add_column(column, justify="left" if column == "Destination" else "right")
    table.add_column("Status")
    refused: list[str] = []
    for r in reports:
        status = f"[red]stopped: {r.error}" if r.error else "[green]ok"
        # "linked": a create found the record already in the CRM and wrote to it; "repointed": a merge
        # that handed the CRM record over; archived and erased records are both gone from the CRM
        table.add_row(r.destination, str(r.created), str(r.updated + r.linked),
                      str(r.merged + r.repointed), str(r.archived + r.erased), str(r.unchanged),
                      str(r.dead_lettered), str(r.requests), str(r.rate_limited), status)
        refused.extend(f"{r.destination}: {problem}" for problem in r.problems)
    console.print(table)
    if refused:
        console.print(f"[bold yellow]Refused by the CRM[/] ({len(refused)}; they wait in dead letters until they "
                      "change):")
        for line in refused[:_PROBLEMS_SHOWN]:
            console.print(f"  • {line}", highlight=False, markup=False)


def print_status(console: Console, runs: Sequence[RunRow], *, golden: int, quarantined: int) -> None:
    """Recent sync runs, newest first."""
    table = Table(title=f"Recent runs · {golden} golden records · {quarantined} rows in quarantine",
                  title_justify="left")
    for column in ("Started (UTC)", "Flow", "Target", "Status", "Seconds", "Counts"):
        table.add_column(column)
    for run in runs:
        seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
        colour = {"completed": "green", "failed": "red", "crashed": "red"}.get(run.status, "yellow")
        table.add_row(run.started_at.strftime("%Y-%m-%d %H:%M:%S"), run.flow, run.target or "",
                      f"[{colour}]{run.status}", f"{seconds:.1f}" if seconds is not None else "",
                      _short_counts(run.counts), )
    console.print(table)


def _short_counts(counts: dict) -> str:
    flat: dict[str, int] = {}
    for key, value in (counts or {}).items():
        if isinstance(value, dict):
            for sub, number in value.items():
                if isinstance(number, int) and not isinstance(number, bool):
                    flat[sub] = flat.get(sub, 0) + number
        elif isinstance(value, int) and not isinstance(value, bool):
            flat[key] = value
    return " ".join(f"{k}={v}" for k, v in flat.items() if v)
