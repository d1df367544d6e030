"""Turning table rows into Airbyte record data: column keys, metadata keys and stable record ids."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from connectors.files.model import BadRow, FileReadError, Row, Table, unique_name

logger = logging.getLogger(__name__)

FILE_KEY = "_file"
SHEET_KEY = "_sheet"
ROW_KEY = "_row"
RECORD_ID_KEY = "_record_id"
PASS_KEY = "_pass"
ERROR_KEY = "_error"
RAW_KEY = "_raw"
METADATA_KEYS: tuple[str, ...] = (
    FILE_KEY,
    SHEET_KEY,
    ROW_KEY,
    RECORD_ID_KEY,
    PASS_KEY,
    ERROR_KEY,
    RAW_KEY,
)


def output_columns(table: Table) -> dict[str, str]:
    """Map each table column to its record key (a column named like a metadata key gets ``_2``)."""
    taken = set(METADATA_KEYS)
    return {column: unique_name(column, taken) for column in table.columns}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def check_primary_key(table: Table, primary_key: Sequence[str] | None) -> None:
    """Fail with a clear message when a primary_key column is not in the table."""
    missing = [c for c in primary_key or () if c not in table.columns]
    if missing:
        raise FileReadError(
            table.path,
            f"primary_key column '{missing[0]}' not found "
            f"(columns: {', '.join(table.columns)}); fix \"primary_key\"",
        )


def record_ids(table: Table, primary_key: Sequence[str] | None = None) -> list[str]:
    """One id per table row: primary-key values joined by '|', else a content hash made unique."""
    check_primary_key(table, primary_key)
    ids: list[str] = []
    seen: Counter[str] = Counter()
    for row in table.rows:
        if isinstance(row, BadRow):
            base = "e:" + _digest(row.raw or f"{row.number}:{row.message}")
        elif primary_key:
            base = "|".join(row.values.get(c) or "" for c in primary_key)
        else:
            values = [row.values.get(c) for c in table.columns]
            base = "h:" + _digest(json.dumps(values, ensure_ascii=False))
        seen[base] += 1
        # Primary keys identify a row by definition; only content hashes need telling apart.
        count = seen[base]
        ids.append(base if count == 1 or (primary_key and isinstance(row, Row)) else f"{base}#{count}")
    if primary_key:
        repeated = sum(n - 1 for n in seen.values() if n > 1)
        if repeated:
            logger.warning(
                "%s: %d row(s) repeat a primary_key value of an earlier row; they share its "
                "_record_id", table.file, repeated,
            )
    return ids


def iter_records(
    table: Table,
    *,
    pass_id: str,
    primary_key: Sequence[str] | None = None,
    skip: int = 0,
) -> Iterator[dict[str, Any]]:
    """Yield record data for every row after the first ``skip`` rows (good and bad rows alike)."""
    keys = output_columns(table)
    ids = record_ids(table, primary_key)
    for index, row in enumerate(table.rows):
        if index < skip:
            continue
        record: dict[str, Any]
        if isinstance(row, BadRow):
            record = {ERROR_KEY: row.message, RAW_KEY: row.raw}
        else:
            record = {keys[c]: row.values.get(c) for c in table.columns}
        record[FILE_KEY] = table.file
        if table.sheet is not None:
            record[SHEET_KEY] = table.sheet
        record[ROW_KEY] = row.number
        record[RECORD_ID_KEY] = ids[index]
        record[PASS_KEY] = pass_id
        yield record


def json_schema(table: Table) -> dict[str, Any]:
    """The stream's JSON schema: every column a nullable string, plus the metadata keys."""
    nullable = {"type": ["null", "string"]}
    properties: dict[str, Any] = {key: dict(nullable) for key in output_columns(table).values()}
    properties[FILE_KEY] = {"type": "string"}
    if table.sheet is not None:
        properties[SHEET_KEY] = {"type": "string"}
    properties[ROW_KEY] = {"type": "integer"}
    properties[RECORD_ID_KEY] = {"type": "string"}
    properties[PASS_KEY] = {"type": "string"}
    properties[ERROR_KEY] = dict(nullable)
    properties[RAW_KEY] = dict(nullable)
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "properties": properties,
    }
