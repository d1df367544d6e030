"""Run one command and report its wall time, peak RSS and exit as one JSON line on stdout.

    python _measure.py --timeout SECONDS --log FILE -- COMMAND...

Why a separate small process: Linux records a child's `ru_maxrss` at exec time as at least
the high-water RSS of the memory image it was forked from, so a contender started straight
from the harness (which holds a million-record truth table) would inherit the harness's
peak. Started from this small process, the floor is a few MB. Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

_POLL_SECONDS = 0.05
_GRACE_SECONDS = 5.0
# a contender may not take the shared machine down: above this resident size it is stopped
_MAX_RSS_MB = float(os.environ.get("BENCH_MAX_RSS_MB", "14000"))


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _pss_mb(pid: int) -> float:
    """Proportional set size: resident pages, each shared page divided among the processes sharing it."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return _rss_mb(pid)


def _group_rss_mb(pgid: int) -> float:
    """Memory of every process in the group, so a contender's forked workers count too: summed PSS
    (pages a worker shares with its parent counted once, not once per process)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[2] == str(pgid):  # field 5 of stat: the process group
            total += _pss_mb(int(entry))
    return total


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group is already gone
        os.killpg(pgid, sig)


def measure(command: list[str], timeout: float, log: Path) -> dict[str, object]:
    """Run command in a new session (output to log); kill its whole group on timeout."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        timed_out = over_memory = False
        deadline = started + timeout
        group_peak = 0.0
        polls = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            now = time.perf_counter()
            polls += 1
            group = _group_rss_mb(proc.pid) if polls % 4 == 0 else _rss_mb(proc.pid)
            group_peak = max(group_peak, group)
            if not over_memory and group > _MAX_RSS_MB:
                over_memory = True
                _signal_group(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
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
    state = "over memory cap" if over_memory else "timeout" if timed_out else ("ok" if code == 0 else "crashed")
    # ru_maxrss (KiB on Linux) is the largest single process among the child and the descendants it
    # waited for; a contender with worker processes is measured by their summed PSS, sampled every 0.2 s
    return {"status": state, "wall_seconds": wall, "peak_rss_mb": max(usage.ru_maxrss / 1024, group_peak),
            "largest_process_rss_mb": usage.ru_maxrss / 1024, "exit_code": code,
            # CPU seconds of the contender and its workers: on a busy shared machine, wall time
            # stretches with other people's load and this does much less
            "cpu_seconds": usage.ru_utime + usage.ru_stime}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run")
    print(json.dumps(measure(command, args.timeout, args.log)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
