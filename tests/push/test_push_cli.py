"""`crmsync push` and `crmsync run` with a HubSpot destination, as a user runs them (subprocesses)."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sync.store import open_store
from tests.connectors.hubspot.emulator_fixtures import TOKEN
from tests.push.helpers import table_counts

pytestmark = pytest.mark.emulator

PEOPLE = [["Name", "Email", "Phone"], ["Ann Lee", "ann@example.test", "+1 415 555 0100"],
          ["Bob Stone", "bob@example.test", "+1 415 555 0101"], ["Ann Lee", "ANN@example.test", ""],
          ["Cy Broken", "cy@broken", "+1 415 555 0102"]]
MAPPING = "fields:\n  - {from: Name, to: name}\n  - {from: Email, to: emails, on_error: skip}\n" \
          "  - {from: Phone, to: phones}\n"


def project(folder: Path, hubspot_url: str) -> Path:
    with (folder / "people.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(PEOPLE)
    (folder / "people.yaml").write_text(MAPPING, encoding="utf-8")
    path = folder / "crmsync.yaml"
    path.write_text(f"""
defaults: {{phone_region: US}}
sources:
  - name: sheet
    connector: files
    config: {{files: [{{path: people.csv, name: people}}]}}
    streams: {{people: people.yaml}}
match: {{engine: exact}}
export: {{xlsx: null}}
destinations:
  - name: hubspot
    connector: hubspot
    base_url: {hubspot_url}
    token: "${{HUBSPOT_TOKEN}}"
""", encoding="utf-8")
    return path


@pytest.fixture
def env(cli_env_own_prefect: dict[str, str]) -> dict[str, str]:
    return {**cli_env_own_prefect, "HUBSPOT_TOKEN": TOKEN}


def crmsync(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crmsync", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_unknown_destination_names_the_configured_ones(tmp_path, hubspot, env):
    config = project(tmp_path, hubspot.url)
    result = crmsync(env, "push", "hubspt", "--plan", "-c", str(config), cwd=tmp_path)
    assert result.returncode == 2
    assert "no destination named 'hubspt'" in result.stderr and "destinations: hubspot" in result.stderr


@pytest.mark.prefect
@pytest.mark.slow
def test_run_pushes_after_export_and_plan_shows_the_rest(tmp_path, hubspot, env):
    config = project(tmp_path, hubspot.url)

    run = crmsync(env, "run", "-c", str(config), cwd=tmp_path)

    assert run.returncode == 0, run.stdout + run.stderr
    contacts = {c["email"]: c for c in hubspot.contacts() if "email" in c}
    assert set(contacts) == {"ann@example.test", "bob@example.test"}  # Ann once; Cy's e-mail did not map
    assert contacts["ann@example.test"]["firstname"] == "Ann" and contacts["ann@example.test"]["phone"] == \
        "+14155550100"
    assert len(hubspot.contacts()) == 3  # Cy Broken has no e-mail: created, looked up by crmsync_id
    store = open_store(f"sqlite:///{tmp_path / 'crmsync.db'}")
    before = table_counts(store)
    hubspot.reset_counters()

    plan = crmsync(env, "push", "hubspot", "--plan", "--out", "plan.json", "-c", str(config), cwd=tmp_path)

    assert plan.returncode == 0, plan.stderr
    assert "push plan for hubspot: 3 noop (0 need a CRM call)" in plan.stdout
    assert "nothing was sent to hubspot" in plan.stdout
    assert json.loads((tmp_path / "plan.json").read_text())["counts"]["noop"] == 3
    assert table_counts(store) == before and sum(hubspot.calls.values()) == 0
    store.dispose()

    again = crmsync(env, "push", "hubspot", "-c", str(config), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "3 unchanged" in again.stdout and hubspot.write_calls == 0
    assert TOKEN not in again.stdout + again.stderr + run.stdout + run.stderr
