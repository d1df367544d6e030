"""Wall time of the README's first command and Prefect's share of it.

    python bench/demo_timing.py [--repeat 3]

Runs `crmsync demo` in a fresh folder (first run) and again (nothing changed), N times each,
in subprocesses exactly as a user would, and reads the split the CLI prints. Then times a bare
Prefect flow of no-op tasks to separate server start, per-flow and per-task overhead.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIME_LINE = re.compile(r"Time: ([\d.]+) s wall · stages ([\d.]+) s · Prefect ([\d.]+) s")
BARE_FLOW = """
import time
t0 = time.perf_counter()
from prefect import flow, task
t1 = time.perf_counter()

@task
def noop(i):
    return i

@flow
def bare(n):
    marks = [time.perf_counter()]
    for i in range(n):
        noop(i)
        marks.append(time.perf_counter())
    return marks

start = time.perf_counter()
marks = bare(20)
end = time.perf_counter()
first = bare(20)
again = time.perf_counter()
per_task = (marks[-1] - marks[1]) / 19
second_overhead = again - end - (first[-1] - first[0])
print(f"{t1 - t0:.3f} {marks[0] - start:.3f} {per_task:.4f} {end - marks[-1]:.3f} {second_overhead:.3f}")
"""


def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CRMSYNC_", "PREFECT_"))}
    clean.update(PREFECT_HOME=tempfile.mkdtemp(prefix="prefect-home-"), COLUMNS="200")
    return clean


def demo_once(folder: Path, environ: dict[str, str]) -> tuple[float, float, float, float]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "crmsync", "demo", str(folder)], cwd=ROOT, env=environ,
                            capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    match = TIME_LINE.search(result.stdout)
    assert match, result.stdout
    inner, stages, prefect = (float(g) for g in match.groups())
    return wall, inner, stages, prefect


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    environ = env()
    rows: dict[str, list[tuple[float, float, float, float]]] = {"first run": [], "re-run": []}
    sys.path.insert(0, str(ROOT))
    from flows.local_api import stop_local_api

    try:  # the first demo starts the local Prefect API (flows/local_api.py); the others reuse it
        for _ in range(args.repeat):
            folder = Path(tempfile.mkdtemp(prefix="crmsync-demo-")) / "demo"
            rows["first run"].append(demo_once(folder, environ))
            rows["re-run"].append(demo_once(folder, environ))
    finally:
        stop_local_api(Path(environ["PREFECT_HOME"]))
    print(f"crmsync demo, median of {args.repeat} (seconds):")
    print(f"{'':10} {'process wall':>12} {'CLI wall':>9} {'stages':>7} {'Prefect':>8} {'Prefect share':>14}")
    for name, samples in rows.items():
        wall, inner, stages, prefect = (statistics.median(s[i] for s in samples) for i in range(4))
        print(f"{name:10} {wall:12.2f} {inner:9.2f} {stages:7.2f} {prefect:8.2f} {prefect / wall:14.0%}")
    out = subprocess.run([sys.executable, "-c", BARE_FLOW], env=environ, capture_output=True, text=True,
                         check=True).stdout.split()
    imp, start, per_task, end, second_flow = (float(x) for x in out)
    print("bare Prefect (temporary local server):")
    print(f"  import prefect {imp:.2f} s · first flow start (server start) {start:.2f} s · "
          f"per task {per_task * 1000:.1f} ms · flow end {end:.2f} s · "
          f"second flow overhead {second_flow:.2f} s")


if __name__ == "__main__":
    main()
