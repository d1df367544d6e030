"""Pairwise and B-cubed scores of bench/dedupe on hand-made clusterings with known answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.dedupe.metrics import read_clusters, read_truth, score

TRUTH = {"a": "E1", "b": "E1", "c": "E1", "d": "E2", "e": "E2", "f": "E3"}


def test_perfect_clustering_scores_one() -> None:
    s = score(TRUTH, {r: f"c{e}" for r, e in TRUTH.items()})
    assert (s.pair_precision, s.pair_recall, s.pair_f1) == (1.0, 1.0, 1.0)
    assert (s.bcubed_precision, s.bcubed_recall, s.bcubed_f1) == (1.0, 1.0, 1.0)
    assert s.clusters == s.true_clusters == 3


def test_mixed_clustering_known_answer() -> None:
    predicted = {"a": "1", "b": "1", "c": "2", "d": "2", "e": "3", "f": "4"}
    s = score(TRUTH, predicted)
    assert (s.true_pairs, s.predicted_pairs, s.true_positive_pairs) == (4, 2, 1)
    assert s.pair_precision == pytest.approx(1 / 2)
    assert s.pair_recall == pytest.approx(1 / 4)
    assert s.pair_f1 == pytest.approx(1 / 3)
    # per record precision: a 1, b 1, c 1/2, d 1/2, e 1, f 1; recall: 2/3, 2/3, 1/3, 1/2, 1/2, 1
    assert s.bcubed_precision == pytest.approx(5 / 6)
    assert s.bcubed_recall == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 / 2 + 1 / 2 + 1) / 6)
    assert s.clusters == 4


def test_everything_in_one_cluster() -> None:
    s = score(TRUTH, dict.fromkeys(TRUTH, "x"))
    assert s.pair_recall == 1.0
    assert s.pair_precision == pytest.approx(4 / 15)
    assert s.bcubed_recall == 1.0
    assert s.bcubed_precision == pytest.approx((3 * 3 / 6 + 2 * 2 / 6 + 1 / 6) / 6)


def test_all_singletons_have_no_recall_and_nothing_wrong() -> None:
    s = score(TRUTH, {r: r for r in TRUTH})
    assert (s.pair_precision, s.pair_recall, s.pair_f1) == (1.0, 0.0, 0.0)
    assert s.bcubed_precision == 1.0
    assert s.clusters == 6


def test_missing_records_are_singletons_and_unknown_ids_ignored() -> None:
    partial = {"a": "1", "b": "1", "zzz": "1"}  # c..f missing, zzz not in the input
    s = score(TRUTH, partial)
    same = score(TRUTH, {"a": "1", "b": "1", "c": "c", "d": "d", "e": "e", "f": "f"})
    assert (s.missing, s.unknown) == (4, 1)
    assert (s.pair_precision, s.pair_recall, s.bcubed_f1, s.clusters) == (
        same.pair_precision, same.pair_recall, same.bcubed_f1, same.clusters)


def test_labels_of_predicted_and_true_clusters_never_collide() -> None:
    # the same label text on both sides means nothing: clusters are compared by membership
    s = score({"a": "1", "b": "2"}, {"a": "2", "b": "1"})
    assert s.predicted_pairs == 0 and s.true_pairs == 0


def test_read_files(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text("id,entity_id,x\n1,E1,a\n2,E1,b\n3,E2,c\n", encoding="utf-8")
    (tmp_path / "out.csv").write_text("record_id,cluster_id,match_probability\n1,k,0.9\n2,k,0.9\n",
                                      encoding="utf-8")
    s = score(read_truth(tmp_path / "in.csv"), read_clusters(tmp_path / "out.csv"))
    assert (s.pair_f1, s.missing) == (1.0, 1)
    (tmp_path / "bad.csv").write_text("id,cluster\n1,k\n", encoding="utf-8")
    with pytest.raises(ValueError, match="record_id"):
        read_clusters(tmp_path / "bad.csv")
