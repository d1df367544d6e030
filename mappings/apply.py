"""Apply a mapping to one source row, giving a canonical record or the reasons it cannot be one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from mappings.canonical import Address, Consent, Customer, Interaction, SourceRef
from mappings.spec import MappingSpec, Rule
from mappings.transforms import TRANSFORMS, PersonName, RowContext, TransformError, clean_text

__all__ = ["MapResult", "MappedRow", "RowMapper", "RowProblem", "map_row"]

_LIST_TARGETS = {"emails", "phones", "tags"}


@dataclass(frozen=True)
class RowProblem:
    """Why a row (or one of its values) did not map: the column, the target and the reason."""

    column: str | None
    target: str | None
    reason: str

    def describe(self) -> str:
        where = f"column {self.column!r}: " if self.column else ""
        return f"{where}{self.reason}"


@dataclass
class MapResult:
    record: Customer | Interaction | None
    problems: list[RowProblem] = field(default_factory=list)  # the row is quarantined
    warnings: list[RowProblem] = field(default_factory=list)  # a value was dropped

    @property
    def ok(self) -> bool:
        return self.record is not None


def _applies(rule: Rule, row: Mapping[str, Any]) -> bool:
    for column, expected in rule.when.items():
        actual = clean_text(row.get(column))
        if (actual or "").casefold() != expected.casefold():
            return False
    return True


def _raw_value(rule: Rule, row: Mapping[str, Any]) -> Any:
    parts = [clean_text(row.get(column)) for column in rule.from_]
    present = [p for p in parts if p]
    return " ".join(present) if present else None


def _assign(values: dict[str, Any], target: str, value: Any) -> None:
    if value is None or value == [] or value == "":
        return
    if isinstance(value, PersonName):
        for key, part in (("full_name", value.full), ("given_name", value.given),
                          ("family_name", value.family), ("patronymic", value.patronymic)):
            if part and not values.get(key):
                values[key] = part
        return
    if target in _LIST_TARGETS:
        bucket = values.setdefault(target, [])
        for item in value if isinstance(value, list) else [value]:
            if item not in bucket:
                bucket.append(item)
        return
    if target.startswith(("custom.", "address.", "consent.")):
        group, _, key = target.partition(".")
        values.setdefault(group, {}).setdefault(key, value if group != "custom" else str(value))
        return
    if isinstance(value, list):  # a list-valued transform feeding a scalar field keeps the first
        value = value[0]
    values.setdefault(target, value)


def _finish_customer(values: dict[str, Any]) -> None:
    if not values.get("full_name"):
        parts = [values.get("given_name"), values.get("patronymic"), values.get("family_name")]
        full = " ".join(p for p in parts if p)
        if full:
            values["full_name"] = full


def map_row(spec: MappingSpec, row: Mapping[str, Any], ref: SourceRef,
            identifiers: Sequence[str] = ()) -> MapResult:
    """Map one source row; problems quarantine the row, warnings only drop a value."""
    ctx = RowContext(row=row, defaults=spec.defaults)
    values: dict[str, Any] = {}
    problems: list[RowProblem] = []
    warnings: list[RowProblem] = []
    for rule in spec.fields:
        if not _applies(rule, row):
            continue
        value = _raw_value(rule, row)
        column = ", ".join(rule.from_)
        try:
            for call in spec.transforms_for(rule):
                value = TRANSFORMS[call.name](value, call.options, ctx)
        except TransformError as exc:
            problem = RowProblem(column, rule.to, str(exc))
            (problems if rule.on_error == "quarantine" else warnings).append(problem)
            continue
        if spec.entity == "interaction" and rule.to in ("phone", "email") and isinstance(value, list):
            value = value[0] if value else None
        _assign(values, rule.to, value)
    if problems:
        return MapResult(None, problems, warnings)
    return _build(spec, values, ref, warnings, identifiers)


def _build(spec: MappingSpec, values: dict[str, Any], ref: SourceRef,
           warnings: list[RowProblem], identifiers: Sequence[str] = ()) -> MapResult:
    try:
        if spec.entity == "customer":
            _finish_customer(values)
            customer = Customer(ref=ref, **values)
            if not customer.has_identity(identifiers):
                return MapResult(None, [RowProblem(None, None, "row has no name, e-mail or phone")],
                                 warnings)
            return MapResult(customer, [], warnings)
        name = values.pop("full_name", None)
        for key in ("given_name", "family_name", "patronymic"):
            values.pop(key, None)
        if name:
            values.setdefault("custom", {})["name"] = name
        occurred = values.get("occurred_at")
        if occurred is not None and not isinstance(occurred, datetime):
            values["occurred_at"] = datetime.combine(occurred, datetime.min.time(), tzinfo=UTC)
        return MapResult(Interaction(ref=ref, kind=spec.kind, **values), [], warnings)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return MapResult(None, [RowProblem(None, None, f"invalid value ({reasons})")], warnings)


# ---------------------------------------------------------------- many rows of one mapping

# Transforms that are pure functions of their value and options (and, for `phone`, of the
# `region_from` column): their results can be remembered per distinct input.
_PURE = frozenset({"trim", "lower", "upper", "email", "phone", "country", "date", "datetime", "int", "bool",
                   "split", "map", "person_name"})
_MEMO_LIMIT = 200_000  # distinct inputs remembered per rule before the memo starts over
_NAME_KEYS = ("full_name", "given_name", "family_name", "patronymic")
_STR_TARGETS = frozenset({*_NAME_KEYS, "company", "job_title", "locale"})
_ADDRESS_KEYS = tuple(Address.model_fields)
_CONSENT_KEYS = tuple(Consent.model_fields)
_NO_IDENTITY = "row has no name, e-mail or phone"


@dataclass
class MappedRow:
    """One row mapped for the store: the canonical record as JSON-ready data, or the problems."""

    canonical: dict[str, Any] | None
    problems: list[RowProblem]
    warnings: list[RowProblem]
    updated_at: datetime | None = None  # source_updated_at of a customer, occurred_at of an interaction


def _all_str(items: Any) -> bool:
    return type(items) is list and all(type(item) is str for item in items)


def _plain(target: str, value: Any) -> bool:
    """True when pydantic would keep this value of this customer target exactly as _assign stores it.

    Such values can be written out without validation; dates, times, numbers and anything
    unexpected are False and take pydantic's path.
    """
    if value is None or value == [] or value == "":
        return True  # _assign ignores it
    if isinstance(value, PersonName):
        return all(part is None or type(part) is str for part in (value.full, value.given, value.family,
                                                                  value.patronymic))
    if target in _LIST_TARGETS:
        return type(value) is str or _all_str(value)
    if target.startswith("custom."):
        return True  # _assign stores str(value)
    if target.startswith("consent."):
        return type(value) is bool and target[8:] in _CONSENT_KEYS
    if target.startswith("address."):
        return type(value) is str and target[8:] in _ADDRESS_KEYS  # a list would be stored whole
    if target in _STR_TARGETS:
        return type(value) is str or (_all_str(value) and len(value) > 0)  # a list gives its first item
    return False


@dataclass
class _CompiledRule:
    rule: Rule
    column: str
    calls: list[Any]
    key_columns: tuple[str, ...] | None  # None: not memoisable
    single: str | None  # the one column the memo is keyed by, if it is keyed by one
    memo: dict[Any, tuple[bool, Any, bool]] = field(default_factory=dict)  # key -> (ok, value or reason, plain)


class RowMapper:
    """map_row for many rows of one mapping, with the same results, made cheap for big files.

    Each rule's transforms run once per distinct input (names, cities, countries and the
    phones of people who appear twice repeat a lot), and is told then whether its result is
    already of its canonical type; a customer made only of such values is written out directly
    instead of being validated by pydantic again. Anything else takes exactly map_row's path.
    tests/app/test_ingest_fast_path.py holds the two equal.
    """

    def __init__(self, spec: MappingSpec, identifiers: Sequence[str] = (), *, memo_limit: int = _MEMO_LIMIT) -> None:
        self.spec = spec
        self.memo_limit = memo_limit  # distinct inputs kept per rule (memory against repeated work)
        self.identifiers = tuple(identifiers)  # custom fields that identify a person on their own
        self.rules = [self._compile(rule) for rule in spec.fields]
        self.customer = spec.entity == "customer"

    def _compile(self, rule: Rule) -> _CompiledRule:
        calls = self.spec.transforms_for(rule)
        keys: tuple[str, ...] | None = tuple(rule.from_)
        for call in calls:
            if call.name not in _PURE:
                keys = None
                break
            region_from = call.options.get("region_from") if call.name == "phone" else None
            if region_from and keys is not None:
                keys = (*keys, str(region_from))
        single = keys[0] if keys is not None and len(keys) == 1 else None
        return _CompiledRule(rule, ", ".join(rule.from_), list(calls), keys, single)

    def _value(self, compiled: _CompiledRule, row: Mapping[str, Any]) -> tuple[bool, Any, bool]:
        columns = compiled.key_columns
        key: Any = None
        if columns is not None:
            key = row.get(columns[0]) if len(columns) == 1 else tuple(row.get(c) for c in columns)
            try:
                return compiled.memo[key]
            except KeyError:
                pass
            except TypeError:  # an unhashable cell value: work it out without the memo
                columns = None
        value = _raw_value(compiled.rule, row)
        ctx = RowContext(row=row, defaults=self.spec.defaults)
        try:
            for call in compiled.calls:
                value = TRANSFORMS[call.name](value, call.options, ctx)
            if self.spec.entity == "interaction" and compiled.rule.to in ("phone", "email") \
                    and isinstance(value, list):
                value = value[0] if value else None
            outcome: tuple[bool, Any, bool] = (True, _prepare(compiled.rule.to, value),
                                               _plain(compiled.rule.to, value))
        except TransformError as exc:
            outcome = (False, str(exc), False)
        if columns is not None:
            if len(compiled.memo) >= self.memo_limit:
                compiled.memo.clear()
            compiled.memo[key] = outcome
        return outcome

    def _identified(self, values: dict[str, Any]) -> bool:
        custom = values.get("custom") or {}
        return any(custom.get(name) for name in self.identifiers)

    def map(self, row: Mapping[str, Any], source: str, stream: str, record_id: str) -> MappedRow:
        """Map one row; the same problems, warnings and canonical data as map_row gives."""
        values: dict[str, Any] = {}
        problems: list[RowProblem] = []
        warnings: list[RowProblem] = []
        plain = self.customer
        for compiled in self.rules:
            rule = compiled.rule
            if rule.when and not _applies(rule, row):
                continue
            outcome = None
            if compiled.single is not None:  # the common case, inlined: one column, seen before
                try:
                    outcome = compiled.memo.get(row.get(compiled.single))
                except TypeError:  # an unhashable cell value
                    outcome = None
            ok, value, plain_value = outcome or self._value(compiled, row)
            if not ok:
                problem = RowProblem(compiled.column, rule.to, value)
                (problems if rule.on_error == "quarantine" else warnings).append(problem)
                continue
            plain = plain and plain_value
            _store(values, value)
        if problems:
            return MappedRow(None, problems, warnings)
        if plain:
            _finish_customer(values)
            if not (values.get("emails") or values.get("phones") or values.get("full_name")
                    or values.get("family_name") or self._identified(values)):
                return MappedRow(None, [RowProblem(None, None, _NO_IDENTITY)], warnings)
            return MappedRow(_customer_json(values, source, stream, record_id), [], warnings)
        ref = SourceRef(source=source, stream=stream, source_record_id=record_id)
        result = _build(self.spec, values, ref, warnings, self.identifiers)
        if result.record is None:
            return MappedRow(None, result.problems, result.warnings)
        record = result.record
        updated = getattr(record, "source_updated_at", None) or getattr(record, "occurred_at", None)
        return MappedRow(record.model_dump(mode="json"), [], result.warnings, updated)


def _prepare(target: str, value: Any) -> tuple[Any, ...]:
    """What _assign(values, target, value) would do, worked out once per distinct value (see _store)."""
    if value is None or value == [] or value == "":
        return ("skip",)
    if isinstance(value, PersonName):
        parts = (("full_name", value.full), ("given_name", value.given), ("family_name", value.family),
                 ("patronymic", value.patronymic))
        return ("name", tuple((key, part) for key, part in parts if part))
    if target in _LIST_TARGETS:
        return ("list", target, tuple(value if isinstance(value, list) else [value]))
    if target.startswith(("custom.", "address.", "consent.")):
        group, _, key = target.partition(".")
        return ("group", group, key, value if group != "custom" else str(value))
    if isinstance(value, list):  # a list-valued transform feeding a scalar field keeps the first
        value = value[0]
    return ("scalar", target, value)


def _store(values: dict[str, Any], op: tuple[Any, ...]) -> None:
    """_assign with the decisions _prepare made."""
    kind = op[0]
    if kind == "scalar":
        values.setdefault(op[1], op[2])
    elif kind == "list":
        bucket = values.setdefault(op[1], [])
        for item in op[2]:
            if item not in bucket:
                bucket.append(item)
    elif kind == "name":
        for key, part in op[1]:
            if not values.get(key):
                values[key] = part
    elif kind == "group":
        values.setdefault(op[1], {}).setdefault(op[2], op[3])


_EMPTY_ADDRESS = dict.fromkeys(_ADDRESS_KEYS)
_EMPTY_CONSENT = dict.fromkeys(_CONSENT_KEYS)


def _customer_json(values: dict[str, Any], source: str, stream: str, record_id: str) -> dict[str, Any]:
    """Customer(ref=..., **values).model_dump(mode="json") for values that are all plain (see _plain)."""
    get = values.get
    address = get("address")
    consent = get("consent")
    return {
        "ref": {"source": source, "stream": stream, "source_record_id": record_id},
        "source_updated_at": None,
        "full_name": get("full_name"),
        "given_name": get("given_name"),
        "family_name": get("family_name"),
        "patronymic": get("patronymic"),
        "emails": list(get("emails", ())),
        "phones": list(get("phones", ())),
        "company": get("company"),
        "job_title": get("job_title"),
        "address": {**_EMPTY_ADDRESS, **address} if address else dict(_EMPTY_ADDRESS),
        "birth_date": None,
        "locale": get("locale"),
        "consent": {**_EMPTY_CONSENT, **consent} if consent else dict(_EMPTY_CONSENT),
        "tags": list(get("tags", ())),
        "custom": dict(get("custom", {})),
    }
