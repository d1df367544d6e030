"""`crmsync serve` on the demo project with a short interval: it starts its own Prefect server, runs the
pipeline unattended again and again (each run with its artifact and its sync run), serves the web app
beside it, and stops everything on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.flows.helpers import write_demo

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def completed_pipeline_rows(db: Path) -> list[tuple[str, str]]:
    from sqlalchemy import create_engine, text

    if not db.exists():
        return []
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT id, orchestrator_run_id FROM sync_runs WHERE flow = 'pipeline' AND status = 'completed' "
                "ORDER BY started_at"))]
    except Exception:  # noqa: BLE001 - the store may not have its tables yet
        return []
    finally:
        engine.dispose()


def test_serve_runs_three_scheduled_pipelines_unattended(tmp_path):
    config = write_demo(tmp_path / "demo", "pipeline: {schedule: {interval: 3s, timezone: Europe/Moscow}, "
                                           "overlap: skip}")
    web_port, prefect_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRMSYNC_", "PREFECT_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_RUNNER_POLL_FREQUENCY="1",
               PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PYTHONPATH=os.pathsep.join([os.getcwd(), env.get("PYTHONPATH", "")]))
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "crmsync", "serve", "-c", str(config), "--port", str(web_port),
                                "--prefect-port", str(prefect_port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)  # its own process group, for the clean-up below
    api = f"http://127.0.0.1:{prefect_port}/api"
    try:
        deadline = time.monotonic() + 240
        rows: list = []
        while time.monotonic() < deadline and len(rows) < 3:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            time.sleep(2)
            rows = completed_pipeline_rows(tmp_path / "demo" / "crmsync.db")
        assert len(rows) >= 3, (tmp_path / "serve.log").read_text()[-3000:]

        assert httpx.get(f"http://127.0.0.1:{web_port}/health", timeout=10).status_code == 200
        # the store's run row is written by the flow itself, just before the engine reports the final
        # state to the API: under load that report can trail by seconds, so wait for it (bounded)
        settle = time.monotonic() + 60
        while True:
            runs = httpx.post(f"{api}/flow_runs/filter", json={"flows": {"name": {"any_": ["crmsync-pipeline"]}},
                                                              "limit": 200}, timeout=30).json()
            by_id = {run["id"]: run for run in runs}
            states = [by_id.get(flow_run_id, {}).get("state_type") for _, flow_run_id in rows[:3]]
            if all(state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") for state in states) \
                    or time.monotonic() > settle:
                break
            time.sleep(1)
        for _, flow_run_id in rows[:3]:
            run = by_id[flow_run_id]
            assert run["state_type"] == "COMPLETED" and run["deployment_id"]  # started by the schedule
            artifacts = httpx.post(f"{api}/artifacts/filter", json={"artifacts": {"flow_run_id": {
                "any_": [flow_run_id]}}}, timeout=30).json()
            [artifact] = [a for a in artifacts if a["type"] == "markdown"]
            assert "| source | workbook | 63 |" in artifact["data"]
        deployment = httpx.get(f"{api}/deployments/{by_id[rows[0][1]]['deployment_id']}", timeout=30).json()
        assert deployment["name"] == "acme-demo"
        [schedule] = deployment["schedules"]
        assert schedule["schedule"]["interval"] == 3.0 and schedule["schedule"]["timezone"] == "Europe/Moscow"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(150)  # a run in flight is stopped first; the machine may be busy
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # serve and what it started, nothing else
            process.wait()
            raise
        finally:
            log.close()
    with pytest.raises(httpx.HTTPError):  # the Prefect server serve started is gone with it
        httpx.get(f"{api}/health", timeout=2)
