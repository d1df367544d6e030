"""Run one Google Sheets ingest into a store, as its own process (the crash test kills it midway).

    python tests/connectors/googlesheets/ingest_child.py CONFIG_JSON DATABASE_URL TAB
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mappings import load_mapping
from mappings.templates import TEMPLATES_DIR
from sync.ingest import ingest_source
from sync.store import open_store


def main() -> None:
    config_path, url, tab = sys.argv[1:4]
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    store = open_store(url)
    try:
        report = ingest_source(store, source="sheet", connector="googlesheets", config=config,
                               mappings={tab: load_mapping(TEMPLATES_DIR / "googlesheets_customers.yaml")})
    finally:
        store.dispose()
    counts = report.stream(tab)
    print("RESULT " + json.dumps({"read": counts.read, "new": counts.new, "error": report.error or counts.error}))


if __name__ == "__main__":
    main()
