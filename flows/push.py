"""Prefect flow and task for pushing golden records to the configured destinations. Thin: stage calls only."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from crmsync.config import ConfigError, DestinationConfig, Project, load_project
from flows.base import LazyFlows
from flows.orchestration import FAILURE_HOOKS, account_slot, destination_limit, notify_failure, stage_options
from flows.summary import publish_summary, summary_rows
from mappings import MappingError
from sync.push.apply import PushReport
from sync.push.run import push_destination
from sync.store import Store, open_store

__all__ = ["destination_config", "push_flow", "push_task"]  # noqa: F822 - push_flow is lazy


def destination_config(project: Project, name: str) -> DestinationConfig:
    """The named destination, or a ConfigError listing the configured ones."""
    for destination in project.destinations:
        if destination.name == name:
            return destination
    known = ", ".join(d.name for d in project.destinations) or "none; add a `destinations:` section"
    raise ConfigError(f"no destination named {name!r} in the project (destinations: {known})")


@task(name="push", task_run_name="push-{destination_name}", cache_policy=NO_CACHE)
def push_task(project: Project, store: Store, destination_name: str) -> tuple[PushReport, float]:
    started = time.perf_counter()
    destination = destination_config(project, destination_name)
    try:
        spec = destination.outbound(project.base_dir)
    except MappingError as exc:
        return PushReport(destination_name, error=str(exc)), time.perf_counter() - started
    run_id = flow_run.get_id()
    with account_slot(destination_limit(destination), project):
        report = push_destination(store, destination, spec, orchestrator_run_id=str(run_id) if run_id else None)
    return report, time.perf_counter() - started


_lazy = LazyFlows()


@_lazy.flow("push_flow", name="crmsync-push", on_failure=FAILURE_HOOKS, on_crashed=FAILURE_HOOKS)
def _push_flow(config_path: str, destination_name: str) -> PushReport:
    """Plan and apply one destination."""
    project = load_project(Path(config_path))
    store = open_store(project.database_url())
    try:
        report = push_task.with_options(**stage_options(project))(project, store, destination_name)[0]
    finally:
        store.dispose()
    publish_summary(project.name, f"push-{destination_name}", summary_rows(push=[report]))
    if report.error:
        notify_failure(project, "crmsync-push", "Failed", f"destination {destination_name}: {report.error}",
                       [f"destination {destination_name}"])
    return report


def __getattr__(name: str) -> Any:
    """The flows built on first use (see LazyFlows)."""
    return _lazy.attribute(__name__, name)
