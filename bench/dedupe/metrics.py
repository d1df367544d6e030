"""Clustering quality against ground truth: pairwise and B-cubed precision / recall / F1.

Both are computed from the contingency table of (predicted cluster, true cluster) counts, so
no pair is ever enumerated and a million records score in seconds. A record that the
contender left out of its output counts as a singleton cluster of its own.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Scores", "read_clusters", "read_truth", "score"]


@dataclass(frozen=True)
class Scores:
    """Quality of one clustering; precision is 1.0 when nothing was predicted (nothing wrong)."""

    pair_precision: float
    pair_recall: float
    pair_f1: float
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    clusters: int          # predicted, singletons included
    true_clusters: int
    records: int
    missing: int           # records the contender did not return (scored as singletons)
    unknown: int           # ids the contender returned that are not in the input (ignored)
    true_pairs: int
    predicted_pairs: int
    true_positive_pairs: int


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def score(truth: Mapping[str, str], predicted: Mapping[str, str]) -> Scores:
    """Score predicted record → cluster labels against true record → entity labels."""
    missing = 0
    cells: Counter[tuple[str, str]] = Counter()
    for record, entity in truth.items():
        cluster = predicted.get(record)
        if cluster is None:
            missing += 1
            cluster = f"\0missing:{record}"  # cannot collide with a real label
        cells[(cluster, entity)] += 1
    unknown = sum(1 for record in predicted if record not in truth)
    pred_sizes: Counter[str] = Counter()
    true_sizes: Counter[str] = Counter()
    for (cluster, entity), count in cells.items():
        pred_sizes[cluster] += count
        true_sizes[entity] += count
    n = len(truth)
    tp = sum(_pairs(count) for count in cells.values())
    pred_pairs = sum(_pairs(size) for size in pred_sizes.values())
    true_pairs = sum(_pairs(size) for size in true_sizes.values())
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    # B-cubed: each record's share of its cluster that is truly its entity, and vice versa.
    b_precision = sum(c * c / pred_sizes[cl] for (cl, _), c in cells.items()) / n if n else 1.0
    b_recall = sum(c * c / true_sizes[en] for (_, en), c in cells.items()) / n if n else 1.0
    return Scores(
        pair_precision=precision, pair_recall=recall, pair_f1=_f1(precision, recall),
        bcubed_precision=b_precision, bcubed_recall=b_recall, bcubed_f1=_f1(b_precision, b_recall),
        clusters=len(pred_sizes), true_clusters=len(true_sizes), records=n, missing=missing,
        unknown=unknown, true_pairs=true_pairs, predicted_pairs=pred_pairs, true_positive_pairs=tp)


def read_truth(path: Path, id_column: str = "id", entity_column: str = "entity_id") -> dict[str, str]:
    """record id → true entity id from a benchmark input CSV."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {row[id_column]: row[entity_column] for row in csv.DictReader(handle)}


def read_clusters(path: Path) -> dict[str, str]:
    """record id → cluster id from a contender's output (columns record_id, cluster_id, ...)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        if "record_id" not in fields or "cluster_id" not in fields:
            raise ValueError(f"{path.name}: expected columns record_id, cluster_id; got {fields}")
        return {row["record_id"]: row["cluster_id"] for row in reader}
