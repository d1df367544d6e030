"""Builders for the edge-case files the files-connector tests read."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook


def write_xlsx(
    path: Path,
    sheets: dict[str, Sequence[Sequence[object]]],
    *,
    merges: dict[str, Iterable[str]] | None = None,
    hidden: Iterable[str] = (),
    start_row: int = 1,
) -> Path:
    """Write a workbook: rows per sheet (from ``start_row``), merged ranges, hidden sheets."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for r, row in enumerate(rows, start=start_row):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
        for rng in (merges or {}).get(title, ()):
            ws.merge_cells(rng)
        if title in hidden:
            ws.sheet_state = "hidden"
    book.save(path)
    return path


def titled_workbook(path: Path) -> Path:
    """A workbook like a real export: merged title, blank row, header in row 3, messy cells."""
    rows: list[list[object]] = [
        ["Acme — customer list", None, None, None, None],
        [None, None, None, None, None],
        ["Full name ", "Phone", None, "Phone", "Last contact"],
        ["Иванов Иван", 89123456789, "x", "+7 912", dt.datetime(2024, 3, 1)],
        [None, None, None, None, None],
        ["Anna ", 12345678901.0, None, None, dt.datetime(2024, 3, 1, 10, 15)],
        ["Bob", 0.1 + 0.2, True, None, "12.03.2024", "extra"],
    ]
    return write_xlsx(path, {"Customers": rows, "Leads": [["a", "b"], ["1", "2"]]},
                      merges={"Customers": ["A1:E1"]})


def write_json(path: Path, document: Any) -> Path:
    """Write a JSON document (UTF-8, non-ASCII kept)."""
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def numbered_csv(path: Path, count: int) -> Path:
    """A plain CSV with ``count`` distinct data rows: id,name."""
    lines = ["id,name"] + [f"{i},person {i}" for i in range(1, count + 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def config_for(*entries: dict[str, Any], base_dir: Path, every: int = 500) -> dict[str, Any]:
    """A files-source config."""
    return {"files": list(entries), "base_dir": str(base_dir), "checkpoint_every": every}
