"""kill -9 in the middle of a Google Sheets ingest, re-run: the store ends as after an uninterrupted run.

The emulator runs in this process; the ingest runs in a child process against an SQLite
store, is killed with SIGKILL once some checkpoints have landed, and is run again. The
second run must resume the same pass where the last committed checkpoint left it (reading
only the rest of the tab), and the store must equal the one an uninterrupted run made:
same records, same versions (nothing landed twice), same state, same quarantine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from mappings import load_mapping
from mappings.templates import TEMPLATES_DIR
from sync.ingest import ingest_source
from sync.store import open_store
from tests.app.snapshot import store_snapshot
from tests.connectors.googlesheets.emulator_fixtures import SPREADSHEET, TAB, config_for, person, start_emulator

pytestmark = [pytest.mark.emulator, pytest.mark.slow]
ROWS = 30_000
ROOT = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).with_name("ingest_child.py")


def _count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one() or 0)
    except OperationalError:  # the schema may not exist yet while the child starts
        return 0
    finally:
        engine.dispose()


def _child(config_file: Path, db: Path) -> list[str]:
    return [sys.executable, str(CHILD), str(config_file), f"sqlite:///{db}", TAB]


def test_kill_9_mid_sheet_ingest_then_rerun_equals_uninterrupted(tmp_path: Path) -> None:
    api = start_emulator(reads_per_minute=None)
    try:
        rows = []
        for i in range(ROWS):
            row = person(i % (ROWS // 2))  # every person twice: repeats get #2 ids
            if i % 997 == 0:
                row[1] = "not an e-mail"  # quarantined rows are part of the store too
            rows.append(row)
        api.append_rows(SPREADSHEET, TAB, rows)
        api.books[SPREADSHEET].sheet(TAB).row_count = ROWS + 100
        config = config_for(api, sheets=[TAB], page_rows=5000, checkpoint_every=100)
        config_file = tmp_path / "config.json"
        config_file.write_text(json.dumps(config), encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}

        reference = tmp_path / "reference.db"
        store = open_store(f"sqlite:///{reference}")
        try:
            report = ingest_source(store, source="sheet", connector="googlesheets", config=config,
                                   mappings={TAB: load_mapping(TEMPLATES_DIR / "googlesheets_customers.yaml")})
        finally:
            store.dispose()
        assert not report.failed, report
        assert report.stream(TAB).read == ROWS and report.stream(TAB).quarantined > 0

        crashed = tmp_path / "crashed.db"
        process = subprocess.Popen(_child(config_file, crashed), env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 240
        landed = "SELECT count(*) FROM source_records"
        while _count(crashed, landed) < 2000 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        assert process.poll() is None, "the ingest finished before it could be killed; make the tab bigger"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        partial = _count(crashed, landed)
        assert 0 < partial < ROWS, partial
        engine = create_engine(f"sqlite:///{crashed}")
        with engine.connect() as conn:
            (saved,) = conn.execute(text("SELECT state FROM connector_state WHERE stream = :t"), {"t": TAB}).one()
        engine.dispose()
        saved = json.loads(saved) if isinstance(saved, str) else saved
        assert not saved["complete"] and 0 < saved["position"] < ROWS

        rerun = subprocess.run(_child(config_file, crashed), env=env, cwd=ROOT, capture_output=True, text=True,
                               timeout=600, check=False)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        result = json.loads(next(line for line in rerun.stdout.splitlines() if line.startswith("RESULT "))[7:])
        assert result["error"] is None, result
        assert result["read"] == ROWS - saved["position"]  # resumed the pass, did not start over

        expected = store_snapshot(f"sqlite:///{reference}", with_golden_ids=False)
        actual = store_snapshot(f"sqlite:///{crashed}", with_golden_ids=False)
        for part in ("records", "versions", "states", "quarantine"):
            assert actual[part] == expected[part], part
        assert len(actual["records"]) == ROWS - report.stream(TAB).quarantined
    finally:
        api.stop()
