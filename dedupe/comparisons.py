"""Comparisons as ordered levels (exact → fuzzy thresholds → different), computed for many pairs at once.

A level array holds, per candidate pair, the index of the first level the pair reaches, or -1
when either side has no value (missing values are no evidence either way). Each level has a
human label used in explanations ("surname matches after transliteration").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, JaroWinkler

from dedupe.features import FeatureTable

__all__ = ["COMPARISONS", "Comparison", "compare_all", "exact_values", "identifier_comparison", "value_counts"]

MISSING = -1


@dataclass(frozen=True)
class Comparison:
    """One field's comparison: its levels (strongest first) and the TF-adjusted level, if any."""

    name: str
    column: str
    labels: tuple[str, ...]  # one per level, phrased for explanations
    tf_level: int | None = None  # level whose weight is adjusted for how common the value is
    u_default: tuple[float, ...] = ()  # typical level frequencies among non-matches, for small data


EMPTY = 0  # the code of the empty string in every coded column
_CHUNK = 1_000_000  # candidate pairs compared at a time: bounds the memory of the gathered values


def _obj(values: Sequence) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _encode(values: Sequence[str], vocabulary: dict[str, int]) -> np.ndarray:
    """Integer codes of string values (the empty string is EMPTY), so equality tests run in numpy."""
    vocabulary.setdefault("", EMPTY)
    get = vocabulary.setdefault
    return np.fromiter((get(v, len(vocabulary)) for v in values), dtype=np.int64, count=len(values))


_NAME_COLUMNS = ("given", "family", "given_canonical", "family_skeleton")  # one vocabulary: swaps compare


def _firsts(values: Sequence[tuple[str, ...]]) -> list[str]:
    return [v[0] if v else "" for v in values]


def _record_arrays(table: FeatureTable, column: str, kind: str) -> np.ndarray:
    """Per-record arrays derived from a column, built once per table and extended with it."""
    vocabulary = table.vocabularies.setdefault(
        "names" if column in _NAME_COLUMNS and kind == "code" else f"{kind}:{column}", {"": EMPTY})

    def build(start: int) -> np.ndarray:
        values = getattr(table, column)[start:]
        if kind == "obj":
            return _obj(values)
        if kind == "code":
            return _encode(values, vocabulary)
        if kind == "count":
            return np.fromiter((len(v) for v in values), dtype=np.int32, count=len(values))
        if kind == "first":
            return _obj(_firsts(values))
        if kind == "firstcode":
            return _encode(_firsts(values), vocabulary)
        if kind == "local":
            return _obj([e.split("@")[0] for e in _firsts(values)])
        if kind == "localcode":
            return _encode([e.split("@")[0] for e in _firsts(values)], vocabulary)
        if kind == "tailcode":
            return _encode([v[-9:] for v in _firsts(values)], vocabulary)
        if kind == "single":
            return np.fromiter((len(v) == 1 for v in values), dtype=bool, count=len(values))
        if kind == "initial":
            return np.fromiter((ord(v[0]) if v else 0 for v in values), dtype=np.int64, count=len(values))
        raise ValueError(f"unknown derived array {kind!r}")

    return table.cached(f"{kind}:{column}", build)


def _graded(left: np.ndarray, right: np.ndarray, thresholds: Sequence[float], *, offset: int,
            needed: np.ndarray | None = None) -> np.ndarray:
    """Levels offset, offset+1, ... by Jaro-Winkler thresholds; the last level is 'different'.

    Only the `needed` pairs are scored (the others get an exact or missing level afterwards).
    """
    levels = np.full(len(left), offset + len(thresholds), dtype=np.int8)
    rows = np.flatnonzero(needed) if needed is not None else np.arange(len(left))
    if len(rows) == 0:
        return levels
    score = process.cpdist(left[rows], right[rows], scorer=JaroWinkler.normalized_similarity, workers=-1,
                           dtype=np.float32)
    graded = np.full(len(rows), offset + len(thresholds), dtype=np.int8)
    for index, threshold in reversed(list(enumerate(thresholds))):
        graded[score >= threshold] = offset + index
    levels[rows] = graded
    return levels


class _Pairs:
    """Both sides of a batch of candidate pairs; per-record arrays are gathered on demand."""

    def __init__(self, table: FeatureTable, a: np.ndarray, b: np.ndarray) -> None:
        self.table, self.a, self.b = table, a, b

    def __len__(self) -> int:
        return len(self.a)

    def get(self, column: str, kind: str = "obj") -> tuple[np.ndarray, np.ndarray]:
        values = _record_arrays(self.table, column, kind)
        return values[self.a], values[self.b]

    def sides(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        return self.get(column, "obj")


@dataclass(frozen=True)
class _Name:
    """One side's view of a name part, for straight and swapped comparisons."""

    text: np.ndarray
    code: np.ndarray
    alt: np.ndarray  # code of the canonical given name or the surname's skeleton
    single: np.ndarray
    initial: np.ndarray


def _name_side(p: _Pairs, column: str, alt: str, side: int) -> _Name:
    return _Name(*(p.get(column, kind)[side] for kind in ("obj", "code")), p.get(alt, "code")[side],
                 *(p.get(column, kind)[side] for kind in ("single", "initial")))


def _names(p: _Pairs) -> tuple[np.ndarray, np.ndarray]:
    """Given- and family-name levels, taking the better of straight and swapped orientation."""
    g1, g2 = _name_side(p, "given", "given_canonical", 0), _name_side(p, "given", "given_canonical", 1)
    f1, f2 = _name_side(p, "family", "family_skeleton", 0), _name_side(p, "family", "family_skeleton", 1)
    given = _given_levels(g1, g2)
    family = _family_levels(f1, f2)
    swapped_given = _given_levels(g1, f2)
    swapped_family = _family_levels(f1, g2)
    score = np.where(given < 0, 9, given) + np.where(family < 0, 9, family)
    swapped = np.where(swapped_given < 0, 9, swapped_given) + np.where(swapped_family < 0, 9, swapped_family)
    use_swap = (swapped + 2 < score) & (swapped_given >= 0) & (swapped_family >= 0)
    return np.where(use_swap, swapped_given, given), np.where(use_swap, swapped_family, family)


def _given_levels(x: _Name, y: _Name) -> np.ndarray:
    # 0 same · 1 nickname or transliteration · 2 initial only · 3 JW≥0.92 · 4 JW≥0.80 · 5 different
    same = x.code == y.code
    missing = (x.code == EMPTY) | (y.code == EMPTY)
    levels = _graded(x.text, y.text, (0.92, 0.80), offset=3, needed=~same & ~missing)
    levels[(x.single | y.single) & (x.initial == y.initial)] = 2
    levels[(x.alt == y.alt) & (x.alt != EMPTY)] = 1
    levels[same] = 0
    levels[missing] = MISSING
    return levels


def _family_levels(x: _Name, y: _Name) -> np.ndarray:
    # 0 same · 1 transliteration variant · 2 JW≥0.92 · 3 JW≥0.80 · 4 different
    same = x.code == y.code
    missing = (x.code == EMPTY) | (y.code == EMPTY)
    levels = _graded(x.text, y.text, (0.92, 0.80), offset=2, needed=~same & ~missing)
    levels[(x.alt == y.alt) & (x.alt != EMPTY)] = 1
    levels[same] = 0
    levels[missing] = MISSING
    return levels


def _multi(p: _Pairs, column: str) -> tuple[np.ndarray, np.ndarray]:
    """For multi-valued columns: whether any value is shared, and whether both sides have one."""
    cx, cy = p.get(column, "count")
    fx, fy = p.get(column, "firstcode")
    shared = (fx == fy) & (fx != EMPTY)
    several = np.flatnonzero((cx > 1) | (cy > 1))
    if len(several):  # the few records with more than one value: compare the sets
        values = getattr(p.table, column)
        shared[several] = [bool(set(values[i]) & set(values[j]))
                           for i, j in zip(p.a[several].tolist(), p.b[several].tolist(), strict=True)]
    return shared, (cx > 0) & (cy > 0)


def _email(p: _Pairs) -> np.ndarray:
    # 0 same address · 1 same user name at another provider · 2 similar user name · 3 different
    shared, present = _multi(p, "emails")
    lx, ly = p.get("emails", "localcode")
    same_local = lx == ly
    local_x, local_y = p.get("emails", "local")
    levels = _graded(local_x, local_y, (0.92,), offset=2, needed=present & ~shared & ~same_local)
    levels[same_local] = 1
    # user names made of the person's own name say nothing the name comparison has not said;
    # if either side's user name is name-made, a similar one on the other side is too
    named = p.table.email_named[p.a] | p.table.email_named[p.b]
    levels[named & (levels < 3)] = MISSING
    levels[shared] = 0
    levels[~present] = MISSING
    return levels


def _phone(p: _Pairs) -> np.ndarray:
    # 0 same number · 1 same last nine digits · 2 different
    shared, present = _multi(p, "phones")
    tx, ty = p.get("phones", "tailcode")
    levels = np.full(len(p), 2, dtype=np.int8)
    levels[(tx == ty) & (tx != EMPTY)] = 1
    levels[shared] = 0
    levels[~present] = MISSING
    return levels


def _simple(column: str, thresholds: Sequence[float]) -> Callable[[_Pairs], np.ndarray]:
    def compute(p: _Pairs) -> np.ndarray:
        cx, cy = p.get(column, "code")
        same, missing = cx == cy, (cx == EMPTY) | (cy == EMPTY)
        x, y = p.sides(column)
        levels = _graded(x, y, thresholds, offset=1, needed=~same & ~missing)
        levels[same] = 0
        levels[missing] = MISSING
        return levels

    return compute


def _company(p: _Pairs) -> np.ndarray:
    # 0 same · 1 token-set ≥ 90 · 2 different
    cx, cy = p.get("company", "code")
    same, missing = cx == cy, (cx == EMPTY) | (cy == EMPTY)
    levels = np.full(len(p), 2, dtype=np.int8)
    rows = np.flatnonzero(~same & ~missing)
    if len(rows):
        x, y = p.sides("company")
        score = process.cpdist(x[rows], y[rows], scorer=fuzz.token_set_ratio, workers=-1)
        levels[rows[score >= 90]] = 1
    levels[same] = 0
    levels[missing] = MISSING
    return levels


def _birth(p: _Pairs) -> np.ndarray:
    # 0 same · 1 one part differs or day and month swapped · 2 different
    cx, cy = p.get("birth_date", "code")
    levels = np.full(len(p), 2, dtype=np.int8)
    x, y = p.sides("birth_date")
    for i in np.flatnonzero((cx != cy) & (cx != EMPTY) & (cy != EMPTY)).tolist():
        pu, pv = x[i].split("-"), y[i].split("-")
        same = sum(a == b for a, b in zip(pu, pv, strict=False))
        if same == 2 or (pu[0] == pv[0] and pu[1] == pv[2] and pu[2] == pv[1]):
            levels[i] = 1
    levels[cx == cy] = 0
    levels[(cx == EMPTY) | (cy == EMPTY)] = MISSING
    return levels


def _edit_levels(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # 0 same · 1 one character off (a typo, a missed or swapped pair of digits) · 2 different
    distance = process.cpdist(x, y, scorer=OSA.distance, workers=-1) if len(x) else np.zeros(0)
    levels = np.where(distance <= 1, 1, 2).astype(np.int8)
    levels[x == y] = 0
    levels[(x == "") | (y == "")] = MISSING
    return levels


def _identifier(p: _Pairs, name: str) -> np.ndarray:
    values = p.table.cached(f"obj:id:{name}", lambda start: _obj(p.table.identifiers[name][start:]))
    return _edit_levels(values[p.a], values[p.b])


COMPARISONS: dict[str, Comparison] = {c.name: c for c in (
    Comparison("given_name", "given", ("same given name", "given name is a nickname or spelling variant",
                                       "given name matches an initial", "given name almost the same",
                                       "given name similar", "given names differ"), tf_level=0,
               u_default=(0.01, 0.002, 0.005, 0.005, 0.02, 0.958)),
    Comparison("family_name", "family", ("same surname", "surname matches after transliteration",
                                         "surname almost the same", "surname similar", "surnames differ"),
               tf_level=0, u_default=(0.005, 0.001, 0.002, 0.01, 0.982)),
    Comparison("email", "emails", ("same e-mail", "same e-mail user name at another provider",
                                   "similar e-mail user name", "e-mails differ"), tf_level=0,
               u_default=(1e-5, 1e-5, 1e-4, 0.99988)),
    Comparison("phone", "phones", ("same phone", "same phone without country code", "phones differ"),
               tf_level=0, u_default=(1e-5, 1e-5, 0.99998)),
    Comparison("city", "city", ("same city", "similar city", "cities differ"), u_default=(0.05, 0.01, 0.94)),
    Comparison("company", "company", ("same company", "similar company", "companies differ"),
               u_default=(0.01, 0.01, 0.98)),
    Comparison("birth_date", "birth_date", ("same birth date", "birth date off by one part",
                                            "birth dates differ"), u_default=(0.0003, 0.003, 0.9967)),
    Comparison("street", "street", ("same street address", "almost the same street address",
                                    "similar street address", "street addresses differ"),
               u_default=(0.0005, 0.001, 0.01, 0.9885)),
    Comparison("postal_code", "postal_code", ("same postcode", "postcode one character off",
                                              "postcodes differ"), u_default=(0.005, 0.02, 0.975)),
)}
_COMPUTE: dict[str, Callable[[_Pairs], np.ndarray]] = {
    "email": _email, "phone": _phone, "city": _simple("city", (0.88,)), "company": _company,
    "birth_date": _birth, "street": _simple("street", (0.92, 0.75)),
    "postal_code": lambda p: _edit_levels(*p.sides("postal_code")),
}


def identifier_comparison(name: str) -> Comparison:
    """An exact identifier kept in a custom field (a customer number, a tax id)."""
    return Comparison(f"id:{name}", name, (f"same {name}", f"{name} one character off", f"{name} differs"),
                      tf_level=None, u_default=(1e-6, 1e-4, 0.999899))


def compare_all(table: FeatureTable, a: np.ndarray, b: np.ndarray,
                comparisons: Sequence[Comparison]) -> np.ndarray:
    """Level matrix (pairs × comparisons) for the candidate pairs, computed a batch at a time."""
    out = np.full((len(a), len(comparisons)), MISSING, dtype=np.int8)
    for start in range(0, len(a), _CHUNK):
        pairs = _Pairs(table, a[start:start + _CHUNK], b[start:start + _CHUNK])
        rows = slice(start, start + len(pairs))
        names_done: tuple[np.ndarray, np.ndarray] | None = None
        for j, comparison in enumerate(comparisons):
            if comparison.name in ("given_name", "family_name"):
                names_done = names_done or _names(pairs)
                out[rows, j] = names_done[0 if comparison.name == "given_name" else 1]
            elif comparison.name.startswith("id:"):
                out[rows, j] = _identifier(pairs, comparison.column)
            else:
                out[rows, j] = _COMPUTE[comparison.name](pairs)
    return out


def exact_values(table: FeatureTable, comparison: Comparison, a: np.ndarray, b: np.ndarray) -> list[str]:
    """The value each pair agrees on (for term-frequency adjustment of the exact level)."""
    if comparison.name.startswith("id:"):
        column: Sequence = table.identifiers[comparison.column]
    else:
        column = getattr(table, comparison.column)
    values = []
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        x, y = column[i], column[j]
        if isinstance(x, tuple):
            values.append(next((v for v in x if v in y), x[0] if x else ""))
        else:
            values.append(x)
    return values


def value_counts(table: FeatureTable, comparison: Comparison) -> dict[str, int]:
    """How many different people hold each value of a comparison's column.

    Records of one person repeat their own phone and e-mail; what makes a value weak evidence
    is being held by different people (an office line, a family phone). For identifiers, people
    are told apart by given name; for names, by their first e-mail or phone.
    """
    if comparison.name.startswith("id:"):
        column: Sequence = table.identifiers[comparison.column]
    else:
        column = getattr(table, comparison.column)
    by_name = comparison.name in ("given_name", "family_name")
    holders: dict[str, set[str]] = {}
    for i, value in enumerate(column):
        person = record_identity(table, i) if by_name else (table.given_canonical[i] or table.given[i])
        for item in value if isinstance(value, tuple) else (value,):
            if item:
                holders.setdefault(item, set()).add(person or f"#{i}")
    return {item: len(people) for item, people in holders.items()}


def record_identity(table: FeatureTable, i: int) -> str:
    """A stand-in for who a record is: its first e-mail, else its first phone, else itself."""
    if table.emails[i]:
        return table.emails[i][0]
    if table.phones[i]:
        return table.phones[i][0]
    return f"#{i}"
