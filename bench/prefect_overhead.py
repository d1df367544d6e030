"""What Prefect costs `crmsync run`: server start, per flow, per task, and its share of the demo's wall time.

    .venv/bin/python bench/prefect_overhead.py [--repeat 3] [--tasks 30] [--skip-micro]

Cases, each timed in fresh subprocesses (as a user runs them), medians of --repeat:

1. `import prefect` and `import flows` (our flows, their stages and Prefect).
2. the local Prefect API (flows/local_api.py): process start to /health answering, on an existing
   Prefect database (a brand-new PREFECT_HOME also creates the database: timed once, apart).
3. per flow and per task: a flow of N no-op tasks against a running API, minus an empty flow.
4. `crmsync run` on the demo project (re-run, unchanged input, as a scheduled run sees it):
   - first run: no local API running (stopped before, untimed), so the run starts one;
   - steady state: the local API left by the previous run answers;
   next to them, interleaved so the machine's load is alike, the same work without Prefect: a process
   that imports crmsync, loads the project and calls the stage functions (ingest every source, match,
   export) directly. orchestration = wall of `crmsync run` − wall without Prefect, over the wall of
   `crmsync run`. "strict" also reports wall − seconds inside the stage functions.

The machine is shared: CPU seconds (user+sys of the process and its waited-for children) are printed
next to wall seconds, because they move much less with the load. The local API is a detached process,
so its CPU is not in those: it is read from /proc and printed apart ("API CPU").
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TIME_LINE = re.compile(r"Time: ([\d.]+) s wall · stages ([\d.]+) s · Prefect ([\d.]+) s")
TASKS_SCRIPT = """
import sys, time
from prefect import flow, task

@task
def noop(i):
    return i

@flow
def tasks(n):
    for i in range(n):
        noop(i)

@flow
def empty():
    return None

from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

empty()  # warm: the first flow of a process also loads the client and registers the flow
t0 = time.perf_counter(); empty(); t1 = time.perf_counter(); tasks(int(sys.argv[1])); t2 = time.perf_counter()
with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):  # as `crmsync run` runs
    t3 = time.perf_counter(); empty(); t4 = time.perf_counter()
print(f"RESULT {t1 - t0:.4f} {t2 - t1:.4f} {t4 - t3:.4f}")
"""
# The same work without Prefect, with what `crmsync run` does around it: its imports, the collector
# settings (gc.freeze after the imports and at the end) and the same summary printed; so that the
# difference is Prefect's (and the sync_runs rows the flows keep) alone.
NO_PREFECT_SCRIPT = """
import gc, sys, time
from pathlib import Path
from types import SimpleNamespace
import crmsync.cli
from crmsync.report import print_pipeline_report
from bench._common import open_project
from sync.export import export_xlsx
from sync.ingest import ingest_source
from sync.match import match_store
gc.freeze()
started = time.perf_counter()
project, store = open_project(Path(sys.argv[1]))
report = SimpleNamespace(ingest=[], match=None, export=None, push=[], stage_seconds={})
for source in project.sources:
    report.ingest.append(ingest_source(store, source=source.name, connector=source.connector,
                                       config={"base_dir": str(project.base_dir), **source.config},
                                       mappings=project.mappings_for(source)))
report.match = match_store(store, project.match.matcher(), survivorship=project.survivorship.rules())
report.export = export_xlsx(store, project.resolve(project.export.xlsx))
store.dispose()
wall = time.perf_counter() - started
report.stage_seconds["stages"] = wall
print_pipeline_report(crmsync.cli.console, project, report, wall_seconds=wall, flow_seconds=wall)
gc.freeze()
"""


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, float, str]:
    """Wall and CPU seconds of one subprocess (and its children), and its output."""
    cpu0, t0 = _cpu_children(), time.perf_counter()
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=900)
    wall, cpu = time.perf_counter() - t0, _cpu_children() - cpu0
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, cpu, done.stdout + done.stderr


def base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRMSYNC_", "PREFECT_"))}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", COLUMNS="200",
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]))
    return env


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def api_cpu(home: Path) -> float:
    """CPU seconds the local API process has used so far (0 when none runs)."""
    from flows.local_api import read_state

    api = read_state(home)
    try:
        fields = Path(f"/proc/{api.pid}/stat").read_text().rsplit(")", 1)[1].split() if api else []
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def micro(args: argparse.Namespace, env: dict[str, str], work: Path,
          record: Callable[[str, float, float], None]) -> tuple[list[float], list[float], list[float]]:
    """Imports, the local API's start, and per flow / per task against a running API."""
    from flows.local_api import ensure_local_api, stop_local_api

    py = sys.executable
    for _ in range(args.repeat):
        for name, code in (("python startup", "pass"), ("import prefect", "import prefect"),
                           ("import crmsync (no Prefect)", "import crmsync.cli, sync.ingest, sync.match, sync.export"),
                           ("import flows (crmsync + Prefect)", "import crmsync.cli, flows.pipeline")):
            wall, cpu, _ = timed([py, "-c", code], env)
            record(name, wall, cpu)
    home = work / "api-home"
    os.environ["PREFECT_HOME"] = str(home)
    t0 = time.perf_counter()
    ensure_local_api(home).wait_ready()
    record("local API start, new PREFECT_HOME", time.perf_counter() - t0, api_cpu(home))
    for _ in range(args.repeat):
        stop_local_api(home)
        t0 = time.perf_counter()
        api = ensure_local_api(home)
        api.wait_ready()
        wall = time.perf_counter() - t0
        time.sleep(0.5)  # the lifespan (migrations check, services) may still run just after /health answers
        record("local API start (existing database)", wall, api_cpu(home))
    shared = {**env, "PREFECT_HOME": str(home), "PREFECT_API_URL": api.api_url}
    per_flow, per_task, per_flow_quiet = [], [], []
    for _ in range(args.repeat):
        _, _, out = timed([py, "-c", TASKS_SCRIPT, str(args.tasks)], shared)
        empty, tasks, quiet = map(float, out.split("RESULT ")[1].split()[:3])
        per_flow.append(empty)
        per_task.append((tasks - empty) / args.tasks)
        per_flow_quiet.append(quiet)
    stop_local_api(home)
    os.environ.pop("PREFECT_API_URL", None)
    return per_flow, per_task, per_flow_quiet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=30)
    parser.add_argument("--skip-micro", action="store_true", help="only the demo runs (case 4)")
    args = parser.parse_args()
    from bench._common import demo_project
    from flows.local_api import stop_local_api

    work = Path(tempfile.mkdtemp(prefix="crmsync-prefect-overhead-"))
    home = work / "prefect-home"
    env = base_env(home)
    py = sys.executable
    results: dict[str, list[tuple[float, float]]] = {}

    def record(name: str, wall: float, cpu: float) -> None:
        results.setdefault(name, []).append((wall, cpu))

    per_flow, per_task, per_flow_quiet = ([], [], []) if args.skip_micro else micro(args, env, work, record)

    config = demo_project(work / "demo")
    crmsync_run = [py, "-m", "crmsync", "run", "-c", str(config)]
    timed(crmsync_run, env)  # first run ever: Prefect's database and the store fill up
    runs: dict[str, list[tuple[float, float, float, float, float]]] = {}
    try:
        for _ in range(args.repeat):
            wall, cpu, _ = timed([py, "-c", NO_PREFECT_SCRIPT, str(config)], env, cwd=ROOT)
            runs.setdefault("without Prefect", []).append((wall, cpu, float("nan"), float("nan"), 0.0))
            stop_local_api(home)
            for mode in ("first run (starts the API)", "steady state (API running)"):
                before = api_cpu(home)
                wall, cpu, out = timed(crmsync_run, env)
                found = TIME_LINE.search(" ".join(out.split()))
                if not found:
                    raise RuntimeError(f"no Time line in the output of crmsync run:\n{out[-2000:]}")
                runs.setdefault(mode, []).append((wall, cpu, float(found.group(2)), float(found.group(3)),
                                                  api_cpu(home) - before))
    finally:
        stop_local_api(home)

    print(f"Prefect overhead ({args.repeat} repeats, medians; wall s / CPU s of process and children)")
    for name, values in results.items():
        print(f"  {name:36s} {median([w for w, _ in values]):7.2f} s wall  {median([c for _, c in values]):6.2f} s CPU")
    if per_flow:
        print(f"  {'per flow (empty flow, warm client)':36s} {median(per_flow) * 1000:7.0f} ms "
              f"(heartbeats off, as `crmsync run`: {median(per_flow_quiet) * 1000:.0f} ms)")
        print(f"  {'per task (no-op task)':36s} {median(per_task) * 1000:7.0f} ms")
    base = runs.pop("without Prefect")
    base_wall, base_cpu = median([v[0] for v in base]), median([v[1] for v in base])
    print(f"`crmsync run` on the demo (re-run, unchanged input); the same work without Prefect: "
          f"{base_wall:.2f} s wall (CPU {base_cpu:.2f} s)")
    for mode, values in runs.items():
        wall, cpu, stages, in_flow, server = (median([v[i] for v in values]) for i in range(5))
        orchestration = max(0.0, wall - base_wall)
        print(f"  {mode:27s} wall {wall:6.2f} s (CPU {cpu:5.2f} s, API CPU {server:5.2f} s) · stages {stages:5.2f} s · "
              f"in the flow outside stages {in_flow:5.2f} s · orchestration {orchestration:5.2f} s = "
              f"{orchestration / wall:4.0%} of wall (CPU {max(0.0, cpu - base_cpu) / cpu:4.0%}) · "
              f"strict (wall − stages) {(wall - stages) / wall:4.0%}")
    for mode, values in runs.items():
        print(f"  {mode} walls: " + " ".join(f"{v[0]:.2f}" for v in values)
              + " · without Prefect: " + " ".join(f"{v[0]:.2f}" for v in base))


if __name__ == "__main__":
    main()
