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

__all__ = ["BLOCKED_ON", "BLOCKING_KEYS", "BlockingReport", "candidate_pairs", "key_values"]

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


def street_stem(street: str) -> str:
    """The street's name, roughly: the first four letters of its first word of three or more letters.

    House numbers, unit letters and typos late in the name ('studley steet') do not change it.
    """
    for word in street.split():
        if len(word) >= 3 and word.isalpha():
            return word[:4]
    return ""


def _place_values(t: FeatureTable, i: int) -> list[str]:
    """Where a record lives, three ways: postcode, city, street (each tagged, so they never collide)."""
    stem = street_stem(t.street[i])
    return [f"{tag}:{v}" for tag, v in (("p", t.postal_code[i]), ("c", t.city[i]), ("s", stem)) if v]


def _birth_place(t: FeatureTable, i: int) -> Iterator[str]:
    # same birth date and the same postcode, city or street: names may be wholly different spellings
    if t.birth_date[i]:
        for place in _place_values(t, i):
            yield f"{t.birth_date[i]}|{place}"


def _street_place(t: FeatureTable, i: int) -> Iterator[str]:
    # same street in the same postcode or city: one household, or one person under another name
    stem = street_stem(t.street[i])
    if stem:
        for tag, value in (("p", t.postal_code[i]), ("c", t.city[i])):
            if value:
                yield f"{stem}|{tag}:{value}"


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
    "birth_place": _birth_place,
    "street_place": _street_place,
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
    "birth_place": frozenset({"birth_date", "postal_code", "city", "street"}),
    "street_place": frozenset({"street", "postal_code", "city"}),
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


def _block_pairs(members: list[int]) -> tuple[np.ndarray, np.ndarray]:
    idx = np.asarray(members, dtype=np.int64)
    a, b = np.triu_indices(len(idx), k=1)
    return idx[a], idx[b]


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


def key_values(table: FeatureTable, name: str) -> tuple[np.ndarray, list[str]]:
    """Every (record, key value) of one blocking key, built column-wise (no call per record)."""
    t = table
    if name in ("email", "phone"):
        column = t.emails if name == "email" else t.phones
        rows = [i for i, values in enumerate(column) for _ in values]
        return np.asarray(rows, dtype=np.int64), [v for values in column for v in values]
    if name == "identifiers":
        rows, values = [], []
        for field_name, column in t.identifiers.items():
            for i, v in enumerate(column):
                if v:
                    rows.append(i)
                    values.append(f"{field_name}|{v}")
        return np.asarray(rows, dtype=np.int64), values
    if name in ("birth_place", "street_place"):
        # only records with a birth date (or a street) have values: most CRM data has neither
        fn = BLOCKING_KEYS[name]
        needed = t.birth_date if name == "birth_place" else t.street
        pairs = [(i, v) for i, x in enumerate(needed) if x for v in fn(t, i)]
        return np.asarray([i for i, _ in pairs], dtype=np.int64), [v for _, v in pairs]
    if name == "name":
        values = [f"{p}|{g}" if p and g else "" for p, g in zip(t.family_phonetic, t.given_initial, strict=True)]
    elif name == "name_swapped":
        from mappings.normalize import skeleton  # local: keeps this module's import light

        values = ["|".join(sorted((fs, skeleton(gc or g)))) if f and g else ""
                  for f, g, fs, gc in zip(t.family, t.given, t.family_skeleton, t.given_canonical, strict=True)]
    elif name == "name_city":
        values = [f"{f}|{c}" if f and c else "" for f, c in zip(t.family_skeleton, t.city, strict=True)]
    elif name == "company_city":
        values = [f"{f}|{c}" if f and c else "" for f, c in zip(t.company, t.city, strict=True)]
    elif name == "birth_family":
        values = [f"{d}|{f[:3]}" if d and f else "" for d, f in zip(t.birth_date, t.family_skeleton, strict=True)]
    elif name == "postcode_given":
        values = [f"{p}|{g}" if p and g else "" for p, g in zip(t.postal_code, t.given_initial, strict=True)]
    else:  # a key registered only as a per-record function
        fn = BLOCKING_KEYS[name]
        pairs = [(i, v) for i in range(len(t)) for v in fn(t, i)]
        return np.asarray([i for i, _ in pairs], dtype=np.int64), [v for _, v in pairs]
    return np.arange(len(values), dtype=np.int64), values


def _blocks(rows: np.ndarray, values: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Records grouped by key value: members in block order, each block's start and size (size ≥ 2)."""
    vocabulary: dict[str, int] = {"": -1}
    get = vocabulary.setdefault
    codes = np.fromiter((get(v, len(vocabulary)) for v in values), dtype=np.int64, count=len(values))
    keep = codes >= 0
    rows, codes = rows[keep], codes[keep]
    order = np.argsort(codes, kind="stable")
    members, codes = rows[order], codes[order]
    if len(codes) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return members, empty, empty
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    sizes = np.diff(np.r_[starts, len(codes)])
    multi = sizes > 1
    return members, starts[multi], sizes[multi]


def _pair_codes(members: np.ndarray, starts: np.ndarray, sizes: np.ndarray, n: int) -> Iterator[np.ndarray]:
    """Pair codes (low*n+high) of every pair inside the blocks, one block size at a time."""
    for size in np.unique(sizes).tolist():
        chosen = starts[sizes == size]
        block = members[chosen[:, None] + np.arange(size)]  # one row per block
        left, right = np.triu_indices(size, k=1)
        x, y = block[:, left].ravel(), block[:, right].ravel()
        yield np.minimum(x, y) * n + np.maximum(x, y)


def _unique_sorted(codes: np.ndarray) -> np.ndarray:
    codes.sort()
    if len(codes) == 0:
        return codes
    return codes[np.r_[True, codes[1:] != codes[:-1]]]


def candidate_pairs(table: FeatureTable, keys: Sequence[str], max_block: int = 120, *,
                    sample_per_key: int = 0, seed: int = 5) -> tuple[np.ndarray, np.ndarray, BlockingReport]:
    """Unique candidate pairs (a < b, in code order) from every blocking key; blocks above the cap are refined.

    With `sample_per_key`, the report also keeps a random sample of each key's own pairs (as
    codes a*n+b), for training the model one blocking key at a time.
    """
    rng = np.random.default_rng(seed)
    report = BlockingReport()
    chunks: list[np.ndarray] = []
    n = len(table)
    for name in keys:
        rows, values = key_values(table, name)
        members, starts, sizes = _blocks(rows, values)
        del rows, values
        own: list[np.ndarray] = []
        small = sizes <= max_block
        own.extend(_pair_codes(members, starts[small], sizes[small], n))
        pending = [members[s:s + z].tolist() for s, z in zip(starts[~small].tolist(), sizes[~small].tolist(),
                                                              strict=True)]
        while pending:
            block = pending.pop()
            if len(block) > max_block:
                parts = [p for p in _refine(table, block) if len(p) > 1]
                if not parts:
                    report.oversized_blocks += 1
                    report.records_in_dropped_blocks += len(block)
                    continue
                pending.extend(parts)
                continue
            x, y = _block_pairs(block)
            own.append(np.minimum(x, y) * n + np.maximum(x, y))
        produced = sum(len(c) for c in own)
        report.pairs_by_key[name] = produced
        if sample_per_key and produced:
            codes = np.concatenate(own)
            if len(codes) > sample_per_key:
                codes = rng.choice(codes, sample_per_key, replace=False)
            report.samples[name] = np.unique(codes)
        chunks.extend(own)
    if not chunks:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, report
    codes = np.concatenate(chunks)
    chunks.clear()  # before the sort: the per-key arrays and their concatenation are each pairs-sized
    codes = _unique_sorted(codes)
    report.pairs = len(codes)
    # record indexes fit in 32 bits: half the memory of the pair arrays the whole run keeps
    kind = np.int32 if n < 2**31 else np.int64
    return (codes // n).astype(kind), (codes % n).astype(kind), report
