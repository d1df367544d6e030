"""`connector: googlesheets` in crmsync.yaml: the ingest flow (real Prefect) lands a tab in the store.

The service account key comes from the environment, as a project file must take secrets; it
never reaches the store (runs, states, records).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from flows.pipeline import ingest_flow
from tests.connectors.googlesheets.emulator_fixtures import (
    KEY_PAIR,
    SPREADSHEET,
    TAB,
    add_people,
    service_account_info,
    start_emulator,
)

pytestmark = [pytest.mark.prefect, pytest.mark.emulator]


def _dump(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            parts = [str(list(conn.execute(text(f"SELECT * FROM {table}"))))
                     for table in ("source_records", "connector_state", "sync_runs", "quarantine")]
        return "\n".join(parts)
    finally:
        engine.dispose()


def test_a_sheet_source_in_the_project_file_lands_in_the_store(
        tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch, prefect_harness: str) -> None:
    api = start_emulator(reads_per_minute=None)
    try:
        add_people(api, 5)
        monkeypatch.setenv("GSHEET_SA_JSON", service_account_info(api))
        (tmp_path / "crmsync.yaml").write_text(f"""
store: {{url: '{store_url}'}}
sources:
  - name: leads-sheet
    connector: googlesheets
    config:
      spreadsheet_id: {SPREADSHEET}
      sheets: ["{TAB}"]
      service_account_info: ${{GSHEET_SA_JSON}}
      base_url: {api.url}
      requests_per_minute: null
      max_retries: 1
    streams:
      "{TAB}": googlesheets_customers.yaml
""", encoding="utf-8")
        template = Path(__file__).resolve().parents[3] / "mappings/templates/googlesheets_customers.yaml"
        (tmp_path / "googlesheets_customers.yaml").write_text(template.read_text(encoding="utf-8"), encoding="utf-8")

        first = ingest_flow(str(tmp_path / "crmsync.yaml"), "leads-sheet")
        assert not first.failed, (first.error, first.streams)
        assert first.stream(TAB).new == 5
        again = ingest_flow(str(tmp_path / "crmsync.yaml"), "leads-sheet")
        assert again.stream(TAB).read == 0 and again.stream(TAB).deleted == 0  # unchanged tab
        sheet = api.books[SPREADSHEET].sheet(TAB)
        del sheet.rows[-1]
        third = ingest_flow(str(tmp_path / "crmsync.yaml"), "leads-sheet")
        assert (third.stream(TAB).unchanged, third.stream(TAB).deleted) == (4, 1)

        engine = create_engine(store_url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT source, stream, deleted FROM source_records")).all()
            runs = conn.execute(text("SELECT target, status FROM sync_runs WHERE flow = 'ingest'")).all()
        engine.dispose()
        assert sorted(rows) == sorted([("leads-sheet", TAB, False)] * 4 + [("leads-sheet", TAB, True)])
        assert runs == [("leads-sheet", "completed")] * 3
        stored = _dump(store_url)
        assert KEY_PAIR[0].splitlines()[1] not in stored and "ya29." not in stored
    finally:
        api.stop()
