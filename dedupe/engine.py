"""The probabilistic matcher: block, compare, train, score, explain, cluster.

Settings are plain data (saved with every run); the trained model is plain data too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from dedupe.blocking import BLOCKED_ON, BlockingReport, candidate_pairs
from dedupe.cluster import cluster_pairs
from dedupe.comparisons import (
    COMPARISONS,
    MISSING,
    Comparison,
    compare_all,
    exact_values,
    identifier_comparison,
    record_identity,
    value_counts,
)
from dedupe.features import FeatureTable, build_features
from dedupe.model import MatchModel, estimate_u, fit_prior, train_em
from dedupe.types import Cluster, MatchRecord, MemberDecision, Resolution, Suggestion

__all__ = ["MatchSettings", "ProbabilisticMatcher", "explain_levels", "whole_name_counts"]

log = logging.getLogger(__name__)


def _held(table: FeatureTable, comparison: Comparison, counts: dict, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How many people hold the value each (exactly agreeing) pair shares."""
    frequency = counts[comparison.name]
    column = table.identifiers[comparison.column] if comparison.name.startswith("id:") \
        else getattr(table, comparison.column)
    key = f"held:{comparison.name}:{len(table)}"  # stale once the table grows (incremental matching)
    if key not in counts and len(a) * 4 <= len(table) and not counts.get("bulk"):
        # few pairs against a big table (incremental matching): look them up one by one
        values = exact_values(table, comparison, a, b)
        return np.asarray([frequency.get(v, 1) for v in values], dtype=np.float64)
    if key not in counts:  # each record's (first) value looked up once
        firsts = ((v[0] if v else "") if isinstance(v, tuple) else v for v in column)
        counts[key] = np.fromiter((frequency.get(v, 1) for v in firsts), dtype=np.float64, count=len(table))
    held = counts[key][a]
    if not (column and isinstance(column[0], tuple)):
        return held
    multi = f"multi:{comparison.name}:{len(table)}"
    if multi not in counts:
        counts[multi] = np.fromiter((len(v) > 1 for v in column), dtype=bool, count=len(table))
    several = np.flatnonzero(counts[multi][a])
    if len(several):  # the agreed value may be a later one
        values = exact_values(table, comparison, a[several], b[several])
        held[several] = [frequency.get(v, 1) for v in values]
    return held


def whole_name_counts(table: FeatureTable) -> dict[str, int]:
    """How many different people (by e-mail or phone) hold each whole name ('ivan ivanov')."""
    holders: dict[str, set[str]] = {}
    for i, value in enumerate(table.name_tokens):
        if value:
            holders.setdefault(value, set()).add(record_identity(table, i))
    return {value: len(people) for value, people in holders.items()}


def _tf_penalty(held: np.ndarray, n: int, u_exact: float) -> np.ndarray:
    """Bits to take away when the agreed value is common (an office line, 'Ivan Ivanov').

    `held` counts the different people holding the value. One person keeps the level's weight;
    a value held by more than two people counts as weaker evidence, by how much more often it
    occurs than an average agreement would.
    """
    frequency = held / max(n, 1)
    penalty = np.minimum(0.0, np.log2(max(u_exact, 1e-12) / frequency))
    return np.where(held > 2, penalty, 0.0)


@dataclass
class MatchSettings:
    """What the matcher does, as data: keys, comparisons, thresholds, guards."""

    blocking: list[str] = field(default_factory=lambda: [
        "email", "phone", "name", "name_swapped", "name_city", "company_city", "birth_family",
        "postcode_given", "birth_place", "street_place"])
    comparisons: list[str] = field(default_factory=lambda: list(COMPARISONS))
    identifiers: list[str] = field(default_factory=list)  # custom fields holding exact identifiers
    auto_merge: float = 0.95
    review: float = 0.70
    max_block: int = 120
    max_cluster: int = 50
    bridge_density: float = 0.5
    min_mean_evidence: float = 10.0  # bits: a chain splits where groups do not agree this much on average
    em_sample: int = 300_000
    u_sample: int = 400_000
    term_frequency: bool = True
    tf_min_records: int = 1_000  # below this, value frequencies are noise: no term-frequency adjustment


def explain_levels(comparisons: Sequence[Comparison], levels: Sequence[int], bits: Sequence[float]) -> str:
    """One plain-language sentence: the strongest evidence first, then what speaks against."""
    parts = [(b, comparisons[j].labels[level]) for j, (level, b) in enumerate(zip(levels, bits, strict=True))
             if level != MISSING and abs(b) >= 0.5]
    positive = [label for b, label in sorted(parts, key=lambda x: -x[0]) if b > 0]
    negative = [label for b, label in sorted(parts, key=lambda x: x[0]) if b < 0]
    return "; ".join(positive + negative) or "little evidence either way"


_BITS_CHUNK = 2_000_000  # pairs whose per-comparison evidence is held at once


@dataclass
class _Scored:
    a: np.ndarray
    b: np.ndarray
    levels: np.ndarray
    evidence: np.ndarray  # per pair: summed bits after term-frequency adjustment, before the prior
    probability: np.ndarray
    tf_cache: dict = field(default_factory=dict)  # value frequencies, reused for explanations


class ProbabilisticMatcher:
    """Fellegi–Sunter matching with EM-trained m, sampled u, and guarded clustering."""

    def __init__(self, settings: MatchSettings | None = None) -> None:
        self.settings = settings or MatchSettings()
        self.model: MatchModel | None = None
        self.report: dict[str, object] = {}
        self.last_table: FeatureTable | None = None  # what the last resolve() saw, for incremental matching
        self.last_labels: np.ndarray | None = None

    # -- the Matcher seam -------------------------------------------------------------------
    def match(self, records: Sequence[MatchRecord]) -> list[Cluster]:
        return self.resolve(records).clusters

    def resolve(self, records: Sequence[MatchRecord], cannot_link: Iterable[tuple[int, int]] = ()) -> Resolution:
        """Cluster records; cannot_link holds pairs of record keys that must stay apart."""
        started = time.perf_counter()
        table = build_features([r.customer for r in records], [r.key for r in records],
                               identifiers=self.settings.identifiers)
        return self.resolve_features(table, cannot_link, {"features": time.perf_counter() - started})

    def resolve_features(self, table: FeatureTable, cannot_link: Iterable[tuple[int, int]] = (),
                         timings: dict[str, float] | None = None, *, explain: bool = True,
                         keep_table: bool = True) -> Resolution:
        """Cluster records already turned into features (callers that build them in parallel or in pieces).

        `explain=False` leaves the per-record sentences and evidence out (a caller that only writes
        cluster ids and probabilities); suggestions are always explained. `keep_table=False`: the
        caller will not match incrementally against this table, so its coded columns are released
        once the pairs are scored and it is not kept as `last_table` (memory, at a million records).
        """
        timings = dict(timings or {})
        scored, blocking = self._score(table, timings)
        if not keep_table:
            table.drop_derived()
            self.last_table = None
        index = {int(k): i for i, k in enumerate(table.keys)}
        cannot = [(index[x], index[y]) for x, y in cannot_link if x in index and y in index]
        mark = time.perf_counter()
        result = cluster_pairs(len(table), scored.a, scored.b, scored.probability,
                               auto_merge=self.settings.auto_merge, review=self.settings.review,
                               max_cluster=self.settings.max_cluster,
                               bridge_density=self.settings.bridge_density, cannot_link=cannot,
                               evidence=scored.evidence, min_mean_evidence=self.settings.min_mean_evidence)
        timings["cluster"] = time.perf_counter() - mark
        mark = time.perf_counter()
        resolution = self._resolution(table, scored, result, explain)
        timings["explain"] = time.perf_counter() - mark
        self.last_labels = result.labels
        self.report = {"records": len(table), "candidate_pairs": blocking.pairs,
                       "pairs_by_key": blocking.pairs_by_key, "oversized_blocks": blocking.oversized_blocks,
                       "records_in_dropped_blocks": blocking.records_in_dropped_blocks,
                       "refused_merges": result.refused, "timings": timings,
                       "settings": asdict(self.settings), "model": self.model.to_dict() if self.model else None}
        return resolution

    # -- scoring ----------------------------------------------------------------------------
    def active_comparisons(self, table: FeatureTable) -> list[Comparison]:
        chosen = [COMPARISONS[name] for name in self.settings.comparisons
                  if name in COMPARISONS and table.present(COMPARISONS[name].column)]
        chosen += [identifier_comparison(name) for name in self.settings.identifiers
                   if any(table.identifiers.get(name, []))]
        return chosen

    def _score(self, table: FeatureTable, timings: dict[str, float]) -> tuple[_Scored, BlockingReport]:
        s = self.settings
        mark = time.perf_counter()
        keys = list(s.blocking) + (["identifiers"] if s.identifiers and "identifiers" not in s.blocking else [])
        a, b, blocking = candidate_pairs(table, keys, s.max_block, sample_per_key=s.em_sample // max(len(keys), 1))
        timings["blocking"] = time.perf_counter() - mark
        comparisons = self.active_comparisons(table)
        mark = time.perf_counter()
        levels = compare_all(table, a, b, comparisons)
        timings["compare"] = time.perf_counter() - mark
        mark = time.perf_counter()
        if self.model is None or self.model.comparisons != [c.name for c in comparisons]:
            u = estimate_u(table, comparisons, sample=s.u_sample)
            codes = a.astype(np.int64) * len(table) + b  # sorted: candidate_pairs returns them in code order
            sessions = {}
            for key, sample in blocking.samples.items():
                rows = np.searchsorted(codes, sample)
                blocked = BLOCKED_ON.get(key, frozenset())
                include = [j for j, c in enumerate(comparisons)
                           if c.name not in blocked and not (key == "identifiers" and c.name.startswith("id:"))]
                sessions[key] = (levels[rows], include)
            self.model = train_em(sessions, comparisons, u)
        tf_cache: dict = {"bulk": True}  # every pair is scored: per-record lookups, whatever a chunk holds
        evidence = np.zeros(len(a), dtype=np.float32)
        for start in range(0, len(a), _BITS_CHUNK):
            rows = slice(start, start + _BITS_CHUNK)
            evidence[rows] = self._bits(table, comparisons, a[rows], b[rows], levels[rows], tf_cache).sum(axis=1)
        n = len(table)
        fit_prior(self.model, evidence, n * (n - 1) / 2)
        timings["train"] = time.perf_counter() - mark
        mark = time.perf_counter()
        probability = self.probability(evidence[:, None])
        timings["score"] = time.perf_counter() - mark
        self.last_table = table
        return _Scored(a, b, levels, evidence, probability, tf_cache), blocking

    def probability(self, bits: np.ndarray) -> np.ndarray:
        """Match probability from per-comparison evidence (pairs × comparisons) plus the prior."""
        assert self.model is not None
        total = bits.sum(axis=1) + self.model.prior_bits()
        return 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))

    def _bits(self, table: FeatureTable, comparisons: Sequence[Comparison], a: np.ndarray, b: np.ndarray,
              levels: np.ndarray, counts: dict[str, dict[str, int]] | None = None) -> np.ndarray:
        """Evidence in bits per pair and comparison; `counts` caches value frequencies by comparison."""
        assert self.model is not None
        counts = {} if counts is None else counts
        weights = self.model.weights()
        bits = np.zeros(levels.shape, dtype=np.float32)
        n = max(len(table), 1)
        names = [c.name for c in comparisons]
        both_names = np.zeros(len(a), dtype=bool)
        if "given_name" in names and "family_name" in names:
            both_names = (levels[:, names.index("given_name")] == 0) & (levels[:, names.index("family_name")] == 0)
        use_tf = self.settings.term_frequency and len(table) >= self.settings.tf_min_records
        for j, comparison in enumerate(comparisons):
            column = levels[:, j]
            present = column != MISSING
            bits[present, j] = weights[j][column[present]]
            if use_tf and comparison.tf_level is not None:
                exact_mask = column == comparison.tf_level
                if comparison.name in ("given_name", "family_name"):
                    exact_mask &= ~both_names  # the whole name's frequency is used instead, below
                exact = np.flatnonzero(exact_mask)
                if len(exact):
                    if comparison.name not in counts:
                        counts[comparison.name] = value_counts(table, comparison)
                    held = _held(table, comparison, counts, a[exact], b[exact])
                    u_exact = (self.model.u_random or self.model.u)[j][comparison.tf_level]
                    bits[exact, j] += _tf_penalty(held, n, u_exact)
        if use_tf and both_names.any():
            # same given name and surname: how common is that whole name? ("Ivan Ivanov" says little)
            if "name" not in counts:
                counts["name"] = whole_name_counts(table)
            frequency = counts["name"]
            rows = np.flatnonzero(both_names)
            key = f"held:name:{len(table)}"
            if key in counts or len(rows) * 4 > n or counts.get("bulk"):  # many pairs: each record's name once
                if key not in counts:
                    counts[key] = np.fromiter((frequency.get(v, 1) for v in table.name_tokens),
                                              dtype=np.float64, count=len(table))
                held = counts[key][a[rows]]
            else:
                held = np.asarray([frequency.get(table.name_tokens[i], 1) for i in a[rows].tolist()],
                                  dtype=np.float64)
            given, family = names.index("given_name"), names.index("family_name")
            u_name = (self.model.u_random or self.model.u)[given][0] * (self.model.u_random or self.model.u)[family][0]
            bits[rows, family] += _tf_penalty(held, n, u_name)
        return bits

    # -- results ----------------------------------------------------------------------------
    def _resolution(self, table: FeatureTable, scored: _Scored, result, explain: bool = True  # noqa: ANN001
                    ) -> Resolution:
        comparisons = self.active_comparisons(table)
        n = max(len(table), 1)
        codes = scored.a.astype(np.int64) * n + scored.b  # sorted: candidate pairs come in code order
        wanted = [(i, partner) for i, (partner, _) in result.best_edge.items()] if explain else []
        wanted += [(s.record_a, s.record_b) for s in result.suggestions]
        asked = np.asarray([min(x, y) * n + max(x, y) for x, y in wanted], dtype=np.int64)
        rows = np.searchsorted(codes, asked) if len(codes) else np.zeros(len(asked), dtype=np.int64)
        found = (rows < len(codes)) & (codes[np.minimum(rows, len(codes) - 1)] == asked) if len(codes) \
            else np.zeros(len(asked), dtype=bool)
        edges = np.unique(rows[found])
        # per-comparison bits only for the pairs an explanation needs (all pairs' would not fit at 1M)
        bits_of = dict(zip(edges.tolist(), self._bits(table, comparisons, scored.a[edges], scored.b[edges],
                                                      scored.levels[edges], scored.tf_cache), strict=True))
        row_of = dict(zip(asked[found].tolist(), rows[found].tolist(), strict=True))

        def explain_pair(x: int, y: int) -> tuple[str, dict[str, object]]:
            e = row_of.get(min(x, y) * n + max(x, y))
            if e is None:
                return "linked through other records of the same customer", {}
            bits = bits_of[e]
            evidence = {c.name: {"level": c.labels[lvl] if lvl != MISSING else "missing",
                                 "bits": round(float(bit), 2)}
                        for c, lvl, bit in zip(comparisons, scored.levels[e], bits, strict=True)}
            return explain_levels(comparisons, scored.levels[e], bits), evidence

        keys = table.keys.tolist()
        best_edge = result.best_edge
        # records grouped by cluster label, in order of each cluster's first record
        labels = result.labels
        order = np.argsort(labels, kind="stable")
        bounds = np.flatnonzero(np.r_[True, labels[order][1:] != labels[order][:-1], True])
        groups = [order[s:e].tolist() for s, e in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)]
        groups.sort(key=lambda members: members[0])
        clusters: list[Cluster] = []
        label_to_cluster: dict[int, int] = {}
        alone = "no other record is similar enough"
        for members in groups:
            decisions = []
            for i in members:
                edge = best_edge.get(i) if len(members) > 1 else None
                if edge is None:
                    decisions.append(MemberDecision(keys[i], "new", 1.0, alone))
                    continue
                partner, probability = edge
                if not explain:
                    decisions.append(MemberDecision(keys[i], "probabilistic", round(probability, 6), ""))
                    continue
                sentence, evidence = explain_pair(i, partner)
                decisions.append(MemberDecision(keys[i], "probabilistic", round(probability, 6), sentence,
                                                {"partner": keys[partner], "comparisons": evidence}))
            label_to_cluster[int(labels[members[0]])] = len(clusters)
            clusters.append(Cluster(tuple(decisions)))
        suggestions = []
        for s in result.suggestions:
            sentence, evidence = explain_pair(s.record_a, s.record_b)
            suggestions.append(Suggestion(
                cluster_a=label_to_cluster[s.cluster_a], cluster_b=label_to_cluster[s.cluster_b],
                record_a=int(table.keys[s.record_a]), record_b=int(table.keys[s.record_b]),
                probability=round(s.probability, 6), reason=s.reason, explanation=sentence,
                evidence={"comparisons": evidence}))
        return Resolution(clusters, suggestions)

