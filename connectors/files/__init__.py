"""Airbyte source for local CSV, XLSX, XLS, ODS and JSON files (see README.md here)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.files.config import FileEntry, FilesConfig, FilesConfigError, parse_config
from connectors.files.model import BadRow, FileReadError, Row, Table
from connectors.files.readers import iter_table, list_sheets, read_table
from connectors.files.stream import TableStream

if TYPE_CHECKING:
    from connectors.files.source import (
        FilesSource,
        FileStream,
        input_bytes,
        iter_airbyte_messages,
        iter_record_batches,
    )

__all__ = [
    "BadRow",
    "FileEntry",
    "FileReadError",
    "FileStream",
    "FilesConfig",
    "FilesConfigError",
    "FilesSource",
    "Row",
    "Table",
    "TableStream",
    "input_bytes",
    "iter_airbyte_messages",
    "iter_record_batches",
    "iter_table",
    "list_sheets",
    "parse_config",
    "read_table",
]

_SOURCE_NAMES = frozenset({"FilesSource", "FileStream", "input_bytes", "iter_airbyte_messages",
                           "iter_record_batches"})


def __getattr__(name: str) -> Any:
    # Importing airbyte_cdk configures the root logger to print Airbyte JSON to stdout, so
    # the source is only imported by those who use it; the readers stay side-effect free.
    if name in _SOURCE_NAMES:
        from connectors.files import source

        return getattr(source, name)
    raise AttributeError(f"module 'connectors.files' has no attribute {name!r}")
