"""Matching quality on the bundled sample: pairwise precision / recall / F1 against truth.json.

    python bench/demo_quality.py
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from bench._common import demo_project, open_project, run_stages  # noqa: E402
from crmsync.samples import SAMPLES_DIR  # noqa: E402


def truth_key(ref: dict) -> tuple:
    return (ref["file"], ref.get("sheet"), ref["row"])


def pairs(groups: list[list[tuple]]) -> set[frozenset]:
    return {frozenset(p) for group in groups for p in itertools.combinations(group, 2)}


def main() -> None:
    os.environ.pop("CRMSYNC_DATABASE_URL", None)
    project, store = open_project(demo_project())
    run_stages(project, store)
    with store.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT s.stream, s.raw, l.golden_id FROM links l JOIN source_records s "
            "ON s.id = l.source_record_pk WHERE s.deleted = 0")).all()
    store.dispose()
    predicted: dict[str, list[tuple]] = {}
    for stream, raw, golden_id in rows:
        raw = json.loads(raw) if isinstance(raw, str) else raw
        sheet = stream.split(":", 1)[1] if ":" in stream else None
        predicted.setdefault(golden_id, []).append((raw["_file"], sheet, raw["_row"]))
    landed = {key for group in predicted.values() for key in group}
    truth = [[truth_key(r) for r in cluster if truth_key(r) in landed]
             for cluster in json.loads((SAMPLES_DIR / "truth.json").read_text(encoding="utf-8"))]
    true_pairs, found_pairs = pairs(truth), pairs(list(predicted.values()))
    hits = len(true_pairs & found_pairs)
    precision = hits / len(found_pairs) if found_pairs else 1.0
    recall = hits / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"customer rows landed: {len(landed)}; true people among them: {sum(1 for c in truth if c)}; "
          f"golden records: {len(predicted)}")
    print(f"pairwise: true pairs {len(true_pairs)}, found {len(found_pairs)}, correct {hits}")
    print(f"precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}")
    missed = sorted(tuple(sorted(p)) for p in true_pairs - found_pairs)
    for pair in missed[:20]:
        print("  missed:", pair)
    for pair in sorted(tuple(sorted(p)) for p in found_pairs - true_pairs)[:20]:
        print("  wrong: ", pair)


if __name__ == "__main__":
    main()
