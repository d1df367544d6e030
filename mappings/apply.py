"""Apply a mapping to one source row, giving a canonical record or the reasons it cannot be one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from mappings.canonical import Customer, Interaction, SourceRef
from mappings.spec import MappingSpec, Rule
from mappings.transforms import TRANSFORMS, PersonName, RowContext, TransformError, clean_text

__all__ = ["MapResult", "RowProblem", "map_row"]

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


def map_row(spec: MappingSpec, row: Mapping[str, Any], ref: SourceRef) -> MapResult:
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
    return _build(spec, values, ref, warnings)


def _build(spec: MappingSpec, values: dict[str, Any], ref: SourceRef,
           warnings: list[RowProblem]) -> MapResult:
    try:
        if spec.entity == "customer":
            _finish_customer(values)
            customer = Customer(ref=ref, **values)
            if not customer.has_identity():
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
