"""Asterisk cdr_csv: the shared suite over a file, parsing, rotation, partial lines, bad lines, the template."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.asterisk.cdr import CdrError, direction_of, parse_line
from connectors.asterisk.source import AsteriskSource
from connectors.testing.suite import ConnectorSuite, Harness, read
from mappings import SourceRef, load_mapping, map_row
from mappings.templates import TEMPLATES_DIR

# The contract's synthetic line (7b), with uniqueid and userfield.
SAMPLE = ('"","100","5550199","from-internal","""Ann"" <100>","SIP/100-0000001a","SIP/trunk-0000001b","Dial",'
          '"SIP/trunk/5550199,60","2024-05-02 10:00:00","2024-05-02 10:00:07","2024-05-02 10:03:05",185,178,'
          '"ANSWERED","DOCUMENTATION","1714644000.26",""')


def cdr_line(n: int, start: datetime, *, inbound: bool) -> str:
    caller, called = (f"8912{n:07d}", "100") if inbound else ("101", f"8912{n:07d}")
    stamp = start.strftime("%Y-%m-%d %H:%M:%S")
    end = (start + timedelta(seconds=60 + n)).strftime("%Y-%m-%d %H:%M:%S")
    return (f'"","{caller}","{called}","from-trunk","""Caller {n}"" <{caller}>","SIP/trunk-{n:08x}","SIP/100-{n:08x}",'
            f'"Dial","SIP/100,30","{stamp}","{stamp}","{end}",{60 + n},{55 + n},"ANSWERED","DOCUMENTATION",'
            f'"{1714644000 + n}.{n}"\n')


class TestAsteriskSuite(ConnectorSuite):
    @pytest.fixture
    def harness(self, tmp_path: Path) -> Harness:
        path = tmp_path / "Master.csv"
        path.write_text("", encoding="utf-8")
        numbers = itertools.count(1)
        start = datetime(2024, 5, 2, 9)

        def add(count: int) -> list[str]:
            lines = [cdr_line(n, start + timedelta(minutes=n), inbound=n % 2 == 0)
                     for n in itertools.islice(numbers, count)]
            with path.open("a", encoding="utf-8") as file:
                file.writelines(lines)
            return [parse_line(line.rstrip("\n"), timezone=ZoneInfo("UTC")).record_id for line in lines]

        config = {"path": "Master.csv", "base_dir": str(tmp_path), "checkpoint_every": 5, "timezone": "Europe/Moscow"}
        return Harness(source=AsteriskSource(), module="connectors.asterisk", stream="cdr", config=config,
                       add_records=add, bad_config={**config, "path": "missing/Master.csv"},
                       credential_words=("not found",))


def test_the_contract_sample_line() -> None:
    row = parse_line(SAMPLE, timezone=ZoneInfo("Europe/Moscow"))
    assert row.values["clid"] == '"Ann" <100>'
    assert row.values["uniqueid"] == "1714644000.26" and row.values["userfield"] is None
    assert row.values["billsec"] == "178" and row.values["lastdata"] == "SIP/trunk/5550199,60"
    assert row.started_at == datetime(2024, 5, 2, 7, tzinfo=UTC)
    assert row.record_id.startswith("1714644000.26-")
    assert direction_of(row.values, outbound_contexts=frozenset({"from-internal"}), extension_digits=5) == "outbound"


@pytest.mark.parametrize(("line", "reason"), [
    ('"","100"', "has 2 fields"),
    (SAMPLE.replace("185,178", "185,abc"), "billsec"),
    (SAMPLE.replace('"2024-05-02 10:00:00"', '"02.05.2024 10:00"', 1), "field start"),
    ('"unterminated', "not valid CSV"),
])
def test_bad_lines_say_what_is_wrong(line: str, reason: str) -> None:
    with pytest.raises(CdrError, match=reason):
        parse_line(line, timezone=ZoneInfo("UTC"))


def test_bad_lines_are_quarantined_and_the_rest_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_text(SAMPLE + "\nnot a cdr line\n" + cdr_line(1, datetime(2024, 5, 2, 9), inbound=True),
                    encoding="utf-8")
    records = read(Harness(AsteriskSource(), "connectors.asterisk", "cdr", {"path": str(path)}, lambda n: [])).records
    assert [r.get("_error") is None for r in records] == [True, False, True]
    assert records[1]["_error"].startswith("line 2 has 1 fields") and records[1]["line"] == "not a cdr line"


def test_a_line_still_being_written_waits_for_the_next_run(tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    whole = cdr_line(1, datetime(2024, 5, 2, 9), inbound=True)
    path.write_text(SAMPLE + "\n" + whole[:40], encoding="utf-8")
    harness = Harness(AsteriskSource(), "connectors.asterisk", "cdr", {"path": str(path)}, lambda n: [])
    first = read(harness)
    assert len(first.records) == 1 and first.final_state["line"] == 1
    with path.open("a", encoding="utf-8") as file:
        file.write(whole[40:])
    second = read(harness, first.final_state)
    assert [r["src"] for r in second.records] == ["89120000001"]


def test_a_rotated_file_is_read_from_the_top(tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_text(SAMPLE + "\n", encoding="utf-8")
    harness = Harness(AsteriskSource(), "connectors.asterisk", "cdr", {"path": str(path)}, lambda n: [])
    state = read(harness).final_state
    path.write_text(cdr_line(1, datetime(2024, 5, 3, 9), inbound=True) + cdr_line(2, datetime(2024, 5, 3, 9),
                                                                                  inbound=False), encoding="utf-8")
    assert len(read(harness, state).records) == 2


def test_calls_map_to_interactions_by_direction(tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_text(cdr_line(1, datetime(2024, 5, 2, 9), inbound=True) + cdr_line(2, datetime(2024, 5, 2, 9),
                                                                                 inbound=False), encoding="utf-8")
    records = read(Harness(AsteriskSource(), "connectors.asterisk", "cdr", {"path": str(path)}, lambda n: [])).records
    spec = load_mapping(TEMPLATES_DIR / "asterisk_calls.yaml")
    spec = spec.model_copy(update={"defaults": {"phone_region": "RU"}})
    mapped = [map_row(spec, {k: v for k, v in r.items() if not k.startswith("_")},
                      SourceRef(source="pbx", stream="cdr", source_record_id=r["_record_id"])).record for r in records]
    assert [(m.direction, m.phone, m.status, m.duration_seconds) for m in mapped] == [
        ("inbound", "+79120000001", "answered", 56), ("outbound", "+79120000002", "answered", 57)]


@given(st.one_of(st.text(max_size=300), st.lists(st.text(max_size=20), min_size=14, max_size=20).map(
    lambda fields: ",".join('"' + f.replace('"', '""') + '"' for f in fields))))
@settings(max_examples=300, deadline=None)
def test_any_line_parses_or_says_why(line: str) -> None:
    try:
        row = parse_line(line, timezone=ZoneInfo("UTC"))
    except CdrError as exc:
        assert str(exc)
        return
    assert row.record_id and row.started_at.tzinfo is not None
