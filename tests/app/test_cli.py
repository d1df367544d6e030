"""The CLI verbs that need no orchestration: init, check, export, status, db upgrade, --help."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from crmsync.cli import app

runner = CliRunner()


@pytest.mark.parametrize("verb", [[], ["init"], ["check"], ["run"], ["demo"], ["ingest"], ["match"],
                                  ["export"], ["status"], ["db", "upgrade"]])
def test_help_everywhere(verb: list[str]) -> None:
    result = runner.invoke(app, [*verb, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_init_writes_a_starter_that_check_accepts_once_the_mapping_exists(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("CRMSYNC_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "crmsync.yaml").read_text(encoding="utf-8")
    assert "# crmsync project file" in text and "${HUBSPOT_TOKEN}" in text  # secrets by reference only
    checked = runner.invoke(app, ["check", "-c", str(tmp_path / "crmsync.yaml")])
    assert checked.exit_code == 0, checked.output
    assert "OK (1 sources, 1 streams)" in checked.output
    again = runner.invoke(app, ["init", str(tmp_path)])
    assert "kept existing" in again.output


def test_check_reports_config_errors_with_exit_code_2(tmp_path: Path) -> None:
    (tmp_path / "crmsync.yaml").write_text("sources: [{name: a, connector: nope, streams: {}}]\n")
    result = runner.invoke(app, ["check", "-c", str(tmp_path / "crmsync.yaml")])
    assert result.exit_code == 2
    assert "crmsync.yaml: sources.0.connector: unknown connector 'nope'" in result.output


def test_missing_project_file_says_how_to_start(tmp_path: Path) -> None:
    result = runner.invoke(app, ["status", "-c", str(tmp_path / "crmsync.yaml")])
    assert result.exit_code == 2
    assert "crmsync init" in result.output


def test_export_status_and_db_upgrade_on_an_empty_store(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("CRMSYNC_DATABASE_URL", raising=False)
    (tmp_path / "crmsync.yaml").write_text("name: empty\n")
    config = str(tmp_path / "crmsync.yaml")
    upgraded = runner.invoke(app, ["db", "upgrade", "-c", config])
    assert upgraded.exit_code == 0 and "at revision" in upgraded.output
    exported = runner.invoke(app, ["export", "-c", config, "--out", str(tmp_path / "out.xlsx")])
    assert exported.exit_code == 0, exported.output
    book = load_workbook(tmp_path / "out.xlsx")
    assert book.sheetnames == ["Golden records", "Quarantine"]
    status = runner.invoke(app, ["status", "-c", config])
    assert status.exit_code == 0 and "0 golden records" in status.output
