"""crmsync as a contender: `crmsync dedupe INPUT --map MAPPING --out OUTPUT --id-column id`.

The script replaces itself with the crmsync command (exec), so the process the harness
measures is crmsync's own. Its output has record_id, cluster_id and match_probability; the
harness reads the first two.
"""

from __future__ import annotations

import os
from pathlib import Path

from _contender import parse_args

ROOT = Path(__file__).resolve().parents[3]
CRMSYNC = ROOT / ".venv" / "bin" / "crmsync"
MAPPINGS = {
    "synthetic": ROOT / "bench" / "dedupe" / "synthetic_mapping.yaml",
    "febrl": ROOT / "bench" / "dedupe" / "febrl_mapping.yaml",
}
# the same identifier the peers compare on FEBRL (Splink's model has a soc_sec_id comparison)
IDENTIFIERS = {"synthetic": [], "febrl": ["--identifier", "soc_sec_id"]}


def main() -> int:
    args = parse_args(__doc__.splitlines()[0])
    command = [str(CRMSYNC), "dedupe", str(args.input), "--map", str(MAPPINGS[args.dataset]),
               "--out", str(args.output), "--id-column", "id", *IDENTIFIERS[args.dataset]]
    os.execv(command[0], command)
    return 1  # not reached: execv only returns by raising


if __name__ == "__main__":
    raise SystemExit(main())
