"""Streaming CSV: the rows read_csv gives, in file order, without holding the file or the table.

Two passes over the file, both through the stdlib ``csv`` module. The scan hashes the bytes (the
fingerprint), checks that they decode, picks the delimiter and the header on the file's first
rows, and names every column: a cell past the header's last column anywhere in the file adds a
column, and record ids depend on all of them, so they must be known before the first row is
handed out. The read then parses the file again, one record at a time.

Only UTF-8 files stream (with or without a BOM: what spreadsheet exports are). Other encodings
are detected on the whole file, and NUL characters are removed before parsing; for those,
scan_csv returns None and the caller reads the table with read_csv, which gives the same rows.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from connectors.files.csv_reader import _BOMS, bad_csv_row, normalise_delimiter, sniff_delimiter
from connectors.files.grid import HEADER_WINDOW, column_names, detect_header, is_blank_row
from connectors.files.model import BadRow, CellValue, FileReadError, Row, unique_name

logger = logging.getLogger(__name__)

_PREFIX_BYTES = 300 * 1024  # at least the 64K characters the delimiter sniffer looks at, in any UTF-8
_BUFFER = 1 << 20
_UTF8_CODECS = frozenset({"utf-8", "utf-8-sig"})

CellRow = tuple[int, list[str]]
"""(the line where the record starts, its cells)."""


class _NotStreamable(Exception):
    """The file needs read_csv: an encoding other than UTF-8, or a NUL character."""


def _blank_name(i: int) -> str:
    return f"column_{i + 1}"


class _HashingFile(io.RawIOBase):
    """A file's bytes, hashed as they are read; notes whether any byte is NUL."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._file = path.open("rb", buffering=0)
        self.sha256 = hashlib.sha256()
        self.has_nul = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = self._file.readinto(buffer) or 0
        if count:
            chunk = bytes(buffer[:count])
            self.sha256.update(chunk)
            self.has_nul = self.has_nul or b"\x00" in chunk
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


def _open_text(path: Path) -> tuple[_HashingFile, io.TextIOWrapper]:
    # utf-8-sig drops one leading BOM, as read_csv does after decoding UTF-8
    raw = _HashingFile(path)
    return raw, io.TextIOWrapper(io.BufferedReader(raw, _BUFFER), encoding="utf-8-sig", newline="")


@dataclass(frozen=True)
class CsvLayout:
    """What the scan found: enough to hand out the rows exactly as read_csv names them."""

    path: Path
    encoding: str  # the name read_csv reports: the one given, or "utf-8" / "utf-8-sig" detected
    delimiter: str
    fingerprint: str
    names: tuple[str, ...]  # the header's names, by position
    extras: dict[int, str] = field(default_factory=dict)  # position past the header -> its column
    header_row: int | None = None  # None: the file has no non-empty row
    has_errors: bool = False  # some record cannot be parsed as CSV

    @property
    def columns(self) -> tuple[str, ...]:
        """The header's names, then the extra columns in position order."""
        return self.names + tuple(self.extras[i] for i in sorted(self.extras))

    def items(self) -> Iterator[CellRow | BadRow]:
        """Every record after the header, in file order: (line, cells), or a BadRow."""
        header = self.header_row
        for item in _records(self):
            if type(item) is BadRow or (header is not None and item[0] > header  # type: ignore[index]
                                         and not is_blank_row(item[1])):  # type: ignore[index]
                yield item

    def to_row(self, number: int, cells: list[str]) -> Row:
        """The Row read_csv makes of these cells."""
        values: dict[str, CellValue] = dict(zip(self.names, [c or None for c in cells], strict=False))
        for i in range(len(self.names), len(cells)):
            if cells[i].strip():
                values[self.extras[i]] = cells[i]
        return Row(number=number, values=values)


def _tracked(lines: Iterable[str], kept: list[str]) -> Iterator[str]:
    for line in lines:
        kept.append(line)
        yield line


def _records(layout: CsvLayout) -> Iterator[CellRow | BadRow]:
    """(start line, cells) of every record, and a BadRow for each one the csv module cannot parse."""
    raw, text = _open_text(layout.path)
    kept: list[str] = []  # the lines of the record being parsed, only kept for a file with bad records
    tracked = layout.has_errors
    with text:
        reader = csv.reader(_tracked(text, kept) if tracked else text, delimiter=layout.delimiter)
        start = 1
        while True:
            try:
                for cells in reader:
                    if tracked:
                        kept.clear()
                    yield start, cells
                    start = reader.line_num + 1
                break
            except csv.Error as exc:
                yield bad_csv_row(start, exc, "\n".join(line.rstrip("\r\n") for line in kept))
                kept.clear()
                start = reader.line_num + 1
            except UnicodeDecodeError:
                raise FileReadError(layout.path, "changed while it was being read; run again") from None
        if raw.sha256.hexdigest() != layout.fingerprint:
            raise FileReadError(layout.path, "changed while it was being read; run again")


def scan_csv(
    path: Path, *, encoding: str | None = None, delimiter: str | None = None, header_row: int | None = None
) -> CsvLayout | None:
    """Scan a CSV file to stream it; None when read_csv must read it whole (see the module)."""
    try:
        return _scan(path, encoding, delimiter, header_row)
    except (_NotStreamable, UnicodeDecodeError):
        return None


def _encoding_name(encoding: str | None, prefix: bytes) -> str:
    """The encoding read_csv would report, when it is UTF-8; raises _NotStreamable otherwise."""
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise _NotStreamable from None
        if codec not in _UTF8_CODECS:
            raise _NotStreamable
        return encoding
    for bom, name in _BOMS:
        if prefix.startswith(bom):
            if name != "utf-8-sig":
                raise _NotStreamable
            return name
    return "utf-8"  # if the scan decodes every byte; a failure there means read_csv detects it


class _Scan:
    """The first pass: header, column names, extra columns, bad records, fingerprint."""

    def __init__(self, header_row: int | None) -> None:
        self.header_row = header_row
        self.window: list[CellRow] = []  # the first non-empty rows, until the header is known
        self.header: CellRow | None = None
        self.taken: set[str] = set()
        self.names: tuple[str, ...] = ()
        self.extras: dict[int, str] = {}
        self.any_rows = False
        self.errors = 0

    def name_extras(self, cells: list[str]) -> None:
        for i in range(len(self.names), len(cells)):
            if i not in self.extras and cells[i].strip():
                self.extras[i] = unique_name(_blank_name(i), self.taken)

    def decide(self, index: int, rows: list[CellRow]) -> None:
        self.header = rows[index]
        self.names = column_names(self.header[1], _blank_name, self.taken)
        for _, cells in rows[index + 1:]:
            if len(cells) > len(self.names):
                self.name_extras(cells)

    def head(self, reader: csv._reader, start: int) -> int:  # type: ignore[name-defined]
        """Read rows until the header is known; returns the line the next record starts on."""
        for cells in reader:
            number, start = start, reader.line_num + 1
            if is_blank_row(cells):
                continue
            self.any_rows = True
            if self.header_row is not None:
                if number == self.header_row:
                    self.decide(0, [(number, cells)])
                    break
                continue
            self.window.append((number, cells))
            if len(self.window) == HEADER_WINDOW:
                self.decide(detect_header(self.window), self.window)
                break
        return start

    def rest(self, reader: Iterator[list[str]]) -> None:
        """The rows after the header: only their widths matter, so this loop is kept tight."""
        width = len(self.names)
        for cells in reader:
            if len(cells) > width:
                self.name_extras(cells)


def _scan(path: Path, encoding: str | None, delimiter: str | None, header_row: int | None) -> CsvLayout:
    with path.open("rb") as handle:
        prefix = handle.read(_PREFIX_BYTES)
    name = _encoding_name(encoding, prefix)
    head_text = codecs.getincrementaldecoder("utf-8-sig")().decode(prefix, final=len(prefix) < _PREFIX_BYTES)
    if "\x00" in head_text:
        raise _NotStreamable
    sep = normalise_delimiter(delimiter, path) if delimiter else sniff_delimiter(head_text)
    del head_text, prefix

    scan = _Scan(header_row)
    raw, text = _open_text(path)
    with text:
        reader = csv.reader(text, delimiter=sep)
        start = 1
        while True:
            try:
                if scan.header is None:
                    start = scan.head(reader, start)
                if scan.header is not None:
                    scan.rest(reader)
                break
            except csv.Error:
                scan.errors += 1
                start = reader.line_num + 1
    if raw.has_nul:
        raise _NotStreamable
    if scan.header is None and scan.window:
        scan.decide(detect_header(scan.window), scan.window)
    if scan.header is None and header_row is not None and scan.any_rows:
        raise FileReadError(
            path,
            f"header_row {header_row} is empty or past the end of the data; "
            "set header_row to the line number that holds the column names",
        )
    logger.info("%s: reading with encoding %s%s", path.name, name, "" if encoding else " (detected)")
    logger.info("%s: delimiter %r%s", path.name, sep, "" if delimiter else " (detected)")
    if scan.errors:
        logger.warning("%s: %d line(s) cannot be parsed as CSV; they are reported as bad rows", path.name,
                       scan.errors)
    return CsvLayout(path, name, sep, raw.sha256.hexdigest(), scan.names, dict(scan.extras),
                     scan.header[0] if scan.header else None, scan.errors > 0)
