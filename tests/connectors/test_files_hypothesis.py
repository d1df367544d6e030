"""Hostile files (hypothesis): random and corrupted CSV and XLSX bytes through the real ingest path.

Every example is written to a file and ingested with `sync.ingest.ingest_source` into an
SQLite store. Whatever the bytes:
- ingest returns a report, it never raises;
- a file that cannot be read at all gives one error naming the file, and nothing lands;
- otherwise every row the reader saw either landed or was quarantined with its reason
  (row number, and the column when a value was the problem): landed + quarantined == rows seen.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import text

from connectors.files import FileReadError, read_table
from mappings.spec import MappingSpec
from sync.ingest import IngestReport, ingest_source
from sync.store import Store, open_store

SPEC = MappingSpec.model_validate({"fields": [
    {"from": "Name", "to": "name", "optional": True},
    {"from": "Email", "to": "emails", "optional": True},  # a bad e-mail quarantines the row
    {"from": "Phone", "to": "phones", "optional": True, "on_error": "skip"},
    {"from": "Company", "to": "company", "optional": True},
]})
HEADERS = ["Name", "Email", "Phone", "Company", "Notes", ""]
TRICKY = ["ann@example.com", "not-an-email", "bob@@example", "+1 415 555 0100", "89123456789", "=SUM(A1:A3)",
          "=1/0", "@cmd", "+cmd|' /C calc'!A0", "2024-03-01", "01.03.2024", "1e308", "-0", "TRUE", "", " ", '"',
          "a,b;c\td|e", "line\nbreak", "\r\n", "Иванов Иван", "Łódź", "😀", "\x00", "\ufeff"]
_counter = itertools.count()


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path_factory.mktemp('hypothesis') / 'crmsync.db'}")
    yield opened
    opened.dispose()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("files")


def _ingest(store: Store, path: Path, entry: dict[str, Any], stream: str) -> tuple[str, IngestReport]:
    source = f"h{next(_counter)}"
    config = {"files": [{"path": str(path), "name": "data", **entry}], "checkpoint_every": 7}
    report = ingest_source(store, source=source, connector="files", config=config, mappings={stream: SPEC})
    return source, report


def _rows_seen(path: Path, **kwargs: Any) -> int | FileReadError:
    try:
        return len(read_table(path, **kwargs).rows)
    except FileReadError as exc:
        return exc


def _check(store: Store, source: str, report: IngestReport, stream: str, path: Path,
           seen: int | FileReadError) -> None:
    counts = report.stream(stream)
    with store.session() as session:
        landed = session.execute(text("SELECT count(*) FROM source_records WHERE source = :s"),
                                 {"s": source}).scalar_one()
        quarantined = session.execute(text("SELECT row_number, field, reason, file FROM quarantine "
                                           "WHERE source = :s"), {"s": source}).all()
    errors = [e for e in (report.error, counts.error) if e]
    if isinstance(seen, FileReadError):
        assert errors, f"{path.name}: the reader failed ({seen}) but ingest reported no error"
        assert all(path.name in e for e in errors), errors
        assert landed == 0 and not quarantined
        return
    assert not errors, errors
    assert counts.read == seen
    assert counts.new + counts.quarantined == seen, (counts, seen)
    assert landed == counts.new
    assert len(quarantined) <= counts.quarantined  # identical bad rows share one quarantine entry
    assert bool(quarantined) == bool(counts.quarantined)
    for row_number, field, reason, file in quarantined:
        assert row_number is not None and reason and file == path.name
        assert field is None or field in reason  # the column a person has to fix, when one is to blame
    assert len(report.problems) >= min(counts.quarantined, 200)


# ------------------------------------------------------------------ CSV

cells = st.one_of(st.text(max_size=12), st.sampled_from(TRICKY), st.integers().map(str),
                  st.floats(allow_nan=True).map(repr))


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    width = draw(st.integers(1, 6))
    header = draw(st.one_of(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=width),
                            st.lists(cells, min_size=1, max_size=width)))
    rows = draw(st.lists(st.lists(cells, max_size=width + 2), max_size=14))  # ragged
    if draw(st.booleans()):
        rows.insert(0, ["Customer list"])  # a title row above the header
        rows.insert(1, [])
    if draw(st.integers(0, 9)) == 0:
        rows.append(["x" * 140_000])  # past the csv module's default field size limit
    delimiter = draw(st.sampled_from(",;\t|"))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        if draw(st.integers(0, 5)) == 0:  # a line written with another delimiter
            csv.writer(buffer, delimiter=draw(st.sampled_from(",;\t|"))).writerow(row)
        else:
            writer.writerow(row)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1251", "latin-1", "cp1252"]))
    data = bytearray(buffer.getvalue().encode(encoding, errors="replace"))
    for _ in range(draw(st.integers(0, 3))):  # corruption
        if not data:
            break
        kind = draw(st.sampled_from(["truncate", "nul", "flip", "cut_utf8"]))
        at = draw(st.integers(0, len(data) - 1))
        if kind == "truncate":
            del data[at:]
        elif kind == "nul":
            data[at:at] = b"\x00" * draw(st.integers(1, 3))
        elif kind == "flip":
            data[at] ^= draw(st.integers(1, 255))
        else:
            data[at:at] = "é".encode()[:1]  # half a UTF-8 sequence
    return bytes(data)


@given(data=csv_files())
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_corrupted_csv_never_crashes_ingest_and_loses_nothing(sqlite_store: Store, folder: Path, data: bytes) -> None:
    path = folder / f"in{next(_counter)}.csv"
    path.write_bytes(data)
    seen = _rows_seen(path)
    source, report = _ingest(sqlite_store, path, {}, "data")
    _check(sqlite_store, source, report, "data", path, seen)


@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".xlsx", ".tsv"]))
@settings(max_examples=60, deadline=None)
def test_random_bytes_never_crash_ingest(sqlite_store: Store, folder: Path, data: bytes, suffix: str) -> None:
    path = folder / f"raw{next(_counter)}{suffix}"
    path.write_bytes(data)
    if suffix == ".xlsx":
        seen = _rows_seen(path, sheet="Sheet")
        source, report = _ingest(sqlite_store, path, {"sheets": ["Sheet"]}, "data:Sheet")
        _check(sqlite_store, source, report, "data:Sheet", path, seen)
    else:
        seen = _rows_seen(path)
        source, report = _ingest(sqlite_store, path, {}, "data")
        _check(sqlite_store, source, report, "data", path, seen)


# ------------------------------------------------------------------ XLSX

xlsx_cells = st.one_of(
    st.none(),
    st.text(max_size=15).map(lambda s: ILLEGAL_CHARACTERS_RE.sub("", s)),
    st.sampled_from([t for t in TRICKY if not ILLEGAL_CHARACTERS_RE.search(t)]),  # "=..." is written as a formula
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)),
    st.dates(min_value=dt.date(1900, 3, 1)),
)


def _deterministic(book: Workbook) -> bytes:
    """The workbook's bytes without save-time timestamps, so hypothesis can replay an example exactly."""
    buffer = io.BytesIO()
    book.save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as saved, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as fixed:
        for info in saved.infolist():
            content = saved.read(info)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2024-01-01T00:00:00Z", content)
            fixed.writestr(zipfile.ZipInfo(info.filename, (2024, 1, 1, 0, 0, 0)), content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


@st.composite
def xlsx_files(draw: st.DrawFn) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Sheet"
    width = draw(st.integers(1, 6))
    rows: list[list[Any]] = []
    if draw(st.booleans()):
        rows.append(["Customers 2024"])
    rows.append(draw(st.one_of(st.lists(st.sampled_from(HEADERS[:-1]), min_size=1, max_size=width),
                               st.lists(xlsx_cells, max_size=width))))
    rows += draw(st.lists(st.lists(xlsx_cells, max_size=width + 1), max_size=12))
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            sheet.cell(row=r, column=c, value=value)
    data = bytearray(_deterministic(book))
    kind = draw(st.sampled_from(["none", "none", "truncate", "flip", "zero"]))
    if kind != "none":
        at = draw(st.integers(0, len(data) - 1))
        if kind == "truncate":
            del data[at:]
        elif kind == "flip":
            for _ in range(draw(st.integers(1, 8))):
                spot = draw(st.integers(0, len(data) - 1))
                data[spot] ^= draw(st.integers(1, 255))
        else:
            data[at:at + draw(st.integers(1, 64))] = b"\x00" * 64
    return bytes(data)


@given(data=xlsx_files())
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_corrupted_xlsx_never_crashes_ingest_and_loses_nothing(sqlite_store: Store, folder: Path, data: bytes) -> None:
    path = folder / f"book{next(_counter)}.xlsx"
    path.write_bytes(data)
    seen = _rows_seen(path, sheet="Sheet")
    source, report = _ingest(sqlite_store, path, {"sheets": ["Sheet"]}, "data:Sheet")
    _check(sqlite_store, source, report, "data:Sheet", path, seen)


def test_a_known_bad_row_is_quarantined_with_its_row_and_column(sqlite_store: Store, folder: Path) -> None:
    path = folder / "known.csv"
    path.write_text("Name,Email\nAnn,ann@example.com\nBob,not-an-email\nCid,cid@example.com\n", encoding="utf-8")
    source, report = _ingest(sqlite_store, path, {}, "data")
    _check(sqlite_store, source, report, "data", path, 3)
    assert (report.stream("data").new, report.stream("data").quarantined) == (2, 1)
    with sqlite_store.session() as session:
        row = session.execute(text("SELECT row_number, field FROM quarantine WHERE source = :s"),
                              {"s": source}).one()
    assert tuple(row) == (3, "Email")


def test_an_oversized_csv_field_is_one_bad_row_and_the_rest_lands(sqlite_store: Store, folder: Path) -> None:
    path = folder / "oversized.csv"
    path.write_text("Name,Email\nAnn,ann@example.com\n" + "x" * 140_000 + ",big@example.com\nCid,cid@example.com\n",
                    encoding="utf-8")
    table = read_table(path)
    assert [type(r).__name__ for r in table.rows] == ["Row", "BadRow", "Row"]
    assert table.bad_rows[0].number == 3 and "field larger than field limit" in table.bad_rows[0].message
    assert table.bad_rows[0].raw == "x" * 1000  # the line it came from, cut to 1000 characters
    source, report = _ingest(sqlite_store, path, {}, "data")
    _check(sqlite_store, source, report, "data", path, 3)
    assert (report.stream("data").new, report.stream("data").quarantined) == (2, 1)
    assert any("oversized.csv, row 3: cannot be parsed as CSV" in p for p in report.problems), report.problems


def test_nul_characters_in_a_csv_do_not_stop_it_on_either_store(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"  # PostgreSQL refuses NUL inside JSON text; the reader drops it
    path.write_bytes(b"Name,Email,Notes\nAnn\x00x,ann@example.com,a\x00b\nBob,not-an-email,\x00\n")
    source, report = _ingest(store, path, {}, "data")
    _check(store, source, report, "data", path, 2)
    assert (report.stream("data").new, report.stream("data").quarantined) == (1, 1)


def _small_book() -> bytes:
    book = Workbook()
    book.active.title = "Sheet"
    book.active.append(["Name", "Email"])
    book.active.append(["Ann", "ann@example.com"])
    return _deterministic(book)


def test_a_zip_needing_an_unknown_version_is_a_clear_file_error(sqlite_store: Store, folder: Path) -> None:
    data = bytearray(_small_book())
    central = data.index(b"PK\x01\x02")  # the first central-directory entry: "version needed" at +6
    data[central + 6:central + 8] = (84).to_bytes(2, "little")
    path = folder / "future.xlsx"
    path.write_bytes(bytes(data))
    seen = _rows_seen(path, sheet="Sheet")
    assert isinstance(seen, FileReadError) and "not a valid XLSX workbook" in str(seen)
    source, report = _ingest(sqlite_store, path, {"sheets": ["Sheet"]}, "data:Sheet")
    _check(sqlite_store, source, report, "data:Sheet", path, seen)


def test_identical_workbooks_are_each_named_as_themselves(sqlite_store: Store, folder: Path) -> None:
    first, copy = folder / "first.xlsx", folder / "copy.xlsx"
    first.write_bytes(_small_book())
    copy.write_bytes(_small_book())
    assert read_table(first, sheet="Sheet").file == "first.xlsx"
    assert read_table(copy, sheet="Sheet").file == "copy.xlsx"


def test_nul_escapes_in_a_json_file_do_not_stop_it_on_either_store(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "nul.json"
    path.write_text('[{"Name": "Ann\\u0000", "Email": "ann@example.com", "No\\u0000tes": "x"},'
                    ' {"Name": "Bob", "Email": "bob@example.com"}]', encoding="utf-8")
    table = read_table(path)
    assert table.columns == ("Name", "Email", "Notes") and table.data_rows[0].values["Name"] == "Ann"
    source, report = _ingest(store, path, {}, "data")
    _check(store, source, report, "data", path, 2)
    assert report.stream("data").new == 2
