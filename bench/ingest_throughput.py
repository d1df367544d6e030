"""Ingest throughput, and where the time goes: reading, the Airbyte protocol, mapping, the store.

    python bench/ingest_throughput.py [--rows 20000] [--database-url postgresql://...]

Same generated CSV through each layer in one run, reported as rows/s and as ratios to plain reading;
the full ingest both by the reference path (Airbyte messages, row by row) and the batch path.
For the 1M-row benchmark with realistic data see ingest_1m.py.
"""

from __future__ import annotations

import argparse
import csv
import functools
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.files import iter_airbyte_messages, read_table  # noqa: E402
from mappings import MappingSpec, SourceRef, map_row  # noqa: E402
from sync.ingest import ingest_source  # noqa: E402
from sync.store import open_store  # noqa: E402

SPEC = MappingSpec.model_validate({
    "defaults": {"phone_region": "US"},
    "fields": [{"from": "Name", "to": "name"}, {"from": "Email", "to": "emails"},
               {"from": "Phone", "to": "phones"}, {"from": "City", "to": "address.city"}],
})


def make_csv(path: Path, rows: int) -> None:
    rnd = random.Random(1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Name", "Email", "Phone", "City"])
        for _ in range(rows):
            person = rnd.randrange(rows)
            writer.writerow([f"Person {person} Smith", f"p{person}@example.com",
                             f"(415) 555-{person % 10000:04d}", rnd.choice(["SF", "LA", "NYC"])])


def timed(label: str, rows: int, fn, base: float | None = None) -> float:
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    ratio = f"{seconds / base:6.1f}×" if base else "   1.0×"
    print(f"  {label:42} {seconds:7.2f} s {rows / seconds:9.0f} rows/s {ratio}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--database-url", default=None,
                        help="an EMPTY database to write into (default: a new SQLite file)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="crmsync-ingest-"))
    path = folder / "people.csv"
    make_csv(path, args.rows)
    url = args.database_url or f"sqlite:///{folder / 'crmsync.db'}"
    config = {"files": [{"path": str(path), "name": "people"}], "checkpoint_every": 500}
    print(f"{args.rows} rows, store {url.split('@')[-1]}")
    base = timed("read_table (decode, sniff, header)", args.rows, lambda: list(read_table(path).rows))
    timed("+ Airbyte protocol (CDK read, state)", args.rows,
          lambda: sum(1 for _ in iter_airbyte_messages(config, ["people"], None)), base)
    table = read_table(path)
    ref = SourceRef(source="b", stream="people", source_record_id="x")
    timed("mapping only (normalise phones, e-mails, names)", args.rows,
          lambda: [map_row(SPEC, row.values, ref) for row in table.rows], base)
    for batch, label in ((False, "reference path"), (True, "batch path")):
        store = open_store(url if batch or args.database_url else f"sqlite:///{folder / 'reference.db'}")
        try:
            ingest = functools.partial(ingest_source, store, source=f"bench-{batch}", connector="files",
                                       config=config, mappings={"people": SPEC}, batch=batch)
            timed(f"full ingest, new store, {label}", args.rows, ingest, base)
            timed("  again, nothing changed", args.rows, ingest, base)
        finally:
            store.dispose()


if __name__ == "__main__":
    main()
