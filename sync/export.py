"""Export golden records (and the rows still in quarantine) to a clean Excel workbook."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from sync.store import Store, current_links, load_customer_records, load_golden, open_quarantine

__all__ = ["ExportReport", "export_xlsx"]

GOLDEN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Golden ID", "id"),
    ("Full name", "full_name"),
    ("Given name", "given_name"),
    ("Family name", "family_name"),
    ("Patronymic", "patronymic"),
    ("E-mails", "emails"),
    ("Phones", "phones"),
    ("Company", "company"),
    ("Job title", "job_title"),
    ("City", "address.city"),
    ("Country", "address.country"),
    ("Birth date", "birth_date"),
    ("Tags", "tags"),
    ("Sources", "sources"),
    ("Source records", "source_records"),
    ("Updated", "updated_at"),
)
QUARANTINE_COLUMNS = ("Source", "Stream", "File", "Row", "Field", "Reason")


@dataclass
class ExportReport:
    path: Path
    golden: int
    quarantined: int


def _cell(fields: dict[str, Any], key: str) -> Any:
    group, _, sub = key.partition(".")
    value = (fields.get(group) or {}).get(sub) if sub else fields.get(key)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def _sheet(workbook: Workbook, title: str, header: tuple[str, ...], rows: list[list[Any]]) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for index, name in enumerate(header, start=1):
        width = max([len(name), *(len(str(r[index - 1] or "")) for r in rows[:500])])
        sheet.column_dimensions[get_column_letter(index)].width = min(60, width + 2)


def export_xlsx(store: Store, path: Path) -> ExportReport:
    """Write golden records and open quarantine rows; the same store gives the same file."""
    with store.session() as session:
        golden = load_golden(session)
        live = {record.pk for record in load_customer_records(session)}
        members = Counter(g for pk, g in current_links(session).items() if pk in live)
        quarantine = open_quarantine(session)
    golden_rows = []
    for golden_id in sorted(golden, key=lambda g: (golden[g].fields.get("full_name") or "", g)):
        row = golden[golden_id]
        fields = {**row.fields, "id": golden_id, "source_records": members.get(golden_id, 0),
                  "updated_at": row.updated_at.replace(tzinfo=None)}
        golden_rows.append([_cell(fields, key) for _, key in GOLDEN_COLUMNS])
    quarantine_rows = [[q.source, q.stream, q.file, q.row_number, q.field, q.reason] for q in quarantine]
    workbook = Workbook()
    workbook.remove(workbook.active)
    _sheet(workbook, "Golden records", tuple(c for c, _ in GOLDEN_COLUMNS), golden_rows)
    _sheet(workbook, "Quarantine", QUARANTINE_COLUMNS, quarantine_rows)
    stamp = max((g.updated_at for g in golden.values()), default=None)
    if stamp is not None:  # keep the file byte-stable when nothing changed
        workbook.properties.created = workbook.properties.modified = stamp.replace(tzinfo=None)
    else:
        workbook.properties.created = workbook.properties.modified = datetime(2000, 1, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.xlsx")
    workbook.save(tmp)
    tmp.replace(path)
    return ExportReport(path=path, golden=len(golden_rows), quarantined=len(quarantine_rows))
