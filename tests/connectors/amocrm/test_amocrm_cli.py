"""A project with amoCRM as a source and a destination, run through the `crmsync` command as a user would."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.amocrm.emulator import AmoEmulator
from tests.connectors.amocrm.conftest import TOKEN

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

PEOPLE = [["Name", "Email", "Phone"], ["Ann Lee", "ann@example.test", "+1 415 555 0100"],
          ["Bob Stone", "bob@example.test", "+1 415 555 0101"], ["Ann Lee", "ANN@example.test", ""]]


def project(folder: Path, url: str) -> Path:
    with (folder / "people.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(PEOPLE)
    (folder / "people.yaml").write_text("fields:\n  - {from: Name, to: name}\n  - {from: Email, to: emails}\n"
                                        "  - {from: Phone, to: phones}\n", encoding="utf-8")
    path = folder / "crmsync.yaml"
    path.write_text(f"""
defaults: {{phone_region: US}}
sources:
  - name: sheet
    connector: files
    config: {{files: [{{path: people.csv, name: people}}]}}
    streams: {{people: people.yaml}}
  - name: amo-in
    connector: amocrm
    config: {{base_url: "{url}", token: "${{AMOCRM_TOKEN}}", objects: [contacts]}}
    streams: {{contacts: amocrm_in.yaml}}
match: {{engine: exact}}
export: {{xlsx: null}}
destinations:
  - name: amo
    connector: amocrm
    base_url: {url}
    token: "${{AMOCRM_TOKEN}}"
""", encoding="utf-8")
    template = Path(__file__).resolve().parents[3] / "mappings" / "templates" / "amocrm_contacts_in.yaml"
    (folder / "amocrm_in.yaml").write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def crmsync(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crmsync", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_check_ingest_match_plan_and_push(tmp_path: Path, amo: AmoEmulator, cli_env_own_prefect: dict[str, str]) -> None:
    amo.reset(token=TOKEN, rate_per_second=1000)
    amo.add("contacts", 1, name="Zoe Kim", first_name="Zoe", last_name="Kim", custom_fields_values=[
        {"field_code": "EMAIL", "values": [{"value": "zoe@example.test", "enum_code": "WORK"}]}])
    config = str(project(tmp_path, amo.url))
    env = {**cli_env_own_prefect, "AMOCRM_TOKEN": TOKEN}
    outputs = []
    for args in (("check",), ("ingest", "sheet"), ("ingest", "amo-in"), ("match",)):
        done = crmsync(env, *args, "-c", config, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        outputs.append(done.stdout + done.stderr)

    plan = crmsync(env, "push", "amo", "--plan", "-c", config, cwd=tmp_path)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert amo.write_calls == 0 and "nothing was sent to amo" in plan.stdout

    pushed = crmsync(env, "push", "amo", "-c", config, cwd=tmp_path)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    contacts = amo.contacts()
    assert len(contacts) == 3  # Zoe (read from amoCRM, linked back by e-mail), Ann once, Bob
    assert sorted(c["name"] for c in contacts) == ["Ann Lee", "Bob Stone", "Zoe Kim"]

    writes = amo.write_calls
    again = crmsync(env, "push", "amo", "-c", config, cwd=tmp_path)
    assert again.returncode == 0 and "3 unchanged" in again.stdout, again.stdout + again.stderr
    assert amo.write_calls == writes
    assert TOKEN not in "".join(outputs) + plan.stdout + plan.stderr + pushed.stdout + pushed.stderr + again.stdout
