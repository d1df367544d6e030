"""Match features: each record's comparable values, normalised once, stored column by column.

Columns (plain lists and numpy arrays) let comparisons run over millions of candidate pairs
with rapidfuzz's batch scorers instead of a Python loop per pair.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from mappings.canonical import Customer
from mappings.normalize import city_key, company_key, email_key, email_local_name_tokens, name_key, skeleton

__all__ = ["FeatureTable", "build_features", "features_from_canonical"]


@dataclass
class FeatureTable:
    """Normalised, comparable values of n records; index i is the i-th record given."""

    keys: np.ndarray  # the records' store keys (int64)
    given: list[str]
    given_canonical: list[str]
    given_initial: list[str]
    family: list[str]
    family_skeleton: list[str]
    family_phonetic: list[str]
    name_tokens: list[str]  # all Latin name tokens, sorted, space-joined
    emails: list[tuple[str, ...]]
    email_named: np.ndarray  # bool: every e-mail's user part is made of the person's own name tokens
    phones: list[tuple[str, ...]]
    city: list[str]
    country: list[str]
    company: list[str]
    birth_date: list[str]
    street: list[str]
    postal_code: list[str]
    identifiers: dict[str, list[str]] = field(default_factory=dict)
    # derived per-record arrays (value codes, first values, lengths), built on first use and kept
    # up to date by `extend`; codes come from vocabularies kept here, so added records code alike
    derived: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    builders: dict[str, Callable[[int], np.ndarray]] = field(default_factory=dict, repr=False, compare=False)
    vocabularies: dict[str, dict[str, int]] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.keys)

    def cached(self, name: str, build: Callable[[int], np.ndarray]) -> np.ndarray:
        """A derived per-record array; `build(start)` gives it for records start.. (for `extend`)."""
        if name not in self.derived:
            self.derived[name] = build(0)
            self.builders[name] = build
        return self.derived[name]

    def drop_derived(self) -> None:
        """Release the derived arrays and their vocabularies (rebuilt, consistently, on next use)."""
        self.derived.clear()
        self.builders.clear()
        self.vocabularies.clear()

    def extend(self, other: FeatureTable) -> None:
        """Append another table's records (incremental matching adds new records to the index)."""
        start = len(self)
        for name, value in vars(self).items():
            if name in ("derived", "builders", "vocabularies"):
                continue
            if name == "identifiers":
                for key, column in value.items():
                    column.extend(other.identifiers.get(key, [""] * len(other)))
            elif isinstance(value, list):
                value.extend(getattr(other, name))
        self.keys = np.concatenate([self.keys, other.keys])
        self.email_named = np.concatenate([self.email_named, other.email_named])
        for name, build in self.builders.items():
            self.derived[name] = np.concatenate([self.derived[name], build(start)])

    def take(self, rows: Sequence[int]) -> FeatureTable:
        """A new table of these records (by position), e.g. a sample to train on."""
        picked = list(rows)
        return FeatureTable(keys=self.keys[picked], email_named=self.email_named[picked],
                            identifiers={k: [v[i] for i in picked] for k, v in self.identifiers.items()},
                            **{name: [getattr(self, name)[i] for i in picked] for name in _LIST_COLUMNS})

    @classmethod
    def concat(cls, parts: Sequence[FeatureTable]) -> FeatureTable:
        """One table from several (built in pieces, e.g. by worker processes)."""
        if not parts:
            return build_features([])
        first = parts[0]
        table = cls(keys=first.keys.copy(), email_named=first.email_named.copy(),
                    identifiers={k: list(v) for k, v in first.identifiers.items()},
                    **{name: list(getattr(first, name)) for name in _LIST_COLUMNS})
        for part in parts[1:]:
            table.extend(part)
        return table

    def present(self, column: str) -> bool:
        """Whether any record has a value in a column (comparisons on empty columns are skipped)."""
        values = getattr(self, column) if column != "identifiers" else None
        return bool(values) and any(values)


_LIST_COLUMNS = (
    "given", "given_canonical", "given_initial", "family", "family_skeleton", "family_phonetic",
    "name_tokens", "emails", "phones", "city", "country", "company", "birth_date", "street", "postal_code")


# Small caches: keyed by a whole (given, family) pair they rarely hit beyond one person's few
# records; at 200,000 entries they cost a mapping process 134 MB more over 300,000 rows (measured).
_FORMS_CACHE = 1 << 14


@lru_cache(maxsize=_FORMS_CACHE)
def _name_forms(given: str, family: str) -> frozenset[str]:
    """User names people build from their own name: ivanpetrov, petrovivan, ipetrov, petrovi, ivan, petrov."""
    g, f = given.replace(" ", ""), family.replace(" ", "")
    forms = {g, f, g + f, f + g}
    if g and f:
        forms |= {g[0] + f, f + g[0], g + f[0]}
    forms.discard("")
    return frozenset(forms)


@lru_cache(maxsize=_FORMS_CACHE)
def _name_form_skeletons(given: str, family: str) -> frozenset[str]:
    """The forms above and their vowel-insensitive skeletons (only needed when the plain forms miss)."""
    forms = _name_forms(given, family)
    return forms | frozenset(skeleton(x) for x in forms)


def _named(emails: tuple[str, ...], given: str, family: str, tokens: set[str], canonical: str = "") -> bool:
    """Every e-mail's user name is made of the person's own name (so it is no independent evidence)."""
    if not emails or not (given or family):
        return False
    forms = _name_forms(given, family) | (_name_forms(canonical, family) if canonical else frozenset())
    tokens = tokens | ({canonical} if canonical else set())
    for email in emails:
        parts = email_local_name_tokens(email)
        letters = "".join(parts)
        if not letters:
            return False
        # cheapest tests first: most user names are a plain form or made of the name's tokens
        if letters in forms or set(parts) <= tokens | {t[:1] for t in tokens}:
            continue
        skeletons = _name_form_skeletons(given, family) | (
            _name_form_skeletons(canonical, family) if canonical else frozenset())
        if letters not in skeletons and skeleton(letters) not in skeletons:
            return False
    return True


def build_features(customers: Sequence[Customer], keys: Sequence[int] | None = None,
                   identifiers: Sequence[str] = ()) -> FeatureTable:
    """Normalise every record's match fields once; `identifiers` are custom fields compared exactly."""
    fields = ((c.given_name, c.family_name, c.full_name, c.patronymic, c.emails, c.phones, c.address.city,
               c.address.country, c.company, c.birth_date.isoformat() if c.birth_date else "", c.address.street,
               c.address.postal_code, c.custom) for c in customers)
    return _features(fields, len(customers), keys, identifiers)


def features_from_canonical(records: Sequence[Mapping[str, Any]], keys: Sequence[int] | None = None,
                            identifiers: Sequence[str] = ()) -> FeatureTable:
    """build_features for customers in their JSON form (`Customer.model_dump(mode="json")`), unparsed."""
    def fields(r: Mapping[str, Any]) -> tuple:
        address = r.get("address") or {}
        return (r.get("given_name"), r.get("family_name"), r.get("full_name"), r.get("patronymic"),
                r.get("emails") or (), r.get("phones") or (), address.get("city"), address.get("country"),
                r.get("company"), r.get("birth_date") or "", address.get("street"), address.get("postal_code"),
                r.get("custom") or {})

    return _features(map(fields, records), len(records), keys, identifiers)


def _features(records: Iterable[tuple], n: int, keys: Sequence[int] | None, identifiers: Sequence[str]
              ) -> FeatureTable:
    cols: dict[str, list] = {name: [] for name in _LIST_COLUMNS}
    named = np.zeros(n, dtype=bool)
    ident: dict[str, list[str]] = {name: [] for name in identifiers}
    for i, (given, family, full, patronymic, raw_emails, raw_phones, city, country, company, birth, street,
            postal, custom) in enumerate(records):
        key = name_key(given, family, full, patronymic)
        cols["given"].append(key.given)
        cols["given_canonical"].append(key.given_canonical)
        cols["given_initial"].append(key.given_initial)
        cols["family"].append(key.family)
        cols["family_skeleton"].append(key.family_skeleton)
        cols["family_phonetic"].append(key.family_phonetic)
        cols["name_tokens"].append(" ".join(key.tokens))
        emails = tuple(dict.fromkeys(k for k in (email_key(e) for e in raw_emails) if k))
        cols["emails"].append(emails)
        # raw addresses: keys lose gmail dots, which separate the name parts
        named[i] = _named(tuple(raw_emails), key.given, key.family, set(key.tokens), key.given_canonical)
        cols["phones"].append(tuple(dict.fromkeys(raw_phones)))
        cols["city"].append(city_key(city))
        cols["country"].append(country or "")
        cols["company"].append(company_key(company))
        cols["birth_date"].append(birth)
        cols["street"].append(" ".join((street or "").casefold().split()))
        cols["postal_code"].append("".join((postal or "").split()).upper())
        for name in identifiers:
            ident[name].append("".join(str(custom.get(name, "")).split()).casefold())
    return FeatureTable(
        keys=np.asarray(keys if keys is not None else range(n), dtype=np.int64),
        email_named=named, identifiers=ident, **cols,
    )
