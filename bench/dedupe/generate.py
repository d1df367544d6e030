"""Synthetic multi-source customer data with ground truth, deterministic by seed.

    python bench/dedupe/generate.py --records 10000 [--seed 42] [--out FILE.csv]

Each ground-truth person (entity_id) appears in 1 to ~10 records (1.6 on average, most of
them once) across a CRM export, web forms, an Excel sheet and a legacy system; see sources.py
for how each source damages a record and people.py for the look-alike strangers.
Only the standard library is used, so the harness can run it with any interpreter.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from itertools import accumulate
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench.dedupe` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.dedupe.people import World
from bench.dedupe.sources import SOURCE_WEIGHTS, SOURCES, render

__all__ = ["COLUMNS", "GENERATOR_VERSION", "MAPPING", "ensure_synthetic", "generate_rows", "write_csv"]

COLUMNS = ("id", "entity_id", "source", "first_name", "last_name", "full_name", "email", "phone",
           "company", "city", "country")
# Bump when the output for a given seed changes, so cached files are regenerated.
GENERATOR_VERSION = 2
# Records per entity: mostly singletons, a long tail up to 10 (mean about 1.65).
_SIZE_WEIGHTS = (0.66, 0.19, 0.07, 0.035, 0.02, 0.01, 0.006, 0.004, 0.003, 0.002)
_SIZE_CUM = list(accumulate(_SIZE_WEIGHTS))
_SIZES = tuple(range(1, len(_SIZE_WEIGHTS) + 1))
_SOURCE_CUM = list(accumulate(SOURCE_WEIGHTS))

MAPPING = """\
# crmsync mapping for bench/dedupe synthetic data (written by generate.py; do not edit by hand).
entity: customer
defaults:
  # the data's markets, tried in order for a national number from a row without a country
  phone_fallback_regions: [RU, US, IN, GB, DE, GE]
fields:
  - {from: first_name, to: given_name}
  - {from: last_name, to: family_name}
  - {from: full_name, to: name}
  - {from: email, to: emails, on_error: skip}
  - from: phone
    to: phones
    transform: {phone: {region_from: country}}
    on_error: skip
  - {from: company, to: company}
  - {from: city, to: address.city}
  - {from: country, to: address.country, on_error: skip}
  - {from: source, to: custom.source}
"""


def generate_rows(n_records: int, seed: int) -> list[list[str]]:
    """Exactly n_records rows (COLUMNS order) in a shuffled order, ids unique, truth in entity_id."""
    rng = random.Random(seed)
    world = World(rng, n_records)
    ids = list(range(1, n_records + 1))
    rng.shuffle(ids)
    rows: list[list[str]] = []
    while len(rows) < n_records:
        for person in world.household():
            size = rng.choices(_SIZES, cum_weights=_SIZE_CUM)[0]
            for _ in range(size):
                if len(rows) == n_records:
                    break
                profile = rng.choices(SOURCES, cum_weights=_SOURCE_CUM)[0]
                rows.append([str(ids[len(rows)]), person.entity_id, *render(person, profile, rng)])
    rows.sort(key=lambda row: int(row[0]))
    return rows


def write_csv(rows: list[list[str]], path: Path) -> None:
    """Write rows with the COLUMNS header, atomically (a half-written cache file is never used)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    tmp.replace(path)


def ensure_synthetic(n_records: int, seed: int, data_dir: Path) -> Path:
    """The cached CSV for (size, seed), generating it first if needed; also writes the mapping."""
    mapping = Path(__file__).resolve().parent / "synthetic_mapping.yaml"
    if not mapping.exists() or mapping.read_text(encoding="utf-8") != MAPPING:
        mapping.write_text(MAPPING, encoding="utf-8")
    path = data_dir / f"synthetic-{n_records}-seed{seed}-v{GENERATOR_VERSION}.csv"
    if not path.exists():
        write_csv(generate_rows(n_records, seed), path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, help="CSV to write (default: the cache under .data/)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.out:
        write_csv(generate_rows(args.records, args.seed), args.out)
        path = args.out
    else:
        path = ensure_synthetic(args.records, args.seed, Path(__file__).resolve().parent / ".data")
    print(f"{path} ({args.records} records, {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
