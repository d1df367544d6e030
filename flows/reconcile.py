"""The reconcile flow: compare each source with the store, publish the differences, alert when they differ."""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from crmsync.config import Project, load_project
from flows.base import crmsync_flow
from flows.orchestration import FAILURE_HOOKS, account_slot, notify_failure, source_limit, stage_options
from sync.reconcile import StreamDifference, reconcile_source
from sync.runs import recorded_run
from sync.store import Store, open_store

__all__ = ["reconcile_flow", "reconcile_markdown"]


@task(name="reconcile-source", task_run_name="reconcile-{source_name}", cache_policy=NO_CACHE)
def reconcile_task(project: Project, store: Store, source_name: str) -> list[StreamDifference]:
    source = project.source(source_name)
    config = {"base_dir": str(project.base_dir), **source.config}
    run_id = flow_run.get_id()
    with account_slot(source_limit(source), project), \
            recorded_run(store, "reconcile", source.name, str(run_id) if run_id else None) as run:
        diffs = reconcile_source(store, source=source.name, connector=source.connector, config=config,
                                 streams=list(source.streams))
        run.counts = {d.stream: {"in_source": d.in_source, "in_store": d.in_store, "quarantined": d.quarantined,
                                 "missing_in_store": d.missing_in_store, "gone_from_source": d.gone_from_source}
                      for d in diffs}
        run.error = "; ".join(f"{d.stream}: {d.error}" for d in diffs if d.error) or None
    return diffs


def reconcile_markdown(project: str, diffs: list[StreamDifference]) -> str:
    """The reconcile table: counts per stream and a few ids of each difference."""
    lines = [f"## {project} · reconcile", "",
             "| source | stream | in source | in store | quarantined | missing in store | gone from source | status |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for d in diffs:
        status = f"failed: {d.error}" if d.error else ("ok" if d.matches else "differs")
        lines.append(f"| {d.source} | {d.stream} | {d.in_source} | {d.in_store} | {d.quarantined} | "
                     f"{d.missing_in_store} | {d.gone_from_source} | {status.replace('|', '/')} |")
    for d in diffs:
        if d.missing_sample:
            lines.append(f"\nmissing in store, {d.source}/{d.stream}: " + ", ".join(f"`{k}`" for k in d.missing_sample))
        if d.gone_sample:
            lines.append(f"\ngone from source, {d.source}/{d.stream}: " + ", ".join(f"`{k}`" for k in d.gone_sample))
    return "\n".join(lines) + "\n"


@crmsync_flow(name="crmsync-reconcile", on_failure=FAILURE_HOOKS, on_crashed=FAILURE_HOOKS)
def reconcile_flow(config_path: str) -> list[StreamDifference]:
    """Compare counts and keys of every enabled source with the store; alert when they differ."""
    from prefect.artifacts import create_markdown_artifact

    from flows.summary import artifact_key

    project = load_project(Path(config_path))
    store = open_store(project.database_url())
    diffs: list[StreamDifference] = []
    try:
        options = stage_options(project)
        for source in project.sources:
            if source.enabled:
                diffs += reconcile_task.with_options(**options)(project, store, source.name)
    finally:
        store.dispose()
    create_markdown_artifact(reconcile_markdown(project.name, diffs), key=artifact_key(project.name, "reconcile"),
                             description="crmsync reconcile: source keys against the store")
    differing = [f"{d.source}/{d.stream}" for d in diffs if not d.matches]
    if differing:
        get_run_logger().warning("reconcile: %s differ from the store", ", ".join(differing))
        notify_failure(project, "crmsync-reconcile", "Differs", "sources differ from the store: "
                       + ", ".join(differing), differing)
    return diffs
