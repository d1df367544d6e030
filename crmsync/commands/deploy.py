"""`crmsync deploy`: the schedules of crmsync.yaml as Prefect deployments on a work pool.

Workers on other machines (`prefect worker start --pool crmsync`, with crmsync installed and the
project file at the same path) pick the runs up; the Prefect server keeps the schedules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmsync.cli import ConfigOption, _fail, _project, app, console
from crmsync.config import DEFAULT_PROJECT_FILE


def _ensure_process_pool(name: str) -> bool:
    """Create a process work pool named `name` unless one exists; True when it was created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
            return False
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(
                name=name, type="process", base_job_template=ProcessWorker.get_default_base_job_template()))
            return True


@app.command()
def deploy(
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
    pool: Annotated[str | None, typer.Option(help="Work pool (default: orchestration.work_pool).")] = None,
    create_pool: Annotated[bool, typer.Option(help="Create a process work pool when it does not exist.")] = True,
) -> None:
    """Create Prefect deployments for the project's schedules on a work pool, for workers on any machine."""
    from crmsync.commands.serve import configured_api_url
    from flows.deployments import planned_deployments, runner_deployments

    project = _project(config)
    planned = planned_deployments(project, config)
    if not planned:
        raise _fail(f"{config}: no schedules to deploy; add e.g. `orchestration: {{pipeline: {{schedule: "
                    "{cron: '0 * * * *', timezone: UTC}}}}` or a `schedule:` on a source or destination")
    api_url = configured_api_url()
    if not api_url:
        raise _fail("crmsync deploy needs a Prefect server that workers can reach: start one with "
                    "`prefect server start` and export PREFECT_API_URL=http://HOST:4200/api")
    pool_name = pool or project.orchestration.work_pool
    from prefect.deployments.runner import deploy as prefect_deploy
    from prefect.exceptions import PrefectHTTPStatusError

    try:
        if create_pool and _ensure_process_pool(pool_name):
            console.print(f"created process work pool {pool_name!r}")
        ids = prefect_deploy(*runner_deployments(planned, work_pool=pool_name), work_pool_name=pool_name,
                             build=False, push=False, print_next_steps_message=False, ignore_warnings=True)
    except (ValueError, PrefectHTTPStatusError) as exc:
        raise _fail(f"deploying to {api_url} failed: {exc}") from None
    for plan, deployment_id in zip(planned, ids, strict=True):
        console.print(f"deployed {plan.describe()} → pool {pool_name!r} (id {deployment_id})", highlight=False)
    console.print(f"Start workers where crmsync and {config.resolve()} are present: "
                  f"[bold]prefect worker start --pool {pool_name}[/] (PREFECT_API_URL={api_url})")
