"""Push throughput to the amoCRM emulator under amoCRM's 7 requests a second.

    python bench/amocrm_push.py [--records 3000] [--batch-size 50] [--query-records 60] [--workers 2]

The emulator (a real HTTP server on 127.0.0.1, in this process: at 7 requests a second the
interpreter is never the bottleneck) enforces 7 requests a second with 429. Golden records are
seeded straight into a fresh SQLite store and pushed four times:

1. create, `lookup: scan` — a batch costs one "what changed" read plus one POST, so the
   theoretical maximum is 7 / 2 × batch size records/s (175 at the recommended 50);
2. a second push with nothing changed (expected: zero write calls);
3. update of every record — one GET (do they still exist?) plus one PATCH per batch: the same maximum;
4. create with `lookup: query` (`--query-records`) — one query by key and one by e-mail per
   record: at most 7 / (2 + 1/batch) records/s.

Reported per phase: records/s, its share of the theoretical maximum, requests, 429 answers.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402

from connectors.amocrm.emulator import AmoEmulator  # noqa: E402
from mappings import content_hash  # noqa: E402
from mappings.outbound import load_outbound, template  # noqa: E402
from sync.push.budgets import forget_budgets  # noqa: E402
from sync.push.destination import DestinationSettings  # noqa: E402
from sync.push.run import push_destination  # noqa: E402
from sync.store import Store, open_store, save_golden  # noqa: E402

TOKEN = "bench-amo-token"
RATE = 7


def person(i: int, title: str | None = None) -> dict[str, Any]:
    return {"full_name": f"Person{i} Bench", "given_name": f"Person{i}", "family_name": "Bench",
            "emails": [f"p{i}@bench.example"], "phones": [f"+7999{i:07d}"], "company": None, "job_title": title,
            "address": {}, "consent": {}, "custom": {}, "tags": [], "birth_date": None, "locale": None,
            "patronymic": None, "sources": ["bench"]}


def seed(store: Store, people: list[tuple[str, dict[str, Any]]]) -> None:
    now = datetime.now(UTC)
    with store.session() as session:
        for golden_id, fields in people:
            save_golden(session, golden_id, fields=fields, provenance={}, content_hash=content_hash(fields), now=now)


def phase(name: str, store: Store, settings: DestinationSettings, api: AmoEmulator, records: int,
          theoretical: float | None) -> dict[str, Any]:
    writes_before = api.write_calls
    started = time.perf_counter()
    report = push_destination(store, settings, load_outbound(template("amocrm_contacts_out")))
    seconds = time.perf_counter() - started
    rate = records / seconds if seconds else 0.0
    row = {"phase": name, "records": records, "seconds": round(seconds, 2), "records_per_s": round(rate, 1),
           "requests": report.requests, "answered_429": report.rate_limited,
           "write_calls": api.write_calls - writes_before, "created": report.created, "updated": report.updated,
           "unchanged": report.unchanged, "error": report.error}
    if theoretical:
        row["theoretical_per_s"] = round(theoretical, 1)
        row["share_of_max"] = round(rate / theoretical, 3)
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--query-records", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    scan_max = RATE / 2 * args.batch_size
    with AmoEmulator(TOKEN, rate_per_second=RATE) as api, tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{folder}/crmsync.db")
        try:
            base = DestinationSettings(name="amo", connector="amocrm", base_url=api.url, token=SecretStr(TOKEN),
                                       workers=args.workers, batch_size=args.batch_size)
            people = [(str(uuid.uuid4()), person(i)) for i in range(args.records)]
            seed(store, people)
            forget_budgets()
            phase("create (lookup: scan)", store, base, api, args.records, scan_max)
            phase("second push, nothing changed", store, base, api, args.records, None)
            seed(store, [(golden_id, person(i, "Buyer")) for i, (golden_id, _) in enumerate(people)])
            phase("update every record", store, base, api, args.records, scan_max)
            more = [(str(uuid.uuid4()), person(args.records + i)) for i in range(args.query_records)]
            seed(store, more)
            query = base.model_copy(update={"options": {"lookup": "query"}})
            phase("create (lookup: query)", store, query, api, args.query_records, RATE / (2 + 1 / args.batch_size))
            print(json.dumps({"contacts_in_emulator": len(api.contacts()),
                              "golden_records": args.records + args.query_records}))
        finally:
            store.dispose()


if __name__ == "__main__":
    main()
