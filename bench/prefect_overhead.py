"""What Prefect costs `crmsync run`: server start, per flow, per task, and its share of the demo's wall time.

    .venv/bin/python bench/prefect_overhead.py [--repeat 3] [--tasks 30]

Cases, each timed in fresh subprocesses (as a user runs them), medians of --repeat:

1. `import prefect` and `import flows` (our flows, their stages and Prefect).
2. the temporary Prefect server (flows/server.py): process start to /health answering.
3. per flow and per task: a flow of N no-op tasks against a running server, minus an empty flow.
4. `crmsync run` on the demo project (second run, unchanged input, as a scheduled run sees it), with
   the temporary server it starts itself, and with PREFECT_API_URL naming a running server; next to
   it, interleaved so the machine's load is alike, the same work without Prefect: a process that
   imports crmsync, loads the project and calls the stage functions (ingest every source, match,
   export) directly. orchestration = wall of `crmsync run` − wall without Prefect. "strict" also
   reports wall − seconds inside the stage functions, charging Python and crmsync start-up to it too.

The machine is shared: CPU seconds (user+sys of the process and its children) are printed next to
wall seconds, because they move much less with the load.
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
# The same work without Prefect, with what `crmsync run` does to the collector (gc.freeze after the
# imports and at the end), so that the difference is Prefect's alone.
NO_PREFECT_SCRIPT = """
import gc, sys
from pathlib import Path
import crmsync.cli
from bench._common import open_project, run_stages
from sync.export import export_xlsx
gc.freeze()
project, store = open_project(Path(sys.argv[1]))
run_stages(project, store)
export_xlsx(store, project.resolve(project.export.xlsx))
store.dispose()
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=30)
    args = parser.parse_args()
    from bench._common import demo_project
    from flows.server import start_temporary_server

    work = Path(tempfile.mkdtemp(prefix="crmsync-prefect-overhead-"))
    env = base_env(work / "prefect-home")
    py = sys.executable
    results: dict[str, list[tuple[float, float]]] = {}

    def record(name: str, wall: float, cpu: float) -> None:
        results.setdefault(name, []).append((wall, cpu))

    for _ in range(args.repeat):
        for name, code in (("python startup", "pass"), ("import prefect", "import prefect"),
                           ("import crmsync (no Prefect)", "import crmsync.cli, sync.ingest, sync.match, sync.export"),
                           ("import flows (crmsync + Prefect)", "import crmsync.cli, flows.pipeline")):
            wall, cpu, _ = timed([py, "-c", code], env)
            record(name, wall, cpu)

    # the temporary server: start to healthy, measured in this process
    os.environ.update({k: v for k, v in env.items() if k.startswith("PREFECT_")})
    for _ in range(args.repeat):
        os.environ.pop("PREFECT_API_URL", None)
        cpu0, t0 = _cpu_children(), time.perf_counter()
        server = start_temporary_server()
        assert server is not None
        server.wait_ready()
        wall = time.perf_counter() - t0
        server.stop()
        record("temporary server start", wall, _cpu_children() - cpu0)

    # per flow and per task, and `crmsync run` against a server that is already up
    os.environ.pop("PREFECT_API_URL", None)
    server = start_temporary_server()
    assert server is not None
    server.wait_ready()
    shared = {**env, "PREFECT_API_URL": server.api_url}
    per_flow, per_task, per_flow_quiet = [], [], []
    for _ in range(args.repeat):
        _, _, out = timed([py, "-c", TASKS_SCRIPT, str(args.tasks)], shared)
        empty, tasks, quiet = map(float, out.split("RESULT ")[1].split()[:3])
        per_flow.append(empty)
        per_task.append((tasks - empty) / args.tasks)
        per_flow_quiet.append(quiet)

    config = demo_project(work / "demo")
    timed([py, "-m", "crmsync", "run", "-c", str(config)], env)  # first run: the store fills up
    runs: dict[str, list[tuple[float, float, float, float]]] = {}
    for _ in range(args.repeat):
        wall, cpu, _ = timed([py, "-c", NO_PREFECT_SCRIPT, str(config)], env, cwd=ROOT)
        runs.setdefault("without Prefect", []).append((wall, cpu, float("nan"), float("nan")))
        for mode, mode_env in (("temporary server", env), ("PREFECT_API_URL set", shared)):
            wall, cpu, out = timed([py, "-m", "crmsync", "run", "-c", str(config)], mode_env)
            found = TIME_LINE.search(" ".join(out.split()))
            if not found:
                raise RuntimeError(f"no Time line in the output of crmsync run:\n{out[-2000:]}")
            runs.setdefault(mode, []).append((wall, cpu, float(found.group(2)), float(found.group(3))))
    server.stop()

    print(f"Prefect overhead ({args.repeat} repeats, medians; wall s / CPU s of process and children)")
    for name, values in results.items():
        print(f"  {name:36s} {median([w for w, _ in values]):7.2f} s wall  {median([c for _, c in values]):6.2f} s CPU")
    print(f"  {'per flow (empty flow, warm client)':36s} {median(per_flow) * 1000:7.0f} ms "
          f"(heartbeats off, as `crmsync run`: {median(per_flow_quiet) * 1000:.0f} ms)")
    print(f"  {'per task (no-op task)':36s} {median(per_task) * 1000:7.0f} ms")
    base = runs.pop("without Prefect")
    base_wall, base_cpu = median([v[0] for v in base]), median([v[1] for v in base])
    print(f"`crmsync run` on the demo (re-run, unchanged input); the same work without Prefect: "
          f"{base_wall:.2f} s wall (CPU {base_cpu:.2f} s)")
    for mode, values in runs.items():
        wall = median([v[0] for v in values])
        cpu = median([v[1] for v in values])
        stages = median([v[2] for v in values])
        in_flow = median([v[3] for v in values])
        orchestration = max(0.0, wall - base_wall)
        print(f"  {mode:22s} wall {wall:6.2f} s (CPU {cpu:5.2f} s) · stages {stages:5.2f} s · "
              f"in the flow outside stages {in_flow:5.2f} s · orchestration {orchestration:5.2f} s = "
              f"{orchestration / wall:4.0%} of wall (CPU {max(0.0, cpu - base_cpu) / cpu:4.0%}) · "
              f"strict (wall − stages) {(wall - stages) / wall:4.0%}")

if __name__ == "__main__":
    main()
