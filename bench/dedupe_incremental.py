"""Incremental matching: 1,000 new records against N existing ones, with a trained model.

    python bench/dedupe_incremental.py [--records 1000000] [--new 1000] [--train 100000] [--workers 2]

The existing customers are the first N-1,000 records of the synthetic benchmark data (bench/dedupe)
with the clusters `crmsync dedupe` gave them in the benchmark run (bench/dedupe/.data/out/), or,
when that output is missing, with a full run here. The model is trained on the first `--train`
records. Then the incremental index is built over the existing records (timed on its own), and
`add()` of the last 1,000 records is timed; the script also says how many of them landed with
their true customer. Run nothing heavy meanwhile: this is a measurement.
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dedupe.generate import ensure_synthetic  # noqa: E402
from connectors.files import read_table  # noqa: E402
from dedupe import MatchRecord  # noqa: E402
from dedupe.engine import ProbabilisticMatcher  # noqa: E402
from dedupe.incremental import IncrementalIndex  # noqa: E402
from mappings import SourceRef, load_mapping, map_row  # noqa: E402
from sync.dedupe_file import map_features  # noqa: E402

HERE = Path(__file__).parent / "dedupe"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=1_000)
    parser.add_argument("--train", type=int, default=100_000, help="records the model is trained on")
    parser.add_argument("--workers", type=int, default=2, help="processes mapping the existing records")
    args = parser.parse_args()
    data = ensure_synthetic(args.records, 42, HERE / ".data")
    spec = load_mapping(HERE / "synthetic_mapping.yaml")
    started = time.perf_counter()
    table = read_table(data)
    ids = [str(row.values.get("id")) for row in table.rows]
    entity = {i: str(row.values.get("entity_id")) for i, row in enumerate(table.rows)}
    cut = len(ids) - args.new
    existing, problems = map_features(spec, table.rows[:cut], ids[:cut], data.name, (), args.workers)
    mapped = time.perf_counter()
    print(f"{len(existing)} existing records read, mapped and featurised in {mapped - started:.1f} s "
          f"({len(problems)} rows not mapped)")

    matcher = ProbabilisticMatcher()
    clusters_csv = HERE / ".data" / "out" / f"synthetic-{args.records}-crmsync.csv"
    if clusters_csv.exists():
        cluster_of = {r["record_id"]: r["cluster_id"] for r in csv.DictReader(clusters_csv.open(encoding="utf-8"))}
        codes: dict[str, int] = {}
        labels = [codes.setdefault(cluster_of[ids[int(k)]], len(codes)) for k in existing.keys.tolist()]
        matcher.resolve_features(existing.take(range(min(args.train, len(existing)))))
        source = f"clusters from {clusters_csv.name}; model trained on {min(args.train, len(existing))} records"
    else:
        matcher.resolve_features(existing)
        labels = matcher.last_labels.tolist()
        source = "clusters and model from a full run here"
    trained = time.perf_counter()
    print(f"{source}: {trained - mapped:.1f} s")

    index = IncrementalIndex(matcher, existing, labels)
    indexed = time.perf_counter()
    print(f"index build over {len(existing)} records: {indexed - trained:.1f} s; "
          f"peak RSS so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")

    new = []
    for i in range(cut, len(ids)):
        row = table.rows[i]
        result = map_row(spec, row.values, SourceRef(source="bench", stream="synthetic", source_record_id=ids[i]))
        if result.record is not None:
            new.append(MatchRecord(i, result.record, EPOCH))
    mark = time.perf_counter()
    placements, suggestions = index.add(new)
    added = time.perf_counter() - mark

    # right: joined a cluster holding its entity, or started one when its entity had no record yet
    label_entities: dict[int, Counter] = {}
    for key, label in zip(index.table.keys.tolist(), index.labels, strict=True):
        label_entities.setdefault(label, Counter())[entity[key]] += 1
    seen = {entity[int(k)] for k in existing.keys.tolist()}
    right = sum(1 for p in placements if (p.joined_existing and label_entities[p.cluster][entity[p.key]] > 1)
                or (not p.joined_existing and entity[p.key] not in seen))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(new)} new records: add() {added:.2f} s; joined an existing customer "
          f"{sum(p.joined_existing for p in placements)}; placed right {right}/{len(new)}; "
          f"suggestions {len(suggestions)}; peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
