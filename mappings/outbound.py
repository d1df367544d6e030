"""Outbound mappings: a golden record back out to one CRM's fields (the reverse of a source mapping).

```yaml
object: contacts
fields:
  - {from: given_name, to: firstname}
  - {from: [family_name, full_name], to: lastname}   # the first non-empty path wins
  - {from: "emails[0]", to: email}
  - {from: "phones[*]", to: PHONE}                   # every item, as a list
  - {from: tags, to: hs_tags, transform: {join: ";"}}
```

Paths: a golden field (`company`), a group member (`address.city`, `consent.email`,
`custom.<name>`), a list item (`emails[1]`) or every item (`phones[*]`), and `id` (the golden id).
Empty values are left out, so a push never blanks a field someone filled in the CRM.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mappings.spec import CUSTOMER_TARGETS, MappingError, load_yaml_model

__all__ = ["OUTBOUND_TRANSFORMS", "TEMPLATES_DIR", "OutboundRule", "OutboundSpec", "load_outbound", "template"]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
_LISTS = ("emails", "phones", "tags", "sources")
_GROUPS = ("address", "consent", "custom")
_SCALARS = tuple(sorted({t for t in CUSTOMER_TARGETS if "." not in t} - {"name", "source_updated_at", *_LISTS}))
_PATH = re.compile(r"^(?P<field>[a-z_]+)(?:\.(?P<member>[A-Za-z0-9_ -]+)|\[(?P<index>\d+|\*)\])?$")


def _known_paths() -> list[str]:
    members = [t for t in CUSTOMER_TARGETS if "." in t]
    return ["id", *_SCALARS, *_LISTS, *(f"{name}[0]" for name in _LISTS), *(f"{name}[*]" for name in _LISTS), *members,
            "custom.<name>"]


def _check_path(path: str) -> str:
    found = _PATH.match(path)
    if found is None:
        raise ValueError(f"{path!r} is not a golden record path; write e.g. 'company', 'address.city', "
                         "'emails[0]' or 'phones[*]'")
    name, member, index = found.group("field"), found.group("member"), found.group("index")
    if name in _GROUPS and member and index is None:
        if name == "custom" or f"{name}.{member}" in CUSTOMER_TARGETS:
            return path
    elif (name in _LISTS and member is None) or (name in (*_SCALARS, "id") and member is None and index is None):
        return path
    close = difflib.get_close_matches(path, _known_paths(), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(_known_paths())})"
    raise ValueError(f"unknown golden field {path!r}{hint}")


def _read(golden_id: str, fields: dict[str, Any], path: str) -> Any:
    found = _PATH.match(path)
    assert found is not None  # validated on load
    name, member, index = found.group("field"), found.group("member"), found.group("index")
    value: Any = golden_id if name == "id" else fields.get(name)
    if member is not None:
        return (value or {}).get(member)
    if index is None:
        return value
    items = list(value or [])
    if index == "*":
        return items
    position = int(index)
    return items[position] if position < len(items) else None


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_text(v) for v in value]
    return value if isinstance(value, str) else str(value)


def _join(value: Any, sep: str = ";") -> Any:
    return sep.join(str(v) for v in value) if isinstance(value, list) else value


def _date(value: Any, format: str = "%Y-%m-%d") -> Any:  # noqa: A002 - the option's name in YAML
    return date.fromisoformat(str(value)[:10]).strftime(format) if value else value


def _truncate(value: Any, length: int = 255) -> Any:
    return value[:length] if isinstance(value, str) else value


def _map(value: Any, values: dict[str, Any] | None = None, **inline: Any) -> Any:
    table = {str(k).lower(): v for k, v in {**(values or {}), **inline}.items()}
    return table.get(str(_text(value)).lower(), value)


OUTBOUND_TRANSFORMS = {
    "text": _text,
    "join": _join,
    "lower": lambda v: v.lower() if isinstance(v, str) else v,
    "upper": lambda v: v.upper() if isinstance(v, str) else v,
    "first": lambda v: (v[0] if v else None) if isinstance(v, list) else v,
    "date": _date,
    "truncate": _truncate,
    "map": _map,
}


class OutboundRule(BaseModel):
    """One CRM field, filled from the first non-empty golden path, through optional transforms."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: list[str] = Field(alias="from")
    to: str = Field(min_length=1)
    transform: list[tuple[str, dict[str, Any]]] = Field(default_factory=list)
    default: Any = None

    @field_validator("from_", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("from_")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one golden record path")
        return [_check_path(p) for p in value]

    @field_validator("transform", mode="before")
    @classmethod
    def _transforms(cls, value: Any) -> Any:
        parsed = []
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                name, options = item, {}
            elif isinstance(item, dict) and len(item) == 1:
                name, options = next(iter(item.items()))
                if name == "map" or not isinstance(options, dict):
                    options = {_FIRST_OPTION.get(name, "value"): options}
            else:
                raise ValueError(f"write a transform as `name` or `{{name: options}}`, not {item!r}")
            if name not in OUTBOUND_TRANSFORMS:
                close = difflib.get_close_matches(name, list(OUTBOUND_TRANSFORMS), n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(OUTBOUND_TRANSFORMS)}"
                raise ValueError(f"unknown transform {name!r} ({hint})")
            parsed.append((name, options))
        return parsed

    def value(self, golden_id: str, fields: dict[str, Any]) -> Any:
        found = next((v for p in self.from_ if not _empty(v := _read(golden_id, fields, p))), None)
        if _empty(found):
            found = self.default
        for name, options in self.transform:
            found = OUTBOUND_TRANSFORMS[name](found, **options)
        return None if _empty(found) else _text(found)


_FIRST_OPTION = {"join": "sep", "date": "format", "truncate": "length", "map": "values"}


class OutboundSpec(BaseModel):
    """A whole outbound mapping file: golden record → the fields of one CRM object."""

    model_config = ConfigDict(extra="forbid")

    object: str = "contacts"
    fields: list[OutboundRule]

    @model_validator(mode="after")
    def _unique_targets(self) -> OutboundSpec:
        seen: set[str] = set()
        for index, rule in enumerate(self.fields):
            if rule.to in seen:
                raise ValueError(f"fields[{index}].to: {rule.to!r} is filled twice; keep one rule per CRM field "
                                 "(list several paths in one rule's `from` for fallbacks)")
            seen.add(rule.to)
        return self

    @property
    def targets(self) -> list[str]:
        """The CRM fields this mapping writes."""
        return [rule.to for rule in self.fields]

    def render(self, golden_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """The CRM fields for one golden record; empty values are left out."""
        out = {}
        for rule in self.fields:
            value = rule.value(golden_id, fields)
            if value is not None:
                out[rule.to] = value
        return out


def load_outbound(path: Path) -> OutboundSpec:
    """Read and validate an outbound mapping YAML file."""
    return load_yaml_model(path, OutboundSpec, f"outbound mapping '{path.name}'")


def template(name: str) -> Path:
    """A bundled mapping template, e.g. template('hubspot_contacts_out')."""
    path = TEMPLATES_DIR / f"{name}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in TEMPLATES_DIR.glob("*.yaml"))) or "none"
        raise MappingError(f"no mapping template {name!r} in {TEMPLATES_DIR} (templates: {known})")
    return path
