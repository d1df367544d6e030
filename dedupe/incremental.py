"""Incremental matching: new records against existing customers, without re-running everything.

An `IncrementalIndex` keeps what a full run built (features, blocking index, cluster labels, value
frequencies, the trained model). `add()` blocks only the new records against it, scores those
pairs with the same model and attaches each new record to its best existing customer, starts a
new customer, or leaves a suggestion. Existing customers are never merged with each other here:
that is a decision for a full re-cluster or a person.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from dedupe.blocking import BLOCKING_KEYS, key_values
from dedupe.comparisons import compare_all, value_counts
from dedupe.engine import ProbabilisticMatcher, explain_levels, whole_name_counts
from dedupe.features import FeatureTable, build_features
from dedupe.types import MatchRecord

__all__ = ["IncrementalIndex", "Placement"]


@dataclass(frozen=True)
class Placement:
    """Where one new record went: an existing or new cluster label, and why."""

    key: int
    cluster: int
    probability: float
    explanation: str
    joined_existing: bool


class IncrementalIndex:
    """The state of a trained matcher over existing records, ready for `add()`."""

    def __init__(self, matcher: ProbabilisticMatcher, table: FeatureTable | None = None,
                 labels: Sequence[int] | None = None) -> None:
        """Index the matcher's last resolve(); or, with `table` and `labels`, existing customers
        loaded from a store (the matcher then needs its saved model, not a new run)."""
        if table is None or labels is None:
            if matcher.model is None or matcher.last_table is None or matcher.last_labels is None:
                raise ValueError("run resolve() on the existing records first (it trains the model)")
            table, labels = matcher.last_table, matcher.last_labels.tolist()
        elif matcher.model is None:
            raise ValueError("the matcher has no trained model: load the saved one or run a full match")
        if len(labels) != len(table):
            raise ValueError(f"{len(labels)} labels for {len(table)} records")
        self.matcher = matcher
        self.table: FeatureTable = table
        self.labels: list[int] = list(labels)
        self.sizes: dict[int, int] = defaultdict(int)
        for label in self.labels:
            self.sizes[label] += 1
        self.next_label = max(self.labels, default=-1) + 1
        self.comparisons = matcher.active_comparisons(self.table)
        self.blocks: dict[str, dict[str, list[int]]] = {}
        for name in matcher.settings.blocking:
            rows, values = key_values(self.table, name)
            index: dict[str, list[int]] = defaultdict(list)
            for i, value in zip(rows.tolist(), values, strict=True):
                if value:
                    index[value].append(i)
            self.blocks[name] = index
        # blocks above the cap, split by city once here, so that add() never scans a huge block
        self.by_city: dict[str, dict[str, dict[str, list[int]]]] = {}
        cap = matcher.settings.max_block
        for name, index in self.blocks.items():
            for value, members in index.items():
                if len(members) > cap:
                    split: dict[str, list[int]] = defaultdict(list)
                    for m in members:
                        split[self.table.city[m]].append(m)
                    self.by_city.setdefault(name, {})[value] = split
        self.counts: dict = {c.name: value_counts(self.table, c) for c in self.comparisons if c.tf_level is not None}
        self.counts["name"] = whole_name_counts(self.table)
        # build the coded columns comparisons use now, as part of the index, not in the first add()
        if len(self.table):
            compare_all(self.table, np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), self.comparisons)

    def _candidates(self, start: int) -> tuple[np.ndarray, np.ndarray]:
        cap = self.matcher.settings.max_block
        left: list[int] = []
        right: list[int] = []
        for name, index in self.blocks.items():
            fn = BLOCKING_KEYS[name]
            big = self.by_city.setdefault(name, {})
            for i in range(start, len(self.table)):
                city = self.table.city[i]
                for value in fn(self.table, i):
                    members = index[value]
                    if value in big:  # a huge block: only the members in the same city, at most the cap
                        members = big[value].get(city, [])[-cap:] if city else []
                        big[value][city].append(i)
                    elif len(members) + 1 > cap:  # this record makes the block huge
                        split: dict[str, list[int]] = defaultdict(list)
                        for m in members:
                            split[self.table.city[m]].append(m)
                        big[value] = split
                        members = split.get(city, [])[-cap:] if city else []
                        split[city].append(i)
                    left.extend(members)
                    right.extend([i] * len(members))
                    index[value].append(i)
        if not left:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        n = len(self.table)
        codes = np.unique(np.asarray(left, dtype=np.int64) * n + np.asarray(right, dtype=np.int64))
        return codes // n, codes % n

    def _update_counts(self, start: int) -> None:
        for comparison in self.comparisons:
            if comparison.tf_level is None:
                continue
            column = getattr(self.table, comparison.column) if not comparison.name.startswith("id:") \
                else self.table.identifiers[comparison.column]
            frequency = self.counts[comparison.name]
            for value in column[start:]:
                for item in value if isinstance(value, tuple) else (value,):
                    if item:
                        frequency[item] = frequency.get(item, 0) + 1

    def add(self, records: Sequence[MatchRecord], cannot_link: Iterable[tuple[int, int]] = ()
            ) -> tuple[list[Placement], list[tuple[int, int, float, str]]]:
        """Place new records; returns placements and suggestions (key_a, key_b, probability, why)."""
        settings = self.matcher.settings
        start = len(self.table)
        self.table.extend(build_features([r.customer for r in records], [r.key for r in records],
                                         identifiers=settings.identifiers))
        self.labels.extend([-1] * len(records))
        self._update_counts(start)
        a, b = self._candidates(start)
        levels = compare_all(self.table, a, b, self.comparisons)
        bits = self.matcher._bits(self.table, self.comparisons, a, b, levels, self.counts)  # noqa: SLF001
        probability = self.matcher.probability(bits)
        forbidden = {tuple(sorted(p)) for p in cannot_link}
        apart: dict[int, set[int]] = defaultdict(set)
        for x, y in forbidden:
            apart[x].add(y)
            apart[y].add(x)
        keys = self.table.keys
        placed: dict[int, Placement] = {}
        suggestions: list[tuple[int, int, float, str]] = []
        for e in np.argsort(-probability, kind="stable").tolist():
            p = float(probability[e])
            if p < settings.review:
                break
            x, y = int(a[e]), int(b[e])  # y is always a new record
            if tuple(sorted((int(keys[x]), int(keys[y])))) in forbidden:
                continue
            sentence = explain_levels(self.comparisons, levels[e], bits[e])
            label_x, label_y = self.labels[x], self.labels[y]
            if p >= settings.auto_merge and label_y == -1 and label_x != -1 \
                    and self.sizes[label_x] < settings.max_cluster \
                    and not self._kept_apart(int(keys[y]), label_x, apart):
                self._place(y, label_x, p, sentence, placed, joined=x < start)
            elif p >= settings.auto_merge and label_y == -1 and label_x == -1:
                self._place(x, self.next_label, p, sentence, placed, joined=False)
                self._place(y, self.next_label, p, sentence, placed, joined=False)
                self.next_label += 1
            elif label_x != label_y:
                suggestions.append((int(keys[x]), int(keys[y]), p, sentence))
        for i in range(start, len(self.table)):
            if self.labels[i] == -1:
                self._place(i, self.next_label, 0.0, "no existing customer is similar enough", placed, joined=False)
                self.next_label += 1
        return [placed[i] for i in range(start, len(self.table))], suggestions

    def _kept_apart(self, key: int, label: int, apart: dict[int, set[int]]) -> bool:
        """Whether a cannot-link pair would end up in one customer (a person said they differ)."""
        if key not in apart:
            return False
        members = {int(self.table.keys[i]) for i, lab in enumerate(self.labels) if lab == label}
        return bool(apart[key] & members)

    def _place(self, i: int, label: int, probability: float, sentence: str, placed: dict[int, Placement],
               *, joined: bool) -> None:
        self.labels[i] = label
        self.sizes[label] += 1
        placed[i] = Placement(int(self.table.keys[i]), label, probability, sentence, joined)
