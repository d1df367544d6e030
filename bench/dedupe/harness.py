"""The contenders, whether each can run here, and running one in its own measured process.

Peak RSS is the larger of the kernel's `ru_maxrss` of the reaped contender (os.wait4 in
_measure.py: the largest single process among it and the descendants it waited for) and the
summed PSS (proportional set size) of its whole process group, sampled every 0.2 s, so a contender that forks workers
is measured whole.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BENCH_PY", "CONTENDERS", "MAIN_PY", "VENV_HINT", "Contender", "Run", "run_measured"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MAIN_PY = ROOT / ".venv" / "bin" / "python"
BENCH_PY = ROOT / ".venv-bench" / "bin" / "python"
CRMSYNC = ROOT / ".venv" / "bin" / "crmsync"
VENV_HINT = (f"python3 -m venv {ROOT / '.venv-bench'} && {BENCH_PY.parent / 'pip'} install "
             "splink duckdb goldenmatch recordlinkage psutil pandas")


@dataclass(frozen=True)
class Contender:
    """A contender script, the interpreter that runs it, and what it needs to be importable."""

    name: str
    script: str
    interpreter: Path
    needs: tuple[str, ...] = ()   # modules that must import under the interpreter

    def command(self, input_csv: Path, output_csv: Path, dataset: str) -> list[str]:
        return [str(self.interpreter), str(HERE / "contenders" / self.script), str(input_csv),
                str(output_csv), "--dataset", dataset]

    def unavailable(self) -> str | None:
        """Why this contender cannot run here, or None when it can."""
        if not self.interpreter.exists():
            if self.interpreter == BENCH_PY:
                return f"no bench virtualenv; create it with: {VENV_HINT}"
            return f"no interpreter at {self.interpreter}"
        if self.name == "crmsync":
            return _crmsync_dedupe_missing()
        if self.needs:
            probe = "; ".join(f"import {module}" for module in self.needs)
            done = subprocess.run([str(self.interpreter), "-c", probe], capture_output=True,
                                  text=True, timeout=300, check=False)
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["import failed"])[-1]
                return f"{', '.join(self.needs)} not importable ({last}); install with: {VENV_HINT}"
        return None


def _crmsync_dedupe_missing() -> str | None:
    if not CRMSYNC.exists():
        return f"no crmsync command at {CRMSYNC}"
    try:
        done = subprocess.run([str(CRMSYNC), "dedupe", "--help"], capture_output=True, text=True,
                              timeout=300, check=False)
    except subprocess.TimeoutExpired:
        return "`crmsync dedupe --help` did not answer within 300 s"
    if done.returncode != 0 or "--map" not in done.stdout:
        last = (done.stderr.strip().splitlines() or ["no `dedupe --map` option"])[-1]
        return f"`crmsync dedupe` not available yet ({last[:160]})"
    return None


CONTENDERS = {
    "crmsync": Contender("crmsync", "crmsync_run.py", MAIN_PY),
    "splink": Contender("splink", "splink_run.py", BENCH_PY, ("splink", "duckdb")),
    "goldenmatch": Contender("goldenmatch", "goldenmatch_run.py", BENCH_PY, ("goldenmatch",)),
    "trivial": Contender("trivial", "trivial.py", MAIN_PY),
}


@dataclass(frozen=True)
class Run:
    """How one process ended: status is ok, timeout or crashed."""

    status: str
    wall_seconds: float
    peak_rss_mb: float
    exit_code: int | None
    cpu_seconds: float | None = None  # user + system, the contender and the workers it waited for


def run_measured(command: list[str], timeout: float, log: Path) -> Run:
    """Run command through _measure.py (a small parent, see there); output goes to log."""
    measurer = [sys.executable, "-S", str(HERE / "_measure.py"), "--timeout", str(timeout),
                "--log", str(log), "--", *command]
    # _measure.py enforces the timeout itself; this outer one only guards against it hanging
    done = subprocess.run(measurer, capture_output=True, text=True, timeout=timeout + 120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"_measure.py failed: {done.stderr.strip()[-300:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(result["status"], result["wall_seconds"], result["peak_rss_mb"], result["exit_code"],
               result.get("cpu_seconds"))
