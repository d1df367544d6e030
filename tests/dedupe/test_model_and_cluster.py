from __future__ import annotations

import numpy as np
import pytest

from dedupe.cluster import cluster_pairs
from dedupe.comparisons import Comparison
from dedupe.engine import explain_levels
from dedupe.model import MatchModel, fit_prior, patterns, prior_m, train_em

A = Comparison("a", "a", ("same a", "similar a", "a differs"))
B = Comparison("b", "b", ("same b", "b differs"))
C = Comparison("c", "c", ("same c", "c differs"))


def sample_levels(rng, n, probs):
    return rng.choice(len(probs), size=n, p=probs)


def test_em_recovers_known_m_and_match_share() -> None:
    rng = np.random.default_rng(3)
    true_m = [[0.85, 0.10, 0.05], [0.9, 0.1], [0.8, 0.2]]
    true_u = [[0.02, 0.08, 0.90], [0.05, 0.95], [0.1, 0.9]]
    matches, non = 6_000, 24_000
    levels = np.zeros((matches + non, 3), dtype=np.int8)
    for j in range(3):
        levels[:matches, j] = sample_levels(rng, matches, true_m[j])
        levels[matches:, j] = sample_levels(rng, non, true_u[j])
    levels[rng.random(len(levels)) < 0.1, 1] = -1  # some values missing
    model = train_em({"all": (levels, [0, 1, 2])}, [A, B, C], true_u, max_iterations=200, tolerance=1e-7)
    assert model.converged
    for estimated, expected in zip(model.m, true_m, strict=True):
        assert np.allclose(estimated, expected, atol=0.03), (estimated, expected)


def test_em_runs_on_distinct_patterns_with_their_counts() -> None:
    levels = np.asarray([[0, 1, -1], [2, 0, 1], [0, 1, -1], [0, 1, 0], [0, 1, -1]], dtype=np.int8)
    rows, counts = patterns(levels)
    found = {tuple(r): c for r, c in zip(rows.tolist(), counts.tolist(), strict=True)}
    assert found == {(0, 1, -1): 3, (2, 0, 1): 1, (0, 1, 0): 1}
    # the order of the pairs does not matter
    rng = np.random.default_rng(5)
    many = np.stack([rng.choice(3, 3000), rng.choice(2, 3000), rng.choice(2, 3000)], axis=1).astype(np.int8)
    u = [[0.02, 0.08, 0.9], [0.05, 0.95], [0.1, 0.9]]
    one = train_em({"k": (many, [0, 1, 2])}, [A, B, C], u)
    shuffled = train_em({"k": (many[rng.permutation(len(many))], [0, 1, 2])}, [A, B, C], u)
    assert np.allclose(one.m[0], shuffled.m[0]) and np.allclose(one.m[2], shuffled.m[2])


def test_em_session_leaves_out_the_comparisons_its_blocking_key_selected_on() -> None:
    rng = np.random.default_rng(4)
    levels = np.zeros((2000, 2), dtype=np.int8)
    levels[:, 1] = rng.choice(2, size=2000, p=[0.5, 0.5])
    model = train_em({"on_a": (levels, [1])}, [A, B], [[0.02, 0.08, 0.9], [0.05, 0.95]])
    assert model.m[0] == prior_m(A)  # a: never estimated in a session blocked on it, still its prior


def test_prior_is_the_fixed_point_of_expected_matches() -> None:
    model = MatchModel(["a"], m=[[0.9, 0.1]], u=[[0.01, 0.99]])
    bits = np.concatenate([np.full(300, 40.0), np.full(700, -40.0)])  # 300 sure matches, 700 sure non-matches
    fit_prior(model, bits, total_pairs=1_000_000)
    assert model.match_share == pytest.approx(300 / 1_000_000, rel=0.01)


def test_weights_are_positive_for_agreement_and_negative_for_disagreement() -> None:
    model = MatchModel(["a"], m=[[0.9, 0.07, 0.03]], u=[[0.01, 0.09, 0.9]])
    weights = model.weights()[0]
    assert weights[0] > 6 and weights[2] < -4 and weights[0] > weights[1] > weights[2]


def test_explanation_puts_the_strongest_evidence_first_and_what_speaks_against_last() -> None:
    sentence = explain_levels([A, B, C], [0, 1, -1], [7.5, -3.0, 0.0])
    assert sentence == "same a; b differs"
    assert explain_levels([A], [-1], [0.0]) == "little evidence either way"


def edges(pairs):
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    prob = np.array([p[2] for p in pairs], dtype=np.float64)
    return a, b, prob


def groups(labels):
    out = {}
    for i, label in enumerate(labels.tolist()):
        out.setdefault(label, set()).add(i)
    return sorted(sorted(g) for g in out.values())


def test_threshold_clusters_and_uncertain_pairs_become_suggestions() -> None:
    a, b, p = edges([(0, 1, 0.99), (1, 2, 0.97), (3, 4, 0.8), (5, 6, 0.3)])
    result = cluster_pairs(7, a, b, p, auto_merge=0.95, review=0.7)
    assert groups(result.labels) == [[0, 1, 2], [3], [4], [5], [6]]
    assert [(s.record_a, s.record_b, s.reason) for s in result.suggestions] == [(3, 4, "uncertain")]


def test_weak_bridge_between_two_groups_is_held_for_review() -> None:
    # two tight groups of three joined by one strong edge: a chain, not one person
    pairs = [(0, 1, 0.999), (0, 2, 0.999), (1, 2, 0.999), (3, 4, 0.999), (3, 5, 0.999), (4, 5, 0.999),
             (2, 3, 0.96)]
    result = cluster_pairs(6, *edges(pairs), auto_merge=0.95, review=0.7)
    assert groups(result.labels) == [[0, 1, 2], [3, 4, 5]]
    assert result.suggestions[0].reason == "weak bridge"
    # the same groups with several strong cross edges are one customer
    pairs += [(1, 4, 0.98), (0, 5, 0.98)]
    assert groups(cluster_pairs(6, *edges(pairs), auto_merge=0.95, review=0.7).labels) == [[0, 1, 2, 3, 4, 5]]


def test_size_cap_stops_runaway_clusters() -> None:
    chain = [(i, i + 1, 0.99) for i in range(9)]
    result = cluster_pairs(10, *edges(chain), auto_merge=0.95, review=0.7, max_cluster=4)
    assert max(len(g) for g in groups(result.labels)) <= 4
    assert any(s.reason == "size cap" for s in result.suggestions)


def test_cannot_link_is_never_merged_nor_suggested() -> None:
    pairs = [(0, 1, 0.999), (1, 2, 0.999)]
    result = cluster_pairs(3, *edges(pairs), auto_merge=0.95, review=0.7, cannot_link=[(0, 2)])
    assert groups(result.labels) in ([[0, 1], [2]], [[0], [1, 2]])
    assert result.refused["cannot-link"] == 1
