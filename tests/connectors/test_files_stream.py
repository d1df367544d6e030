"""iter_table streams a CSV with exactly read_table's rows, columns and fingerprint, in bounded memory."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.files import FileReadError, iter_table, read_table
from connectors.files.records import RecordIds

_CELLS = st.one_of(st.text(max_size=10), st.sampled_from(["", " ", "  x ", "a\nb", 'say "hi"', "1,5", "Имя",
                                                             "2024-01-02", "42", "TRUE", "\ufeff", "x\r\ny"]))
_HUGE = "x" * 140_000  # over the csv module's field size limit: a record it cannot parse


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, int | None]:
    width = draw(st.integers(1, 5))
    lines: list[list[str]] = []
    for _ in range(draw(st.integers(0, 2))):  # title rows and blank lines above the header
        lines.append(draw(st.sampled_from([["Report 2024"], [], ["", ""], ["Exported by", "admin"]])))
    header_at = len(lines) + 1
    lines.append(draw(st.lists(st.sampled_from(["id", "name", "phone", "e-mail", "", "name"]), min_size=1,
                               max_size=width)))
    lines += draw(st.lists(st.lists(_CELLS, max_size=width + 2), max_size=40))  # ragged rows: extra columns
    delimiter = draw(st.sampled_from(",;\t|"))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\r\n", "\n", "\r"])))
    huge_at = draw(st.one_of(st.none(), st.integers(0, len(lines))))
    for i, line in enumerate(lines):
        if i == huge_at:
            buffer.write(_HUGE + "\n")
        writer.writerow(line)
    text = buffer.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "cp1251", "utf-16"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 9)) == 0:
        data = data.replace(b",", b",\x00", 1)
    header_row = draw(st.sampled_from([None, None, header_at, header_at + 1, 999]))
    return data, header_row


def _read(path: Path, **options: object) -> tuple[object, ...]:
    try:
        table = read_table(path, **options)  # type: ignore[arg-type]
    except FileReadError as exc:
        return ("error", str(exc))
    return (table.columns, table.fingerprint, table.encoding, table.delimiter, table.header_row, table.rows)


def _stream(path: Path, **options: object) -> tuple[object, ...]:
    try:
        stream = iter_table(path, **options)  # type: ignore[arg-type]
        rows = tuple(row for chunk in stream.chunks(7) for row in chunk)
    except FileReadError as exc:
        return ("error", str(exc))
    head = stream.head
    return (head.columns, head.fingerprint, head.encoding, head.delimiter, head.header_row, rows)


@given(case=csv_files(), explicit_encoding=st.booleans())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_streamed_rows_are_read_tables_rows(tmp_path: Path, case: tuple[bytes, int | None],
                                            explicit_encoding: bool) -> None:
    data, header_row = case
    path = tmp_path / "people.csv"
    path.write_bytes(data)
    options: dict[str, object] = {"header_row": header_row}
    if explicit_encoding:
        options["encoding"] = "utf-8"
    assert _stream(path, **options) == _read(path, **options)


def test_a_record_csv_cannot_parse_is_a_bad_row_with_its_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(f"id,name\n1,Ann\n2,\"{_HUGE}\nstill quoted\"\n3,Bob\n", encoding="utf-8")
    rows = list(iter_table(path))
    # the csv module gives up on line 3 and goes on at line 4, as read_csv does
    assert [type(r).__name__ for r in rows] == ["Row", "BadRow", "Row", "Row"]
    bad = rows[1]
    assert bad.number == 3 and "field larger than field limit" in bad.message  # type: ignore[union-attr]
    assert bad.raw.startswith('2,"xxx') and len(bad.raw) == 1000  # type: ignore[union-attr]
    assert rows[3].values == {"id": "3", "name": "Bob"}  # type: ignore[union-attr]
    assert rows == list(read_table(path).rows)


def test_extra_columns_late_in_the_file_are_columns_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("id,name\n" + "".join(f"{i},n{i}\n" for i in range(100)) + "100,n100,,late\n", encoding="utf-8")
    stream = iter_table(path)
    assert stream.columns == ("id", "name", "column_4")  # known before the first row is read
    assert list(stream) == list(read_table(path).rows)


def test_other_encodings_fall_back_to_reading_whole(tmp_path: Path) -> None:
    path = tmp_path / "cp.csv"
    path.write_bytes("имя;телефон\nИван;+7 912 345 67 89\n".encode("cp1251"))
    stream = iter_table(path)
    assert stream.layout is None and stream.head.encoding == read_table(path).encoding
    assert list(stream) == list(read_table(path).rows)


def test_missing_file_is_the_same_error(tmp_path: Path) -> None:
    with pytest.raises(FileReadError) as streamed:
        iter_table(tmp_path / "nope.csv")
    with pytest.raises(FileReadError) as whole:
        read_table(tmp_path / "nope.csv")
    assert str(streamed.value) == str(whole.value)


def test_a_file_changed_between_scan_and_read_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "moving.csv"
    path.write_text("id,name\n1,Ann\n", encoding="utf-8")
    stream = iter_table(path)
    path.write_text("id,name\n1,Ann\n2,Bob\n", encoding="utf-8")
    with pytest.raises(FileReadError, match="changed while it was being read"):
        list(stream)


def test_streaming_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "email", "phone"])
        for i in range(60_000):
            writer.writerow([i, f"Person {i}", f"p{i}@example.com", f"+1 212 555 {i % 10000:04d}"])

    def peak(read: object) -> int:
        tracemalloc.start()
        try:
            read()  # type: ignore[operator]
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    def stream_it() -> int:
        return sum(len(chunk) for chunk in iter_table(path).chunks(1000))

    def whole() -> int:
        return len(read_table(path).rows)

    streamed, held = peak(stream_it), peak(whole)
    assert streamed < held / 5, (streamed, held)
    assert streamed < 8 * 2**20


@given(st.lists(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=6), max_size=20))
@settings(max_examples=300, deadline=None)
def test_record_ids_hash_the_values_as_json_dumps_writes_them(rows: list[list[str | None]]) -> None:
    ids = RecordIds(columns=[f"c{i}" for i in range(6)])
    seen: dict[str, int] = {}
    for values in rows:
        base = "h:" + hashlib.sha256(json.dumps(values, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]
        seen[base] = seen.get(base, 0) + 1
        assert ids.good(values) == (base if seen[base] == 1 else f"{base}#{seen[base]}")
