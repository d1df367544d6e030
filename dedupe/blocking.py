"""Blocking: which pairs of records are worth comparing at all.

Each blocking key maps a record to zero or more key values; records sharing a value form a
block and every pair inside a block is a candidate. Blocks larger than the cap are split by a
refining key (city, then e-mail domain) and dropped only if still too big — and counted, so the
recall cost is visible.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from dedupe.features import FeatureTable

__all__ = ["BLOCKED_ON", "BLOCKING_KEYS", "BlockingReport", "candidate_pairs"]

KeyFn = Callable[[FeatureTable, int], Iterator[str]]


def _email(t: FeatureTable, i: int) -> Iterator[str]:
    yield from t.emails[i]


def _phone(t: FeatureTable, i: int) -> Iterator[str]:
    yield from t.phones[i]


def _name(t: FeatureTable, i: int) -> Iterator[str]:
    if t.family_phonetic[i] and t.given_initial[i]:
        yield f"{t.family_phonetic[i]}|{t.given_initial[i]}"


def _name_swapped(t: FeatureTable, i: int) -> Iterator[str]:
    # given and family written the other way round in one source
    if t.family[i] and t.given[i]:
        yield "|".join(sorted((t.family_skeleton[i], _skeleton_of_given(t, i))))


def _skeleton_of_given(t: FeatureTable, i: int) -> str:
    from mappings.normalize import skeleton  # local: keeps this module's import light

    return skeleton(t.given_canonical[i] or t.given[i])


def _name_city(t: FeatureTable, i: int) -> Iterator[str]:
    if t.family_skeleton[i] and t.city[i]:
        yield f"{t.family_skeleton[i]}|{t.city[i]}"


def _company_city(t: FeatureTable, i: int) -> Iterator[str]:
    if t.company[i] and t.city[i]:
        yield f"{t.company[i]}|{t.city[i]}"


def _birth_family(t: FeatureTable, i: int) -> Iterator[str]:
    if t.birth_date[i] and t.family_skeleton[i]:
        yield f"{t.birth_date[i]}|{t.family_skeleton[i][:3]}"


def _postcode_given(t: FeatureTable, i: int) -> Iterator[str]:
    if t.postal_code[i] and t.given_initial[i]:
        yield f"{t.postal_code[i]}|{t.given_initial[i]}"


def _identifiers(t: FeatureTable, i: int) -> Iterator[str]:
    for name, column in t.identifiers.items():
        if column[i]:
            yield f"{name}|{column[i]}"


BLOCKING_KEYS: dict[str, KeyFn] = {
    "email": _email,
    "phone": _phone,
    "name": _name,
    "name_swapped": _name_swapped,
    "name_city": _name_city,
    "company_city": _company_city,
    "birth_family": _birth_family,
    "postcode_given": _postcode_given,
    "identifiers": _identifiers,
}


# the comparisons each key selects pairs on: they carry no information inside that key's blocks
BLOCKED_ON: dict[str, frozenset[str]] = {
    "email": frozenset({"email"}),
    "phone": frozenset({"phone"}),
    "name": frozenset({"given_name", "family_name"}),
    "name_swapped": frozenset({"given_name", "family_name"}),
    "name_city": frozenset({"family_name", "city"}),
    "company_city": frozenset({"company", "city"}),
    "birth_family": frozenset({"birth_date", "family_name"}),
    "postcode_given": frozenset({"postal_code", "given_name"}),
    "identifiers": frozenset(),  # identifier comparisons are named id:<field>; see engine
}


@dataclass
class BlockingReport:
    """How many candidate pairs each key produced, and what the cap cost."""

    pairs: int = 0
    pairs_by_key: dict[str, int] = field(default_factory=dict)
    oversized_blocks: int = 0
    records_in_dropped_blocks: int = 0
    samples: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # per key: pair codes a*n+b


def _refine(t: FeatureTable, members: list[int]) -> Iterator[list[int]]:
    for refine in (lambda i: t.city[i], lambda i: t.given_canonical[i],
                   lambda i: t.emails[i][0].split("@")[-1] if t.emails[i] else ""):
        groups: dict[str, list[int]] = defaultdict(list)
        for i in members:
            value = refine(i)
            if value:
                groups[value].append(i)
        if groups and max(len(g) for g in groups.values()) < len(members):
            yield from groups.values()
            return


def _block_pairs(members: list[int]) -> tuple[np.ndarray, np.ndarray]:
    idx = np.asarray(members, dtype=np.int64)
    a, b = np.triu_indices(len(idx), k=1)
    return idx[a], idx[b]


def candidate_pairs(table: FeatureTable, keys: Sequence[str], max_block: int = 120, *,
                    sample_per_key: int = 0, seed: int = 5) -> tuple[np.ndarray, np.ndarray, BlockingReport]:
    """Unique candidate pairs (a < b) from every blocking key; blocks above the cap are refined.

    With `sample_per_key`, the report also keeps a random sample of each key's own pairs (as
    codes a*n+b), for training the model one blocking key at a time.
    """
    rng = np.random.default_rng(seed)
    report = BlockingReport()
    chunks_a: list[np.ndarray] = []
    chunks_b: list[np.ndarray] = []
    n = len(table)
    for name in keys:
        fn = BLOCKING_KEYS[name]
        blocks: dict[str, list[int]] = defaultdict(list)
        for i in range(n):
            for value in fn(table, i):
                blocks[value].append(i)
        produced = 0
        first_chunk = len(chunks_a)
        pending = [m for m in blocks.values() if len(m) > 1]
        while pending:
            members = pending.pop()
            if len(members) > max_block:
                parts = [p for p in _refine(table, members) if len(p) > 1]
                if not parts:
                    report.oversized_blocks += 1
                    report.records_in_dropped_blocks += len(members)
                    continue
                pending.extend(parts)
                continue
            a, b = _block_pairs(members)
            chunks_a.append(a)
            chunks_b.append(b)
            produced += len(a)
        report.pairs_by_key[name] = produced
        if sample_per_key and produced:
            ka = np.concatenate(chunks_a[first_chunk:])
            kb = np.concatenate(chunks_b[first_chunk:])
            codes = np.unique(np.minimum(ka, kb) * n + np.maximum(ka, kb))
            if len(codes) > sample_per_key:
                codes = rng.choice(codes, sample_per_key, replace=False)
            report.samples[name] = codes
    if not chunks_a:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, report
    a = np.concatenate(chunks_a)
    b = np.concatenate(chunks_b)
    low, high = np.minimum(a, b), np.maximum(a, b)
    codes = np.unique(low * n + high)
    report.pairs = len(codes)
    return codes // n, codes % n, report
