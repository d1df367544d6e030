"""connectors.files source in-process: checkpoints, resume, passes, bad rows, errors."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import AirbyteMessage, FailureType, Type
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from files_builders import config_for, numbered_csv, titled_workbook

from connectors.files import FilesConfigError, parse_config
from connectors.files.source import FilesSource, iter_airbyte_messages


def run(config: dict[str, Any], streams: list[str] | None = None,
        state: dict[str, dict[str, Any]] | None = None) -> list[AirbyteMessage]:
    return list(iter_airbyte_messages(config, streams, state))


def records(messages: list[AirbyteMessage]) -> list[dict[str, Any]]:
    return [dict(m.record.data) for m in messages if m.type == Type.RECORD]


def states(messages: list[AirbyteMessage]) -> list[dict[str, Any]]:
    return [dict(m.state.stream.stream_state.__dict__) for m in messages if m.type == Type.STATE]


def segments(messages: list[AirbyteMessage]) -> list[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """(records since the previous STATE, that STATE), as a committing consumer sees them."""
    out, pending = [], []
    for m in messages:
        if m.type == Type.RECORD:
            pending.append(dict(m.record.data))
        elif m.type == Type.STATE:
            out.append((pending, dict(m.state.stream.stream_state.__dict__)))
            pending = []
    assert not pending, "records after the last STATE would never be committed"
    return out


def test_state_checkpoints_at_the_interval_and_at_the_end(tmp_path: Path) -> None:
    numbered_csv(tmp_path / "people.csv", 23)
    messages = run(config_for({"path": "people.csv"}, base_dir=tmp_path, every=5))
    got = states(messages)
    assert [(s["position"], s["complete"]) for s in got] == [
        (5, False), (10, False), (15, False), (20, False), (23, True)]
    assert len({s["pass_id"] for s in got}) == 1 and len({s["fingerprint"] for s in got}) == 1
    covered = 0
    for batch, state in segments(messages):
        assert [r["_row"] for r in batch] == list(range(covered + 2, state["position"] + 2))
        covered = state["position"]
    rows = records(messages)
    assert {r["_pass"] for r in rows} == {got[0]["pass_id"]}
    assert rows[0] == {"id": "1", "name": "person 1", "_file": "people.csv", "_row": 2,
                       "_record_id": rows[0]["_record_id"], "_pass": got[0]["pass_id"]}
    assert rows[0]["_record_id"].startswith("h:") and len(rows[0]["_record_id"]) == 18


def test_exact_multiple_of_the_interval_still_ends_complete(tmp_path: Path) -> None:
    numbered_csv(tmp_path / "p.csv", 10)
    got = states(run(config_for({"path": "p.csv"}, base_dir=tmp_path, every=5)))
    assert [(s["position"], s["complete"]) for s in got] == [(5, False), (10, False), (10, True)]


def test_resume_from_any_checkpoint_gives_exactly_the_remaining_rows(tmp_path: Path) -> None:
    numbered_csv(tmp_path / "p.csv", 17)
    config = config_for({"path": "p.csv", "name": "p"}, base_dir=tmp_path, every=4)
    full = run(config)
    all_ids = [r["_record_id"] for r in records(full)]
    for _, state in segments(full)[:-1]:
        resumed = run(config, ["p"], {"p": state})
        rest = records(resumed)
        assert [r["_record_id"] for r in rest] == all_ids[state["position"]:]
        assert {r["_pass"] for r in rest} == {state["pass_id"]}
        final = states(resumed)[-1]
        assert final["complete"] and final["position"] == 17 and final["pass_id"] == state["pass_id"]


def test_a_complete_pass_is_read_again_as_a_new_pass(tmp_path: Path) -> None:
    numbered_csv(tmp_path / "p.csv", 6)
    config = config_for({"path": "p.csv"}, base_dir=tmp_path)
    first = run(config)
    done = states(first)[-1]
    second = run(config, None, {"p": done})
    assert len(records(second)) == 6
    assert states(second)[-1]["pass_id"] != done["pass_id"]
    assert [r["_record_id"] for r in records(second)] == [r["_record_id"] for r in records(first)]


def test_a_changed_file_restarts_the_pass(tmp_path: Path) -> None:
    path = numbered_csv(tmp_path / "p.csv", 8)
    config = config_for({"path": "p.csv"}, base_dir=tmp_path, every=3)
    mid = states(run(config))[0]
    assert mid["position"] == 3
    path.write_text(path.read_text(encoding="utf-8") + "9,person 9\n", encoding="utf-8")
    again = run(config, None, {"p": mid})
    assert len(records(again)) == 9
    assert states(again)[-1]["pass_id"] != mid["pass_id"]


@pytest.mark.parametrize("garbage", [{}, {"position": "x"}, {"fingerprint": 1, "complete": False}])
def test_unusable_state_starts_a_new_pass(tmp_path: Path, garbage: dict[str, Any]) -> None:
    numbered_csv(tmp_path / "p.csv", 3)
    messages = run(config_for({"path": "p.csv"}, base_dir=tmp_path), None, {"p": garbage})
    assert len(records(messages)) == 3


def test_bad_json_line_is_an_error_record_and_counts_in_the_position(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text(
        '{"n": 1}\n{"n": 2\n{"n": 3}\n{"n": 4}\n', encoding="utf-8")
    config = config_for({"path": "events.jsonl"}, base_dir=tmp_path, every=2)
    messages = run(config)
    rows = records(messages)
    assert [r.get("n") for r in rows] == ["1", None, "3", "4"]
    bad = rows[1]
    assert bad["_error"].startswith("malformed JSON at line 2") and bad["_row"] == 2
    assert bad["_raw"] == '{"n": 2' and bad["_record_id"].startswith("e:")
    first = states(messages)[0]
    assert first["position"] == 2
    assert [r["_row"] for r in records(run(config, None, {"events": first}))] == [3, 4]


def test_primary_key_record_ids(tmp_path: Path) -> None:
    (tmp_path / "c.csv").write_text("Client ID,Region,Name\n7,EU,a\n8,US,b\n", encoding="utf-8")
    config = config_for({"path": "c.csv", "primary_key": ["Client ID", "Region"]},
                        base_dir=tmp_path)
    assert [r["_record_id"] for r in records(run(config))] == ["7|EU", "8|US"]


def test_file_errors_are_traced_config_errors_and_other_streams_still_run(
    tmp_path: Path,
) -> None:
    numbered_csv(tmp_path / "ok.csv", 2)
    (tmp_path / "c.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    config = config_for({"path": "c.csv", "primary_key": ["Client ID"]}, {"path": "ok.csv"},
                        base_dir=tmp_path)
    seen: list[AirbyteMessage] = []
    with pytest.raises(AirbyteTracedException):
        for message in iter_airbyte_messages(config, None, None):
            seen.append(message)
    errors = [m.trace.error for m in seen if m.type == Type.TRACE and m.trace.error]
    assert errors[0].message == (
        "c.csv: primary_key column 'Client ID' not found (columns: a, b); fix \"primary_key\"")
    assert errors[0].failure_type == FailureType.config_error
    assert [r["_file"] for r in records(seen)] == ["ok.csv", "ok.csv"]


def test_missing_file_in_read(tmp_path: Path) -> None:
    config = config_for({"path": "leads.csv"}, base_dir=tmp_path)
    seen: list[AirbyteMessage] = []
    with pytest.raises(AirbyteTracedException):
        seen.extend(iter_airbyte_messages(config, ["leads"], None))
    errors = [m.trace.error for m in seen if m.type == Type.TRACE and m.trace.error]
    assert errors and errors[0].message.startswith("leads.csv: file not found")


def test_workbook_streams_and_names(tmp_path: Path) -> None:
    titled_workbook(tmp_path / "book.xlsx")
    numbered_csv(tmp_path / "p.csv", 1)
    source = FilesSource()
    names = [s.name for s in source.streams(config_for(
        {"path": "book.xlsx"}, {"path": "book.xlsx", "name": "b2", "sheets": ["Leads"]},
        {"path": "p.csv", "name": "people"}, base_dir=tmp_path))]
    assert names == ["book:Customers", "book:Leads", "b2:Leads", "people"]
    rows = records(run(config_for({"path": "book.xlsx", "sheets": ["Customers"]},
                                  base_dir=tmp_path)))
    assert {r["_sheet"] for r in rows} == {"Customers"} and rows[0]["_row"] == 4
    assert rows[0]["Phone"] == "89123456789"


def test_config_errors(tmp_path: Path) -> None:
    with pytest.raises(FilesConfigError, match=r"files\[0\]\.sheet: unknown key"):
        parse_config({"files": [{"path": "a.xlsx", "sheet": "x"}]})
    with pytest.raises(FilesConfigError, match="files"):
        parse_config({"files": []})
    numbered_csv(tmp_path / "p.csv", 1)
    dup = config_for({"path": "p.csv"}, {"path": "p.csv"}, base_dir=tmp_path)
    with pytest.raises(AirbyteTracedException, match="two files give the stream name 'p'"):
        FilesSource().streams(dup)
    with pytest.raises(AirbyteTracedException) as info:
        list(iter_airbyte_messages(config_for({"path": "p.csv"}, base_dir=tmp_path), ["q"]))
    assert info.value.message == "unknown stream 'q'; the configured streams are: p"


def test_json_schema_lists_columns_and_metadata(tmp_path: Path) -> None:
    titled_workbook(tmp_path / "book.xlsx")
    catalog = FilesSource().discover(None, config_for(  # type: ignore[arg-type]
        {"path": "book.xlsx", "sheets": ["Customers"]}, base_dir=tmp_path))
    stream = catalog.streams[0]
    props = stream.json_schema["properties"]
    assert props["Full name"] == {"type": ["null", "string"]}
    assert {"_file", "_sheet", "_row", "_record_id", "_pass", "_error"} <= set(props)
    assert stream.source_defined_primary_key == [["_record_id"]]
    assert stream.default_cursor_field == ["_row"]
    assert {m.value for m in stream.supported_sync_modes} == {"full_refresh", "incremental"}


def test_full_refresh_mode_checkpoints_the_same_way(tmp_path: Path) -> None:
    from airbyte_cdk.models import SyncMode

    from connectors.files.source import configured_catalog

    numbered_csv(tmp_path / "p.csv", 7)
    catalog = configured_catalog(["p"])
    catalog.streams[0].sync_mode = SyncMode.full_refresh
    config = config_for({"path": "p.csv"}, base_dir=tmp_path, every=3)
    messages = list(FilesSource().read(logging.getLogger("test"), config, catalog, []))
    assert [(s["position"], s["complete"]) for s in states(messages)] == [
        (3, False), (6, False), (7, True)]


def test_repeated_primary_key_values_are_logged(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "c.csv").write_text("id,n\n1,a\n1,b\n", encoding="utf-8")
    config = config_for({"path": "c.csv", "primary_key": ["id"]}, base_dir=tmp_path)
    with caplog.at_level("WARNING", logger="connectors"):
        ids = [r["_record_id"] for r in records(run(config))]
    assert ids == ["1", "1"]
    assert "1 row(s) repeat a primary_key value" in caplog.text
