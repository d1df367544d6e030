"""Survivorship: which value of a golden record's source records survives, field by field.

What the rules say is plain data (`SurvivorshipRules`, saved with every match run); `apply`
runs them. Each surviving value carries its provenance: the source record it came from, the
source, when that record was last updated, and, when not the default, the rule that chose it.

Rules (empty values never win; ties go to the most recent record):
- most_recent: the newest record's value (the default);
- source_priority: the value of the most trusted source (a field's own order, else the global one;
  unlisted sources come last);
- most_frequent: the value most records agree on (text compared case-insensitively);
- longest: the longest text;
- most_complete: the value of the record with the most fields filled in; on a group (address,
  consent) the fullest group is taken whole, never mixed part by part;
- lists (emails, phones, tags) are always the union, with the primary chosen by most_recent,
  source_priority or most_frequent;
- verified: when any record holds a verified value (its source is listed under `verified` for the
  field), only verified values compete, so an unverified one never overwrites it;
- pins: a value an admin pinned wins over everything until it is unpinned.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dedupe.types import GoldenValues, MatchRecord

__all__ = [
    "FIELD_KINDS",
    "GROUP_RULES",
    "LIST_PRIMARY_RULES",
    "SCALAR_RULES",
    "FieldRule",
    "Pin",
    "SurvivorshipRules",
    "apply",
    "field_kind",
]

SCALAR_RULES = ("most_recent", "source_priority", "most_frequent", "most_complete", "longest")
GROUP_RULES = SCALAR_RULES  # per part of the group, except most_complete: the fullest group, whole
LIST_PRIMARY_RULES = ("most_recent", "source_priority", "most_frequent")
FIELD_KINDS: dict[str, str] = {
    **{name: "scalar" for name in ("full_name", "given_name", "family_name", "patronymic", "company",
                                   "job_title", "birth_date", "locale")},
    **{name: "list" for name in ("emails", "phones", "tags")},
    **{name: "group" for name in ("address", "consent", "custom")},
}
_SKIP = {"ref", "source_updated_at"}
ALL_FIELDS = "*"


def field_kind(path: str) -> str | None:
    """'scalar', 'list' or 'group' for a field ('address.city' is a scalar part of a group)."""
    head, _, part = path.partition(".")
    kind = FIELD_KINDS.get(head)
    if part:
        return "scalar" if kind == "group" else None
    return kind


@dataclass(frozen=True)
class FieldRule:
    """How one field survives: a rule, a source order for `source_priority`, a primary for lists."""

    rule: str = "most_recent"  # lists: always the union; `primary` picks the first item
    sources: tuple[str, ...] = ()  # source order for source_priority; empty means the global order
    primary: str = "most_recent"


@dataclass(frozen=True)
class Pin:
    """A value an admin fixed: it wins over every source until it is unpinned."""

    value: Any
    by: str
    at: datetime


@dataclass(frozen=True)
class SurvivorshipRules:
    """Survivorship as data; the defaults reproduce 'most recent non-empty wins, lists unioned'."""

    default: str = "most_recent"
    source_priority: tuple[str, ...] = ()
    verified: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # source → fields ('*' = all)
    fields: Mapping[str, FieldRule] = field(default_factory=dict)

    def rule_for(self, name: str) -> FieldRule:
        """The rule for a field, the default one when the field is not listed."""
        if name in self.fields:
            return self.fields[name]
        return FieldRule(rule="union" if FIELD_KINDS.get(name) == "list" else self.default)

    def is_verified(self, source: str, name: str) -> bool:
        """Whether values of this field from this source count as verified."""
        granted = self.verified.get(source, ())
        return ALL_FIELDS in granted or name in granted or name.partition(".")[0] in granted

    def problems(self) -> list[str]:
        """What is wrong with these rules, each message naming the field and the fix."""
        found = []
        if self.default not in SCALAR_RULES:
            found.append(f"default: unknown rule {self.default!r}; use one of {', '.join(SCALAR_RULES)}")
        for name, rule in self.fields.items():
            kind = FIELD_KINDS.get(name)
            if kind is None:
                found.append(f"fields.{name}: not a customer field; fields: {', '.join(FIELD_KINDS)}")
            elif kind == "list":
                if rule.rule != "union":
                    found.append(f"fields.{name}: a multi-valued field is always the union; "
                                 f"write {{rule: union, primary: ...}}, not {rule.rule!r}")
                if rule.primary not in LIST_PRIMARY_RULES:
                    found.append(f"fields.{name}.primary: unknown {rule.primary!r}; use one of "
                                 f"{', '.join(LIST_PRIMARY_RULES)}")
            elif rule.rule not in SCALAR_RULES:
                found.append(f"fields.{name}: unknown rule {rule.rule!r}; use one of {', '.join(SCALAR_RULES)}")
        for source, names in self.verified.items():
            bad = [n for n in names if n != ALL_FIELDS and FIELD_KINDS.get(n.partition(".")[0]) is None]
            if bad:
                found.append(f"verified.{source}: unknown field(s) {bad}; list customer fields or '*'")
        return found

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as saved with each match run."""
        return {"default": self.default, "source_priority": list(self.source_priority),
                "verified": {s: list(f) for s, f in sorted(self.verified.items())},
                "fields": {name: {"rule": r.rule, "sources": list(r.sources), "primary": r.primary}
                           for name, r in sorted(self.fields.items())}}


# ---------------------------------------------------------------- running the rules


def _empty(value: Any) -> bool:
    return value is None or value == ""


def _filled(dump: Mapping[str, Any]) -> int:
    """How many fields (and group parts) of a record hold something: its completeness."""
    count = 0
    for value in dump.values():
        if isinstance(value, dict):
            count += sum(1 for v in value.values() if not _empty(v))
        elif isinstance(value, list):
            count += bool(value)
        else:
            count += not _empty(value)
    return count


@dataclass
class _Candidate:
    record: MatchRecord
    dump: dict[str, Any]
    rank: int  # 0 = newest


def _origin(candidate: _Candidate, rule: str, verified: bool) -> dict[str, Any]:
    ref = candidate.record.customer.ref
    origin: dict[str, Any] = {"source": ref.source, "stream": ref.stream, "source_record_id": ref.source_record_id,
                              "updated_at": candidate.record.recency.isoformat()}
    if rule != "most_recent":
        origin["rule"] = rule
    if verified:
        origin["verified"] = True
    return origin


def _priority(rules: SurvivorshipRules, rule: FieldRule) -> Callable[[_Candidate], tuple[int, int]]:
    order = rule.sources or rules.source_priority
    position = {source: i for i, source in enumerate(order)}
    return lambda c: (position.get(c.record.customer.ref.source, len(order)), c.rank)


def _choose(rule_name: str, options: list[tuple[_Candidate, Any]], rules: SurvivorshipRules,
            rule: FieldRule) -> tuple[_Candidate, Any]:
    """One (candidate, value) among non-empty options listed newest first; ties go to the newest."""
    if rule_name == "source_priority":
        return min(options, key=lambda o: _priority(rules, rule)(o[0]))
    if rule_name == "most_frequent":
        counts = Counter(_key(v) for _, v in options)
        return min(options, key=lambda o: (-counts[_key(o[1])], o[0].rank))
    if rule_name == "longest":
        return min(options, key=lambda o: (-len(str(o[1]).strip()), o[0].rank))
    if rule_name == "most_complete":
        return min(options, key=lambda o: (-_filled(o[0].dump), o[0].rank))
    return options[0]  # most_recent


def _key(value: Any) -> str:
    return repr(value.casefold().strip()) if isinstance(value, str) else repr(value)


class _Run:
    def __init__(self, records: Sequence[MatchRecord], rules: SurvivorshipRules) -> None:
        ordered = sorted(records, key=lambda r: (r.recency, r.customer.ref.key()), reverse=True)
        self.candidates = [_Candidate(r, r.customer.model_dump(mode="json", exclude=_SKIP), i)
                           for i, r in enumerate(ordered)]
        self.rules = rules
        self.provenance: dict[str, dict[str, Any]] = {}

    def verified(self, candidate: _Candidate, path: str) -> bool:
        return self.rules.is_verified(candidate.record.customer.ref.source, path)

    def options(self, path: str, value_of: Callable[[_Candidate], Any]) -> tuple[list[tuple[_Candidate, Any]], bool]:
        """Non-empty values newest first; only verified ones when any value is verified."""
        options = [(c, value_of(c)) for c in self.candidates if not _empty(value_of(c))]
        verified = [o for o in options if self.verified(o[0], path)]
        return (verified, True) if verified else (options, False)

    def scalar(self, path: str, rule: FieldRule, rule_name: str, value_of: Callable[[_Candidate], Any]) -> Any:
        options, verified = self.options(path, value_of)
        if not options:
            return None
        chosen, value = _choose(rule_name, options, self.rules, rule)
        self.provenance[path] = _origin(chosen, rule_name, verified)
        return value

    def group(self, name: str, rule: FieldRule) -> dict[str, Any]:
        if rule.rule == "most_complete":
            options, verified = self.options(name, lambda c: {k: v for k, v in (c.dump[name] or {}).items()
                                                              if not _empty(v)} or None)
            if not options:
                return {}
            chosen, value = min(options, key=lambda o: (-len(o[1]), o[0].rank))  # the fullest group, whole
            for key in value:
                self.provenance[f"{name}.{key}"] = _origin(chosen, "most_complete", verified)
            return dict(value)
        keys: list[str] = []
        for c in self.candidates:
            keys += [k for k in (c.dump[name] or {}) if k not in keys]
        group: dict[str, Any] = {}
        for key in keys:
            value = self.scalar(f"{name}.{key}", rule, rule.rule, lambda c, k=key: (c.dump[name] or {}).get(k))
            if value is not None:
                group[key] = value
        return group

    def union(self, name: str, rule: FieldRule) -> list[Any]:
        merged: list[Any] = []
        first: dict[str, _Candidate] = {}
        for c in self.candidates:
            for item in c.dump[name]:
                if item not in merged:
                    merged.append(item)
                    first[_key(item)] = c
                    self.provenance.setdefault(f"{name}[{item}]", _origin(c, "most_recent", False))
        if not merged:
            return merged
        options = [(c, item) for c in self.candidates for item in c.dump[name]]
        verified = [o for o in options if self.verified(o[0], name)]
        chosen, primary = _choose(rule.primary, verified or options, self.rules, rule)
        merged.remove(primary)
        merged.insert(0, primary)
        self.provenance[name] = _origin(chosen, rule.primary, bool(verified))
        return merged


def _apply_pin(fields: dict[str, Any], provenance: dict[str, Any], path: str, pin: Pin) -> None:
    origin = {"source": "pin", "pinned_by": pin.by, "pinned_at": pin.at.isoformat(), "verified": True}
    head, _, part = path.partition(".")
    kind = FIELD_KINDS.get(head)
    if part and kind == "group":
        fields[head] = {**(fields.get(head) or {}), part: pin.value}
    elif kind == "list":
        items = [item for item in fields.get(head) or [] if item != pin.value]
        fields[head] = [pin.value, *items]
        provenance[f"{head}[{pin.value}]"] = origin
    elif kind is not None:
        fields[head] = pin.value
    else:
        return  # a pin on a field that no longer exists is ignored, not fatal
    provenance[path] = origin


def apply(records: Sequence[MatchRecord], rules: SurvivorshipRules | None = None,
          pins: Mapping[str, Pin] | None = None) -> GoldenValues:
    """The golden values of one customer's records under `rules`, pins winning over everything."""
    rules = rules or SurvivorshipRules()
    run = _Run(records, rules)
    fields: dict[str, Any] = {}
    names = run.candidates[0].dump.keys() if run.candidates else ()
    for name in names:
        rule = rules.rule_for(name)
        kind = FIELD_KINDS.get(name, "scalar")
        if kind == "list":
            fields[name] = run.union(name, rule)
        elif kind == "group":
            fields[name] = run.group(name, rule)
        else:
            fields[name] = run.scalar(name, rule, rule.rule, lambda c, n=name: c.dump[n])
    fields["sources"] = sorted({c.record.customer.ref.source for c in run.candidates})
    for path, pin in sorted((pins or {}).items()):
        _apply_pin(fields, run.provenance, path, pin)
    return GoldenValues(fields, run.provenance)
