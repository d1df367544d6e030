"""`crmsync deploy` puts the project's schedules on a Prefect work pool; a worker (another process, as
on another machine) picks a run up and runs the pipeline."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest
from typer.testing import CliRunner

from crmsync.cli import app
from tests.flows.helpers import write_project

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def test_deploy_creates_scheduled_deployments_that_a_worker_runs(tmp_path, prefect_api):
    config = write_project(tmp_path, "pipeline: {schedule: {cron: '0 6 * * 1-5', timezone: Europe/Moscow}}\n"
                                     "reconcile: {schedule: {interval: 1d}}\nwork_pool: crmsync-test-pool")
    result = CliRunner().invoke(app, ["deploy", "-c", str(config)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "created process work pool 'crmsync-test-pool'" in output
    assert "prefect worker start --pool crmsync-test-pool" in output

    deployments = {d["name"] + "/" + d["entrypoint"]: d for d in httpx.post(
        f"{prefect_api}/deployments/filter", json={"deployments": {"tags": {"all_": ["crmsync"]}}}).json()}
    pipeline = deployments["flows-test/flows.pipeline.pipeline_flow"]
    assert pipeline["work_pool_name"] == "crmsync-test-pool"
    assert pipeline["parameters"] == {"config_path": str(config.resolve())}
    [schedule] = pipeline["schedules"]
    assert schedule["schedule"] == {**schedule["schedule"], "cron": "0 6 * * 1-5", "timezone": "Europe/Moscow"}
    assert "flows-test/flows.reconcile.reconcile_flow" in deployments

    run = httpx.post(f"{prefect_api}/deployments/{pipeline['id']}/create_flow_run", json={}).json()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRMSYNC_", "PREFECT_"))}
    env.update(PREFECT_API_URL=prefect_api, PREFECT_HOME=str(tmp_path / "worker-home"),
               PYTHONPATH=os.pathsep.join([os.getcwd(), env.get("PYTHONPATH", "")]))
    worker = subprocess.run([sys.executable, "-m", "prefect", "worker", "start", "--pool", "crmsync-test-pool",
                             "--run-once"], env=env, capture_output=True, text=True, timeout=240)
    state = httpx.get(f"{prefect_api}/flow_runs/{run['id']}").json()["state"]
    assert state["type"] == "COMPLETED", worker.stdout[-2000:] + worker.stderr[-2000:]
    assert (tmp_path / "crmsync.db").exists()  # the worker ran the pipeline on the project's store


def test_deploy_without_schedules_or_server_says_what_to_do(tmp_path, monkeypatch):
    config = write_project(tmp_path)
    result = CliRunner().invoke(app, ["deploy", "-c", str(config)])
    assert result.exit_code == 2 and "no schedules to deploy" in " ".join(result.output.split())
