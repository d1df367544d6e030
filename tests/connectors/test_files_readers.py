"""connectors.files readers: encodings, delimiters, headers, value rendering, JSON, errors."""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

import pytest
from files_builders import titled_workbook, write_json, write_xlsx

from connectors.files import BadRow, FileReadError, Row, list_sheets, read_table
from connectors.files.csv_reader import detect_encoding, sniff_delimiter
from connectors.files.grid import render_value

RU = "ФИО;Телефон;Email\nИванов Иван Иванович;+7 912 345-67-89;ivan@mail.ru\nСмирнова Анна;8 916 123 45 67;anna@yandex.ru\n"
WEST = "Name,City,Note\nJosé Müller,Köln,“quoted” – dash €5\nFrançoise Weiß,Besançon,naïve café\n"


def rows_of(path: Path, **kwargs: object) -> list[Row]:
    table = read_table(path, **kwargs)  # type: ignore[arg-type]
    return list(table.data_rows)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (89123456789, "89123456789"),
        (89123456789.0, "89123456789"),
        (1.2345678901e10, "12345678901"),
        (0.1 + 0.2, "0.3"),
        (2.5, "2.5"),
        (-3.0, "-3"),
        (True, "TRUE"),
        (False, "FALSE"),
        (dt.datetime(2024, 3, 1), "2024-03-01"),
        (dt.datetime(2024, 3, 1, 10, 15), "2024-03-01T10:15:00"),
        (dt.datetime(2024, 3, 1, 10, 14, 59, 999_700), "2024-03-01T10:15:00"),
        (dt.date(2023, 2, 5), "2023-02-05"),
        (dt.time(9, 30), "09:30:00"),
        (dt.timedelta(hours=1, minutes=30), "1:30:00"),
        ("  spaced  ", "  spaced  "),
        ("", None),
        (None, None),
    ],
)
def test_render_value(value: object, shown: str | None) -> None:
    assert render_value(value) == shown


def test_encoding_detection_cp1251_and_western() -> None:
    assert detect_encoding(RU.encode("cp1251")) == "cp1251"
    assert detect_encoding(WEST.encode("cp1252")) == "cp1252"
    assert detect_encoding(RU.encode("utf-8")) == "utf-8"
    assert detect_encoding(codecs.BOM_UTF8 + RU.encode("utf-8")) == "utf-8-sig"
    assert detect_encoding(RU.encode("utf-16")) == "utf-16"


def test_cp1251_semicolon_csv(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "legacy.csv"
    path.write_bytes(RU.encode("cp1251"))
    with caplog.at_level("INFO", logger="connectors"):
        table = read_table(path)
    assert "encoding cp1251" in caplog.text
    assert (table.encoding, table.delimiter) == ("cp1251", ";")
    assert table.columns == ("ФИО", "Телефон", "Email")
    assert [r.number for r in table.data_rows] == [2, 3]
    assert table.data_rows[0].values["ФИО"] == "Иванов Иван Иванович"


def test_cp1252_csv(tmp_path: Path) -> None:
    path = tmp_path / "west.csv"
    path.write_bytes(WEST.encode("cp1252"))
    rows = rows_of(path)
    assert rows[0].values == {"Name": "José Müller", "City": "Köln", "Note": "“quoted” – dash €5"}


def test_utf16_bom_tab_csv(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes("Name\tPhone\r\nÅsa Öberg\t+46 70 123 45 67\r\n".encode("utf-16"))
    table = read_table(path)
    assert table.encoding == "utf-16" and table.delimiter == "\t"
    assert table.data_rows[0].values == {"Name": "Åsa Öberg", "Phone": "+46 70 123 45 67"}


def test_utf8_bom_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + b"id,name\n1,x\n")
    assert read_table(path).columns == ("id", "name")


def test_encoding_override_and_bad_override(tmp_path: Path) -> None:
    path = tmp_path / "ru.csv"
    path.write_bytes(RU.encode("cp1251"))
    assert rows_of(path, encoding="cp1251")[1].values["ФИО"] == "Смирнова Анна"
    with pytest.raises(FileReadError, match=r"ru\.csv, line 1: cannot be decoded as utf-8"):
        read_table(path, encoding="utf-8")
    with pytest.raises(FileReadError, match="unknown encoding 'klingon'"):
        read_table(path, encoding="klingon")


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiter_sniffing(sep: str) -> None:
    text = sep.join(["name", "phone", "note"]) + "\n"
    text += sep.join(["Ann", "+1 415 555 0132", "likes, commas; and | pipes"]) + "\n"
    text += sep.join(["Bob", "8 912 345 67 89", ""]) + "\n"
    if sep != ",":
        text = text.replace("likes, commas; and | pipes", "no delimiters here")
    assert sniff_delimiter(text) == sep


def test_csv_title_lines_quoted_newlines_ragged_rows(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "Customer export;;;\n"
        "\n"
        "Name;;Name;Phone;Email\n"
        'Ann;x;"two\nlines";111\n'
        ";;;\n"
        "Bob;y;z;222;;more\n",
        encoding="utf-8",
    )
    table = read_table(path)
    assert table.header_row == 3
    assert table.columns == ("Name", "column_2", "Name_2", "Phone", "Email", "column_6")
    ann, bob = table.data_rows
    assert (ann.number, bob.number) == (4, 7)  # line where each record starts
    assert ann.values["Name_2"] == "two\nlines"
    assert bob.values["column_6"] == "more" and bob.values["Email"] is None
    assert "Email" not in ann.values  # a short row: the record fills the gap with None


def test_csv_header_row_override(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    table = read_table(path, header_row=2)
    assert table.columns == ("1", "2") and [r.number for r in table.data_rows] == [3]
    with pytest.raises(FileReadError, match="header_row 9 is empty or past the end"):
        read_table(path, header_row=9)


def test_xlsx_title_merged_header_detection_and_values(tmp_path: Path) -> None:
    path = titled_workbook(tmp_path / "book.xlsx")
    table = read_table(path, sheet="Customers")
    assert table.header_row == 3
    assert table.columns == ("Full name", "Phone", "column_C", "Phone_2", "Last contact",
                             "column_F")
    ivan, anna, bob = table.data_rows
    assert [r.number for r in table.data_rows] == [4, 6, 7]  # the empty row 5 is dropped
    assert ivan.values["Phone"] == "89123456789"
    assert ivan.values["Last contact"] == "2024-03-01"
    assert anna.values["Full name"] == "Anna "  # values are not trimmed
    assert anna.values["Phone"] == "12345678901"
    assert anna.values["Last contact"] == "2024-03-01T10:15:00"
    assert bob.values["Phone"] == "0.3" and bob.values["column_C"] == "TRUE"
    assert bob.values["Last contact"] == "12.03.2024" and bob.values["column_F"] == "extra"


def test_merged_cells_fill_their_range(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "m.xlsx",
        {"S": [["Region", "City", "Sales"], ["North", "Oslo", 1], [None, "Bergen", 2]]},
        merges={"S": ["A2:A3"]},
    )
    rows = rows_of(path)
    assert [r.values["Region"] for r in rows] == ["North", "North"]


def test_list_sheets_skips_hidden(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "h.xlsx", {"A": [["x", "y"]], "Secret": [["x", "y"]], "B": []},
                      hidden=["Secret"])
    assert list_sheets(path) == ["A", "B"]
    assert read_table(path, sheet="B").rows == ()


def test_missing_sheet_names_the_sheets(tmp_path: Path) -> None:
    path = titled_workbook(tmp_path / "customers.xlsx")
    with pytest.raises(FileReadError) as info:
        read_table(path, sheet="Clients")
    assert str(info.value) == "customers.xlsx: sheet 'Clients' not found (sheets: Customers, Leads)"
    with pytest.raises(FileReadError, match="did you mean 'Leads'"):
        read_table(path, sheet="leads")


def test_truncated_and_fake_xlsx(tmp_path: Path) -> None:
    good = titled_workbook(tmp_path / "good.xlsx").read_bytes()
    truncated = tmp_path / "customers.xlsx"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(FileReadError) as info:
        read_table(truncated)
    assert str(info.value) == (
        "customers.xlsx: not a valid XLSX workbook (the file is corrupt or not Excel: "
        "File is not a zip file); re-save it from Excel as .xlsx"
    )
    ole = tmp_path / "old.xlsx"
    ole.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    with pytest.raises(FileReadError, match="old Excel 97-2003 .xls file"):
        read_table(ole)


def test_xls_and_ods_go_through_calamine(tmp_path: Path) -> None:
    # calamine sniffs the content, so an xlsx body exercises the calamine code path.
    path = tmp_path / "book.xls"
    path.write_bytes(titled_workbook(tmp_path / "src.xlsx").read_bytes())
    table = read_table(path, sheet="Customers")
    assert table.file_format == "xls" and table.header_row == 3
    assert table.data_rows[0].values["Phone"] == "89123456789"
    broken = tmp_path / "broken.ods"
    broken.write_bytes(b"not a spreadsheet")
    with pytest.raises(FileReadError, match="broken.ods: not a valid ODS workbook"):
        read_table(broken)


def test_json_wrapped_list_and_flattening(tmp_path: Path) -> None:
    path = write_json(tmp_path / "forms.json", {
        "form": "Contact us",
        "submissions": [
            {"id": "F-1", "answers": {"email": "a@b.c", "age": 30}, "tags": ["x", "y"],
             "ok": True, "empty": ""},
            {"id": "F-2", "answers": {"email": None}},
            {"id": None},
        ],
    })
    table = read_table(path)
    assert table.columns == ("id", "answers.email", "answers.age", "tags", "ok", "empty")
    first, second = table.data_rows  # the all-null third object is dropped
    assert first.values == {"id": "F-1", "answers.email": "a@b.c", "answers.age": "30",
                            "tags": '["x", "y"]', "ok": "true", "empty": None}
    assert (first.number, second.number) == (1, 2)


def test_json_array_with_a_non_object_item(tmp_path: Path) -> None:
    path = write_json(tmp_path / "a.json", [{"n": 1}, 42, {"n": 3}])
    table = read_table(path)
    assert [type(r).__name__ for r in table.rows] == ["Row", "BadRow", "Row"]
    assert table.rows[1].number == 2


def test_jsonl_keeps_good_lines_around_a_bad_one(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"n": 1}\n\n{"n": 2, oops}\n{"n": 3}\n', encoding="utf-8")
    table = read_table(path)
    assert [r.number for r in table.rows] == [1, 3, 4]
    bad = table.rows[1]
    assert isinstance(bad, BadRow) and bad.raw == '{"n": 2, oops}'
    assert bad.message.startswith("malformed JSON at line 3, column 10")
    assert [r.values["n"] for r in table.data_rows] == ["1", "3"]


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "form_submissions.json"
    path.write_text('{"submissions": [\n  {"a": 1}\n  {"a": 2}\n]}\n', encoding="utf-8")
    with pytest.raises(FileReadError) as info:
        read_table(path)
    assert str(info.value).startswith(
        "form_submissions.json: malformed JSON at line 3, column 3: Expecting ',' delimiter"
    )


def test_json_with_two_lists_is_ambiguous(tmp_path: Path) -> None:
    path = write_json(tmp_path / "two.json", {"a": [{"x": 1}], "b": [{"y": 2}]})
    with pytest.raises(FileReadError, match=r"several lists of objects \(a, b\)"):
        read_table(path)


def test_missing_file_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(FileReadError) as info:
        read_table(tmp_path / "leads.csv")
    assert str(info.value).startswith("leads.csv: file not found")
    other = tmp_path / "notes.txt"
    other.write_text("x", encoding="utf-8")
    with pytest.raises(FileReadError, match="cannot tell the format.*set \"format\""):
        read_table(other)
    assert rows_of(other, file_format="csv") == []


def test_a_short_cp1251_file_is_not_mistaken_for_an_east_asian_codec(tmp_path) -> None:
    path = tmp_path / "legacy.csv"
    path.write_bytes("Name;Email;Phone\r\nИванов Иван Иванович;ivan@mail.ru;8 912 345 67 89\r\n"
                     "Смирнова Анна;;+7 916 123-45-67\r\n".encode("cp1251"))
    table = read_table(path)
    assert table.encoding == "cp1251"
    assert [row.values["Name"] for row in table.rows] == ["Иванов Иван Иванович", "Смирнова Анна"]
