"""Turning a grid of cells (a sheet or a CSV) into named rows: value rendering and header detection."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from connectors.files.model import CellValue, FileReadError, Row, unique_name

logger = logging.getLogger(__name__)

HEADER_WINDOW = 30
HEADER_MIN_SHARE = 0.6

_NUMBER_RE = re.compile(r"^[+\-]?[\d\s.,']*\d[\d\s.,']*%?$")
_DATE_RE = re.compile(r"^\d{1,4}[./\-]\d{1,2}[./\-]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?.*)?$")

RawRow = tuple[int, Sequence[object]]


def render_value(value: object) -> CellValue:
    """Render one cell the way a person sees it in the spreadsheet; None for an empty cell."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _render_float(value)
    if isinstance(value, dt.datetime):
        return _render_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return _round_time(value).isoformat(timespec="seconds")
    if isinstance(value, dt.timedelta):
        return _render_duration(value)
    return str(value)


def _render_float(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value.is_integer():
        # Phones and ids typed as numbers come back as floats like 1.2345678901E10.
        return str(int(value))
    # 15 significant digits is what Excel shows; it also drops noise like 0.30000000000000004.
    return str(float(f"{value:.15g}"))


def _render_datetime(value: dt.datetime) -> str:
    rounded = value
    if value.microsecond:
        rounded = value.replace(microsecond=0)
        if value.microsecond >= 500_000:
            rounded += dt.timedelta(seconds=1)
    if rounded.time() == dt.time(0, 0) and rounded.tzinfo is None:
        return rounded.date().isoformat()
    return rounded.isoformat(timespec="seconds")


def _round_time(value: dt.time) -> dt.time:
    if value.microsecond < 500_000:
        return value.replace(microsecond=0)
    full = dt.datetime.combine(dt.date(2000, 1, 1), value.replace(microsecond=0))
    return (full + dt.timedelta(seconds=1)).time()


def _render_duration(value: dt.timedelta) -> str:
    total = round(value.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours}:{minutes:02d}:{seconds:02d}"


def is_blank(value: object) -> bool:
    """True for an empty cell (None, or text that is empty or only whitespace)."""
    return value is None or (isinstance(value, str) and value.strip() == "")


def is_blank_row(cells: Sequence[object]) -> bool:
    """True when every cell of a row is blank (see is_blank)."""
    try:
        return not "".join(cells).strip()  # type: ignore[arg-type]  # CSV rows: all text
    except TypeError:
        return all(is_blank(c) for c in cells)


def is_textual(value: object) -> bool:
    """True when a cell holds words rather than a number, date or boolean."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    if not text:
        return False
    if text.upper() in ("TRUE", "FALSE"):
        return False
    return not (_NUMBER_RE.match(text) or _DATE_RE.match(text))


def detect_header(rows: Sequence[RawRow]) -> int:
    """Index (into ``rows``, non-empty rows only) of the header row; 0 when none stands out."""
    window = rows[:HEADER_WINDOW]
    if not window:
        return 0
    widest = max(sum(1 for c in cells if not is_blank(c)) for _, cells in window)
    fallback: int | None = None
    for index, (_, cells) in enumerate(window):
        filled = [c for c in cells if not is_blank(c)]
        distinct = {str(render_value(c)).strip() for c in filled}
        texts = sum(1 for c in filled if is_textual(c))
        if len(distinct) < 2 or texts * 2 <= len(filled):
            continue
        if len(distinct) >= HEADER_MIN_SHARE * widest:
            return index
        if fallback is None:
            # Narrower than the data (repeated or blank header cells): still better than a title.
            fallback = index
    return fallback if fallback is not None else 0


@dataclass(frozen=True, slots=True)
class Grid:
    """The named rows of a grid, with the header row that named them."""

    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    header_row: int | None


def build_rows(
    raw_rows: Sequence[RawRow],
    *,
    path: Path,
    header_row: int | None,
    blank_name: Callable[[int], str],
    unit: str = "row",
) -> Grid:
    """Pick the header (given or detected), name the columns and turn later rows into ``Row``s."""
    rows = [(n, cells) for n, cells in raw_rows if not is_blank_row(cells)]
    if not rows:
        return Grid(columns=(), rows=(), header_row=None)
    if header_row is not None:
        matches = [i for i, (n, _) in enumerate(rows) if n == header_row]
        if not matches:
            raise FileReadError(
                path,
                f"header_row {header_row} is empty or past the end of the data; "
                f"set header_row to the {unit} number that holds the column names",
            )
        header_index = matches[0]
    else:
        header_index = detect_header(rows)
    header_number, header_cells = rows[header_index]
    if header_index:
        logger.debug("%s: skipped %d row(s) above the header", path.name, header_index)

    taken: set[str] = set()
    names = column_names(header_cells, blank_name, taken)
    width = len(names)
    extra_names: dict[int, str] = {}

    out: list[Row] = []
    for number, cells in rows[header_index + 1 :]:
        values: dict[str, CellValue] = {}
        for i, cell in enumerate(cells):
            if i < width:
                values[names[i]] = render_value(cell)
            elif not is_blank(cell):
                if i not in extra_names:
                    extra_names[i] = unique_name(blank_name(i), taken)
                values[extra_names[i]] = render_value(cell)
        out.append(Row(number=number, values=values))
    extras = [extra_names[i] for i in sorted(extra_names)]
    return Grid(columns=(*names, *extras), rows=tuple(out), header_row=header_number)


def column_names(header_cells: Sequence[object], blank_name: Callable[[int], str], taken: set[str]) -> tuple[str, ...]:
    """The columns a header row names: its text stripped, blanks named by ``blank_name``, repeats made unique."""
    names: list[str] = []
    for i in range(_last_filled(header_cells) + 1):
        label = render_value(header_cells[i])
        label = label.strip() if label else ""
        names.append(unique_name(label or blank_name(i), taken))
    return tuple(names)


def _last_filled(cells: Sequence[object]) -> int:
    for i in range(len(cells) - 1, -1, -1):
        if not is_blank(cells[i]):
            return i
    return -1
