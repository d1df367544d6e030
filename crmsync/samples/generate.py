"""Write the bundled sample files: ``python -m crmsync.samples.generate`` (deterministic)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import random
import re
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from crmsync.samples import SAMPLES_DIR
from crmsync.samples.people import BY_KEY, PEOPLE
from crmsync.samples.plans import CALLS_UNKNOWN, CSV_ROWS, CUSTOMER_ROWS, FORM_ROWS, LEAD_ROWS

logger = logging.getLogger(__name__)

SEED = 20240301
EXPORTED = dt.datetime(2024, 3, 1, 9, 0, 0)
COMPANY_LINE = "+74951234567"
CUSTOMERS_FILE = "customers.xlsx"
CSV_FILE = "legacy_leads_cp1251.csv"
FORMS_FILE = "form_submissions.json"
CALLS_FILE = "calls.csv"
CUSTOMER_HEADERS = ["Full name ", "Company", "Phone", "E-mail", "City", "Country",
                    "Last contact", "Notes"]
LEAD_HEADERS = ["First name", "Last name", "Mobile", "Email", "Source", "Created"]
CSV_HEADERS = ["ФИО", "Телефон", "Email", "Компания", "Дата создания"]
CALL_HEADERS = ["call_id", "started_at", "direction", "from", "to", "duration_sec", "status"]
NOTES_LINES = [
    "Import notes",
    "Leads from the February expo are on the Leads sheet.",
    "Numbers marked 'ask reception' go through the front desk; do not dial them directly.",
    "Duplicates were NOT cleaned before this export.",
]

Ref = dict[str, object]


def _ref(file: str, row: int, sheet: str | None = None) -> Ref:
    return {"file": file, "sheet": sheet, "row": row} if sheet else {"file": file, "row": row}


def write_customers(path: Path, rng: random.Random) -> list[tuple[str, Ref]]:
    """Write customers.xlsx (Customers, Leads, Notes); return (person key, row ref) pairs."""
    book = Workbook()
    ws = book.active
    ws.title = "Customers"
    ws["A1"] = f"Acme Trading — customer list (exported {EXPORTED:%d.%m.%Y})"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A1:H1")
    for col, header in enumerate(CUSTOMER_HEADERS, start=1):
        ws.cell(row=3, column=col, value=header).font = Font(bold=True)
    refs: list[tuple[str, Ref]] = []
    written: list[list[object]] = []
    for index, plan in enumerate(CUSTOMER_ROWS):
        if "copy_of" in plan:
            values = list(written[int(plan["copy_of"]) - 1])
        else:
            person = BY_KEY[str(plan["key"])]
            values = [
                plan.get("name", person.full),
                plan.get("company", person.company),
                plan["phone"],
                plan.get("email", person.email),
                plan.get("city", person.city),
                plan.get("country", person.country),
                plan.get("last", _last_contact(rng)),
                plan.get("notes"),
            ]
        written.append(values)
        row = 4 + index
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=col, value=value)
            if isinstance(value, dt.datetime | dt.date):
                cell.number_format = "DD.MM.YYYY"
        refs.append((str(plan["key"]), _ref(CUSTOMERS_FILE, row, "Customers")))
    for col, width in zip("ABCDEFGH", (28, 26, 20, 30, 18, 12, 14, 24), strict=True):
        ws.column_dimensions[col].width = width

    leads = book.create_sheet("Leads")
    leads.append(LEAD_HEADERS)
    for index, plan in enumerate(LEAD_ROWS):
        person = BY_KEY[str(plan["key"])]
        created = dt.datetime(2024, 2, 1, 9, 0) + dt.timedelta(
            days=index * 2 + rng.randint(0, 1), minutes=rng.randint(0, 9 * 60)
        )
        leads.append([
            plan.get("given", person.given),
            plan.get("family", person.family),
            plan["phone"],
            plan.get("email", person.email),
            plan["source"],
            created,
        ])
        leads.cell(row=2 + index, column=6).number_format = "DD.MM.YYYY HH:MM"
        refs.append((str(plan["key"]), _ref(CUSTOMERS_FILE, 2 + index, "Leads")))

    notes = book.create_sheet("Notes")
    for line in NOTES_LINES:
        notes.append([line])
    book.properties.creator = "Acme Trading"
    book.properties.created = EXPORTED
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(_stable_zip(buffer.getvalue()))
    return refs


def _last_contact(rng: random.Random) -> dt.datetime:
    start = dt.datetime(2023, 6, 1)
    return start + dt.timedelta(days=rng.randint(0, 270))


def _stable_zip(data: bytes) -> bytes:
    """Rewrite an xlsx with fixed timestamps so regenerating gives identical bytes."""
    out = io.BytesIO()
    stamp = EXPORTED.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = re.sub(r"(<dcterms:modified[^>]*>)[^<]*", rf"\g<1>{stamp}", content.decode())
                content = text.encode()
            fixed = zipfile.ZipInfo(info.filename, date_time=EXPORTED.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, content)
    return out.getvalue()


def write_legacy_csv(path: Path, rng: random.Random) -> list[tuple[str, Ref]]:
    """Write the cp1251, ';'-separated legacy export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    refs: list[tuple[str, Ref]] = []
    for index, plan in enumerate(CSV_ROWS):
        person = BY_KEY[str(plan["key"])]
        created = dt.date(2023, 1, 10) + dt.timedelta(days=index * 21 + rng.randint(0, 12))
        writer.writerow([
            plan["name"],
            plan["phone"],
            plan.get("email", person.email),
            plan.get("company", person.company),
            f"{created:%d.%m.%Y}",
        ])
        refs.append((str(plan["key"]), _ref(CSV_FILE, 2 + index)))
    path.write_bytes(buffer.getvalue().encode("cp1251"))
    return refs


def write_forms(path: Path, rng: random.Random) -> list[tuple[str, Ref]]:
    """Write the web-form export (an object wrapping a 'submissions' list)."""
    submitted = dt.datetime(2024, 3, 2, 10, 15)
    items = []
    refs: list[tuple[str, Ref]] = []
    for index, plan in enumerate(FORM_ROWS):
        person = BY_KEY[str(plan["key"])]
        items.append({
            "submission_id": f"F-{1001 + index}",
            "submitted_at": f"{submitted:%Y-%m-%dT%H:%M:%S}Z",
            "name": plan.get("name", person.full),
            "email": plan.get("email", person.email),
            "phone": plan["phone"],
            "message": plan["message"],
            "page": rng.choice(["/pricing", "/contact", "/demo", "/"]),
            "utm_source": rng.choice(["google", "google", "facebook", "newsletter", None]),
        })
        refs.append((str(plan["key"]), _ref(FORMS_FILE, 1 + index)))
        submitted += dt.timedelta(hours=rng.randint(2, 30), minutes=rng.randint(0, 59))
    document = {
        "form": "Contact us",
        "exported_at": f"{submitted + dt.timedelta(hours=1):%Y-%m-%dT%H:%M:%S}Z",
        "submissions": items,
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return refs


def phone_variant(digits: str, rng: random.Random) -> str:
    """One of the ways a telephony export writes an E.164 number."""
    if digits.startswith("7") and len(digits) == 11:
        n = digits[1:]
        return rng.choice([f"+{digits}", f"8{n}", f"+7 ({n[:3]}) {n[3:6]}-{n[6:8]}-{n[8:]}"])
    if digits.startswith("1") and len(digits) == 11:
        n = digits[1:]
        return rng.choice([f"+{digits}", f"({n[:3]}) {n[3:6]}-{n[6:]}", digits])
    return rng.choice([f"+{digits}", f"00{digits}"])


def write_calls(path: Path, rng: random.Random) -> None:
    """Write the telephony call log (UTF-8)."""
    callers = [p.phone for p in PEOPLE if p.phone]
    started = dt.datetime(2024, 3, 4, 9, 2, 11)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CALL_HEADERS)
    unknown_slots = {4, 11, 19, 26}
    unknown = iter(CALLS_UNKNOWN)
    for index in range(30):
        customer = next(unknown) if index in unknown_slots else phone_variant(
            rng.choice(callers), rng
        )
        line = rng.choice([COMPANY_LINE, COMPANY_LINE, "8 (495) 123-45-67", "74951234567"])
        inbound = rng.random() < 0.6
        status = rng.choices(["answered", "missed", "busy"], weights=[7, 2, 1])[0]
        duration = rng.randint(25, 900) if status == "answered" else 0
        writer.writerow([
            f"C-{20240304001 + index}",
            f"{started:%Y-%m-%d %H:%M:%S}",
            "inbound" if inbound else "outbound",
            customer if inbound else line,
            line if inbound else customer,
            duration,
            status,
        ])
        started += dt.timedelta(minutes=rng.randint(7, 140), seconds=rng.randint(0, 59))
    path.write_text(buffer.getvalue(), encoding="utf-8")


def clusters(refs: list[tuple[str, Ref]]) -> list[list[Ref]]:
    """Group row refs by person, in order of first appearance (singletons included)."""
    grouped: dict[str, list[Ref]] = {}
    for key, ref in refs:
        grouped.setdefault(key, []).append(ref)
    return list(grouped.values())


def cluster_table(refs: list[tuple[str, Ref]]) -> str:
    """Markdown lines describing the clusters that have more than one row."""
    grouped: dict[str, list[Ref]] = {}
    for key, ref in refs:
        grouped.setdefault(key, []).append(ref)
    lines = ["| person | rows |", "|---|---|"]
    for key, items in grouped.items():
        if len(items) > 1:
            shown = ", ".join(
                f"{r['file']}" + (f":{r['sheet']}" if "sheet" in r else "") + f" row {r['row']}"
                for r in items
            )
            lines.append(f"| {BY_KEY[key].full} (`{key}`) | {shown} |")
    return "\n".join(lines)


def generate(out_dir: Path = SAMPLES_DIR) -> list[list[Ref]]:
    """Write every sample file into ``out_dir``; return the ground-truth clusters."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    refs = write_customers(out_dir / CUSTOMERS_FILE, rng)
    refs += write_legacy_csv(out_dir / CSV_FILE, rng)
    refs += write_forms(out_dir / FORMS_FILE, rng)
    write_calls(out_dir / CALLS_FILE, rng)
    truth = clusters(refs)
    (out_dir / "truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    readme = SAMPLES_DIR.parent / "README.md"
    if out_dir.resolve() == SAMPLES_DIR and readme.exists():
        text = readme.read_text(encoding="utf-8")
        text = re.sub(
            r"(<!-- clusters:start -->\n)(?:.*?\n)?(<!-- clusters:end -->)",
            lambda m: m.group(1) + cluster_table(refs) + "\n" + m.group(2),
            text,
            flags=re.S,
        )
        readme.write_text(text, encoding="utf-8")
    logger.info("wrote %d rows in %d clusters to %s", len(refs), len(truth), out_dir)
    return truth


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    generate()
