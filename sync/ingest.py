"""Ingest apply: read a source's Airbyte messages, map rows, and land them idempotently.

Records received since the last STATE message are committed together with that state, so a
crash at any point followed by a re-run ends in the same store as an uninterrupted run.

Two ways in, one result: a connector that offers `iter_record_batches` (local files) is read
in checkpoint-sized batches and mapped by a memoised RowMapper (the default, for big files);
any other connector, or `batch=False`, goes through Airbyte messages and map_row row by row,
the reference path. tests/app/test_ingest_fast_path.py holds the two stores equal.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

import orjson
from airbyte_cdk.models import AirbyteMessage, AirbyteStateType, TraceType, Type
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from connectors.registry import load_connector
from mappings import MappingSpec, SourceRef, content_hash, map_row
from mappings.apply import RowMapper
from mappings.canonical import hash_and_json
from sync.redaction import redact
from sync.store import (
    EncodedSourceRecordIn,
    InteractionIndexIn,
    QuarantineIn,
    SourceRecordIn,
    Store,
    all_states,
    mark_missing_deleted,
    mark_records_deleted,
    quarantine_rows,
    resolve_missing_quarantine,
    save_state,
    upsert_interactions,
    upsert_source_records,
)

__all__ = ["IngestReport", "StreamReport", "ingest_source"]

log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]  # (stream, records just handled)
_MAX_PROBLEMS_KEPT = 200
DELETED_KEY = "_ab_cdc_deleted_at"  # Airbyte's CDC marker: a source says this record was deleted


@dataclass
class StreamReport:
    """What one stream of one run did."""

    stream: str
    read: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    restored: int = 0
    deleted: int = 0
    quarantined: int = 0
    warnings: int = 0
    error: str | None = None


@dataclass
class IngestReport:
    """What ingesting one source did, per stream, with the problems people need to see."""

    source: str
    streams: dict[str, StreamReport] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # quarantined rows and dropped values
    error: str | None = None  # the source as a whole failed (bad credentials, missing file, ...)
    seconds: dict[str, float] = field(default_factory=dict)  # wall time in "read", "map" and "write"

    def stream(self, name: str) -> StreamReport:
        return self.streams.setdefault(name, StreamReport(name))

    def total(self, attribute: str) -> int:
        return sum(getattr(s, attribute) for s in self.streams.values())

    @property
    def failed(self) -> bool:
        return self.error is not None or any(s.error for s in self.streams.values())

    def note(self, message: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS_KEPT:
            self.problems.append(message)


def _columns(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _where(data: Mapping[str, Any], stream: str) -> str:
    file = data.get("_file") or stream
    sheet = f", sheet {data['_sheet']!r}" if data.get("_sheet") else ""
    row = f", row {data['_row']}" if data.get("_row") is not None else ""
    return f"{file}{sheet}{row}"


@dataclass
class _StreamBuffer:
    spec: MappingSpec
    mapping_name: str
    mapper: RowMapper | None = None  # the batch path's memoised mapper; None: row by row with map_row
    rows: list[dict[str, Any]] = field(default_factory=list)
    deleted: dict[str, Any] = field(default_factory=dict)  # record id → when the source says it was deleted
    checked_columns: bool = False


@dataclass
class _Batch:
    """One checkpoint's worth of mapped rows, ready to be written with the state that follows them."""

    stream: str
    entity: str
    records: Sequence[SourceRecordIn | EncodedSourceRecordIn]
    bad: list[QuarantineIn]
    deleted: list[str]  # record ids the source says were deleted
    state: dict[str, Any] | None
    pass_id: str | None
    rows: int  # rows read for it, for progress


class _Ingest:
    def __init__(self, store: Store, source: str, mappings: Mapping[str, MappingSpec],
                 mapping_names: Mapping[str, str], progress: Progress | None, batch: bool) -> None:
        self.store = store
        self.source = source
        self.buffers = {s: _StreamBuffer(spec, mapping_names.get(s, s), RowMapper(spec) if batch else None)
                        for s, spec in mappings.items()}
        self.report = IngestReport(source)
        self.progress = progress
        for stream in mappings:
            self.report.stream(stream)
        self.report.seconds = {"read": 0.0, "map": 0.0, "write": 0.0}
        self.sink: Callable[[_Batch], None] = self.write  # a mapping worker process sends them instead

    def on_record(self, stream: str, data: dict[str, Any]) -> None:
        buffer = self.buffers.get(stream)
        counts = self.report.stream(stream)
        if buffer is None or counts.error:
            return
        if data.get(DELETED_KEY) and data.get("_record_id") is not None:
            buffer.deleted[str(data["_record_id"])] = data[DELETED_KEY]  # no columns to map or check
            return
        buffer.deleted.pop(str(data.get("_record_id")), None)  # back after a deletion in the same batch
        if not buffer.checked_columns:
            buffer.checked_columns = True
            if "_error" not in data:
                missing = [c for c in buffer.spec.required_columns() if c not in data]
                if missing:
                    columns = ", ".join(repr(c) for c in _columns(data)) or "none"
                    counts.error = (
                        f"mapping '{buffer.mapping_name}': column(s) {', '.join(map(repr, missing))} "
                        f"not found in {_where({**data, '_row': None}, stream)} (its columns: {columns}); "
                        "fix the column name in the mapping or mark the rule `optional: true`"
                    )
                    return
        counts.read += 1
        buffer.rows.append(data)

    def on_state(self, stream: str, state: dict[str, Any]) -> None:
        buffer = self.buffers.get(stream)
        if buffer is None or self.report.stream(stream).error:
            return
        self._flush(stream, buffer, state)

    def on_error(self, stream: str | None, message: str | None) -> None:
        text = redact(message or "the source reported an error")
        if stream and stream in self.buffers:
            self.report.stream(stream).error = text
        else:
            self.report.error = text

    def finish(self) -> None:
        """Land rows read after the last checkpoint (a source that emits no final state)."""
        for stream, buffer in self.buffers.items():
            if (buffer.rows or buffer.deleted) and not self.report.stream(stream).error:
                self._flush(stream, buffer, None)

    def _flush(self, stream: str, buffer: _StreamBuffer, state: dict[str, Any] | None) -> None:
        pass_id = (state or {}).get("pass_id") or (buffer.rows[0].get("_pass") if buffer.rows else None)
        records: list[SourceRecordIn | EncodedSourceRecordIn] = []
        bad: list[QuarantineIn] = []
        started = time.perf_counter()
        if buffer.mapper is not None:
            for data in buffer.rows:
                self._map_fast(stream, buffer.mapper, data, records, bad)
        else:
            for data in buffer.rows:
                self._map(stream, buffer, data, records, bad)
        self.report.seconds["map"] += time.perf_counter() - started
        self.sink(_Batch(stream, buffer.spec.entity, records, bad, list(buffer.deleted), state, pass_id,
                         len(buffer.rows)))
        buffer.rows.clear()
        buffer.deleted.clear()

    def write(self, batch: _Batch) -> None:
        """Land one checkpoint's mapped rows, deletions and state in one transaction."""
        counts = self.report.stream(batch.stream)
        now = datetime.now(UTC)
        stream, state, pass_id = batch.stream, batch.state, batch.pass_id
        started = time.perf_counter()
        with self.store.session() as session:
            upserted = upsert_source_records(session, batch.records, seen_at=now, pass_id=pass_id)
            if batch.entity == "interaction" and batch.records:
                upsert_interactions(session, _interaction_index(batch.records, upserted.pks))
            quarantine_rows(session, batch.bad, seen_at=now, pass_id=pass_id)
            if batch.deleted:
                counts.deleted += mark_records_deleted(session, self.source, stream, batch.deleted, at=now)
            if state is not None:
                save_state(session, self.source, stream, state)
                if state.get("complete") and pass_id:
                    counts.deleted += mark_missing_deleted(session, self.source, stream, pass_id, at=now)
                    resolve_missing_quarantine(session, self.source, stream, pass_id, at=now)
        self.report.seconds["write"] += time.perf_counter() - started
        counts.new += upserted.new
        counts.changed += upserted.changed
        counts.unchanged += upserted.unchanged
        counts.restored += upserted.restored
        counts.quarantined += len(batch.bad)
        if self.progress and batch.rows:
            self.progress(stream, batch.rows)

    def _map(self, stream: str, buffer: _StreamBuffer, data: dict[str, Any],
             records: list[SourceRecordIn | EncodedSourceRecordIn], bad: list[QuarantineIn]) -> None:
        columns = _columns(data)
        where = _where(data, stream)
        file = data.get("_file")
        quarantine = dict(source=self.source, stream=stream, row_key=content_hash(columns),
                          row_number=data.get("_row"), file=file, raw=columns)
        if data.get("_error"):
            reason = str(data["_error"])
            bad.append(QuarantineIn(field=None, reason=reason, **quarantine))
            self.report.note(f"{where}: {reason}")
            return
        ref = SourceRef(source=self.source, stream=stream, source_record_id=str(data["_record_id"]))
        result = map_row(buffer.spec, columns, ref)
        for warning in result.warnings:
            self.report.stream(stream).warnings += 1
            self.report.note(f"{where}: {warning.describe()} (value dropped, row kept)")
        if result.record is None:
            reason = "; ".join(p.describe() for p in result.problems)
            field_name = result.problems[0].column if result.problems else None
            bad.append(QuarantineIn(field=field_name, reason=reason, **quarantine))
            self.report.note(f"{where}: {reason}")
            return
        canonical = result.record.model_dump(mode="json")
        records.append(SourceRecordIn(
            source=self.source, stream=stream, source_record_id=ref.source_record_id,
            entity=buffer.spec.entity, raw={**columns, "_file": file, "_row": data.get("_row")},
            canonical=canonical, content_hash=content_hash({"raw": columns, "canonical": canonical}),
            source_updated_at=getattr(result.record, "source_updated_at", None)
            or getattr(result.record, "occurred_at", None),
        ))

    def _map_fast(self, stream: str, mapper: RowMapper, data: dict[str, Any],
                  records: list[SourceRecordIn | EncodedSourceRecordIn], bad: list[QuarantineIn]) -> None:
        """_map with the memoised mapper: the same records, hashes, quarantine rows and notes."""
        if data.get("_error"):
            self._map(stream, self.buffers[stream], data, records, bad)
            return
        columns = {k: v for k, v in data.items() if k[:1] != "_"}
        record_id = str(data["_record_id"])
        result = mapper.map(columns, self.source, stream, record_id)
        for warning in result.warnings:
            self.report.stream(stream).warnings += 1
            self.report.note(f"{_where(data, stream)}: {warning.describe()} (value dropped, row kept)")
        file = data.get("_file")
        if result.canonical is None:
            reason = "; ".join(p.describe() for p in result.problems)
            field_name = result.problems[0].column if result.problems else None
            bad.append(QuarantineIn(source=self.source, stream=stream, row_key=content_hash(columns),
                                    row_number=data.get("_row"), file=file, raw=columns,
                                    field=field_name, reason=reason))
            self.report.note(f"{_where(data, stream)}: {reason}")
            return
        canonical = result.canonical
        if result.updated_at is None and all(v is None or type(v) is str for v in columns.values()):
            digest, canonical_json = hash_and_json(columns, canonical)
        else:  # numbers (JSON sources) and timestamps: json.dumps decides how they are hashed
            digest = content_hash({"raw": columns, "canonical": canonical})
            canonical_json = orjson.dumps(canonical).decode("utf-8")
        raw_json = orjson.dumps({**columns, "_file": file, "_row": data.get("_row")}).decode("utf-8")
        records.append(EncodedSourceRecordIn(self.source, stream, record_id, mapper.spec.entity, raw_json,
                                             canonical_json, digest, result.updated_at))


def _interaction_index(records: Sequence[SourceRecordIn | EncodedSourceRecordIn],
                       pks: Mapping[Any, int]) -> list[InteractionIndexIn]:
    index = []
    for record in records:
        pk = pks[(record.source, record.stream, record.source_record_id)]
        canonical = record.canonical
        occurred = canonical.get("occurred_at")
        index.append(InteractionIndexIn(
            source_record_pk=pk, kind=canonical["kind"], phone=canonical.get("phone"),
            email=canonical.get("email"), occurred_at=datetime.fromisoformat(occurred) if occurred else None,
        ))
    return index


def _state_of(message: AirbyteMessage) -> tuple[str, dict[str, Any]] | None:
    state = message.state
    if state is None or state.type != AirbyteStateType.STREAM or state.stream is None:
        return None
    blob = state.stream.stream_state
    return state.stream.stream_descriptor.name, dict(vars(blob)) if blob is not None else {}


def ingest_source(
    store: Store,
    *,
    source: str,
    connector: str,
    config: dict[str, Any],
    mappings: Mapping[str, MappingSpec],
    mapping_names: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    batch: bool = True,
    parallel: bool | None = None,
) -> IngestReport:
    """Read every mapped stream of one source into the store; never raises for bad data.

    A connector that offers ``iter_record_batches`` (local files) is read batch by batch and
    mapped with a memoised RowMapper; ``batch=False`` forces the reference path, Airbyte messages
    mapped row by row with map_row, which must land exactly the same store. ``parallel`` reads
    and maps such a source in a forked process while this one writes (None: when there are two
    cores, one of them idle, the input is big and this process runs no other thread; see
    _worth_a_worker).
    """
    started = time.perf_counter()
    module = load_connector(connector)
    batches = getattr(module, "iter_record_batches", None) if batch else None
    run = _Ingest(store, source, mappings, mapping_names or {}, progress, batch=batches is not None)
    with store.session() as session:
        states = all_states(session, source)

    def read() -> None:
        try:
            if batches is not None:
                _read_batches(run, batches(config, list(mappings), states))
            else:
                _read_messages(run, module.iter_airbyte_messages(config, list(mappings), states))
        except AirbyteTracedException as exc:
            # the CDK raises once at the end when any stream failed; those errors are already recorded
            if not any(s.error for s in run.report.streams.values()):
                run.report.error = redact(exc.message or str(exc))
        run.finish()

    if batches is not None and _worth_a_worker(module, config, parallel):
        _read_in_worker(run, read)
    else:
        read()
        seconds = run.report.seconds
        seconds["read"] = max(0.0, time.perf_counter() - started - seconds["map"] - seconds["write"])
    for stream, counts in run.report.streams.items():
        if counts.error:
            log.warning("source %s stream %s failed: %s", source, stream, counts.error)
    return run.report


# ---------------------------------------------------------------- reading and mapping in a second process

_WORKER_FROM_BYTES = 4 * 2**20  # about 50,000 rows: below, the fork and its start cost more than they save


def _worth_a_worker(module: Any, config: dict[str, Any], parallel: bool | None) -> bool:
    if parallel is not None:
        return parallel and "fork" in multiprocessing.get_all_start_methods()
    if (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return False
    if threading.active_count() > 1:
        # a lock another thread holds at the fork stays locked in the child for ever (Prefect's
        # workers and log handlers run threads): only a single-threaded process forks on its own
        return False
    if os.getloadavg()[0] > (os.cpu_count() or 1) - 0.5:
        # no idle core: measured on a loaded 2-core machine, the second process only added the
        # cost of sending the rows (1M rows: 2,750 rows/s in two processes, 3,129 in one)
        return False
    size = getattr(module, "input_bytes", None)
    return size is not None and size(config) >= _WORKER_FROM_BYTES


def _read_in_worker(run: _Ingest, read: Callable[[], None]) -> None:
    """Read and map in a forked process while this one writes the batches it sends, in order.

    The worker owns the reading half of the report (rows read, warnings, problems, errors); each
    batch is written here with its state, as in one process. A worker whose parent dies stops at
    its next send (the pipe is broken); a worker that dies is an error here.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_worker_main, args=(run, read, sender, receiver), daemon=True,
                             name="crmsync-ingest-map")
    worker.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                raise RuntimeError(f"ingest of {run.source}: the mapping process stopped "
                                   f"(exit code {worker.exitcode})") from None
            if kind == "batch":
                run.write(_decode(run.source, payload))
            elif kind == "done":
                _merge_reading(run.report, payload)
                return
            else:
                raise RuntimeError(f"ingest of {run.source}: the mapping process failed: {payload}")
    finally:
        receiver.close()
        worker.join(10)
        if worker.is_alive():
            worker.kill()
            worker.join()


def _worker_main(run: _Ingest, read: Callable[[], None], sender: Connection, receiver: Connection) -> None:
    receiver.close()  # else this process holds the pipe's reading end itself and never sees it broken
    started = time.perf_counter()
    sending = 0.0

    def send(batch: _Batch) -> None:
        nonlocal sending
        encoded = _encode(batch)
        at = time.perf_counter()
        sender.send(("batch", encoded))
        sending += time.perf_counter() - at

    run.sink = send
    try:
        read()
        seconds = run.report.seconds
        seconds["read"] = max(0.0, time.perf_counter() - started - seconds["map"] - sending)
        seconds["worker_wait"] = sending
        sender.send(("done", run.report))
    except BrokenPipeError:
        pass  # the parent is gone
    except Exception as exc:  # noqa: BLE001 -- handed to the parent, which raises it
        sender.send(("failed", redact(f"{type(exc).__name__}: {exc}")))
    finally:
        sender.close()


_EncodedBatch = tuple[str, str, list[tuple[Any, ...]], list[QuarantineIn], list[str], dict[str, Any] | None,
                      str | None, int]


def _encode(batch: _Batch) -> _EncodedBatch:
    """The batch as plain tuples and JSON text: a tenth of the cost of pickling the records' dicts."""
    rows = [(r.stream, r.source_record_id, r.entity, r.raw_json, r.canonical_json, r.content_hash,
             r.source_updated_at) if type(r) is EncodedSourceRecordIn else
            (r.stream, r.source_record_id, r.entity, orjson.dumps(r.raw).decode(), orjson.dumps(r.canonical).decode(),
             r.content_hash, r.source_updated_at) for r in batch.records]
    return (batch.stream, batch.entity, rows, batch.bad, batch.deleted, batch.state, batch.pass_id, batch.rows)


def _decode(source: str, encoded: _EncodedBatch) -> _Batch:
    stream, entity, rows, bad, deleted, state, pass_id, count = encoded
    records = [EncodedSourceRecordIn(source, *row) for row in rows]
    return _Batch(stream, entity, records, bad, deleted, state, pass_id, count)


def _merge_reading(report: IngestReport, reading: IngestReport) -> None:
    """Take the reading half of the report from the worker's copy (this process counted the writes)."""
    for name, theirs in reading.streams.items():
        ours = report.stream(name)
        ours.read, ours.warnings, ours.error = theirs.read, theirs.warnings, theirs.error
    report.problems = reading.problems
    report.error = reading.error
    for phase in ("read", "map", "worker_wait"):
        report.seconds[phase] = reading.seconds.get(phase, 0.0)


def _read_messages(run: _Ingest, messages: Iterator[AirbyteMessage]) -> None:
    for message in messages:
        if message.type == Type.RECORD and message.record is not None:
            run.on_record(message.record.stream, message.record.data)
        elif message.type == Type.STATE:
            parsed = _state_of(message)
            if parsed:
                run.on_state(*parsed)
        elif message.type == Type.TRACE and message.trace and message.trace.type == TraceType.ERROR:
            error = message.trace.error
            stream = error.stream_descriptor.name if error.stream_descriptor else None
            run.on_error(stream, error.message)


def _read_batches(run: _Ingest, events: Iterator[tuple[str, str, Any]]) -> None:
    """Hand batches to the run, keeping the garbage collector off the rows a reader holds.

    A file source keeps every row of its table alive until the stream ends; with a million
    rows, each full collection would walk all of them again and again while the batches are
    mapped. Freezing what is alive at each batch moves it out of the collector's way; it is all
    handed back to the collector at the end.
    """
    try:
        for kind, stream, payload in events:
            if kind == "records":
                gc.freeze()
                for data in payload:
                    run.on_record(stream, data)
            elif kind == "state":
                run.on_state(stream, dict(payload))
            elif kind == "error":
                run.on_error(stream, payload)
    finally:
        gc.unfreeze()
