"""The trivial rule a CRM's built-in dedupe applies: same e-mail or same phone is one customer.

E-mail is compared lowercased and trimmed, phone as its last 10 digits; records linked by
either are merged transitively (union-find); everything else stays a singleton. FEBRL has
neither field, so there every record is a singleton: that is what the rule does there.
"""

from __future__ import annotations

import csv
import re

from _contender import Phases, parse_args, write_clusters

_NOT_DIGITS = re.compile(r"\D+")


def _find(parent: list[int], i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:  # path compression
        parent[i], i = root, parent[i]
    return root


def main() -> int:
    args = parse_args(__doc__.splitlines()[0])
    phases = Phases()
    with phases.phase("load"), args.input.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with phases.phase("match"):
        parent = list(range(len(rows)))
        first_seen: dict[tuple[str, str], int] = {}
        for index, row in enumerate(rows):
            keys = []
            email = (row.get("email") or "").strip().lower()
            if email:
                keys.append(("e", email))
            digits = _NOT_DIGITS.sub("", row.get("phone") or "")[-10:]
            if digits:
                keys.append(("p", digits))
            for key in keys:
                other = first_seen.setdefault(key, index)
                if other != index:
                    a, b = _find(parent, index), _find(parent, other)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
    with phases.phase("write"):
        ids = [row["id"] for row in rows]
        write_clusters(args.output, ((ids[i], ids[_find(parent, i)]) for i in range(len(rows))))
    phases.save(args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
