"""Run one contender in its own process and measure it: wall time, peak RSS, exit status.

Peak RSS is the kernel's `ru_maxrss` of the reaped child (os.wait4), which covers the child
and every descendant it waited for, so a contender that forks workers is measured whole.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
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
_POLL_SECONDS = 0.05
_GRACE_SECONDS = 5.0


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


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is already gone
        os.killpg(pgid, sig)


def run_measured(command: list[str], timeout: float, log: Path, env: dict[str, str] | None = None) -> Run:
    """Run command in a new session (stdout+stderr to log); kill its whole group on timeout."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env)
        timed_out = False
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            now = time.perf_counter()
            if now > deadline and not timed_out:
                timed_out = True
                _signal_group(proc.pid, signal.SIGTERM)
                deadline = now + _GRACE_SECONDS
            elif now > deadline:
                _signal_group(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(_POLL_SECONDS)
        wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # reaped here; keep Popen from waiting on a pid that is gone
    if timed_out:
        _signal_group(proc.pid, signal.SIGKILL)  # stragglers that ignored SIGTERM
        state = "timeout"
    else:
        state = "ok" if code == 0 else "crashed"
    return Run(state, wall, usage.ru_maxrss / 1024, code)
