"""CSV reading: encoding detection, delimiter sniffing, line-numbered rows."""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections import Counter
from pathlib import Path

import charset_normalizer

from connectors.files.grid import RawRow, build_rows
from connectors.files.model import BadRow, FileReadError, Row, Table

logger = logging.getLogger(__name__)

DELIMITERS = ",;\t|"
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# When several single-byte code pages decode a file equally well, prefer the ones
# that spreadsheets in our users' regions actually export.
_PREFERRED = ("cp1252", "cp1251", "koi8_r", "cp866", "latin_1", "iso8859_15", "cp1250")
# Spreadsheet exports without a BOM that are not UTF-8 are single-byte code pages in practice;
# letting the detector consider multi-byte East Asian codecs makes it misread short Cyrillic files.
_CANDIDATES = (*_PREFERRED, "iso8859_5", "mac_cyrillic", "cp1253", "cp1254", "cp1257", "iso8859_2")
_CHAOS_TOLERANCE = 0.1
_SNIFF_BYTES = 64 * 1024
_RAW_EXCERPT = 1000
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_DELIMITER_ALIASES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def detect_encoding(data: bytes) -> str:
    """Name the encoding of ``data``: BOM first, then strict UTF-8, then charset-normalizer."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    results = list(charset_normalizer.from_bytes(data, cp_isolation=list(_CANDIDATES)))
    if not results:
        return "cp1252"
    best = results[0]
    candidates: list[str] = []
    for match in results:
        if match.chaos <= best.chaos + _CHAOS_TOLERANCE:
            for name in (match.encoding, *match.could_be_from_charset):
                if name not in candidates:
                    candidates.append(name)
    return next((name for name in _PREFERRED if name in candidates), best.encoding)


def decode_bytes(data: bytes, path: Path, encoding: str | None = None) -> tuple[str, str]:
    """Decode file bytes with the given or detected encoding; return (text, encoding)."""
    chosen = encoding or detect_encoding(data)
    try:
        codecs.lookup(chosen)
    except LookupError:
        raise FileReadError(
            path,
            f"unknown encoding '{chosen}'; set \"encoding\" to a name such as utf-8, cp1251 or cp1252",
        ) from None
    try:
        text = data.decode(chosen)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = "remove the \"encoding\" setting to detect it" if encoding else "set \"encoding\""
        raise FileReadError(
            path,
            f"cannot be decoded as {chosen} ({exc.reason} at byte {exc.start}); {hint}",
            line,
            unit="line",
        ) from None
    if chosen.lower().replace("_", "-") in ("utf-8", "utf8") and text.startswith("\ufeff"):
        text = text[1:]
    logger.info("%s: reading with encoding %s%s", path.name, chosen, "" if encoding else " (detected)")
    return text, chosen


def normalise_delimiter(value: str, path: Path) -> str:
    """Accept one character, or a name such as 'tab'."""
    delimiter = _DELIMITER_ALIASES.get(value.lower(), value)
    if len(delimiter) != 1:
        raise FileReadError(
            path, f"delimiter {value!r} must be one character (or 'tab'); for example ';' or ','"
        )
    return delimiter


def sniff_delimiter(text: str) -> str:
    """Guess the delimiter among ``, ; TAB |``; csv.Sniffer first, then counting per line."""
    sample = text[:_SNIFF_BYTES]
    lines = [line for line in sample.splitlines() if line.strip()][:50]
    if len(sample) == _SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut in half
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    counted = _count_delimiter(lines)
    if sniffed and (counted is None or _consistency(lines, sniffed) >= _consistency(lines, counted)):
        return sniffed
    return counted or ","


def _consistency(lines: list[str], delimiter: str) -> float:
    counts = [len(next(csv.reader([line], delimiter=delimiter), [])) - 1 for line in lines]
    if not counts:
        return 0.0
    mode, freq = Counter(counts).most_common(1)[0]
    return 0.0 if mode == 0 else freq / len(counts) + min(mode, 50) / 1000


def _count_delimiter(lines: list[str]) -> str | None:
    best: tuple[float, str] | None = None
    for delimiter in DELIMITERS:
        score = _consistency(lines, delimiter)
        if score > 0 and (best is None or score > best[0]):
            best = (score, delimiter)
    return best[1] if best else None


def bad_csv_row(start: int, error: csv.Error, excerpt: str) -> BadRow:
    """The bad row for a record that the csv module cannot parse, starting at line ``start``."""
    return BadRow(start, f"cannot be parsed as CSV ({error}); fix the line or re-export the file",
                  excerpt[:_RAW_EXCERPT])


def read_csv(
    data: bytes,
    path: Path,
    *,
    fingerprint: str,
    encoding: str | None = None,
    delimiter: str | None = None,
    header_row: int | None = None,
) -> Table:
    """Read CSV bytes into a table; ``Row.number`` is the line where the record starts."""
    text, chosen = decode_bytes(data, path, encoding)
    if "\x00" in text:
        # NUL is never text (Excel cannot hold it; PostgreSQL refuses it in JSON): a corrupt or
        # binary-padded export. Dropping it keeps every row and every other character.
        logger.warning("%s: removed %d NUL character(s)", path.name, text.count("\x00"))
        text = text.replace("\x00", "")
    sep = normalise_delimiter(delimiter, path) if delimiter else sniff_delimiter(text)
    logger.info("%s: delimiter %r%s", path.name, sep, "" if delimiter else " (detected)")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    raw: list[RawRow] = []
    bad: list[BadRow] = []
    lines: list[str] | None = None
    start = 1
    while True:
        try:
            for cells in reader:
                raw.append((start, cells))
                start = reader.line_num + 1
            break
        except csv.Error as exc:
            # One unparseable record (a field over the size limit, often a stray quote) is a bad
            # row; the reader goes on at the next line, so the rest of the file is kept.
            lines = _LINE_BREAK.split(text) if lines is None else lines  # the breaks csv counts lines by
            bad.append(bad_csv_row(start, exc, "\n".join(lines[start - 1 : reader.line_num])))
            start = reader.line_num + 1
    grid = build_rows(
        raw, path=path, header_row=header_row, blank_name=lambda i: f"column_{i + 1}", unit="line"
    )
    rows: tuple[Row | BadRow, ...] = grid.rows
    if bad:
        logger.warning("%s: %d line(s) cannot be parsed as CSV; they are reported as bad rows", path.name, len(bad))
        rows = tuple(sorted((*grid.rows, *bad), key=lambda r: r.number))
    return Table(
        path=path,
        file_format="csv",
        columns=grid.columns,
        rows=rows,
        fingerprint=fingerprint,
        header_row=grid.header_row,
        encoding=chosen,
        delimiter=sep,
    )
