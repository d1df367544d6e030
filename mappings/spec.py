"""The mapping file format: which source column feeds which canonical field, through which transforms."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mappings.canonical import InteractionKind
from mappings.transforms import TRANSFORMS

__all__ = [
    "CUSTOMER_TARGETS",
    "INTERACTION_TARGETS",
    "MappingError",
    "MappingSpec",
    "Rule",
    "describe_validation_error",
    "load_mapping",
]


class MappingError(ValueError):
    """A mapping file is missing, unreadable or invalid; the message names the file and key."""


# canonical target → the transforms applied when a rule names none
CUSTOMER_TARGETS: dict[str, tuple[str, ...]] = {
    "name": ("person_name",),
    "full_name": ("trim",),
    "given_name": ("trim",),
    "family_name": ("trim",),
    "patronymic": ("trim",),
    "emails": ("email",),
    "phones": ("phone",),
    "company": ("trim",),
    "job_title": ("trim",),
    "address.street": ("trim",),
    "address.city": ("trim",),
    "address.region": ("trim",),
    "address.postal_code": ("trim",),
    "address.country": ("country",),
    "birth_date": ("date",),
    "locale": ("trim",),
    "consent.email": ("bool",),
    "consent.sms": ("bool",),
    "consent.phone": ("bool",),
    "tags": ("split",),
    "source_updated_at": ("datetime",),
}
INTERACTION_TARGETS: dict[str, tuple[str, ...]] = {
    "occurred_at": ("datetime",),
    "direction": ("trim", "lower"),
    "status": ("trim", "lower"),
    "duration_seconds": ("int",),
    "phone": ("phone",),
    "email": ("email",),
    "subject": ("trim",),
    "body": ("trim",),
    "name": ("person_name",),
}
_CUSTOM_PREFIX = "custom."


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(choices))})"


class TransformCall(BaseModel):
    """One transform with its options, written `phone` or `{phone: {region: RU}}` in YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    options: dict[str, Any] = Field(default_factory=dict)


class Rule(BaseModel):
    """Map one column (or several, joined by a space) to one canonical field."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: list[str] = Field(alias="from")
    to: str
    transform: list[TransformCall] = Field(default_factory=list)
    when: dict[str, str] = Field(default_factory=dict)
    on_error: Literal["quarantine", "skip"] = "quarantine"
    optional: bool = False

    @field_validator("from_", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("transform", mode="before")
    @classmethod
    def _parse_transforms(cls, value: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        calls = []
        for item in items:
            if isinstance(item, str):
                name, options = item, {}
            elif isinstance(item, dict) and len(item) == 1:
                name, options = next(iter(item.items()))
                options = options or {}
            else:
                raise ValueError(f"write a transform as `name` or `{{name: {{options}}}}`, not {item!r}")
            if name not in TRANSFORMS:
                raise ValueError(f"unknown transform {name!r}{_did_you_mean(name, list(TRANSFORMS))}")
            calls.append({"name": name, "options": options})
        return calls


class MappingSpec(BaseModel):
    """A whole mapping file: one source stream onto customers or interactions."""

    model_config = ConfigDict(extra="forbid")

    entity: Literal["customer", "interaction"] = "customer"
    kind: InteractionKind | None = None
    defaults: dict[str, Any] = Field(default_factory=dict)
    fields: list[Rule]

    @model_validator(mode="after")
    def _check_targets(self) -> MappingSpec:
        targets = CUSTOMER_TARGETS if self.entity == "customer" else INTERACTION_TARGETS
        for index, rule in enumerate(self.fields):
            if rule.to.startswith(_CUSTOM_PREFIX) and len(rule.to) > len(_CUSTOM_PREFIX):
                continue
            if rule.to not in targets:
                raise ValueError(
                    f"fields[{index}].to: unknown {self.entity} field {rule.to!r}"
                    f"{_did_you_mean(rule.to, [*targets, 'custom.<name>'])}"
                )
        if self.entity == "interaction" and self.kind is None:
            raise ValueError("kind: an interaction mapping needs `kind` (call, form_submission, ...)")
        for rule in self.fields:  # resolve default transforms once, not per row
            if not rule.transform:
                rule.transform = [TransformCall(name=name) for name in targets.get(rule.to, ("trim",))]
        return self

    def transforms_for(self, rule: Rule) -> list[TransformCall]:
        """The rule's own transforms, or the target's defaults (filled in at validation)."""
        return rule.transform

    def required_columns(self) -> list[str]:
        """Columns that must exist in the source stream (rules not marked optional)."""
        seen: dict[str, None] = {}
        for rule in self.fields:
            if not rule.optional:
                seen.update(dict.fromkeys(rule.from_))
            seen.update(dict.fromkeys(rule.when))
        return list(seen)


def describe_validation_error(where: str, exc: ValidationError) -> str:
    """One line per problem: `where: key.path: what is wrong`."""
    lines = []
    for error in exc.errors():
        loc = ".".join(str(part) for part in error["loc"] if part != "__root__")
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key; remove it or check its spelling"
        elif error["type"] == "missing":
            message = "required key is missing"
        lines.append(f"{where}: {loc + ': ' if loc else ''}{message}")
    return "\n".join(lines)


def load_mapping(path: Path) -> MappingSpec:
    """Read and validate a mapping YAML file."""
    return load_yaml_model(path, MappingSpec, f"mapping '{path.name}'")


_M = TypeVar("_M", bound=BaseModel)


def load_yaml_model(path: Path, model: type[_M], where: str) -> _M:
    """Read a YAML file into a pydantic model; every error names the file (`where`) and the key."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"{where}: file not found at {path}") from None
    except yaml.YAMLError as exc:
        raise MappingError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise MappingError(f"{where}: expected a mapping with a `fields:` list")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise MappingError(describe_validation_error(where, exc)) from None
