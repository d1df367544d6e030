"""Turning table rows into Airbyte record data: column keys, metadata keys and stable record ids."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import json.encoder
import logging
from collections.abc import Iterator, Sequence
from typing import Any

from connectors.files.model import BadRow, CellValue, FileReadError, Row, Table, unique_name
from connectors.files.stream import TableStream

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


# json.dumps(values, ensure_ascii=False) for a list of text and None, without building an encoder
# per call: the C encoder json.dumps uses, with its default separators (tests hold the two equal)
_ID_ENCODER = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, None, json.encoder.encode_basestring, None, ": ", ", ", False, False, True)


def _id_json(values: Sequence[CellValue]) -> str:
    return "".join(_ID_ENCODER(values, 0))


class RecordIds:
    """Record ids of a table's rows, one row at a time in file order (a file never needs to be held).

    Primary-key values joined by '|', else a content hash of the row's values; a repeated hash
    (or a repeated bad row) gets '#2', '#3'... Primary keys identify a row by definition, so a
    repeated one is kept as it is and only counted.
    """

    def __init__(self, columns: Sequence[str], primary_key: Sequence[str] | None = None) -> None:
        self.key_positions = [list(columns).index(c) for c in primary_key] if primary_key else None
        self.seen: dict[str, int] = {}

    def _unique(self, base: str, keyed: bool) -> str:
        count = self.seen.get(base, 0) + 1
        self.seen[base] = count
        return base if count == 1 or keyed else f"{base}#{count}"

    def good(self, values: Sequence[CellValue]) -> str:
        """The id of a good row, given its values in column order."""
        if self.key_positions is not None:
            return self._unique("|".join(values[i] or "" for i in self.key_positions), True)
        return self._unique("h:" + hashlib.sha256(_id_json(values).encode("utf-8")).hexdigest()[:16], False)

    def bad(self, row: BadRow) -> str:
        """The id of a row that could not be parsed."""
        return self._unique("e:" + _digest(row.raw or f"{row.number}:{row.message}"), False)

    def warn_repeats(self, file: str) -> None:
        """Log how many rows repeated a primary-key value of an earlier row."""
        if self.key_positions is None:
            return
        repeated = sum(n - 1 for n in self.seen.values() if n > 1)
        if repeated:
            logger.warning(
                "%s: %d row(s) repeat a primary_key value of an earlier row; they share its "
                "_record_id", file, repeated,
            )


def record_ids(table: Table, primary_key: Sequence[str] | None = None) -> list[str]:
    """One id per table row (see RecordIds)."""
    check_primary_key(table, primary_key)
    ids = RecordIds(table.columns, primary_key)
    out = [ids.bad(row) if isinstance(row, BadRow) else ids.good([row.values.get(c) for c in table.columns])
           for row in table.rows]
    ids.warn_repeats(table.file)
    return out


def iter_records(
    table: Table,
    *,
    pass_id: str,
    primary_key: Sequence[str] | None = None,
    skip: int = 0,
) -> Iterator[dict[str, Any]]:
    """Yield record data for every row after the first ``skip`` rows (good and bad rows alike)."""
    stream = TableStream(dataclasses.replace(table, rows=()), whole=table)
    return iter_stream_records(stream, pass_id=pass_id, primary_key=primary_key, skip=skip)


def iter_stream_records(
    stream: TableStream,
    *,
    pass_id: str,
    primary_key: Sequence[str] | None = None,
    skip: int = 0,
) -> Iterator[dict[str, Any]]:
    """iter_records for a TableStream: the same records, made as the file is read.

    A streamed CSV row comes as its cells, and its values in column order are both the
    record's columns and what its id hashes; only a row wider than the header is made a Row.
    """
    head = stream.head
    check_primary_key(head, primary_key)
    columns = head.columns
    keys = list(output_columns(head).values())
    ids = RecordIds(columns, primary_key)
    file, sheet = head.file, head.sheet
    layout = stream.layout
    narrow = len(layout.names) if layout is not None else -1  # rows this wide need no Row
    padding: list[CellValue] = [None] * len(columns)
    index = 0
    for item in stream.items():
        kind = type(item)
        values: list[CellValue] | None
        if kind is tuple:
            number, cells = item  # type: ignore[misc]
            if len(cells) <= narrow:
                values = [c or None for c in cells]
                if len(values) < len(columns):
                    values += padding[len(values):]
            else:
                values = [layout.to_row(number, cells).values.get(c) for c in columns]  # type: ignore[union-attr]
            record_id = ids.good(values)
        elif kind is Row:
            number = item.number  # type: ignore[union-attr]
            values = [item.values.get(c) for c in columns]  # type: ignore[union-attr]
            record_id = ids.good(values)
        else:
            number, values = item.number, None  # type: ignore[union-attr]
            record_id = ids.bad(item)  # type: ignore[arg-type]
        index += 1
        if index <= skip:
            continue
        record: dict[str, Any]
        if values is None:
            record = {ERROR_KEY: item.message, RAW_KEY: item.raw}  # type: ignore[union-attr]
        else:
            record = dict(zip(keys, values, strict=True))
        record[FILE_KEY] = file
        if sheet is not None:
            record[SHEET_KEY] = sheet
        record[ROW_KEY] = number
        record[RECORD_ID_KEY] = record_id
        record[PASS_KEY] = pass_id
        yield record
    ids.warn_repeats(file)


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
