"""Plain data types shared by the file readers: tables, rows, bad rows and the read error."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

FORMATS: tuple[str, ...] = ("csv", "xlsx", "xls", "ods", "json")
WORKBOOK_FORMATS: frozenset[str] = frozenset({"xlsx", "xls", "ods"})

CellValue = str | None


class FileReadError(Exception):
    """A file could not be read; ``str()`` names the file, the row if known, and the fix."""

    def __init__(
        self,
        path: str | Path,
        message: str,
        row: int | None = None,
        *,
        unit: str = "row",
    ) -> None:
        self.path = str(path)
        self.message = message
        self.row = row
        self.unit = unit
        super().__init__(str(self))

    @property
    def file(self) -> str:
        """The file's base name, as shown in messages."""
        return Path(self.path).name or self.path

    def __str__(self) -> str:
        where = f", {self.unit} {self.row}" if self.row is not None else ""
        return f"{self.file}{where}: {self.message}"

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_error, (self.path, self.message, self.row, self.unit))


def _rebuild_error(path: str, message: str, row: int | None, unit: str) -> FileReadError:
    return FileReadError(path, message, row, unit=unit)


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its 1-based number as the user sees it and its values by column."""

    number: int
    values: dict[str, CellValue]


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that could not be parsed; the rest of the file is still read."""

    number: int
    message: str
    raw: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    """One readable table: a CSV or JSON file, or one sheet of a workbook."""

    path: Path
    file_format: str
    columns: tuple[str, ...]
    rows: tuple[Row | BadRow, ...]
    fingerprint: str
    sheet: str | None = None
    header_row: int | None = None
    encoding: str | None = None
    delimiter: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def file(self) -> str:
        """The file's base name."""
        return self.path.name

    @property
    def data_rows(self) -> tuple[Row, ...]:
        """The good rows only."""
        return tuple(r for r in self.rows if isinstance(r, Row))

    @property
    def bad_rows(self) -> tuple[BadRow, ...]:
        """The rows that could not be parsed."""
        return tuple(r for r in self.rows if isinstance(r, BadRow))


def unique_name(name: str, taken: set[str]) -> str:
    """Return ``name``, or ``name_2``, ``name_3``... whichever is not yet in ``taken``; record it."""
    candidate = name
    n = 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate)
    return candidate


def format_from_extension(path: Path) -> str | None:
    """Guess the format from the file extension, or None when it is not one we read."""
    ext = path.suffix.lower().lstrip(".")
    if ext in ("csv", "tsv"):
        return "csv"
    if ext in ("xlsx", "xlsm"):
        return "xlsx"
    if ext in ("xls", "ods"):
        return ext
    if ext in ("json", "jsonl", "ndjson"):
        return "json"
    return None
