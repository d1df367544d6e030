"""Typed connector configuration: pydantic models in, Airbyte spec out, errors that name the key."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

__all__ = ["ConnectorConfigError", "connection_spec", "parse_config"]

M = TypeVar("M", bound=BaseModel)


class ConnectorConfigError(ValueError):
    """A connector's configuration is invalid; the message names the key and the fix."""


def parse_config(model: type[M], raw: Any, connector: str) -> M:
    """Validate a config mapping into `model`; every problem names its key."""
    if not isinstance(raw, dict):
        raise ConnectorConfigError(f"{connector} config: expected an object of settings, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "config"
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key; allowed keys: " + ", ".join(sorted(model.model_fields))
            elif error["type"] == "missing":
                description = model.model_fields.get(str(error["loc"][0]))
                hint = f" ({description.description})" if description and description.description else ""
                message = f"required key is missing{hint}"
            problems.append(f"{where}: {message}")
        raise ConnectorConfigError(f"invalid {connector} config: " + "; ".join(problems)) from None


def connection_spec(model: type[BaseModel], title: str) -> dict[str, Any]:
    """The Airbyte connectionSpecification (JSON schema) of a config model.

    Fields declared with `json_schema_extra={"airbyte_secret": True}` are masked by Airbyte.
    """
    schema = model.model_json_schema()
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    schema["title"] = title
    schema.setdefault("additionalProperties", True)
    return schema
