"""The files source's configuration: its JSON-schema spec and the typed model it is parsed into."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.files.model import FORMATS, WORKBOOK_FORMATS, format_from_extension

DEFAULT_CHECKPOINT_EVERY = 500

FileFormat = Literal["csv", "xlsx", "xls", "ods", "json"]


class FilesConfigError(ValueError):
    """The configuration is invalid; the message names the key and the fix."""


class FileEntry(BaseModel):
    """One configured file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1)
    name: str | None = None
    format: FileFormat | None = None
    sheets: list[str] | None = None
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int | None = Field(default=None, ge=1)
    primary_key: list[str] | None = None

    def resolved_path(self, base_dir: str | None) -> Path:
        """The file's absolute path: relative paths resolve against base_dir, else the cwd."""
        path = Path(self.path).expanduser()
        if not path.is_absolute():
            path = Path(base_dir).expanduser() / path if base_dir else Path.cwd() / path
        return path

    @property
    def stream_prefix(self) -> str:
        """The stream name (csv/json) or the part before ':' (workbooks)."""
        return self.name or Path(self.path).stem

    def file_format(self) -> str | None:
        """The configured format, else the one the extension implies (None when unknown)."""
        return self.format or format_from_extension(Path(self.path))

    @property
    def is_workbook(self) -> bool:
        """True for xlsx, xls and ods files."""
        return self.file_format() in WORKBOOK_FORMATS


class FilesConfig(BaseModel):
    """The whole source configuration."""

    # Airbyte platforms may add their own top-level keys; file entries are strict.
    model_config = ConfigDict(extra="ignore", frozen=True)

    files: list[FileEntry] = Field(min_length=1)
    base_dir: str | None = None
    checkpoint_every: int = Field(default=DEFAULT_CHECKPOINT_EVERY, ge=1)


def parse_config(raw: Any) -> FilesConfig:
    """Validate a config mapping into ``FilesConfig``; errors name the key and the fix."""
    try:
        return FilesConfig.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = "".join(
                f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]
            ).lstrip(".")
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = "unknown key; allowed keys: " + ", ".join(FileEntry.model_fields)
            problems.append(f"{where or 'config'}: {message}")
        raise FilesConfigError("invalid files config: " + "; ".join(problems)) from None


def _nullable(kind: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **extra}


CONNECTION_SPECIFICATION: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Files (CSV, Excel, ODS, JSON)",
    "type": "object",
    "required": ["files"],
    "additionalProperties": True,
    "properties": {
        "files": {
            "title": "Files",
            "description": "The files to read; each CSV/JSON file is one stream, each sheet one.",
            "type": "array",
            "minItems": 1,
            "order": 0,
            "items": {
                "type": "object",
                "required": ["path"],
                "additionalProperties": False,
                "properties": {
                    "path": {
                        "title": "Path",
                        "description": "File path; relative paths resolve against base_dir.",
                        "type": "string",
                        "minLength": 1,
                        "examples": ["data/customers.xlsx"],
                    },
                    "name": _nullable(
                        "string",
                        title="Stream name",
                        description="Stream name (csv/json) or prefix 'name:sheet' "
                        "(workbooks); default: the file name without extension.",
                    ),
                    "format": {
                        "title": "Format",
                        "description": "Default: from the extension.",
                        "enum": [*FORMATS, None],
                    },
                    "sheets": _nullable(
                        "array",
                        title="Sheets",
                        description="Workbook sheets to read; default: all visible sheets.",
                        items={"type": "string"},
                    ),
                    "encoding": _nullable(
                        "string",
                        title="Encoding",
                        description="CSV/JSON text encoding; default: detected.",
                        examples=["utf-8", "cp1251"],
                    ),
                    "delimiter": _nullable(
                        "string",
                        title="Delimiter",
                        description="CSV delimiter (one character or 'tab'); default: detected.",
                        examples=[";", ","],
                    ),
                    "header_row": _nullable(
                        "integer",
                        title="Header row",
                        description="1-based row (CSV: line) holding the column names; "
                        "default: detected.",
                        minimum=1,
                    ),
                    "primary_key": _nullable(
                        "array",
                        title="Primary key",
                        description="Columns whose values identify a row; default: a hash "
                        "of the row's values.",
                        items={"type": "string"},
                    ),
                },
            },
        },
        "base_dir": _nullable(
            "string",
            title="Base folder",
            description="Folder that relative file paths resolve against; default: cwd.",
            order=1,
        ),
        "checkpoint_every": {
            "title": "Checkpoint every",
            "description": "Records between state checkpoints.",
            "type": "integer",
            "minimum": 1,
            "default": DEFAULT_CHECKPOINT_EVERY,
            "order": 2,
        },
    },
}
