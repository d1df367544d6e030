"""Prefect flows: ingest each source, match, export. Thin: every step is a stage function call."""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from crmsync.config import Project, load_project
from flows.push import push_task
from sync.export import ExportReport, export_xlsx
from sync.ingest import IngestReport, Progress, ingest_source
from sync.match import MatchReport, match_store
from sync.push.apply import PushReport
from sync.runs import recorded_run
from sync.store import Store, open_store

__all__ = ["PipelineReport", "ingest_flow", "match_flow", "pipeline_flow", "progress_sink"]

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

    @property
    def failed(self) -> bool:
        return any(r.failed for r in self.ingest) or any(r.error for r in self.push)


def _orchestrator_id() -> str | None:
    run_id = flow_run.get_id()
    return str(run_id) if run_id else None


@task(name="ingest-source", task_run_name="ingest-{source_name}", cache_policy=NO_CACHE)
def ingest_task(project: Project, store: Store, source_name: str) -> tuple[IngestReport, float]:
    started = time.perf_counter()
    source = project.source(source_name)
    mappings = project.mappings_for(source)
    config = {"base_dir": str(project.base_dir), **source.config}
    with recorded_run(store, "ingest", source.name, _orchestrator_id()) as run:
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


@flow(name="crmsync-pipeline", log_prints=False)
def pipeline_flow(config_path: str) -> PipelineReport:
    """All enabled sources → match → export → push to every enabled destination."""
    project, store = _open(config_path)
    report = PipelineReport(flow_run_id=_orchestrator_id())
    try:
        for source in project.sources:
            if source.enabled:
                ingest, seconds = ingest_task(project, store, source.name)
                report.ingest.append(ingest)
                report.stage_seconds[f"ingest:{source.name}"] = seconds
        report.match, report.stage_seconds["match"] = match_task(project, store)
        report.export, report.stage_seconds["export"] = export_task(project, store)
        for destination in project.destinations:
            if destination.enabled:
                pushed, report.stage_seconds[f"push:{destination.name}"] = push_task(project, store, destination.name)
                report.push.append(pushed)
    finally:
        store.dispose()
    return report


@flow(name="crmsync-ingest")
def ingest_flow(config_path: str, source_name: str) -> IngestReport:
    """Ingest one source."""
    project, store = _open(config_path)
    try:
        return ingest_task(project, store, source_name)[0]
    finally:
        store.dispose()


@flow(name="crmsync-match")
def match_flow(config_path: str) -> MatchReport:
    """Match all live records into golden records."""
    project, store = _open(config_path)
    try:
        return match_task(project, store)[0]
    finally:
        store.dispose()
