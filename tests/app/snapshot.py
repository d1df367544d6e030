"""Store snapshots for comparing two runs: what users would call 'the same store'."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import create_engine, text


def store_snapshot(url: str, *, with_golden_ids: bool = True) -> dict[str, Any]:
    """Everything that matters in a store, minus timestamps and random run/pass ids."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            def rows(sql: str) -> list[tuple]:
                return [tuple(r) for r in conn.execute(text(sql))]

            def js(value: Any) -> str:
                return json.dumps(json.loads(value) if isinstance(value, str) else value, sort_keys=True, ensure_ascii=False)

            records = sorted(
                (r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), js(r[7]))
                for r in rows("SELECT source, stream, source_record_id, entity, version, content_hash, "
                              "deleted, canonical FROM source_records")
            )
            versions = sorted(rows("SELECT s.source, s.stream, s.source_record_id, v.version, v.content_hash "
                                   "FROM source_record_versions v JOIN source_records s ON s.id = v.source_record_id"))
            states = sorted(
                (r[0], r[1], js({k: v for k, v in (json.loads(r[2]) if isinstance(r[2], str) else r[2]).items()
                                 if k != "pass_id"}))
                for r in rows("SELECT source, stream, state FROM connector_state")
            )
            quarantine = sorted(rows("SELECT source, stream, row_key, row_number, field, reason, "
                                     "resolved_at IS NULL FROM quarantine"))
            golden = sorted(
                ((r[0] if with_golden_ids else ""), r[1], js(r[2]))
                for r in rows("SELECT id, status, fields FROM golden_records")
            )
            links = sorted(
                (r[0], r[1], r[2], (r[3] if with_golden_ids else ""), r[4])
                for r in rows("SELECT s.source, s.stream, s.source_record_id, l.golden_id, l.method "
                              "FROM links l JOIN source_records s ON s.id = l.source_record_pk")
            )
            partition = _partition(conn)
            return {"records": records, "versions": versions, "states": states, "quarantine": quarantine,
                    "golden": golden, "links": links, "partition": partition}
    finally:
        engine.dispose()


def _partition(conn) -> list[list[tuple]]:
    groups: dict[str, list[tuple]] = {}
    for source, stream, record_id, golden_id in conn.execute(text(
            "SELECT s.source, s.stream, s.source_record_id, l.golden_id FROM links l "
            "JOIN source_records s ON s.id = l.source_record_pk")):
        groups.setdefault(golden_id, []).append((source, stream, record_id))
    return sorted(sorted(g) for g in groups.values())
