"""Airbyte source for local CSV, XLSX, XLS, ODS and JSON files (see README.md here)."""

from __future__ import annotations

from connectors.files.config import FileEntry, FilesConfig, FilesConfigError, parse_config
from connectors.files.model import BadRow, FileReadError, Row, Table
from connectors.files.readers import list_sheets, read_table
from connectors.files.source import FilesSource, FileStream, iter_airbyte_messages

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
    "iter_airbyte_messages",
    "list_sheets",
    "parse_config",
    "read_table",
]
