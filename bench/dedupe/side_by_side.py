"""crmsync dedupe at two revisions, side by side on the same file, alternating, in one run.

    .venv/bin/python bench/dedupe/side_by_side.py --size 100000 --before 0a2c680 [--after WORKTREE] [--rounds 2]

Each revision is exported with `git archive` to a temporary folder (the working tree is used
as it is for `--after` by default) and runs `sync.dedupe_file.dedupe_file` with the synthetic
mapping and default settings, in a process measured like the benchmark's contenders
(`_measure.py`: wall, CPU seconds of the process and its workers, peak summed PSS). Runs
alternate before/after so that the shared machine's load falls on both alike; the load
average is printed with every run. Prints one line per run and the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
DATA = HERE / ".data"

_RUN = """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from dedupe.engine import MatchSettings, ProbabilisticMatcher
from sync.dedupe_file import dedupe_file
dedupe_file(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), matcher=ProbabilisticMatcher(MatchSettings()),
            id_column="id")
"""


def _export(revision: str, into: Path) -> Path:
    archive = into / f"{revision}.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), revision], check=True)
    tree = into / revision
    tree.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


def _run(tree: Path, data: Path, out: Path) -> dict[str, object]:
    command = [str(PYTHON), str(HERE / "_measure.py"), "--timeout", "7200", "--log", str(out) + ".log", "--",
               str(PYTHON), "-c", _RUN, str(tree), str(data), str(HERE / "synthetic_mapping.yaml"), str(out)]
    load = os.getloadavg()[0]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load_before"] = round(load, 2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--before", required=True, help="git revision")
    parser.add_argument("--after", default="", help="git revision (default: the working tree)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from bench.dedupe.generate import ensure_synthetic

    data = ensure_synthetic(args.size, args.seed, DATA)
    with tempfile.TemporaryDirectory(prefix="side-by-side-") as tmp:
        trees = {args.before: _export(args.before, Path(tmp)),
                 args.after or "working tree": _export(args.after, Path(tmp)) if args.after else ROOT}
        results: dict[str, list[dict[str, object]]] = {name: [] for name in trees}
        for round_number in range(args.rounds):
            for name, tree in trees.items():
                result = _run(tree, data, Path(tmp) / f"out-{round_number}.csv")
                results[name].append(result)
                print(f"{name:>14}: {result['status']} wall {result['wall_seconds']:.1f} s, "
                      f"CPU {result['cpu_seconds']:.1f} s, peak {result['peak_rss_mb']:.0f} MB "
                      f"(load before {result['load_before']})", flush=True)
        for name, runs in results.items():
            print(f"median {name:>14}: wall {statistics.median(r['wall_seconds'] for r in runs):.1f} s, "
                  f"CPU {statistics.median(r['cpu_seconds'] for r in runs):.1f} s, "
                  f"peak {statistics.median(r['peak_rss_mb'] for r in runs):.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
