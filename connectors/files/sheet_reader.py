"""Workbook reading: XLSX through openpyxl (with merged cells), XLS and ODS through python-calamine."""

from __future__ import annotations

import io
import logging
import warnings
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

import openpyxl
import python_calamine
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from connectors.files.grid import RawRow, build_rows
from connectors.files.model import FileReadError, Table

logger = logging.getLogger(__name__)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CACHE_SIZE = 2
_OPENPYXL_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    InvalidFileException,
    ParseError,
    EOFError,
    ValueError,
    TypeError,
    OSError,
    NotImplementedError,  # zipfile: an unsupported compression method or zip version (a corrupt header)
)

Merge = tuple[int, int, int, int]  # first row, first col, last row, last col; 0-based, inclusive


@dataclass
class Workbook:
    """A parsed workbook: its sheets in order, which are visible, and each sheet's raw cells."""

    path: Path
    file_format: str
    fingerprint: str
    sheets: tuple[str, ...]
    visible: tuple[str, ...]
    _source: openpyxl.Workbook | python_calamine.CalamineWorkbook | None = field(
        repr=False, default=None
    )
    _grids: dict[str, list[RawRow]] = field(default_factory=dict, repr=False)

    def grid(self, sheet: str) -> list[RawRow]:
        """The sheet's raw cells by Excel row number (from 1), merged ranges filled."""
        if sheet not in self.sheets:
            raise sheet_not_found(self.path, sheet, self.sheets)
        if sheet not in self._grids:
            if isinstance(self._source, openpyxl.Workbook):
                self._grids[sheet] = _openpyxl_grid(self._source, sheet)
            elif isinstance(self._source, python_calamine.CalamineWorkbook):
                self._grids[sheet] = _calamine_grid(self._source, sheet, self.path)
            else:
                raise FileReadError(self.path, "workbook was not loaded")
        return self._grids[sheet]


_CACHE: OrderedDict[tuple[str, str, str], Workbook] = OrderedDict()


def sheet_not_found(path: Path, sheet: str, sheets: Iterable[str]) -> FileReadError:
    """The error for a missing sheet, listing the sheets that exist."""
    names = list(sheets)
    near = [s for s in names if s.strip().casefold() == sheet.strip().casefold()]
    hint = f"; did you mean '{near[0]}'?" if near else ""
    return FileReadError(path, f"sheet '{sheet}' not found (sheets: {', '.join(names)}){hint}")


def open_workbook(data: bytes, path: Path, file_format: str, fingerprint: str) -> Workbook:
    """Parse workbook bytes (cached by file and content hash, so several sheets share one parse)."""
    key = (str(path), fingerprint, file_format)  # a copy of a file elsewhere is named as itself
    cached = _CACHE.get(key)
    if cached is not None:
        _CACHE.move_to_end(key)
        return cached
    if file_format == "xlsx":
        workbook = _load_openpyxl(data, path, fingerprint)
    else:
        workbook = _load_calamine(data, path, file_format, fingerprint)
    _CACHE[key] = workbook
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return workbook


def read_sheet(
    workbook: Workbook, sheet: str, *, header_row: int | None = None
) -> Table:
    """Read one sheet of a parsed workbook into a table."""
    grid = build_rows(
        workbook.grid(sheet),
        path=workbook.path,
        header_row=header_row,
        blank_name=lambda i: f"column_{get_column_letter(i + 1)}",
    )
    return Table(
        path=workbook.path,
        file_format=workbook.file_format,
        columns=grid.columns,
        rows=grid.rows,
        fingerprint=workbook.fingerprint,
        sheet=sheet,
        header_row=grid.header_row,
    )


def _load_openpyxl(data: bytes, path: Path, fingerprint: str) -> Workbook:
    if data.startswith(_OLE_MAGIC):
        raise FileReadError(
            path,
            "not a valid XLSX workbook (it looks like an old Excel 97-2003 .xls file, or it is "
            "password-protected); set \"format\": \"xls\" or re-save it from Excel as .xlsx",
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=False)
        except _OPENPYXL_ERRORS as exc:
            raise FileReadError(
                path,
                f"not a valid XLSX workbook (the file is corrupt or not Excel: {_reason(exc)}); "
                "re-save it from Excel as .xlsx",
            ) from None
    for warning in caught:
        logger.debug("%s: openpyxl: %s", path.name, warning.message)
    sheets = tuple(ws.title for ws in book.worksheets)
    visible = tuple(ws.title for ws in book.worksheets if ws.sheet_state == "visible")
    return Workbook(path, "xlsx", fingerprint, sheets, visible, _source=book)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, KeyError):
        text = f"missing part {text}"
    return text or type(exc).__name__


def _openpyxl_grid(book: openpyxl.Workbook, sheet: str) -> list[RawRow]:
    ws = book[sheet]
    rows: list[list[object]] = [
        list(values)
        for values in ws.iter_rows(
            min_row=1, min_col=1, max_row=ws.max_row, max_col=ws.max_column, values_only=True
        )
    ]
    merges = [
        (r.min_row - 1, r.min_col - 1, r.max_row - 1, r.max_col - 1)
        for r in ws.merged_cells.ranges
    ]
    _fill_merges(rows, merges)
    return [(i + 1, cells) for i, cells in enumerate(rows)]


def _fill_merges(rows: list[list[object]], merges: Iterable[Merge]) -> None:
    """Give every cell of a merged range the value of its top-left cell."""
    for top, left, bottom, right in merges:
        if top >= len(rows):
            continue
        value = rows[top][left] if left < len(rows[top]) else None
        for r in range(top, min(bottom, len(rows) - 1) + 1):
            row = rows[r]
            if len(row) <= right:
                row.extend([None] * (right + 1 - len(row)))
            for c in range(left, right + 1):
                row[c] = value


def _load_calamine(data: bytes, path: Path, file_format: str, fingerprint: str) -> Workbook:
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        metadata = book.sheets_metadata
    except python_calamine.CalamineError as exc:
        label = file_format.upper()
        raise FileReadError(
            path,
            f"not a valid {label} workbook (the file is corrupt or not a spreadsheet: {exc}); "
            f"re-save it as .{file_format} or .xlsx",
        ) from None
    sheets = tuple(m.name for m in metadata)
    visible = tuple(
        m.name for m in metadata if m.visible == python_calamine.SheetVisibleEnum.Visible
    )
    return Workbook(path, file_format, fingerprint, sheets, visible, _source=book)


def _calamine_grid(
    book: python_calamine.CalamineWorkbook, sheet: str, path: Path
) -> list[RawRow]:
    try:
        ws = book.get_sheet_by_name(sheet)
        rows: list[list[object]] = [list(r) for r in ws.to_python(skip_empty_area=False)]
        merged = ws.merged_cell_ranges or []
    except python_calamine.CalamineError as exc:
        raise FileReadError(path, f"sheet '{sheet}' cannot be read ({exc}); re-save the file") from None
    _fill_merges(rows, [(a[0], a[1], b[0], b[1]) for a, b in merged])
    return [(i + 1, cells) for i, cells in enumerate(rows)]
