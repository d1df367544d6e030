"""JSON reading: an array of objects, an object wrapping one such array, or JSON Lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path

from connectors.files.csv_reader import decode_bytes
from connectors.files.model import BadRow, CellValue, FileReadError, Row, Table

logger = logging.getLogger(__name__)

_RAW_LIMIT = 1000
NUL = "\x00"


def flatten(obj: Mapping[str, object], prefix: str = "") -> Iterator[tuple[str, CellValue]]:
    """Flatten nested objects into dotted keys; lists become JSON text, scalars strings."""
    for key, value in obj.items():
        name = f"{prefix}{str(key).replace(NUL, '').strip()}"
        if isinstance(value, Mapping):
            yield from flatten(value, prefix=f"{name}.")
        else:
            yield name, render_json_value(value)


def render_json_value(value: object) -> CellValue:
    """Render one JSON scalar or list as the text a person would read; None for null or ''."""
    if value is None:
        return None
    if isinstance(value, str):
        if NUL in value:  # "\u0000" is never text, and PostgreSQL refuses it inside JSON
            value = value.replace(NUL, "")
        return value if value != "" else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


def _items_of(document: object, path: Path) -> list[object]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        lists = [
            key
            for key, value in document.items()
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
        ]
        if len(lists) == 1:
            return list(document[lists[0]])
        if len(lists) > 1:
            raise FileReadError(
                path,
                f"holds several lists of objects ({', '.join(lists)}) and it is not clear which "
                "are the records; split it into one file per list",
            )
        empty = [key for key, value in document.items() if isinstance(value, list) and not value]
        if empty:
            return []
    raise FileReadError(
        path,
        "expected an array of objects, an object holding one array of objects "
        '(like {"items": [...]}), or JSON Lines (one object per line)',
    )


def _has_object_list(document: Mapping[str, object]) -> bool:
    return any(
        isinstance(v, list) and any(isinstance(item, dict) for item in v)
        for v in document.values()
    )


def _looks_like_json_lines(text: str) -> bool:
    """JSON Lines: the first line is an object, or most lines are and none is indented."""
    lines = [line.rstrip("\r") for line in text.split("\n") if line.strip()]
    if not lines:
        return False
    parsed = 0
    for index, line in enumerate(lines):
        try:
            is_object = isinstance(json.loads(line), dict)
        except json.JSONDecodeError:
            is_object = False
        if index == 0 and is_object:
            return True
        parsed += is_object
    indented = any(line[:1].isspace() for line in lines)
    return not indented and parsed * 2 > len(lines)


def read_json(data: bytes, path: Path, *, fingerprint: str, encoding: str | None = None) -> Table:
    """Read JSON or JSON Lines bytes into a table; bad JSON Lines lines become ``BadRow``s."""
    text, chosen = decode_bytes(data, path, encoding)
    entries: list[tuple[int, object, str]] = []
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if not _looks_like_json_lines(text):
            raise FileReadError(
                path,
                f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; "
                "fix the file or export it again",
            ) from None
        entries = list(_json_lines(text))
    else:
        lines = [line for line in text.split("\n") if line.strip()]
        if isinstance(document, dict) and len(lines) == 1 and not _has_object_list(document):
            # One object alone on a line is valid JSON Lines with a single record.
            entries = [(1, document, lines[0])]
        if not entries:
            entries = [(i, item, "") for i, item in enumerate(_items_of(document, path), start=1)]

    columns: dict[str, None] = {}
    rows: list[Row | BadRow] = []
    for number, item, raw in entries:
        if isinstance(item, BadRow):
            rows.append(item)
            continue
        if not isinstance(item, dict):
            shown = raw or json.dumps(item, ensure_ascii=False)
            rows.append(BadRow(number, "not a JSON object", shown[:_RAW_LIMIT]))
            continue
        values = dict(flatten(item))
        if all(v is None or v.strip() == "" for v in values.values()):
            continue
        for key in values:
            columns.setdefault(key, None)
        rows.append(Row(number=number, values=values))
    logger.debug("%s: %d JSON records, %d bad", path.name, len(rows), sum(
        1 for r in rows if isinstance(r, BadRow)))
    return Table(
        path=path,
        file_format="json",
        columns=tuple(columns),
        rows=tuple(rows),
        fingerprint=fingerprint,
        encoding=chosen,
    )


def _json_lines(text: str) -> Iterator[tuple[int, object, str]]:
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        try:
            yield number, json.loads(line), line
        except json.JSONDecodeError as exc:
            message = f"malformed JSON at line {number}, column {exc.colno}: {exc.msg}"
            yield number, BadRow(number, message, line[:_RAW_LIMIT]), line
