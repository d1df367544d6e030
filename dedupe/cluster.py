"""Clustering scored pairs into customers, with guards against chaining and hard cannot-links.

Strong edges (p ≥ auto_merge) are joined strongest first. A join is refused when it would
put a cannot-link pair together, exceed the cluster-size cap, or join two multi-record
clusters through a weak bridge (too few strong edges between them for their size). Refused
strong edges and edges between the two thresholds become merge suggestions.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

__all__ = ["ClusterResult", "SuggestedPair", "cluster_pairs"]

_CHUNK = 2_000_000  # pairs gathered at a time when looking for the edges inside components (bounds temporaries)


@dataclass(frozen=True)
class SuggestedPair:
    """Two clusters an admin should look at, through their strongest pair of records."""

    cluster_a: int
    cluster_b: int
    record_a: int
    record_b: int
    probability: float
    reason: str  # 'uncertain', 'size cap', 'weak bridge'


@dataclass
class ClusterResult:
    labels: np.ndarray  # cluster index per record
    best_edge: dict[int, tuple[int, float]]  # record → (partner, probability) that holds it in its cluster
    suggestions: list[SuggestedPair]
    refused: dict[str, int]


class _Forest:
    def __init__(self, n: int, cannot: Iterable[tuple[int, int]]) -> None:
        self.parent = list(range(n))
        self.size = [1] * n
        self.cannot: dict[int, set[int]] = defaultdict(set)
        for x, y in cannot:
            self.cannot[x].add(y)
            self.cannot[y].add(x)
        self.members: dict[int, list[int]] = {}

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def members_of(self, root: int) -> list[int]:
        return self.members.get(root, [root])

    def conflicts(self, ra: int, rb: int) -> bool:
        small, large = (ra, rb) if self.size[ra] <= self.size[rb] else (rb, ra)
        large_members = set(self.members_of(large))
        return any(self.cannot.get(x, set()) & large_members for x in self.members_of(small))

    def union(self, ra: int, rb: int) -> None:
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        self.members[ra] = self.members_of(ra) + self.members_of(rb)
        self.members.pop(rb, None)


def cluster_pairs(n: int, a: np.ndarray, b: np.ndarray, prob: np.ndarray, *, auto_merge: float, review: float,
                  max_cluster: int = 50, bridge_density: float = 0.5,
                  cannot_link: Iterable[tuple[int, int]] = (), evidence: np.ndarray | None = None,
                  min_mean_evidence: float = 0.0) -> ClusterResult:
    """Cluster n records given scored candidate pairs (a, b, prob).

    `evidence` (the pair's log2 Bayes factor, before the prior) drives the chain split: a
    group stays with another when their compared pairs agree on average (mean evidence at
    least `min_mean_evidence` bits), however weak each pair's own probability is.
    """
    forest = _Forest(n, cannot_link)
    order = np.argsort(-prob, kind="stable")
    strong = order[prob[order] >= auto_merge]
    best_edge: dict[int, tuple[int, float]] = {}
    bridges: dict[tuple[int, int], int] = defaultdict(int)
    refused: dict[str, int] = defaultdict(int)
    held: list[tuple[int, str]] = []
    for e in strong.tolist():
        x, y = int(a[e]), int(b[e])
        rx, ry = forest.find(x), forest.find(y)
        if rx == ry:
            continue
        if forest.conflicts(rx, ry):
            refused["cannot-link"] += 1
            continue
        sx, sy = forest.size[rx], forest.size[ry]
        if sx + sy > max_cluster:
            refused["size cap"] += 1
            held.append((e, "size cap"))
            continue
        if sx > 1 and sy > 1:
            key = (min(rx, ry), max(rx, ry))
            bridges[key] += 1
            if bridges[key] < max(1, math.ceil(bridge_density * min(sx, sy))):
                held.append((e, "weak bridge"))
                continue
        forest.union(rx, ry)
    roots = np.asarray([forest.find(i) for i in range(n)], dtype=np.int64)
    linkage = evidence if evidence is not None else np.where(prob >= review, 1.0, -1.0)
    roots = _average_linkage_split(roots, a, b, linkage, min_mean_evidence, forest, refused)
    _, labels = np.unique(roots, return_inverse=True)
    for e in order[prob[order] >= review].tolist():  # each record's strongest tie inside its cluster
        x, y = int(a[e]), int(b[e])
        if labels[x] == labels[y]:
            best_edge.setdefault(x, (y, float(prob[e])))
            best_edge.setdefault(y, (x, float(prob[e])))
    suggestions = _suggest(labels, a, b, prob, order, review, auto_merge, held, forest)
    refused["weak bridge"] = sum(1 for e, why in held if why == "weak bridge" and labels[a[e]] != labels[b[e]])
    return ClusterResult(labels=labels, best_edge=best_edge, suggestions=suggestions, refused=dict(refused))


def _average_linkage_split(roots: np.ndarray, a: np.ndarray, b: np.ndarray, linkage: np.ndarray,
                           threshold: float, forest: _Forest, refused: dict[str, int]) -> np.ndarray:
    """Re-cluster every component of three or more records by average linkage.

    Single-linkage chains (same-name strangers joined one at a time through whoever matched
    best) fall apart: a group joins another only if the mean evidence over their compared
    cross pairs reaches the threshold. Pairs never compared (no shared blocking key) are no
    evidence either way.
    """
    sizes = np.bincount(roots, minlength=len(roots))
    big = np.flatnonzero(sizes >= 3)
    if len(big) == 0:
        return roots
    # members and inner edges of every big component, grouped by sorting (not a scan per component)
    records = np.flatnonzero(sizes[roots] >= 3)
    records = records[np.argsort(roots[records], kind="stable")]
    record_bounds = np.searchsorted(roots[records], big)
    inner = np.concatenate([np.flatnonzero((roots[a[s:s + _CHUNK]] == roots[b[s:s + _CHUNK]])
                                           & (sizes[roots[a[s:s + _CHUNK]]] >= 3)) + s
                            for s in range(0, len(a), _CHUNK)] or [np.zeros(0, dtype=np.int64)])
    inner = inner[np.argsort(roots[a[inner]], kind="stable")]
    edge_bounds = np.searchsorted(roots[a[inner]], big)
    ends = np.r_[record_bounds[1:], len(records)]
    edge_ends = np.r_[edge_bounds[1:], len(inner)]
    result = roots.copy()
    for k in range(len(big)):
        members = records[record_bounds[k]:ends[k]].tolist()
        rows = inner[edge_bounds[k]:edge_ends[k]]
        edges = list(zip(a[rows].tolist(), b[rows].tolist(), linkage[rows].tolist(), strict=True))
        groups = _agglomerate(members, edges, threshold, forest)
        if len(groups) > 1:
            refused["chain split"] = refused.get("chain split", 0) + len(groups) - 1
            for group in groups[1:]:
                result[group] = group[0] + len(roots)  # a fresh label, distinct from every root
    return result


def _agglomerate(members: list[int], edges: list[tuple[int, int, float]], threshold: float,
                 forest: _Forest) -> list[list[int]]:
    position = {m: i for i, m in enumerate(members)}
    k = len(members)
    total = np.zeros((k, k))  # summed probability between current groups, over compared pairs
    count = np.zeros((k, k))  # how many of their pairs were compared at all
    for x, y, p in edges:
        total[position[x], position[y]] = total[position[y], position[x]] = p
        count[position[x], position[y]] = count[position[y], position[x]] = 1
    if (total[count > 0] >= threshold).all():
        return [members]  # every compared pair agrees: nothing to split
    total = total.copy()
    blocked = np.zeros((k, k), dtype=bool)
    for i, m in enumerate(members):
        for other in forest.cannot.get(m, ()):
            if other in position:
                blocked[i, position[other]] = True
    groups: list[list[int]] = [[i] for i in range(k)]
    alive = np.ones(k, dtype=bool)
    while True:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / count
        mask = ~(alive[:, None] & alive[None, :]) | np.eye(k, dtype=bool) | blocked | (count == 0)
        mean[mask] = -np.inf
        i, j = np.unravel_index(int(np.argmax(mean)), mean.shape)
        if mean[i, j] < threshold:
            break
        total[i, :] += total[j, :]
        total[:, i] += total[:, j]
        count[i, :] += count[j, :]
        count[:, i] += count[:, j]
        blocked[i, :] |= blocked[j, :]
        blocked[:, i] |= blocked[:, j]
        groups[i] += groups[j]
        alive[j] = False
    return [[members[x] for x in groups[g]] for g in np.flatnonzero(alive).tolist()]


def _suggest(labels: np.ndarray, a: np.ndarray, b: np.ndarray, prob: np.ndarray, order: np.ndarray,
             review: float, auto_merge: float, held: list[tuple[int, str]], forest: _Forest
             ) -> list[SuggestedPair]:
    reasons = dict(held)
    best: dict[tuple[int, int], SuggestedPair] = {}
    for e in order[prob[order] >= review].tolist():
        x, y = int(a[e]), int(b[e])
        cx, cy = int(labels[x]), int(labels[y])
        if cx == cy or y in forest.cannot.get(x, ()):
            continue
        key = (min(cx, cy), max(cx, cy))
        if key in best:
            continue
        reason = reasons.get(e, "uncertain" if prob[e] < auto_merge else "held")
        best[key] = SuggestedPair(key[0], key[1], x, y, float(prob[e]), reason)
    return list(best.values())
