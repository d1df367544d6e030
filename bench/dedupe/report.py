"""Benchmark rows: kept across runs in results.json, rendered as the markdown in RESULTS.md.

A run replaces the rows it measured (same dataset, size and contender) and keeps the others,
so the 1M rows can be measured on another day without re-running 10k and 100k.
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Row", "load_rows", "markdown_table", "merge_rows", "render_results", "save_rows"]

_DATASET_ORDER = {"synthetic": 0, "febrl3": 1, "febrl4": 2}
_CONTENDER_ORDER = {"crmsync": 0, "splink": 1, "goldenmatch": 2, "trivial": 3}


@dataclass
class Row:
    """One contender on one dataset; quality fields are None when it did not finish."""

    dataset: str
    size: int
    contender: str
    status: str                       # ok, timeout, crashed, not available, bad output
    detail: str = ""
    wall_seconds: float | None = None
    peak_rss_mb: float | None = None
    pair_precision: float | None = None
    pair_recall: float | None = None
    pair_f1: float | None = None
    bcubed_precision: float | None = None
    bcubed_recall: float | None = None
    bcubed_f1: float | None = None
    clusters: int | None = None
    true_clusters: int | None = None
    missing: int | None = None
    phases: dict[str, float] = field(default_factory=dict)
    notes: dict[str, object] = field(default_factory=dict)
    measured_at: str = ""

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.dataset, self.size, self.contender)


def _sort_key(row: Row) -> tuple[int, int, int, str]:
    return (_DATASET_ORDER.get(row.dataset, 9), row.size, _CONTENDER_ORDER.get(row.contender, 9),
            row.contender)


def load_rows(path: Path) -> list[Row]:
    if not path.exists():
        return []
    return [Row(**item) for item in json.loads(path.read_text(encoding="utf-8"))]


def save_rows(path: Path, rows: list[Row]) -> None:
    path.write_text(json.dumps([asdict(r) for r in sorted(rows, key=_sort_key)], indent=1,
                               ensure_ascii=False) + "\n", encoding="utf-8")


def merge_rows(old: list[Row], new: list[Row]) -> list[Row]:
    """Old rows with every key that new measures replaced."""
    fresh = {row.key: row for row in new}
    return sorted([r for r in old if r.key not in fresh] + list(fresh.values()), key=_sort_key)


def _num(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def markdown_table(rows: list[Row]) -> str:
    """The results table: one line per (size, dataset, contender)."""
    lines = [
        "| size | dataset | contender | status | wall s | peak RSS MB | pair P | pair R | pair F1 "
        "| B³ F1 | clusters (true) |",
        "|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(rows, key=_sort_key):
        status = r.status if not r.detail or r.status == "ok" else f"{r.status}: {r.detail}"
        clusters = "—" if r.clusters is None else f"{r.clusters:,} ({r.true_clusters:,})"
        lines.append(
            f"| {r.size:,} | {r.dataset} | {r.contender} | {status.replace('|', '/')} "
            f"| {_num(r.wall_seconds, 1)} | {_num(r.peak_rss_mb, 0)} | {_num(r.pair_precision, 3)} "
            f"| {_num(r.pair_recall, 3)} | {_num(r.pair_f1, 3)} | {_num(r.bcubed_f1, 3)} | {clusters} |")
    return "\n".join(lines)


def _phase_lines(rows: list[Row]) -> list[str]:
    out = []
    for r in sorted(rows, key=_sort_key):
        if not r.phases and not r.notes:
            continue
        phases = ", ".join(f"{name} {sec:.1f}s" for name, sec in r.phases.items())
        notes = "; ".join(f"{k}: {v}" for k, v in r.notes.items())
        out.append(f"- {r.dataset} {r.size:,} {r.contender} ({r.measured_at}): {phases}"
                   + (f" — {notes}" if notes else ""))
    return out


def render_results(rows: list[Row], versions: dict[str, str], machine: str, notes: str = "") -> str:
    """The whole RESULTS.md; `notes` (hand-written, from NOTES.md) go at the end."""
    return "\n".join([
        "# Dedupe benchmark results",
        "",
        "Written by `python bench/dedupe/run.py`; each row is the latest measurement of that",
        "(dataset, size, contender). Wall time and peak RSS are of the contender's own process",
        "(interpreter start, imports, reading the CSV and writing clusters included); a contender",
        "with worker processes is measured by their summed PSS, and `cpu_s` in the notes is user +",
        "system CPU seconds of the contender and its workers (steadier than wall time when the",
        "machine is busy). Pairwise",
        "precision / recall / F1 count record pairs in the same cluster; B³ F1 averages per record.",
        "Records a contender left out are scored as singletons. The machine is shared: each",
        "row's notes give the 1-minute load average when the contender started (`load_before`).",
        "",
        f"Machine: {machine}. Python {platform.python_version()}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + ".",
        "",
        markdown_table(rows),
        "",
        "## Phases inside each contender",
        "",
        *_phase_lines(rows),
        "",
        *([notes.rstrip(), ""] if notes.strip() else []),
    ])
