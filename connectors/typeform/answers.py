"""Typeform responses as flat fields: the same keys from the webhook and from the Responses API.

An answer is keyed by its field's `ref` (set in the form builder; stable across form edits),
else the field id. Hidden fields become `hidden.<name>`, variables `variables.<key>`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["TypeformShapeError", "answer_value", "flatten_response"]


class TypeformShapeError(ValueError):
    """A Typeform response does not have the documented shape; the message names the part."""


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def answer_value(answer: Mapping[str, Any]) -> str | None:
    """The text of one answer, from the key named after its type (choice labels joined by ', ')."""
    kind = answer.get("type")
    value = answer.get(kind) if isinstance(kind, str) else None
    if kind == "choice" and isinstance(value, Mapping):
        return _text(value.get("label") or value.get("other"))
    if kind == "choices" and isinstance(value, Mapping):
        labels = [str(label) for label in value.get("labels") or [] if label]
        if value.get("other"):
            labels.append(str(value["other"]))
        return ", ".join(labels) or None
    if kind == "payment" and isinstance(value, Mapping):
        return _text(value.get("amount"))
    return _text(value)


def flatten_response(response: Mapping[str, Any]) -> dict[str, str | None]:
    """One response (webhook `form_response` or an API item) as `{key: text}`."""
    answers = response.get("answers") or []
    if not isinstance(answers, list):
        raise TypeformShapeError("form_response.answers must be a list of answers")
    fields: dict[str, str | None] = {}
    for key in ("form_id", "token", "response_id", "landing_id", "landed_at", "submitted_at"):
        if response.get(key) is not None:
            fields[key] = _text(response[key])
    definition = response.get("definition")
    if isinstance(definition, Mapping) and definition.get("title"):
        fields["form_title"] = _text(definition["title"])
    for index, answer in enumerate(answers):
        if not isinstance(answer, Mapping):
            raise TypeformShapeError(f"form_response.answers[{index}] must be an object")
        field = answer.get("field") if isinstance(answer.get("field"), Mapping) else {}
        key = field.get("ref") or field.get("id")
        if not key:
            raise TypeformShapeError(f"form_response.answers[{index}].field needs an id or a ref")
        fields[str(key)] = answer_value(answer)
    for group in ("hidden", "metadata", "calculated"):
        values = response.get(group)
        if isinstance(values, Mapping):
            for name, value in values.items():
                fields[f"{group}.{name}"] = _text(value)
    variables = response.get("variables") or []
    if not isinstance(variables, list):
        raise TypeformShapeError("form_response.variables must be a list")
    for variable in variables:
        if isinstance(variable, Mapping) and variable.get("key"):
            kind = variable.get("type")
            fields[f"variables.{variable['key']}"] = _text(variable.get(kind) if isinstance(kind, str) else None)
    return fields
