"""Reconcile: read a source in full and compare its keys with the store, to catch missed and deleted records.

Read-only: nothing is written to the store. A key the source has and the store lacks was missed (or
is waiting in quarantine, counted apart); a key the store holds as live that the source no longer
has was deleted at the source without ingest noticing. Only ids are reported, never record contents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from airbyte_cdk.models import TraceType, Type
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from sqlalchemy import select

from connectors.registry import load_connector
from mappings import content_hash
from sync.redaction import redact
from sync.store import Store
from sync.store.models import Quarantine, SourceRecord

__all__ = ["StreamDifference", "reconcile_source"]

SAMPLE = 20  # ids listed per difference; the counts are complete


@dataclass
class StreamDifference:
    """How one stream of a source compares with the store."""

    source: str
    stream: str
    in_source: int = 0
    in_store: int = 0
    quarantined: int = 0  # read from the source, held in quarantine with a reason
    missing_in_store: int = 0
    missing_sample: list[str] = field(default_factory=list)
    gone_from_source: int = 0
    gone_sample: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def matches(self) -> bool:
        return not self.error and not self.missing_in_store and not self.gone_from_source


def _store_keys(store: Store, source: str, stream: str) -> tuple[set[str], set[str]]:
    with store.session() as session:
        live = set(session.scalars(select(SourceRecord.source_record_id).where(
            SourceRecord.source == source, SourceRecord.stream == stream, SourceRecord.deleted.is_(False))))
        quarantined = set(session.scalars(select(Quarantine.row_key).where(
            Quarantine.source == source, Quarantine.stream == stream, Quarantine.resolved_at.is_(None))))
    return live, quarantined


def reconcile_source(store: Store, *, source: str, connector: str, config: dict[str, Any],
                     streams: Sequence[str]) -> list[StreamDifference]:
    """Read every stream from the start (no saved state) and compare its ids with the store's live records."""
    keys: dict[str, set[str]] = {s: set() for s in streams}
    row_keys: dict[str, dict[str, str]] = {s: {} for s in streams}
    diffs = {s: StreamDifference(source, s) for s in streams}
    try:
        for message in load_connector(connector).iter_airbyte_messages(config, list(streams), {}):
            if message.type == Type.RECORD and message.record is not None and message.record.stream in keys:
                data = message.record.data
                columns = {k: v for k, v in data.items() if not k.startswith("_")}
                record_id = data.get("_record_id")
                if record_id is not None and not data.get("_error"):
                    keys[message.record.stream].add(str(record_id))
                    row_keys[message.record.stream][str(record_id)] = content_hash(columns)
            elif message.type == Type.TRACE and message.trace and message.trace.type == TraceType.ERROR:
                error = message.trace.error
                stream = error.stream_descriptor.name if error.stream_descriptor else None
                for name in [stream] if stream in diffs else list(diffs):
                    diffs[name].error = redact(error.message or "the source reported an error")
    except AirbyteTracedException as exc:
        for diff in diffs.values():
            diff.error = diff.error or redact(exc.message or str(exc))
    for stream, diff in diffs.items():
        if diff.error:  # a partial read proves nothing about deletions
            continue
        live, quarantined = _store_keys(store, source, stream)
        read = keys[stream]
        missing = sorted(k for k in read - live if row_keys[stream][k] not in quarantined)
        gone = sorted(live - read)
        diff.in_source, diff.in_store = len(read), len(live)
        diff.quarantined = len(read - live) - len(missing)
        diff.missing_in_store, diff.missing_sample = len(missing), missing[:SAMPLE]
        diff.gone_from_source, diff.gone_sample = len(gone), gone[:SAMPLE]
    return list(diffs.values())
