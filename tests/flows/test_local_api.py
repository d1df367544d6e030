"""The long-lived local Prefect API of `crmsync run`: started by the first run, reused by the next,
started again after it was killed, listed and stopped by `crmsync prefect status|stop`, gone after its idle time.
Real subprocesses and a real Prefect server; the runs are checked through the server's REST API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from flows.local_api import STATE_FILE, healthy, read_state, stop_local_api
from tests.flows.helpers import write_project

pytestmark = [pytest.mark.prefect, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("prefect-home")
    yield folder
    stop_local_api(folder)


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRMSYNC_", "PREFECT_"))}
    env.update(PREFECT_HOME=str(home), COLUMNS="200", PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
               **extra)
    return env


def crmsync(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crmsync", *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "flows.local_api" in Path(f"/proc/{pid}/cmdline").read_text(
        errors="replace")


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not alive(pid)


def test_runs_start_the_api_once_reuse_it_and_it_is_started_again_after_a_kill(tmp_path, home):
    env = cli_env(home)
    config = str(write_project(tmp_path))

    first = crmsync(env, "run", "-c", config)
    assert first.returncode == 0, first.stderr
    assert "started a local Prefect API at" in first.stderr
    api = read_state(home)
    assert api is not None and healthy(api.api_url)

    second = crmsync(env, "run", "-c", config)
    assert second.returncode == 0, second.stderr
    assert "started a local Prefect API" not in second.stderr
    assert read_state(home).pid == api.pid

    # both are real flow runs on that API, completed, each with its summary artifact
    runs = httpx.post(f"{api.api_url}/flow_runs/filter", json={"sort": "EXPECTED_START_TIME_ASC"}).json()
    assert [r["state_type"] for r in runs] == ["COMPLETED", "COMPLETED"]
    artifacts = httpx.post(f"{api.api_url}/artifacts/filter", json={
        "artifacts": {"flow_run_id": {"any_": [r["id"] for r in runs]}}}).json()
    assert sorted(a["flow_run_id"] for a in artifacts) == sorted(r["id"] for r in runs)
    assert all("| source | web | 4 |" in a["data"] for a in artifacts)

    os.kill(api.pid, signal.SIGKILL)
    assert wait_gone(api.pid, 10)
    again = crmsync(env, "prefect", "start")  # the same finding and starting as a run's, without the run
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("started local Prefect API")
    restarted = read_state(home)
    assert restarted.pid != api.pid and healthy(restarted.api_url)

    status = crmsync(env, "prefect", "status")
    assert status.returncode == 0 and restarted.api_url in status.stdout and f"pid {restarted.pid}" in status.stdout
    stop = crmsync(env, "prefect", "stop")
    assert stop.returncode == 0 and f"pid {restarted.pid}" in stop.stdout
    assert wait_gone(restarted.pid, 5) and not (home / STATE_FILE).exists()
    assert crmsync(env, "prefect", "status").returncode == 1


def test_the_api_stops_itself_after_its_idle_time(home):
    started = crmsync(cli_env(home), "prefect", "start", "--idle-minutes", "0.05")
    assert started.returncode == 0, started.stderr
    api = read_state(home)
    assert api is not None and api.idle_minutes == 0.05
    assert wait_gone(api.pid, 60)  # 3 s without a request, checked every second
    assert not (home / STATE_FILE).exists()
