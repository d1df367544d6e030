"""Google Sheets source: read and ingest throughput against the emulator, with and without the read quota.

    python bench/googlesheets_read.py [--rows 100000] [--quota-rows 20000]

1. read: the whole tab through `iter_airbyte_messages`, quota and pacing off (the source's own cost:
   HTTP, JSON, header detection, row hashing);
2. ingest: the same tab mapped by `mappings/templates/googlesheets_customers.yaml` into a fresh SQLite
   store with `sync.ingest.ingest_source`, quota off;
3. re-read with nothing changed, from the state the ingest saved (requests, seconds, records);
4. quota: a `--quota-rows` tab read with the source's defaults (55 requests a minute) against the
   emulator enforcing Sheets' 60 reads a minute per user: rows/s and 429s seen.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from airbyte_cdk.models import Type

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.googlesheets.emulator import GoogleSheetsEmulator  # noqa: E402
from connectors.googlesheets.source import iter_airbyte_messages  # noqa: E402
from mappings import load_mapping  # noqa: E402
from mappings.templates import TEMPLATES_DIR  # noqa: E402
from sync.ingest import ingest_source  # noqa: E402
from sync.store import open_store  # noqa: E402

TOKEN = "ya29.bench-token"
SHEET_ID = "bench-spreadsheet"
TAB = "Customers"


def make_emulator(rows: int, reads_per_minute: int | None) -> GoogleSheetsEmulator:
    api = GoogleSheetsEmulator(access_token=TOKEN, reads_per_minute=reads_per_minute)
    api.start()
    api.add_spreadsheet(SHEET_ID, "Bench")
    data: list[list[Any]] = [["Customer list"], [], ["Name", "Email", "Phone", "Company", "City", "Tags"]]
    for i in range(rows):
        data.append([f"Person {i}", f"person{i}@example.test", f"+1 415 555 {i % 10000:04d}",
                     f"Company {i % 500}", "San Francisco" if i % 2 else "Los Angeles", "lead, web"])
    api.add_sheet(SHEET_ID, TAB, data)
    return api


def config(api: GoogleSheetsEmulator, **overrides: Any) -> dict[str, Any]:
    return {"spreadsheet_id": SHEET_ID, "sheets": [TAB], "access_token": TOKEN, "base_url": api.url,
            "requests_per_minute": None, **overrides}


def read(cfg: dict[str, Any], state: dict[str, Any] | None = None) -> tuple[int, dict[str, Any], float]:
    started = time.perf_counter()
    records, saved = 0, {}
    for message in iter_airbyte_messages(cfg, [TAB], state):
        if message.type == Type.RECORD:
            records += 1
        elif message.type == Type.STATE and message.state and message.state.stream:
            saved[TAB] = dict(vars(message.state.stream.stream_state))
        elif message.type == Type.TRACE and message.trace and message.trace.error:
            raise SystemExit(f"the read failed: {message.trace.error.message}")
    return records, saved, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--quota-rows", type=int, default=20_000)
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.WARNING)
    results: dict[str, Any] = {"rows": args.rows}

    api = make_emulator(args.rows, None)
    try:
        records, _, seconds = read(config(api))
        results["read"] = {"records": records, "seconds": round(seconds, 2), "rows_per_s": round(records / seconds),
                           "requests": api.count()}
        with tempfile.TemporaryDirectory() as folder:
            store = open_store(f"sqlite:///{Path(folder) / 'bench.db'}")
            try:
                mapping = load_mapping(TEMPLATES_DIR / "googlesheets_customers.yaml")
                started = time.perf_counter()
                report = ingest_source(store, source="sheet", connector="googlesheets", config=config(api),
                                       mappings={TAB: mapping})
                seconds = time.perf_counter() - started
                counts = report.stream(TAB)
                results["ingest"] = {"new": counts.new, "quarantined": counts.quarantined, "seconds": round(seconds, 2),
                                     "rows_per_s": round(counts.read / seconds)}
                with store.session() as session:
                    from sync.store import all_states

                    saved = all_states(session, "sheet")
            finally:
                store.dispose()
        before = api.count()
        again, _, seconds = read(config(api), saved)
        results["unchanged_reread"] = {"records": again, "requests": api.count() - before,
                                       "seconds": round(seconds, 2)}
    finally:
        api.stop()

    api = make_emulator(args.quota_rows, 60)  # Sheets: 60 reads a minute per user
    try:
        defaults = config(api)
        del defaults["requests_per_minute"]  # the source's default pacing
        records, _, seconds = read(defaults)
        results["quota"] = {"records": records, "seconds": round(seconds, 2), "rows_per_s": round(records / seconds),
                            "requests": api.count(), "refused_429": api.quota_refusals}
    finally:
        api.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
