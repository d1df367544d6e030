"""Reading CSV, XLSX, XLS, ODS and JSON files into tables; no Airbyte here."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from connectors.files.csv_reader import read_csv
from connectors.files.csv_stream import scan_csv
from connectors.files.json_reader import read_json
from connectors.files.model import (
    FORMATS,
    WORKBOOK_FORMATS,
    FileReadError,
    Table,
    format_from_extension,
)
from connectors.files.sheet_reader import Workbook, open_workbook, read_sheet
from connectors.files.stream import TableStream

__all__ = ["iter_table", "list_sheets", "load_file", "open_workbook_file", "read_table", "resolve_format"]


def resolve_format(path: Path, file_format: str | None = None) -> str:
    """The format to read ``path`` with: the one given, else the one its extension implies."""
    if file_format:
        fmt = file_format.lower().lstrip(".")
        if fmt not in FORMATS:
            raise FileReadError(
                path, f"unknown format '{file_format}'; use one of {', '.join(FORMATS)}"
            )
        return fmt
    fmt = format_from_extension(path)
    if fmt is None:
        raise FileReadError(
            path,
            f"cannot tell the format from the extension '{path.suffix or '(none)'}'; "
            f"set \"format\" to one of {', '.join(FORMATS)}",
        )
    return fmt


def load_file(path: Path) -> tuple[bytes, str]:
    """Read a file's bytes and their sha256 hex digest, with clear errors."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileReadError(path, f"file not found (looked for {path}); check the path") from None
    except IsADirectoryError:
        raise FileReadError(path, "is a folder, not a file; point \"path\" at a file") from None
    except PermissionError:
        raise FileReadError(path, "cannot be opened: permission denied") from None
    except OSError as exc:
        raise FileReadError(path, f"cannot be opened: {exc.strerror or exc}") from None
    return data, hashlib.sha256(data).hexdigest()


def open_workbook_file(path: str | Path, file_format: str | None = None) -> Workbook:
    """Open a workbook file (xlsx, xls, ods); parses are cached by content."""
    p = Path(path)
    fmt = resolve_format(p, file_format)
    if fmt not in WORKBOOK_FORMATS:
        raise FileReadError(p, f"is a {fmt} file, not a workbook; it has no sheets")
    data, digest = load_file(p)
    return open_workbook(data, p, fmt, digest)


def list_sheets(path: str | Path, file_format: str | None = None) -> list[str]:
    """The visible sheets of a workbook, in workbook order."""
    return list(open_workbook_file(path, file_format).visible)


def read_table(
    path: str | Path,
    *,
    file_format: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
) -> Table:
    """Read one table: a CSV or JSON file, or one sheet of a workbook (default: the first visible)."""
    p = Path(path)
    fmt = resolve_format(p, file_format)
    if fmt in WORKBOOK_FORMATS:
        data, digest = load_file(p)
        workbook = open_workbook(data, p, fmt, digest)
        if sheet is None:
            if not workbook.visible:
                raise FileReadError(p, "has no visible sheets; unhide a sheet or name it in \"sheets\"")
            sheet = workbook.visible[0]
        return read_sheet(workbook, sheet, header_row=header_row)
    if sheet is not None:
        raise FileReadError(p, f"is a {fmt} file and has no sheets; remove \"sheets\" for it")
    data, digest = load_file(p)
    if fmt == "json":
        return read_json(data, p, fingerprint=digest, encoding=encoding)
    return read_csv(
        data,
        p,
        fingerprint=digest,
        encoding=encoding,
        delimiter=delimiter,
        header_row=header_row,
    )


def iter_table(
    path: str | Path,
    *,
    file_format: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
) -> TableStream:
    """read_table for big files: the layout now, the rows as they are iterated, in bounded memory.

    ``stream = iter_table("big.csv")`` checks and scans the file (raising FileReadError as
    read_table does); ``stream.columns`` and ``stream.fingerprint`` are then known, and
    ``for row in stream`` (or ``for rows in stream.chunks(5000)``) gives the same Row and BadRow
    values as ``read_table(...).rows``, parsing a UTF-8 CSV as it goes. Other formats and
    encodings are read whole when iterated.
    """
    p = Path(path)
    fmt = resolve_format(p, file_format)
    if fmt == "csv" and sheet is None:
        if not p.is_file():
            load_file(p)  # the same errors as read_table: not found, a folder, no permission
        try:
            layout = scan_csv(p, encoding=encoding, delimiter=delimiter, header_row=header_row)
        except PermissionError:
            layout = None
        if layout is not None:
            head = Table(path=p, file_format="csv", columns=layout.columns, rows=(), fingerprint=layout.fingerprint,
                         header_row=layout.header_row, encoding=layout.encoding, delimiter=layout.delimiter)
            return TableStream(head, layout=layout)
    table = read_table(p, file_format=file_format, sheet=sheet, encoding=encoding, delimiter=delimiter,
                       header_row=header_row)
    return TableStream(dataclasses.replace(table, rows=()), whole=table)
