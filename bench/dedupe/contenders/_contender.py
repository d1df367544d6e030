"""What every contender script shares: its command line, phase timings, and the output file.

Standard library only: the contenders run under different interpreters (the project's
virtualenv and the benchmark peers' one) and are started as plain scripts.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["Phases", "parse_args", "write_clusters"]


def parse_args(description: str) -> argparse.Namespace:
    """`SCRIPT INPUT.csv OUTPUT.csv [--dataset synthetic|febrl]`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("input", type=Path, help="benchmark input CSV (has an `id` column)")
    parser.add_argument("output", type=Path, help="CSV to write: record_id,cluster_id")
    parser.add_argument("--dataset", choices=("synthetic", "febrl"), default="synthetic")
    return parser.parse_args()


class Phases:
    """Wall time per named phase, saved beside the output as OUTPUT.meta.json for the harness."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.notes: dict[str, object] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - started, 3)

    def save(self, output: Path) -> None:
        meta = {"phases": self.seconds, "notes": self.notes}
        output.with_name(output.name + ".meta.json").write_text(json.dumps(meta, indent=2))


def write_clusters(output: Path, pairs: Iterable[tuple[str, str]]) -> int:
    """Write (record_id, cluster_id) rows; returns how many."""
    count = 0
    with output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("record_id", "cluster_id"))
        for record_id, cluster_id in pairs:
            writer.writerow((record_id, cluster_id))
            count += 1
    return count
