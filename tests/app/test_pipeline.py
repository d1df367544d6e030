"""The pipeline flow on messy and broken input, on SQLite and PostgreSQL, under a real Prefect server."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from flows import pipeline_flow

pytestmark = pytest.mark.prefect

CUSTOMERS = """
fields:
  - {from: Name, to: name}
  - {from: Email, to: emails}
  - {from: Phone, to: phones}
"""


def project(folder: Path, store_url: str, sources: str) -> Path:
    (folder / "customers.yaml").write_text(CUSTOMERS, encoding="utf-8")
    path = folder / "crmsync.yaml"
    path.write_text(f"store: {{url: '{store_url}'}}\ndefaults: {{phone_region: RU}}\n"
                    f"sources:\n{sources}\nexport: {{xlsx: golden.xlsx}}\n", encoding="utf-8")
    return path


def source(name: str, file: str, stream: str) -> str:
    return (f"  - name: {name}\n    connector: files\n    config: {{files: [{{path: {file}, name: {stream}}}]}}\n"
            f"    streams: {{{stream}: customers.yaml}}\n")


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> None:
    with path.open("w", newline="", encoding=encoding) as handle:
        csv.writer(handle, delimiter=delimiter).writerows([["Name", "Email", "Phone"], *rows])


def query(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def test_bad_files_and_rows_fail_clearly_and_every_good_row_lands(tmp_path, store_url, prefect_harness):
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not really a workbook")
    write_csv(tmp_path / "legacy.csv", [["Иванов Иван Иванович", "ivan@mail.ru", "8 912 345 67 89"],
                                        ["Смирнова Анна", "", "+7 916 123-45-67"]],
              encoding="cp1251", delimiter=";")
    write_csv(tmp_path / "web.csv", [["Ivan Ivanov", "IVAN@mail.ru", ""],
                                     ["Bad Phone", "bad@x.com", "call me maybe"],
                                     ["Olga", "olga@x.ru", "+7 926 456-78-90"]])
    config = project(tmp_path, store_url, source("sheet", "broken.xlsx", "broken")
                     + source("legacy", "legacy.csv", "legacy") + source("web", "web.csv", "web"))

    report = pipeline_flow(str(config))

    assert report.failed
    broken = next(r for r in report.ingest if r.source == "sheet")
    assert "broken.xlsx" in (broken.error or "") and "not a valid XLSX workbook" in broken.error
    web = next(r for r in report.ingest if r.source == "web")
    assert web.stream("web").new == 2 and web.stream("web").quarantined == 1
    assert web.problems == ["web.csv, row 3: column 'Phone': 'call me maybe' is not a phone number "
                            "(the string supplied did not seem to be a phone number; default region RU)"]
    landed = query(store_url, "SELECT source, canonical FROM source_records ORDER BY id")
    names = {json.loads(c)["full_name"] if isinstance(c, str) else c["full_name"] for _, c in landed}
    assert names == {"Иванов Иван Иванович", "Смирнова Анна", "Ivan Ivanov", "Olga"}  # cp1251 decoded
    assert report.match.golden_total == 3  # Ivan from the legacy CSV and the web form is one person
    assert report.match.merged_clusters == 1
    runs = dict(query(store_url, "SELECT target, status FROM sync_runs WHERE flow = 'ingest'"))
    assert runs == {"sheet": "failed", "legacy": "completed", "web": "completed"}
    assert (tmp_path / "golden.xlsx").exists()


def test_rows_removed_from_a_file_are_marked_deleted_and_golden_records_follow(
        tmp_path, store_url, prefect_harness):
    rows = [["Ann Lee", "ann@x.com", ""], ["Ann Lee", "ANN@x.com", "+1 415 555 0132"], ["Bo Chan", "bo@x.com", ""]]
    write_csv(tmp_path / "people.csv", rows)
    config = project(tmp_path, store_url, source("people", "people.csv", "people"))
    first = pipeline_flow(str(config))
    assert first.match.golden_total == 2
    golden_before = dict(query(store_url, "SELECT id, status FROM golden_records"))

    write_csv(tmp_path / "people.csv", rows[:2])  # Bo Chan removed from the file
    second = pipeline_flow(str(config))
    assert second.ingest[0].stream("people").deleted == 1
    assert second.match.golden_retired == 1 and second.match.golden_unchanged == 1
    golden_after = dict(query(store_url, "SELECT id, status FROM golden_records"))
    assert set(golden_after) == set(golden_before)  # retired, not deleted: ids stay stable
    assert sorted(golden_after.values()) == ["active", "retired"]
    audit = query(store_url, "SELECT action FROM audit_log ORDER BY id")
    assert [a for (a,) in audit].count("golden.retire") == 1

    write_csv(tmp_path / "people.csv", rows)  # Bo is back: his record is restored, his golden id revived
    third = pipeline_flow(str(config))
    assert third.ingest[0].stream("people").restored == 1
    assert dict(query(store_url, "SELECT id, status FROM golden_records")) == golden_before
