"""Prefect flows: ingest each source, match, export. Thin: every step is a stage function call."""

from __future__ import annotations

import time
from collections.abc import Collection
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from crmsync.config import Project, load_project
from flows.base import LazyFlows, crmsync_flow
from flows.orchestration import (
    FAILURE_HOOKS,
    account_slot,
    notify_failure,
    pipeline_slot,
    source_limit,
    stage_options,
)
from flows.push import push_task
from flows.summary import publish_summary, summary_rows
from sync.export import ExportReport, export_xlsx
from sync.ingest import IngestReport, Progress, ingest_source
from sync.match import MatchReport, match_store
from sync.push.apply import PushReport
from sync.runs import reap_stale_runs, recorded_run, running_runs
from sync.store import Store, open_store

__all__ = ["PipelineReport", "ingest_flow", "match_flow", "pipeline_flow", "progress_sink"]  # noqa: F822 - two are lazy

# The CLI sets this to draw progress bars; flows only pass it through.
progress_sink: ContextVar[Progress | None] = ContextVar("crmsync_progress", default=None)


@dataclass
class PipelineReport:
    """Everything a run did, with the seconds each stage spent inside its own code."""

    ingest: list[IngestReport] = field(default_factory=list)
    match: MatchReport | None = None
    export: ExportReport | None = None
    push: list[PushReport] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    flow_run_id: str | None = None
    skipped: str | None = None  # why this trigger did nothing (`overlap: skip` and a run in progress)
    sync_run_id: str | None = None

    @property
    def failed(self) -> bool:
        return any(r.failed for r in self.ingest) or any(r.error for r in self.push)

    def failures(self) -> list[str]:
        """Names of the sources and destinations that failed."""
        return [f"source {r.source}" for r in self.ingest if r.failed] + [
            f"destination {r.destination}" for r in self.push if r.error]


def _orchestrator_id() -> str | None:
    run_id = flow_run.get_id()
    return str(run_id) if run_id else None


@task(name="ingest-source", task_run_name="ingest-{source_name}", cache_policy=NO_CACHE)
def ingest_task(project: Project, store: Store, source_name: str) -> tuple[IngestReport, float]:
    started = time.perf_counter()
    source = project.source(source_name)
    mappings = project.mappings_for(source)
    config = {"base_dir": str(project.base_dir), **source.config}
    with account_slot(source_limit(source), project), \
            recorded_run(store, "ingest", source.name, _orchestrator_id()) as run:
        names = {stream: path.name for stream, path in source.streams.items()}
        report = ingest_source(store, source=source.name, connector=source.connector, config=config,
                               mappings=mappings, mapping_names=names, progress=progress_sink.get())
        run.counts = {name: asdict(s) for name, s in report.streams.items()}
        run.error = report.error or "; ".join(s.error for s in report.streams.values() if s.error) or None
    return report, time.perf_counter() - started


@task(name="match", cache_policy=NO_CACHE)
def match_task(project: Project, store: Store) -> tuple[MatchReport, float]:
    started = time.perf_counter()
    matcher = project.match.matcher()
    with recorded_run(store, "match", None, _orchestrator_id()) as run:
        report = match_store(store, matcher, run_id=run.run_id, survivorship=project.survivorship.rules())
        run.counts = asdict(report)
    return report, time.perf_counter() - started


@task(name="export-xlsx", cache_policy=NO_CACHE)
def export_task(project: Project, store: Store) -> tuple[ExportReport | None, float]:
    started = time.perf_counter()
    if project.export.xlsx is None:
        return None, 0.0
    with recorded_run(store, "export", str(project.export.xlsx), _orchestrator_id()) as run:
        report = export_xlsx(store, project.resolve(project.export.xlsx))
        run.counts = {"golden": report.golden, "quarantined": report.quarantined}
    return report, time.perf_counter() - started


def _open(config_path: str) -> tuple[Project, Store]:
    project = load_project(Path(config_path))
    return project, open_store(project.database_url())


def _finished_flow_runs(ids: Collection[str]) -> set[str]:
    """Which of these Prefect flow runs have ended (unknown ids are left alone)."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    wanted = [UUID(i) for i in ids if len(i) == 36]
    if not wanted:
        return set()
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=wanted)))
    return {str(r.id) for r in runs if r.state is not None and r.state.is_final()}


def reap_crashed_runs(project: Project, store: Store) -> int:
    """Close the rows of runs that died: too old, or their flow run has ended."""
    older = timedelta(minutes=project.orchestration.stale_run_minutes)
    crashed = reap_stale_runs(store, older, _finished_flow_runs)
    if crashed:
        get_run_logger().warning("marked %d sync run(s) crashed: they were still 'running' but their process "
                                 "is gone", crashed)
    return crashed


RECENT_START = timedelta(minutes=2)  # a run between taking the slot and writing its sync run row


def _pipeline_running(project: Project, store: Store, config_path: str, own_flow_run_id: str | None) -> bool:
    """Whether another run of this pipeline is alive: a 'running' pipeline row (once the rows of runs
    that died are closed), or a pipeline flow run of the same project file that started moments ago."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    reap_crashed_runs(project, store)
    if running_runs(store, "pipeline", project.name):
        return True
    with get_client(sync_client=True) as client:
        recent = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["crmsync-pipeline"])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING])),
                start_time=FlowRunFilterStartTime(after_=datetime.now(UTC) - RECENT_START)))
    mine = Path(config_path).resolve()
    return any(str(r.id) != own_flow_run_id and Path(str(r.parameters.get("config_path", ""))).resolve() == mine
               for r in recent)


def _stages(project: Project, store: Store, report: PipelineReport) -> None:
    options = stage_options(project)
    ingest_with_options = ingest_task.with_options(**options)  # once: each copy builds a new Task (~8 ms)
    for source in project.sources:
        if source.enabled:
            ingest, seconds = ingest_with_options(project, store, source.name)
            report.ingest.append(ingest)
            report.stage_seconds[f"ingest:{source.name}"] = seconds
    report.match, report.stage_seconds["match"] = match_task.with_options(**options)(project, store)
    if project.export.xlsx is not None:  # no task at all when there is nothing to export (~50 ms each)
        report.export, report.stage_seconds["export"] = export_task.with_options(**options)(project, store)
    for destination in project.destinations:
        if destination.enabled:
            pushed, report.stage_seconds[f"push:{destination.name}"] = push_task.with_options(**options)(
                project, store, destination.name)
            report.push.append(pushed)


@crmsync_flow(name="crmsync-pipeline", log_prints=False, on_failure=FAILURE_HOOKS, on_crashed=FAILURE_HOOKS)
def pipeline_flow(config_path: str) -> PipelineReport:
    """All enabled sources → match → export → push to every enabled destination; never two at once."""
    project, store = _open(config_path)
    logger = get_run_logger()
    report = PipelineReport(flow_run_id=_orchestrator_id())
    try:
        slot = pipeline_slot(project, lambda: _pipeline_running(project, store, config_path, report.flow_run_id))
        if slot is None:
            report.skipped = (f"another pipeline run of {project.name!r} is in progress "
                              "(orchestration.pipeline.overlap: skip)")
            logger.warning("flow run %s skipped: %s", report.flow_run_id, report.skipped)
            return report
        with slot:
            reap_crashed_runs(project, store)
            with recorded_run(store, "pipeline", project.name, report.flow_run_id) as run:
                report.sync_run_id = run.run_id
                logger.info("flow run %s: sync run %s started", report.flow_run_id, run.run_id)
                try:
                    _stages(project, store, report)
                finally:
                    rows = summary_rows(report.ingest, report.match, report.push)
                    run.counts = {"summary": [r.counts() for r in rows], "stage_seconds": report.stage_seconds}
                    run.error = "; ".join(report.failures()) or None
    finally:
        store.dispose()
    publish_summary(project.name, "pipeline", rows, footer=f"sync run `{report.sync_run_id}`")
    logger.info("flow run %s: sync run %s %s", report.flow_run_id, report.sync_run_id,
                "failed: " + ", ".join(report.failures()) if report.failed else "completed")
    if report.failed:
        notify_failure(project, "crmsync-pipeline", "Failed", "failed: " + ", ".join(report.failures()),
                       report.failures())
    return report


_lazy = LazyFlows()


@_lazy.flow("ingest_flow", name="crmsync-ingest", on_failure=FAILURE_HOOKS, on_crashed=FAILURE_HOOKS)
def _ingest_flow(config_path: str, source_name: str) -> IngestReport:
    """Ingest one source."""
    project, store = _open(config_path)
    try:
        report = ingest_task.with_options(**stage_options(project))(project, store, source_name)[0]
    finally:
        store.dispose()
    publish_summary(project.name, f"ingest-{source_name}", summary_rows(ingest=[report]))
    if report.failed:
        notify_failure(project, "crmsync-ingest", "Failed", f"source {source_name} failed: {report.error or ''}",
                       [f"source {source_name}"])
    return report


@_lazy.flow("match_flow", name="crmsync-match", on_failure=FAILURE_HOOKS, on_crashed=FAILURE_HOOKS)
def _match_flow(config_path: str) -> MatchReport:
    """Match all live records into golden records."""
    project, store = _open(config_path)
    try:
        report = match_task.with_options(**stage_options(project))(project, store)[0]
    finally:
        store.dispose()
    publish_summary(project.name, "match", summary_rows(match=report))
    return report


def __getattr__(name: str) -> Any:
    """The flows built on first use (see LazyFlows)."""
    return _lazy.attribute(__name__, name)
