"""`crmsync dedupe FILE --map MAPPING --out clusters.csv [--xlsx]`: duplicates in one spreadsheet."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from crmsync.cli import app

MAPPING = """
fields:
  - {from: Name, to: name}
  - {from: Email, to: emails, on_error: skip}
  - {from: Phone, to: phones, on_error: skip}
"""
ROWS = [
    ["id", "Name", "Email", "Phone"],
    ["a1", "Ivan Petrov", "ivan.petrov@mail.ru", "8 912 345 67 89"],
    ["a2", "Петров Иван", "", "+7 912 345-67-89"],
    ["a3", "Anna Smirnova", "anna@yandex.ru", ""],
    ["a4", "", "", ""],
    ["a5", "ANNA SMIRNOVA", "Anna@Yandex.ru", "+7 916 000 11 22"],
    ["a6", "Bob Stone", "not-an-email", "12-34"],
]


def test_dedupe_writes_one_row_per_input_row_and_a_review_workbook(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(ROWS)
    (tmp_path / "map.yaml").write_text(MAPPING, encoding="utf-8")
    out, review = tmp_path / "clusters.csv", tmp_path / "review.xlsx"
    result = CliRunner().invoke(app, ["dedupe", str(source), "--map", str(tmp_path / "map.yaml"), "--out", str(out),
                                      "--xlsx", str(review), "--id-column", "id"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["record_id"] for r in rows] == ["a1", "a2", "a3", "a4", "a5", "a6"]
    cluster = {r["record_id"]: r["cluster_id"] for r in rows}
    assert cluster["a1"] == cluster["a2"]  # same phone, name in two scripts and orders
    assert cluster["a3"] == cluster["a5"]  # same e-mail, case differs
    assert len({cluster["a1"], cluster["a3"], cluster["a4"], cluster["a6"]}) == 4
    assert float(next(r for r in rows if r["record_id"] == "a2")["match_probability"]) >= 0.95
    assert "row 5: row has no name, e-mail or phone" in result.output  # a4 stands alone, with its reason
    sheet = load_workbook(review)["Clusters"]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["Cluster", "Records in cluster", "Match probability", "Why", "Record id"]
    assert sheet.cell(row=2, column=2).value == 2  # clusters with duplicates come first
    assert sheet.cell(row=2, column=4).value  # with the reason


def test_dedupe_reports_a_missing_id_column_clearly(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text("Name,Email\nA,a@x.com\n", encoding="utf-8")
    (tmp_path / "map.yaml").write_text("fields: [{from: Email, to: emails}]\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["dedupe", str(source), "--map", str(tmp_path / "map.yaml"),
                                      "--out", str(tmp_path / "o.csv"), "--id-column", "ID"])
    assert result.exit_code == 2
    assert "people.csv: --id-column 'ID' is not a column (columns: Name, Email)" in result.output


def test_a_row_with_only_a_declared_identifier_is_kept_and_matched(tmp_path: Path) -> None:
    # FEBRL-like rows: the customer number identifies a person even where name, e-mail and phone are empty
    source = tmp_path / "people.csv"
    source.write_text("id,Name,CustNo,City\nb1,Anna Lee,C-1001,Leeds\nb2,,C-1001,Leeds\nb3,,,Leeds\n",
                      encoding="utf-8")
    (tmp_path / "map.yaml").write_text(
        "fields:\n  - {from: Name, to: name}\n  - {from: CustNo, to: custom.cust_no}\n"
        "  - {from: City, to: address.city}\n", encoding="utf-8")
    out = tmp_path / "clusters.csv"
    args = ["dedupe", str(source), "--map", str(tmp_path / "map.yaml"), "--out", str(out), "--id-column", "id"]
    result = CliRunner().invoke(app, [*args, "--identifier", "cust_no"])
    assert result.exit_code == 0, result.output
    cluster = {r["record_id"]: r["cluster_id"] for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert cluster["b1"] == cluster["b2"] != cluster["b3"]
    assert "row 3:" not in result.output and "row 4: row has no name, e-mail or phone" in result.output

    result = CliRunner().invoke(app, args)  # undeclared, the number is just a field: b2 has no identity
    assert result.exit_code == 0, result.output
    assert "row 3: row has no name, e-mail or phone" in result.output
