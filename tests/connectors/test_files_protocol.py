"""``python -m connectors.files`` speaks the Airbyte protocol: spec, check, discover, read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from files_builders import config_for, numbered_csv, titled_workbook

from crmsync.samples import SAMPLES_DIR

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def airbyte(tmp_path: Path, *args: str, config: dict[str, Any] | None = None,
            catalog: dict[str, Any] | None = None,
            state: list[dict[str, Any]] | None = None) -> tuple[int, list[dict[str, Any]]]:
    """Run the connector as a subprocess; return its exit code and parsed stdout messages."""
    argv = [sys.executable, "-m", "connectors.files", *args]
    for flag, value in (("--config", config), ("--catalog", catalog), ("--state", state)):
        if value is not None:
            path = tmp_path / f"{flag.strip('-')}.json"
            path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
            argv += [flag, str(path)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return done.returncode, messages


def of_type(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in messages if m["type"] == kind]


def sample_config() -> dict[str, Any]:
    return {"files": [
        {"path": "customers.xlsx", "name": "customers", "sheets": ["Customers", "Leads"]},
        {"path": "legacy_leads_cp1251.csv"},
        {"path": "form_submissions.json", "name": "forms"},
    ], "base_dir": str(SAMPLES_DIR), "checkpoint_every": 20}


def catalog_for(*names: str) -> dict[str, Any]:
    return {"streams": [{
        "stream": {"name": name, "json_schema": {"type": "object"},
                   "supported_sync_modes": ["full_refresh", "incremental"],
                   "source_defined_cursor": True, "default_cursor_field": ["_row"]},
        "sync_mode": "incremental", "destination_sync_mode": "append",
        "cursor_field": ["_row"], "primary_key": [["_record_id"]],
    } for name in names]}


def test_spec(tmp_path: Path) -> None:
    code, messages = airbyte(tmp_path, "spec")
    assert code == 0
    spec = of_type(messages, "SPEC")[0]["spec"]
    schema = spec["connectionSpecification"]
    assert schema["required"] == ["files"]
    entry = schema["properties"]["files"]["items"]["properties"]
    assert {"path", "name", "format", "sheets", "encoding", "delimiter", "header_row",
            "primary_key"} <= set(entry)
    assert {"base_dir", "checkpoint_every"} <= set(schema["properties"])


def test_check_succeeds_on_the_samples(tmp_path: Path) -> None:
    code, messages = airbyte(tmp_path, "check", config=sample_config())
    assert code == 0
    assert of_type(messages, "CONNECTION_STATUS")[0]["connectionStatus"]["status"] == "SUCCEEDED"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"path": "leads.csv"}, "leads.csv: file not found"),
        ({"path": "broken.xlsx"}, "broken.xlsx: not a valid XLSX workbook (the file is corrupt "
                                  "or not Excel: File is not a zip file); re-save it from Excel"),
        ({"path": "customers.xlsx", "sheets": ["Clients"]},
         "customers.xlsx: sheet 'Clients' not found (sheets: Customers, Leads)"),
    ],
)
def test_check_fails_with_a_clear_message(tmp_path: Path, entry: dict[str, Any],
                                          expected: str) -> None:
    titled_workbook(tmp_path / "customers.xlsx")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 truncated")
    code, messages = airbyte(tmp_path, "check", config=config_for(entry, base_dir=tmp_path))
    assert code == 0
    status = of_type(messages, "CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED"
    assert status["message"].startswith(expected)


def test_check_rejects_a_config_that_breaks_the_spec(tmp_path: Path) -> None:
    code, messages = airbyte(tmp_path, "check", config={"files": [{"name": "no path"}]})
    status = of_type(messages, "CONNECTION_STATUS")[0]["connectionStatus"]
    assert status["status"] == "FAILED" and "path" in status["message"]


def test_discover_the_samples(tmp_path: Path) -> None:
    code, messages = airbyte(tmp_path, "discover", config=sample_config())
    assert code == 0
    streams = {s["name"]: s for s in of_type(messages, "CATALOG")[0]["catalog"]["streams"]}
    assert list(streams) == ["customers:Customers", "customers:Leads", "legacy_leads_cp1251",
                             "forms"]
    props = streams["customers:Customers"]["json_schema"]["properties"]
    assert "Full name" in props and props["Phone"] == {"type": ["null", "string"]}
    assert "ФИО" in streams["legacy_leads_cp1251"]["json_schema"]["properties"]
    assert streams["forms"]["source_defined_primary_key"] == [["_record_id"]]


def test_read_and_resume_with_a_state_file(tmp_path: Path) -> None:
    config = sample_config()
    catalog = catalog_for("customers:Customers", "legacy_leads_cp1251")
    code, messages = airbyte(tmp_path, "read", config=config, catalog=catalog)
    assert code == 0
    rows = [m["record"] for m in of_type(messages, "RECORD")]
    customers = [r["data"] for r in rows if r["stream"] == "customers:Customers"]
    assert len(customers) == 47 and customers[0]["_row"] == 4
    assert customers[0]["Full name"] == "Иванов Иван Иванович"
    assert customers[0]["_sheet"] == "Customers" and customers[0]["_file"] == "customers.xlsx"
    legacy = [r["data"] for r in rows if r["stream"] == "legacy_leads_cp1251"]
    assert legacy[0]["ФИО"] == "Козлов Андрей Петрович" and "_sheet" not in legacy[0]
    state_messages = [m["state"] for m in of_type(messages, "STATE")]
    positions = [(s["stream"]["stream_descriptor"]["name"], s["stream"]["stream_state"]["position"])
                 for s in state_messages]
    assert positions == [("customers:Customers", 20), ("customers:Customers", 40),
                         ("customers:Customers", 47), ("legacy_leads_cp1251", 13)]

    saved = [{k: v for k, v in state_messages[1].items() if k != "sourceStats"}]
    code, resumed = airbyte(tmp_path, "read", config=config,
                            catalog=catalog_for("customers:Customers"), state=saved)
    assert code == 0
    rest = [m["record"]["data"] for m in of_type(resumed, "RECORD")]
    assert [r["_record_id"] for r in rest] == [r["_record_id"] for r in customers[40:]]
    assert {r["_pass"] for r in rest} == {customers[0]["_pass"]}
    final = of_type(resumed, "STATE")[-1]["state"]["stream"]["stream_state"]
    assert final["complete"] is True and final["position"] == 47


def test_read_reports_a_missing_file_as_a_config_error(tmp_path: Path) -> None:
    numbered_csv(tmp_path / "ok.csv", 2)
    config = config_for({"path": "gone.csv"}, {"path": "ok.csv"}, base_dir=tmp_path)
    code, messages = airbyte(tmp_path, "read", config=config, catalog=catalog_for("gone", "ok"))
    assert code != 0
    errors = [m["trace"]["error"] for m in of_type(messages, "TRACE") if m["trace"].get("error")]
    assert errors[0]["message"].startswith("gone.csv: file not found")
    assert errors[0]["failure_type"] == "config_error"
    assert len(of_type(messages, "RECORD")) == 2
