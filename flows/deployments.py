"""Prefect deployments built from crmsync.yaml's schedules, for `crmsync serve` (one machine) and
`crmsync deploy` (a work pool, so workers on other machines run them).

Entry points are module paths (`flows.pipeline.pipeline_flow`), so any machine with crmsync installed
runs them; the project file's path is a deployment parameter and must exist there too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmsync.config import Project, ScheduleConfig

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

__all__ = ["PlannedDeployment", "planned_deployments", "runner_deployments"]


@dataclass(frozen=True)
class PlannedDeployment:
    """One flow on one schedule, before Prefect objects exist (cheap to list and to print)."""

    flow: str  # pipeline | ingest | push | reconcile
    name: str
    schedule: ScheduleConfig
    parameters: dict[str, Any]
    overlap: str | None = None

    def describe(self) -> str:
        when = f"cron {self.schedule.cron!r}" if self.schedule.cron else f"every {self.schedule.interval:g} s"
        paused = "" if self.schedule.active else " (paused)"
        return f"crmsync-{self.flow}/{self.name}: {when} ({self.schedule.timezone}){paused}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "project"


def planned_deployments(project: Project, config_path: Path) -> list[PlannedDeployment]:
    """Every schedule in the project: the pipeline, reconcile, each source and each destination."""
    config = str(config_path.resolve())
    base = _slug(project.name)
    planned = []
    settings = project.orchestration
    if settings.pipeline.schedule:
        planned.append(PlannedDeployment("pipeline", base, settings.pipeline.schedule, {"config_path": config},
                                         overlap=settings.pipeline.overlap))
    if settings.reconcile.schedule:
        planned.append(PlannedDeployment("reconcile", base, settings.reconcile.schedule, {"config_path": config}))
    for source in project.sources:
        if source.schedule and source.enabled:
            planned.append(PlannedDeployment("ingest", f"{base}-{source.name}", source.schedule,
                                             {"config_path": config, "source_name": source.name}))
    for destination in project.destinations:
        if destination.schedule and destination.enabled:
            planned.append(PlannedDeployment("push", f"{base}-{destination.name}", destination.schedule,
                                             {"config_path": config, "destination_name": destination.name}))
    return planned


def _flow(kind: str) -> Any:
    from flows.pipeline import ingest_flow, pipeline_flow
    from flows.push import push_flow
    from flows.reconcile import reconcile_flow

    return {"pipeline": pipeline_flow, "ingest": ingest_flow, "push": push_flow, "reconcile": reconcile_flow}[kind]


def runner_deployments(planned: list[PlannedDeployment], *, work_pool: str | None = None) -> list[RunnerDeployment]:
    """Prefect deployments for the planned schedules (a work pool for `deploy`, none for `serve`)."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron, Interval
    from prefect.types.entrypoint import EntrypointType

    deployments = []
    for plan in planned:
        schedule = plan.schedule
        prefect_schedule = (Cron(schedule.cron, timezone=schedule.timezone, active=schedule.active)
                            if schedule.cron else
                            Interval(schedule.interval, timezone=schedule.timezone, active=schedule.active))
        limit = None
        if plan.overlap is not None:  # the flow itself also holds a global limit: this only saves a process
            wait = plan.overlap == "wait"
            strategy = ConcurrencyLimitStrategy.ENQUEUE if wait else ConcurrencyLimitStrategy.CANCEL_NEW
            limit = ConcurrencyLimitConfig(limit=1, collision_strategy=strategy)
        deployments.append(_flow(plan.flow).to_deployment(
            name=plan.name, schedule=prefect_schedule, parameters=plan.parameters, concurrency_limit=limit,
            tags=["crmsync"], description=plan.describe(), work_pool_name=work_pool,
            entrypoint_type=EntrypointType.MODULE_PATH))
    return deployments
