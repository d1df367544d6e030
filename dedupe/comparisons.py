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
from rapidfuzz.distance import JaroWinkler, Levenshtein

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


def _obj(values: Sequence) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _jw(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    if len(left) == 0:
        return np.zeros(0, dtype=np.float32)
    return process.cpdist(left, right, scorer=JaroWinkler.normalized_similarity, workers=-1,
                          dtype=np.float32)


def _graded(left: np.ndarray, right: np.ndarray, thresholds: Sequence[float], *, offset: int) -> np.ndarray:
    """Levels offset, offset+1, ... by Jaro-Winkler thresholds; the last level is 'different'."""
    score = _jw(left, right)
    levels = np.full(len(left), offset + len(thresholds), dtype=np.int8)
    for index, threshold in reversed(list(enumerate(thresholds))):
        levels[score >= threshold] = offset + index
    return levels


class _Pairs:
    """Column values of both sides of every candidate pair, fetched once per column."""

    def __init__(self, table: FeatureTable, a: np.ndarray, b: np.ndarray) -> None:
        self.table, self.a, self.b = table, a, b
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def release(self) -> None:
        """Drop the fetched columns (they are as large as the candidate pairs)."""
        self._cache.clear()

    def sides(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        if column not in self._cache:
            values = _obj(getattr(self.table, column))
            self._cache[column] = (values[self.a], values[self.b])
        return self._cache[column]


def _names(p: _Pairs) -> tuple[np.ndarray, np.ndarray]:
    """Given- and family-name levels, taking the better of straight and swapped orientation."""
    g1, g2 = p.sides("given")
    f1, f2 = p.sides("family")
    gc1, gc2 = p.sides("given_canonical")
    fs1, fs2 = p.sides("family_skeleton")
    given = _given_levels(g1, g2, gc1, gc2)
    family = _family_levels(f1, f2, fs1, fs2)
    swapped_given = _given_levels(g1, f2, gc1, fs2)
    swapped_family = _family_levels(f1, g2, fs1, gc2)
    score = np.where(given < 0, 9, given) + np.where(family < 0, 9, family)
    swapped = np.where(swapped_given < 0, 9, swapped_given) + np.where(swapped_family < 0, 9, swapped_family)
    use_swap = (swapped + 2 < score) & (swapped_given >= 0) & (swapped_family >= 0)
    return np.where(use_swap, swapped_given, given), np.where(use_swap, swapped_family, family)


def _given_levels(x: np.ndarray, y: np.ndarray, xc: np.ndarray, yc: np.ndarray) -> np.ndarray:
    # 0 same · 1 nickname or transliteration · 2 initial only · 3 JW≥0.92 · 4 JW≥0.80 · 5 different
    levels = _graded(x, y, (0.92, 0.80), offset=3)
    initial = np.array([(len(u) == 1 or len(v) == 1) and u[:1] == v[:1] for u, v in zip(x, y, strict=True)],
                       dtype=bool) if len(x) else np.zeros(0, dtype=bool)
    levels[initial] = 2
    levels[(xc == yc) & (xc != "")] = 1
    levels[x == y] = 0
    levels[(x == "") | (y == "")] = MISSING
    return levels


def _family_levels(x: np.ndarray, y: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    # 0 same · 1 transliteration variant · 2 JW≥0.92 · 3 JW≥0.80 · 4 different
    levels = _graded(x, y, (0.92, 0.80), offset=2)
    levels[(xs == ys) & (xs != "")] = 1
    levels[x == y] = 0
    levels[(x == "") | (y == "")] = MISSING
    return levels


def _multi(p: _Pairs, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For multi-valued columns: any value shared, both present, and the first values."""
    x, y = p.sides(column)
    shared = np.fromiter((bool(set(u) & set(v)) if len(u) > 1 or len(v) > 1 else (u == v and bool(u))
                          for u, v in zip(x, y, strict=True)), dtype=bool, count=len(x))
    present = np.fromiter((bool(u) and bool(v) for u, v in zip(x, y, strict=True)), dtype=bool, count=len(x))
    first_x = _obj([u[0] if u else "" for u in x])
    first_y = _obj([v[0] if v else "" for v in y])
    return shared, present, np.stack([first_x, first_y]) if len(x) else np.zeros((2, 0), dtype=object)


def _email(p: _Pairs) -> np.ndarray:
    # 0 same address · 1 same user name at another provider · 2 similar user name · 3 different
    shared, present, (ex, ey) = _multi(p, "emails")
    local_x = _obj([e.split("@")[0] for e in ex])
    local_y = _obj([e.split("@")[0] for e in ey])
    levels = _graded(local_x, local_y, (0.92,), offset=2)
    levels[local_x == local_y] = 1
    # user names made of the person's own name say nothing the name comparison has not said;
    # if either side's user name is name-made, a similar one on the other side is too
    named = p.table.email_named[p.a] | p.table.email_named[p.b]
    levels[named & (levels < 3)] = MISSING
    levels[shared] = 0
    levels[~present] = MISSING
    return levels


def _phone(p: _Pairs) -> np.ndarray:
    # 0 same number · 1 same last nine digits · 2 different
    shared, present, (px, py) = _multi(p, "phones")
    levels = np.full(len(px), 2, dtype=np.int8)
    tail_x = _obj([v[-9:] for v in px])
    tail_y = _obj([v[-9:] for v in py])
    levels[(tail_x == tail_y) & (tail_x != "")] = 1
    levels[shared] = 0
    levels[~present] = MISSING
    return levels


def _simple(column: str, thresholds: Sequence[float]) -> Callable[[_Pairs], np.ndarray]:
    def compute(p: _Pairs) -> np.ndarray:
        x, y = p.sides(column)
        levels = _graded(x, y, thresholds, offset=1)
        levels[x == y] = 0
        levels[(x == "") | (y == "")] = MISSING
        return levels

    return compute


def _company(p: _Pairs) -> np.ndarray:
    # 0 same · 1 token-set ≥ 90 · 2 different
    x, y = p.sides("company")
    score = process.cpdist(x, y, scorer=fuzz.token_set_ratio, workers=-1) if len(x) else np.zeros(0)
    levels = np.where(score >= 90, 1, 2).astype(np.int8)
    levels[x == y] = 0
    levels[(x == "") | (y == "")] = MISSING
    return levels


def _birth(p: _Pairs) -> np.ndarray:
    # 0 same · 1 one part differs or day and month swapped · 2 different
    x, y = p.sides("birth_date")
    levels = np.full(len(x), 2, dtype=np.int8)
    for i, (u, v) in enumerate(zip(x, y, strict=True)):
        if not u or not v:
            levels[i] = MISSING
        elif u == v:
            levels[i] = 0
        else:
            pu, pv = u.split("-"), v.split("-")
            same = sum(a == b for a, b in zip(pu, pv, strict=False))
            if same == 2 or (pu[0] == pv[0] and pu[1] == pv[2] and pu[2] == pv[1]):
                levels[i] = 1
    return levels


def _edit_levels(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # 0 same · 1 one character off · 2 different
    distance = process.cpdist(x, y, scorer=Levenshtein.distance, workers=-1) if len(x) else np.zeros(0)
    levels = np.where(distance <= 1, 1, 2).astype(np.int8)
    levels[x == y] = 0
    levels[(x == "") | (y == "")] = MISSING
    return levels


def _identifier(p: _Pairs, name: str) -> np.ndarray:
    values = _obj(p.table.identifiers[name])
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
    """Level matrix (pairs × comparisons) for the candidate pairs."""
    pairs = _Pairs(table, a, b)
    out = np.full((len(a), len(comparisons)), MISSING, dtype=np.int8)
    names_done: tuple[np.ndarray, np.ndarray] | None = None
    for j, comparison in enumerate(comparisons):
        if comparison.name in ("given_name", "family_name"):
            names_done = names_done or _names(pairs)
            out[:, j] = names_done[0 if comparison.name == "given_name" else 1]
        elif comparison.name.startswith("id:"):
            out[:, j] = _identifier(pairs, comparison.column)
        else:
            out[:, j] = _COMPUTE[comparison.name](pairs)
        if comparison.name != "given_name":  # both name levels come from one pass over four columns
            pairs.release()
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
