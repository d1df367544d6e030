"""The README's first command, as a newcomer runs it: `crmsync demo`, then again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from tests.app.snapshot import store_snapshot

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def crmsync(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # the ephemeral Prefect server can take longer than its default 20 s to start on a busy machine
    env = {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120", **env}
    return subprocess.run([sys.executable, "-m", "crmsync", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory, cli_env):
    workdir = tmp_path_factory.mktemp("demo")
    first = crmsync("demo", cwd=workdir, env=cli_env)
    assert first.returncode == 0, first.stdout + first.stderr
    url = f"sqlite:///{workdir / 'crmsync-demo' / 'crmsync.db'}"
    snapshot = store_snapshot(url)
    snapshot["xrefs"] = _xrefs(url)
    second = crmsync("demo", cwd=workdir, env=cli_env)
    assert second.returncode == 0, second.stdout + second.stderr
    after = store_snapshot(url)
    after["xrefs"] = _xrefs(url)
    return workdir / "crmsync-demo", first, second, snapshot, after


def _xrefs(url: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(tuple(r) for r in conn.execute(text(
                "SELECT destination, golden_id, remote_id, last_pushed_hash FROM destination_xrefs")))
    finally:
        engine.dispose()


def _push_row(stdout: str) -> list[str]:
    """The cells of the run summary's Push table row for the demo's destination."""
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in stdout.splitlines()
            if line.startswith("│ hubspot ")]
    assert len(rows) == 1, stdout
    return rows[0]  # Destination, Created, Updated, Merged, Deleted, No-op, Dead-lettered, Requests, 429s, Status


def test_demo_lands_golden_records_in_sqlite_and_xlsx(demo_runs) -> None:
    folder, first, _, snapshot, _ = demo_runs
    out = first.stdout
    assert "Ingest" in out and "Match" in out and "golden records" in out
    golden = [g for g in snapshot["golden"] if g[1] == "active"]
    records = [r for r in snapshot["records"] if r[3] == "customer"]
    assert 40 < len(golden) < len(records)  # duplicates were merged, distinct people kept apart
    sheet = load_workbook(folder / "golden.xlsx")["Golden records"]
    assert sheet.max_row - 1 == len(golden)
    assert [c.value for c in sheet[1]][:3] == ["Golden ID", "Full name", "Given name"]
    names = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert any("Иван" in (n or "") for n in names)
    assert any("शर्मा" in (n or "") for n in names)


def test_demo_reports_quarantined_rows_with_file_row_and_field(demo_runs) -> None:
    _, first, _, snapshot, _ = demo_runs
    assert "customers.xlsx, sheet 'Customers', row" in first.stdout
    assert "column 'Phone': 'ask reception' is not a phone number" in first.stdout
    assert any(q[4] == "Phone" for q in snapshot["quarantine"])


def test_second_run_changes_nothing(demo_runs) -> None:
    _, _, second, before, after = demo_runs
    assert after == before  # same records, versions, golden ids, links, quarantine
    assert "0 new, 0 changed" in second.stdout
    for line in second.stdout.splitlines():
        if line.startswith("│ ") and "ok" in line:
            cells = [c.strip() for c in line.split("│")]
            assert cells[4] == "0" and cells[5] == "0", line  # New, Changed


def test_demo_pushes_to_a_local_hubspot_emulator_and_says_so(demo_runs) -> None:
    folder, first, _, snapshot, _ = demo_runs
    assert "local HubSpot emulator at http://127.0.0.1:" in first.stdout
    assert "To push to a real HubSpot portal, set base_url, the token" in " ".join(first.stdout.split())
    golden = {g[0] for g in snapshot["golden"] if g[1] == "active"}
    cells = _push_row(first.stdout)
    assert cells[1] == str(len(golden)) and cells[2:7] == ["0", "0", "0", "0", "0"] and cells[-1] == "ok"
    # exactly one contact per golden record, each carrying its golden id; every xref points at one
    contacts = json.loads((folder / ".hubspot-emulator.json").read_text(encoding="utf-8"))["contacts"]
    assert sorted(c["crmsync_id"] for c in contacts) == sorted(golden)
    assert {(x[1], x[2]) for x in snapshot["xrefs"]} == {(c["crmsync_id"], c["id"]) for c in contacts}
    assert "CRMSYNC_DEMO_HUBSPOT_TOKEN" not in first.stdout + first.stderr


def test_second_demo_pushes_nothing(demo_runs) -> None:
    folder, _, second, before, after = demo_runs
    cells = _push_row(second.stdout)
    golden = sum(1 for g in before["golden"] if g[1] == "active")
    assert cells[1:7] == ["0", "0", "0", "0", str(golden), "0"], cells  # all no-op
    assert int(cells[7]) <= 1  # reading the portal's properties; no write call
    assert after["xrefs"] == before["xrefs"]
    contacts = json.loads((folder / ".hubspot-emulator.json").read_text(encoding="utf-8"))["contacts"]
    assert len(contacts) == golden


def test_status_lists_the_runs(demo_runs, cli_env) -> None:
    folder = demo_runs[0]
    result = crmsync("status", "-c", str(folder / "crmsync.yaml"), cwd=folder, env=cli_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("completed") >= 14  # 2 runs × (4 ingests + match + export + push)


def test_cp1251_csv_was_decoded(demo_runs) -> None:
    records = demo_runs[3]["records"]
    legacy = [r for r in records if r[0] == "legacy"]
    assert legacy and all("Ð" not in r[7] for r in legacy)  # no mojibake
    assert any("Ромашка" in r[7] or "Иван" in r[7] for r in legacy)


def test_db_upgrade_reports_the_revision(demo_runs, cli_env) -> None:
    folder = demo_runs[0]
    result = crmsync("db", "upgrade", "-c", str(folder / "crmsync.yaml"), cwd=folder, env=cli_env)
    assert result.returncode == 0, result.stderr
    assert "at revision" in result.stdout and os.fspath(folder) in result.stdout


def test_the_demo_hubspot_keeps_its_contacts_and_their_ids_between_runs(tmp_path) -> None:
    """Saved when a demo ends, loaded when the next starts, ids unchanged even after a deletion in between."""
    from crmsync.demo import STATE_FILE, local_hubspot

    with local_hubspot(tmp_path) as hubspot:
        assert hubspot.url.startswith("http://127.0.0.1:")
        assert os.environ["CRMSYNC_DEMO_HUBSPOT_URL"] == hubspot.url
        made = [hubspot.data.create("contacts", {"email": f"p{i}@example.org", "firstname": f"P{i}"})
                for i in range(3)]
        hubspot.data.purge("contacts", made[1])  # an erasure: its id is never handed out again
        hubspot.data.add_unique_property("contacts", "crmsync_id", {"name": "crmsync_id", "hasUniqueValue": True})
        hubspot.data.update("contacts", made[2], {"crmsync_id": "g-2"})
        before = [(c["id"], c["email"], c.get("crmsync_id")) for c in hubspot.contacts()]
    assert "CRMSYNC_DEMO_HUBSPOT_URL" not in os.environ
    assert (tmp_path / STATE_FILE).exists()
    with local_hubspot(tmp_path) as again:
        assert [(c["id"], c["email"], c.get("crmsync_id")) for c in again.contacts()] == before
        assert again.data.find_unique("contacts", "crmsync_id", "g-2").id == made[2].id
