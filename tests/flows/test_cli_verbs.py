"""`crmsync reconcile` (its table and exit codes) and `crmsync status` adding up the pipeline row, run
in-process against the session's Prefect server."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from crmsync.cli import app
from flows import pipeline_flow
from sync.runs import pipeline_totals
from tests.flows.helpers import ROWS, write_project

pytestmark = pytest.mark.prefect
runner = CliRunner()


@pytest.fixture
def api(prefect_api, monkeypatch) -> str:
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)  # the session's server: no local API is started
    monkeypatch.setenv("COLUMNS", "200")
    return prefect_api


def test_reconcile_prints_the_differences_and_exits_1_when_a_stream_differs(tmp_path, api):
    config = write_project(tmp_path, sources=("web", "sheet"))
    pipeline_flow(str(config))

    same = runner.invoke(app, ["reconcile", "-c", str(config)])
    assert same.exit_code == 0, same.output
    assert "all 2 streams match the store" in same.output

    header, first, *rest = ROWS.strip().splitlines()
    (tmp_path / "web.csv").write_text("\n".join([header, *rest, "New Person,new@x.ru,+7 903 111 22 33"]) + "\n")
    differs = runner.invoke(app, ["reconcile", "-c", str(config)])
    assert differs.exit_code == 1, differs.output
    line = next(row for row in differs.output.splitlines() if "│ web " in row)
    assert re.findall(r"\d+", line) == ["4", "4", "0", "1", "1"] and "differs" in line
    assert re.search(r"missing in store, web/web: \S+", differs.output)
    assert re.search(r"gone from source, web/web: \S+", differs.output)
    assert "1 of 2 streams differ from the store" in differs.output
    assert "new@x.ru" not in differs.output and "Ivan" not in differs.output  # ids only


def test_reconcile_with_a_broken_project_file_exits_2(tmp_path, api):
    config = tmp_path / "crmsync.yaml"
    config.write_text("name: x\nsources: [{name: a, connector: nope}]\n")
    result = runner.invoke(app, ["reconcile", "-c", str(config)])
    assert result.exit_code == 2 and "error" in result.output


def test_status_adds_up_the_pipeline_rows_summary(tmp_path, api):
    config = write_project(tmp_path, sources=("web", "sheet"))
    report = pipeline_flow(str(config))
    assert report.match is not None

    result = runner.invoke(app, ["status", "-c", str(config)])

    assert result.exit_code == 0, result.output
    line = next(row for row in result.output.splitlines() if "│ pipeline" in row)
    assert f"read=8 new=8 golden_new={report.match.golden_new} merged={report.match.merged_records}" in line


def test_pipeline_totals_count_failed_stages_and_ignore_what_is_not_a_summary():
    counts = {"summary": [
        {"kind": "source", "name": "a", "read": 5, "new": 2, "changed": 1, "failed": 1, "status": "ok"},
        {"kind": "source", "name": "b", "read": 0, "status": "failed: file not found"},
        {"kind": "match", "name": "golden records", "read": 7, "new": 3, "merged": 2, "suggested": 1},
        {"kind": "destination", "name": "hubspot", "pushed": 3, "failed": 1, "status": "ok"},
        "not a row"],
        "stage_seconds": {"match": 0.5}}
    assert pipeline_totals(counts) == {"read": 5, "new": 2, "changed": 1, "quarantined": 1, "failed_stages": 1,
                                       "golden_new": 3, "merged": 2, "suggested": 1, "pushed": 3,
                                       "dead_lettered": 1}
    assert pipeline_totals({}) == {}
