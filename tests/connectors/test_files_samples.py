"""The bundled sample files read as planned, and their ground truth points at real rows."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from connectors.files import list_sheets, read_table
from connectors.files.records import record_ids
from crmsync.samples import SAMPLES_DIR
from crmsync.samples.generate import generate

CUSTOMERS = SAMPLES_DIR / "customers.xlsx"


def test_customers_sheet_header_and_rows() -> None:
    assert list_sheets(CUSTOMERS) == ["Customers", "Leads", "Notes"]
    table = read_table(CUSTOMERS, sheet="Customers")
    assert table.header_row == 3
    assert table.columns == ("Full name", "Company", "Phone", "E-mail", "City", "Country",
                             "Last contact", "Notes")
    rows = table.data_rows
    assert len(rows) == 47 and (rows[0].number, rows[-1].number) == (4, 50)
    first = rows[0].values
    assert first["Full name"] == "Иванов Иван Иванович"
    assert first["Phone"] == "+7 (912) 345-67-89"
    phones = [r.values["Phone"] for r in rows]
    for numeric in ("89857778899", "79277001122", "89161234567"):
        assert numeric in phones
    assert "ask reception" in phones and "12-34" in phones
    names = {r.values["Full name"] for r in rows}
    assert {"Анна Смирнова", "राहुल शर्मा", "Smith, John", "  Анна  Смирнова "} <= names
    contacts = [r.values["Last contact"] for r in rows]
    assert "12.03.2024" in contacts and "2024-02-14T16:30:00" in contacts
    assert sum(1 for c in contacts if c and len(c) == 10 and c[4] == "-") >= 40


def test_customers_exact_duplicates_get_distinct_ids() -> None:
    table = read_table(CUSTOMERS, sheet="Customers")
    ids = record_ids(table)
    assert len(set(ids)) == len(ids)
    repeated = [i for i in ids if "#" in i]
    assert len(repeated) == 2 and all(i.endswith("#2") for i in repeated)


def test_leads_and_notes_sheets() -> None:
    leads = read_table(CUSTOMERS, sheet="Leads")
    assert leads.header_row == 1
    assert leads.columns == ("First name", "Last name", "Mobile", "Email", "Source", "Created")
    assert len(leads.data_rows) == 16
    assert leads.data_rows[0].values["Created"].startswith("2024-02-")
    assert len(read_table(CUSTOMERS, sheet="Notes").data_rows) == 3


def test_legacy_csv_is_cp1251_semicolon_cyrillic() -> None:
    path = SAMPLES_DIR / "legacy_leads_cp1251.csv"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    table = read_table(path)
    assert (table.encoding, table.delimiter) == ("cp1251", ";")
    assert table.columns == ("ФИО", "Телефон", "Email", "Компания", "Дата создания")
    assert len(table.data_rows) == 13
    names = [r.values["ФИО"] for r in table.data_rows]
    assert "Иванов Иван Иванович" in names and "Семёнова Юлия" in names
    assert table.data_rows[0].values["Дата создания"].count(".") == 2


def test_form_submissions_json() -> None:
    table = read_table(SAMPLES_DIR / "form_submissions.json")
    assert table.columns == ("submission_id", "submitted_at", "name", "email", "phone",
                             "message", "page", "utm_source")
    rows = table.data_rows
    assert len(rows) == 15 and rows[0].values["submission_id"] == "F-1001"
    nameless = [r for r in rows if r.values["email"] is None and r.values["phone"] is None]
    assert [r.values["name"] for r in nameless] == ["Maria Gonzalez"]
    assert Counter(r.values["name"] for r in rows)["Emily Johnson"] == 2


def test_calls_csv() -> None:
    table = read_table(SAMPLES_DIR / "calls.csv")
    assert table.columns == ("call_id", "started_at", "direction", "from", "to",
                             "duration_sec", "status")
    rows = table.data_rows
    assert len(rows) == 30
    assert {r.values["status"] for r in rows} <= {"answered", "missed", "busy"}
    for row in rows:
        ours = row.values["to"] if row.values["direction"] == "inbound" else row.values["from"]
        assert ours.replace(" ", "").replace("(", "").replace(")", "").replace("-", "") in (
            "+74951234567", "74951234567", "84951234567")


def test_truth_points_at_every_customer_row_once() -> None:
    truth = json.loads((SAMPLES_DIR / "truth.json").read_text(encoding="utf-8"))
    refs = [(r["file"], r.get("sheet"), r["row"]) for cluster in truth for r in cluster]
    assert len(refs) == len(set(refs)) == 47 + 16 + 13 + 15
    assert 65 <= len(truth) <= 75
    emitted = set()
    for sheet in ("Customers", "Leads"):
        emitted |= {("customers.xlsx", sheet, r.number)
                    for r in read_table(CUSTOMERS, sheet=sheet).data_rows}
    for name in ("legacy_leads_cp1251.csv", "form_submissions.json"):
        emitted |= {(name, None, r.number) for r in read_table(SAMPLES_DIR / name).data_rows}
    assert set(refs) == emitted
    sizes = Counter(len(c) for c in truth)
    assert sizes[3] >= 5 and sizes[2] >= 4


def test_generator_is_deterministic(tmp_path: Path) -> None:
    out = tmp_path / "data"
    generate(out)
    for name in ("customers.xlsx", "legacy_leads_cp1251.csv", "form_submissions.json",
                 "calls.csv", "truth.json"):
        assert (out / name).read_bytes() == (SAMPLES_DIR / name).read_bytes(), name
