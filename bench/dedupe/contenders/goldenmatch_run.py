"""GoldenMatch as a contender: its standard zero-config dedupe (`goldenmatch.dedupe_df`).

GoldenMatch profiles the columns and chooses its own matchkeys, scorers, blocking passes and
threshold: its documented default path. From 100k records on, its controller rates the
configuration it found RED and refuses to run it unless told to (allow_red_config=True);
we tell it to, so every size runs the same zero-config path. It gets the same cleaned columns as Splink
(_prep.py: names split, phone = last 10 digits, e-mail lowercased) minus the record id;
the truth column never reaches it. The configuration it chose is saved in the meta notes.
"""

from __future__ import annotations

import goldenmatch as gm
from _contender import Phases, parse_args, write_clusters
from _prep import connect, load_prepared


def _describe(config: object) -> str:
    """Matchkeys and blocking passes of the configuration GoldenMatch chose, in one line."""
    keys = []
    for key in getattr(config, "matchkeys", None) or []:
        fields = "+".join(f"{f.field}:{f.scorer or 'exact'}" for f in key.fields)
        threshold = f"@{key.threshold}" if key.threshold is not None else ""
        keys.append(f"{key.name}({key.type}; {fields}{threshold})")
    blocking = getattr(config, "blocking", None)
    passes = ["+".join(p.fields) for p in (getattr(blocking, "passes", None) or [])]
    return f"matchkeys {', '.join(keys)}; blocking passes {', '.join(passes) or '-'}"


def main() -> int:
    args = parse_args(__doc__.splitlines()[0])
    phases = Phases()
    with phases.phase("load"):
        con = connect(args.output.parent / f"{args.output.stem}.duckdb-tmp")
        load_prepared(con, args.input, args.dataset)
        table = con.table("records").arrow()
        if not hasattr(table, "column"):  # newer DuckDB hands back a record batch reader
            table = table.read_all()
        ids = table.column("id").to_pylist()
    with phases.phase("dedupe"):
        result = gm.dedupe_df(table, exclude_columns=["id"], allow_red_config=True)
    with phases.phase("write"):
        cluster_of = {}
        for cluster_id, info in result.clusters.items():
            for row in info["members"]:
                cluster_of[row] = f"c{cluster_id}"
        write_clusters(args.output, ((rid, cluster_of.get(i, f"r{rid}")) for i, rid in enumerate(ids)))
    phases.notes["config"] = _describe(result.config)
    phases.notes["allow_red_config"] = "True (at 100k GoldenMatch rates its own auto-config RED and refuses)"
    phases.save(args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
