"""Fellegi–Sunter scoring: m and u probabilities per comparison level, trained without labels.

The approach is Splink's, which holds up on customer data:
- u (how often a level occurs among non-matches) comes from random record pairs, which are
  almost all non-matches;
- m (how often among matches) comes from expectation–maximisation run once per blocking key,
  over that key's candidate pairs, leaving out the comparisons the key itself blocked on (pairs
  that share a surname by construction say nothing about how often matches share one); each
  comparison's m is the average over the sessions that could estimate it;
- the prior (the chance two random records match) is a fixed point: the expected number of
  matching candidate pairs under the model, divided by all pairs.
The model is plain data (JSON-able) so that it is saved with every run and explained.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from dedupe.comparisons import MISSING, Comparison, compare_all
from dedupe.features import FeatureTable

__all__ = ["MatchModel", "estimate_u", "fit_prior", "prior_m", "train_em"]

_FLOOR = 1e-12
_U_PSEUDO_PAIRS = 2_000.0  # how many random pairs the default u is worth
_M_PSEUDO_PAIRS = 50.0  # how many matched pairs the prior m is worth


@dataclass
class MatchModel:
    """Per comparison: m and u for each level; lambda: share of matches among candidate pairs."""

    comparisons: list[str]
    m: list[list[float]]
    u: list[list[float]]
    match_share: float = 0.05
    u_random: list[list[float]] = field(default_factory=list)  # level frequencies among random pairs
    iterations: int = 0
    converged: bool = False
    history: list[float] = field(default_factory=list)

    def weights(self) -> list[np.ndarray]:
        """log2(m/u) per comparison level: the evidence each level carries, in bits."""
        return [np.log2(np.maximum(np.asarray(m), _FLOOR) / np.maximum(np.asarray(u), _FLOOR))
                for m, u in zip(self.m, self.u, strict=True)]

    def prior_bits(self) -> float:
        share = min(max(self.match_share, _FLOOR), 1 - _FLOOR)
        return math.log2(share / (1 - share))

    def to_dict(self) -> dict:
        return asdict(self)


def prior_m(comparison: Comparison) -> list[float]:
    """Sensible starting m: most matches agree exactly, few disagree completely."""
    levels = len(comparison.labels)
    raw = [0.8 * (0.35 ** k) for k in range(levels - 1)] + [0.03]
    total = sum(raw)
    return [v / total for v in raw]


def estimate_u(table: FeatureTable, comparisons: Sequence[Comparison], *, sample: int = 400_000,
               seed: int = 7) -> list[list[float]]:
    """Level frequencies among random pairs (nearly all non-matches), smoothed."""
    n = len(table)
    if n < 2:
        return [list(c.u_default) or [1.0 / len(c.labels)] * len(c.labels) for c in comparisons]
    rng = np.random.default_rng(seed)
    size = min(sample, n * (n - 1) // 2)
    a = rng.integers(0, n, size=size, dtype=np.int64)
    b = rng.integers(0, n - 1, size=size, dtype=np.int64)
    b = np.where(b >= a, b + 1, b)
    levels = compare_all(table, a, b, comparisons)
    result = []
    for j, comparison in enumerate(comparisons):
        column = levels[:, j]
        counts = np.bincount(column[column != MISSING], minlength=len(comparison.labels)).astype(float)
        # smoothed towards typical values, so that small data sets still get sensible weights
        default = np.asarray(comparison.u_default or [1.0 / len(comparison.labels)] * len(comparison.labels))
        counts += _U_PSEUDO_PAIRS * default
        result.append((counts / counts.sum()).tolist())
    return result


def _log_likelihoods(levels: np.ndarray, tables: list[np.ndarray]) -> np.ndarray:
    total = np.zeros(len(levels), dtype=np.float64)
    for j, table in enumerate(tables):
        column = levels[:, j]
        present = column != MISSING
        total[present] += table[column[present]]
    return total


def patterns(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a level matrix and how often each occurs.

    Candidate pairs fall into few comparison patterns (a few thousand among millions of pairs),
    and EM needs only the patterns and their counts: every pair of one pattern gets the same
    posterior.
    """
    if len(levels) == 0:
        return levels, np.zeros(0)
    code = np.zeros(len(levels), dtype=np.int64)
    for j in range(levels.shape[1]):  # mixed radix: each column's levels (MISSING = -1 too) as one digit
        code = code * (int(levels[:, j].max()) + 2) + (levels[:, j].astype(np.int64) + 1)
    _, first, counts = np.unique(code, return_index=True, return_counts=True)
    return levels[first], counts.astype(np.float64)


def _em_session(levels: np.ndarray, comparisons: Sequence[Comparison], include: list[int],
                u: list[list[float]], m: list[list[float]], max_iterations: int, tolerance: float
                ) -> tuple[list[list[float]], float, int, bool]:
    """EM for m (and the match share) over the included comparisons, u fixed; m has a Dirichlet prior.

    Runs on the distinct comparison patterns weighted by their counts (the same sums as per pair).
    """
    prior = [np.asarray(x) for x in m]
    m = [list(x) for x in m]
    share, iteration, converged = 0.1, 0, False
    log_u = [np.log(np.maximum(np.asarray(u[j]), _FLOOR)) for j in include]
    sub, counts = patterns(levels[:, include])
    total = float(counts.sum())
    for iteration in range(1, max_iterations + 1):  # noqa: B007 - reported after the loop
        log_m = [np.log(np.maximum(np.asarray(m[j]), _FLOOR)) for j in include]
        lm = _log_likelihoods(sub, log_m) + math.log(share)
        lu = _log_likelihoods(sub, log_u) + math.log(1 - share)
        posterior = 1.0 / (1.0 + np.exp(np.clip(lu - lm, -50, 50)))
        weighted = posterior * counts
        change = 0.0
        for k, j in enumerate(include):
            column = sub[:, k]
            present = column != MISSING
            weights = np.bincount(column[present], weights=weighted[present],
                                  minlength=len(comparisons[j].labels)) + _M_PSEUDO_PAIRS * prior[j]
            new = (weights / weights.sum()).tolist()
            change = max(change, max(abs(x - y) for x, y in zip(m[j], new, strict=True)))
            m[j] = new
        share = min(max(float(weighted.sum()) / total, _FLOOR), 1 - _FLOOR)
        if change < tolerance:
            converged = True
            break
    return m, share, iteration, converged


def train_em(sessions: dict[str, tuple[np.ndarray, list[int]]], comparisons: Sequence[Comparison],
             u: list[list[float]], *, max_iterations: int = 30, tolerance: float = 1e-4) -> MatchModel:
    """m per comparison from one EM session per blocking key: {key: (levels, comparisons included)}."""
    prior = [prior_m(c) for c in comparisons]
    model = MatchModel([c.name for c in comparisons], [list(x) for x in prior], [list(x) for x in u],
                       u_random=[list(x) for x in u])
    estimates: list[list[list[float]]] = [[] for _ in comparisons]
    for levels, include in sessions.values():
        if len(levels) == 0 or not include:
            continue
        m, _, iterations, converged = _em_session(levels, comparisons, include, u, prior, max_iterations,
                                                  tolerance)
        model.iterations = max(model.iterations, iterations)
        model.converged = model.converged or converged
        for j in include:
            estimates[j].append(m[j])
    for j, found in enumerate(estimates):
        if found:
            model.m[j] = np.mean(np.asarray(found), axis=0).tolist()
    return model


def fit_prior(model: MatchModel, bits_without_prior: np.ndarray, total_pairs: float,
              iterations: int = 30, min_duplicate_rate: float = 0.01) -> None:
    """Set the match share to the fixed point: expected matching candidate pairs over all pairs.

    Never below what a data set with `min_duplicate_rate` duplicates per record would have: a
    file without duplicates today must not teach the model that duplicates are impossible.
    """
    records = math.sqrt(2 * max(total_pairs, 1.0)) + 1
    floor = max(min_duplicate_rate * records / max(total_pairs, 1.0), _FLOOR)
    # start from above: the largest fixed point is the meaningful one (0 is always a fixed point)
    share = min(max(len(bits_without_prior) / max(total_pairs, 1.0), _FLOOR), 0.5)
    for _ in range(iterations):
        prior = math.log2(share / (1 - share))
        expected = float((1.0 / (1.0 + np.exp2(-np.clip(bits_without_prior + prior, -60, 60)))).sum())
        new = min(max(expected / max(total_pairs, 1.0), floor), 0.5)
        if abs(new - share) <= 1e-3 * share:
            share = new
            break
        share = new
    model.match_share = share
