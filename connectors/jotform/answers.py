"""JotForm submissions as flat fields: the same keys from the webhook and from the API.

The API keys an answer by its question's `name` (`email`, `fullName`); the webhook's
`rawRequest` uses `q<order>_<name>`, so the prefix is dropped. Compound answers (full name,
phone, address) flatten to dotted keys: `fullName.first`, `phoneNumber.full`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["JotformShapeError", "flatten_api_submission", "flatten_raw_request"]

_QUESTION = re.compile(r"^q\d+_(.+)$")
_SKIP_RAW = {"slug", "jsExecutionTracker", "submitSource", "submitDate", "buildDate", "uploadServerUrl",
             "eventObserver", "event_id", "timeToSubmit", "validatedNewRequiredFieldIDs", "path"}


class JotformShapeError(ValueError):
    """A JotForm payload does not have the documented shape; the message names the part."""


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


def _flatten(name: str, value: Any) -> Iterator[tuple[str, str | None]]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _flatten(f"{name}.{key}", inner)
    elif isinstance(value, list) and all(not isinstance(v, Mapping | list) for v in value):
        yield name, ", ".join(str(v) for v in value if v not in (None, "")) or None
    else:
        yield name, _text(value)


def flatten_raw_request(raw: Mapping[str, Any]) -> dict[str, str | None]:
    """The webhook's decoded `rawRequest` JSON as `{key: text}`."""
    fields: dict[str, str | None] = {}
    for key, value in raw.items():
        match = _QUESTION.match(str(key))
        if match:
            fields.update(_flatten(match.group(1), value))
        elif key not in _SKIP_RAW:
            fields.update(_flatten(str(key), value))
    return fields


def flatten_api_submission(item: Mapping[str, Any]) -> dict[str, str | None]:
    """One item of `GET /form/{id}/submissions` as `{key: text}`."""
    answers = item.get("answers") or {}
    if not isinstance(answers, Mapping):
        raise JotformShapeError("submission.answers must be an object keyed by question id")
    fields: dict[str, str | None] = {}
    for key in ("id", "form_id", "ip", "created_at", "updated_at", "status"):
        if item.get(key) is not None:
            fields[key] = _text(item[key])
    for qid, answer in answers.items():
        if not isinstance(answer, Mapping):
            raise JotformShapeError(f"submission.answers[{qid}] must be an object")
        if "answer" not in answer:
            continue  # headings, buttons and other controls without an answer
        name = str(answer.get("name") or f"q{qid}")
        fields.update(_flatten(name, answer["answer"]))
    return fields
