"""Baseline matcher: exact keys (e-mail, E.164 phone, normalised name + phone), union-find clusters.

The probabilistic engine replaces this behind the same `Matcher` seam.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from dedupe.types import Cluster, MatchRecord, MemberDecision, Resolution
from mappings.canonical import Customer

__all__ = ["DEFAULT_RULES", "KEY_KINDS", "BaselineMatcher", "name_key"]

KEY_KINDS = ("email", "phone", "name")
DEFAULT_RULES: tuple[tuple[str, ...], ...] = (("email",), ("phone",), ("name", "phone"))
_LABELS = {"email": "e-mail", "phone": "phone", "name": "name"}


def name_key(customer: Customer) -> str | None:
    """Case-folded, NFKC name tokens in sorted order, so 'Petrov Ivan' equals 'Ivan Petrov'."""
    parts = [customer.given_name, customer.family_name] if customer.family_name else [customer.full_name]
    text = " ".join(p for p in parts if p)
    if not text:
        return None
    tokens = unicodedata.normalize("NFKC", text).casefold().replace(".", " ").split()
    return " ".join(sorted(tokens)) or None


def _values(customer: Customer, kind: str) -> list[str]:
    if kind == "email":
        return customer.emails
    if kind == "phone":
        return customer.phones
    key = name_key(customer)
    return [key] if key else []


def _rule_keys(customer: Customer, rule: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    combos: list[tuple[str, ...]] = [()]
    for kind in rule:
        combos = [(*c, v) for c in combos for v in _values(customer, kind)]
    yield from combos


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class BaselineMatcher:
    """Exact-key matching; `rules` is plain data (each rule a tuple of key kinds that must all agree)."""

    rules: Sequence[tuple[str, ...]] = DEFAULT_RULES

    def __post_init__(self) -> None:
        for rule in self.rules:
            unknown = [k for k in rule if k not in KEY_KINDS]
            if unknown or not rule:
                raise ValueError(f"match rule {list(rule)}: key kinds must be among {KEY_KINDS}")

    def resolve(self, records: Sequence[MatchRecord],
                cannot_link: Iterable[tuple[int, int]] = ()) -> Resolution:
        """Exact keys only; cannot-link pairs are ignored by this baseline (it makes no suggestions)."""
        return Resolution(self.match(records))

    def match(self, records: Sequence[MatchRecord]) -> list[Cluster]:
        """Cluster records sharing any rule's key; every record lands in exactly one cluster."""
        uf = _UnionFind(len(records))
        reasons: dict[int, set[tuple[str, ...]]] = defaultdict(set)
        for rule in self.rules:
            first_holder: dict[tuple[str, ...], int] = {}
            for index, record in enumerate(records):
                for key in _rule_keys(record.customer, rule):
                    holder = first_holder.setdefault(key, index)
                    if holder != index:
                        uf.union(holder, index)
                        reasons[holder].add(rule)
                        reasons[index].add(rule)
        groups: dict[int, list[int]] = defaultdict(list)
        for index in range(len(records)):
            groups[uf.find(index)].append(index)
        clusters = []
        for indexes in groups.values():
            members = tuple(self._decision(records[i], reasons.get(i, set())) for i in indexes)
            clusters.append(Cluster(members))
        return clusters

    def _decision(self, record: MatchRecord, rules: set[tuple[str, ...]]) -> MemberDecision:
        if not rules:
            return MemberDecision(record.key, "new", 1.0, "no other record shares its e-mail or phone")
        ordered = [r for r in self.rules if r in rules]
        method = "exact:" + "|".join("+".join(r) for r in ordered)
        sentence = "; ".join("same " + " and ".join(_LABELS[k] for k in r) for r in ordered)
        return MemberDecision(record.key, method, 1.0, sentence,
                              {"rules": ["+".join(r) for r in ordered]})
