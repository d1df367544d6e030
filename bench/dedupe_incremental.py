"""Incremental matching: 1,000 new records against N existing ones, with the trained model.

    python bench/dedupe_incremental.py [--records 100000] [--new 1000]

Fits the engine on the first N-1,000 records of the synthetic benchmark data (bench/dedupe),
builds the incremental index once, then times `add()` of the last 1,000 records, and checks
how many of them landed with their true customer.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dedupe.generate import ensure_synthetic  # noqa: E402
from dedupe import MatchRecord  # noqa: E402
from dedupe.engine import ProbabilisticMatcher  # noqa: E402
from dedupe.incremental import IncrementalIndex  # noqa: E402
from mappings import SourceRef, load_mapping, map_row  # noqa: E402

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=1_000)
    args = parser.parse_args()
    data = ensure_synthetic(args.records, 42, Path(__file__).parent / "dedupe" / ".data")
    spec = load_mapping(Path(__file__).parent / "dedupe" / "synthetic_mapping.yaml")
    rows = list(csv.DictReader(data.open(encoding="utf-8")))
    records, entity = [], {}
    for i, row in enumerate(rows):
        mapped = map_row(spec, row, SourceRef(source="bench", stream="synthetic", source_record_id=row["id"]))
        if mapped.record is not None:
            records.append(MatchRecord(i, mapped.record, EPOCH))
            entity[i] = row["entity_id"]
    old, new = records[:-args.new], records[-args.new:]
    matcher = ProbabilisticMatcher()
    started = time.perf_counter()
    matcher.resolve(old)
    fitted = time.perf_counter()
    index = IncrementalIndex(matcher)
    indexed = time.perf_counter()
    placements, suggestions = index.add(new)
    added = time.perf_counter()
    # a new record is placed right when it joins a cluster holding its entity, or starts one when none exists
    label_entities: dict[int, Counter] = {}
    for key, label in zip(index.table.keys.tolist(), index.labels, strict=True):
        label_entities.setdefault(label, Counter())[entity[key]] += 1
    seen = {entity[r.key] for r in old}
    right = sum(1 for p in placements if (p.joined_existing and label_entities[p.cluster][entity[p.key]] > 1)
                or (not p.joined_existing and entity[p.key] not in seen))
    print(f"{len(old)} existing records: full run {fitted - started:.1f} s, index build {indexed - fitted:.1f} s")
    print(f"{len(new)} new records: add() {added - indexed:.2f} s; joined an existing customer "
          f"{sum(p.joined_existing for p in placements)}; placed right {right}/{len(new)}; "
          f"suggestions {len(suggestions)}")


if __name__ == "__main__":
    main()
