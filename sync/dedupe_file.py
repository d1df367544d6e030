"""Dedupe one spreadsheet for people migrating off Excel: clusters.csv and a workbook to review.

`crmsync dedupe FILE --map MAPPING.yaml --out clusters.csv [--xlsx review.xlsx]`. Every row of the
file appears in the output: rows that cannot be mapped stay on their own, with the reason.
"""

from __future__ import annotations

import csv
import gc
import itertools
import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from connectors.files import BadRow, Row, iter_table
from dedupe import Matcher, MatchRecord, Resolution
from dedupe.engine import ProbabilisticMatcher
from dedupe.features import FeatureTable, features_from_canonical
from mappings import MappingSpec, SourceRef, load_mapping, map_row
from mappings.apply import RowMapper

__all__ = ["FileDedupeResult", "dedupe_file", "map_features"]

log = logging.getLogger(__name__)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_FILLS = ("FFF2F2F2", "FFFFFFFF")
_CHUNK_ROWS = 10_000  # rows mapped and turned into match features per task
# distinct inputs each mapping rule remembers in a worker: names and cities repeat within a few chunks; a
# bigger memo mostly holds values seen once (at 1M, 200,000 per rule was most of the workers' memory)
_WORKER_MEMO = 20_000
_PARALLEL_FROM = 20_000  # below this many rows a process pool costs more than it saves
# what forked workers read instead of receiving it pickled: (mapper, stream name, identifiers)
_JOB: tuple[RowMapper, str, tuple[str, ...]] | None = None


@dataclass
class FileDedupeResult:
    rows: int = 0
    clusters: int = 0
    multi_record_clusters: int = 0
    suggestions: int = 0
    unmapped: list[str] = field(default_factory=list)


def dedupe_file(path: Path, mapping: Path, out: Path, *, matcher: Matcher, id_column: str | None = None,
                sheet: str | None = None, xlsx: Path | None = None,
                progress: Callable[[str], None] | None = None, workers: int | None = None) -> FileDedupeResult:
    """Read, map, match and write `record_id,cluster_id,match_probability` (one row per input row).

    The file is read a chunk at a time (a CSV is never held whole) and each chunk mapped in a
    worker process; only the row ids and the match features stay. `workers`: processes that map
    rows (default: one per core, two at most, for files of 20,000 rows and more; 0 or 1 maps in
    this process).
    """
    spec = load_mapping(mapping)
    stream = iter_table(path, sheet=sheet)
    if id_column and id_column not in stream.columns:
        raise ValueError(f"{path.name}: --id-column {id_column!r} is not a column "
                         f"(columns: {', '.join(stream.columns)})")
    result = FileDedupeResult()
    ids: list[str] = []
    raw_rows: list[dict[str, object]] = []

    def chunks() -> Iterator[tuple[int, list[Row | BadRow], list[str]]]:
        """(first row index, rows, their ids), noting bad rows and keeping raw values for the workbook."""
        for rows in stream.chunks(_CHUNK_ROWS):
            start = len(ids)
            for row in rows:
                if isinstance(row, BadRow):
                    ids.append(f"row:{row.number}")
                    result.unmapped.append(f"{path.name}, row {row.number}: {row.message}")
                else:
                    ids.append(str(row.values.get(id_column) or f"row:{row.number}") if id_column
                               else str(row.number))
                if xlsx is not None:
                    raw_rows.append(row.values if not isinstance(row, BadRow) else {})
            yield start, rows, ids[start:]

    started = time.perf_counter()
    if isinstance(matcher, ProbabilisticMatcher):
        # map and build match features in worker processes, a chunk of rows at a time: mapping is
        # most of the work, and no parsed customer needs to stay in memory once its features exist
        identifiers = tuple(matcher.settings.identifiers)
        mapper = RowMapper(spec, identifiers, memo_limit=_WORKER_MEMO)
        features, problems = _map_chunks(mapper, chunks(), path.name, identifiers, workers)
        result.unmapped.extend(problems)
        result.rows = len(ids)
        if progress:
            progress(f"mapped {len(features)} of {len(ids)} rows; matching")
        # the CSV carries no explanations: only the workbook needs them
        resolution = matcher.resolve_features(features, timings={"map_and_features": time.perf_counter() - started},
                                              explain=xlsx is not None, keep_table=False)
        del features
    else:
        records: list[MatchRecord] = []
        for start, rows, chunk_ids in chunks():
            for offset, row in enumerate(rows):
                if isinstance(row, BadRow):
                    continue
                customer, reason = _map_one(spec, row, path.name, chunk_ids[offset])
                if customer is None:
                    result.unmapped.append(f"{path.name}, row {row.number}: {reason}")
                    continue
                records.append(MatchRecord(start + offset, customer, _EPOCH))
        result.rows = len(ids)
        if progress:
            progress(f"mapped {len(records)} of {len(ids)} rows; matching")
        resolution = matcher.resolve(records)
    cluster_of, probability = _assign(len(ids), resolution)
    _write_csv(out, ids, cluster_of, probability)
    result.clusters = len(set(cluster_of))
    result.multi_record_clusters = sum(1 for c in resolution.clusters if len(c.members) > 1)
    result.suggestions = len(resolution.suggestions)
    if xlsx is not None:
        _write_review(xlsx, list(stream.columns), ids, raw_rows, cluster_of, probability, resolution)
    return result


def _map_one(spec: MappingSpec, row: Row, stream: str, record_id: str) -> tuple[object | None, str]:
    """The row's customer, or None and why not."""
    mapped = map_row(spec, row.values, SourceRef(source="file", stream=stream, source_record_id=record_id))
    if mapped.record is None or mapped.record.__class__.__name__ != "Customer":
        return None, "; ".join(p.describe() for p in mapped.problems) or "not a customer row"
    return mapped.record, ""


def _map_chunk(start: int, ids: Sequence[str], rows: Sequence[Row | BadRow]) -> tuple[FeatureTable, list[str]]:
    """Features of one chunk of rows (row i has index start+i), and the rows that could not be mapped."""
    assert _JOB is not None
    mapper, stream, identifiers = _JOB
    customers, keys, problems = [], [], []
    for offset, row in enumerate(rows):
        if isinstance(row, BadRow):
            continue
        # the memoised mapper: map_row's results, each distinct value transformed once per process
        mapped = mapper.map(row.values, "file", stream, ids[offset])
        if mapped.canonical is None or not mapper.customer:
            reason = "; ".join(p.describe() for p in mapped.problems) or "not a customer row"
            problems.append(f"{stream}, row {row.number}: {reason}")
            continue
        customers.append(mapped.canonical)
        keys.append(start + offset)
    return features_from_canonical(customers, keys, identifiers=identifiers), problems


def map_features(spec: MappingSpec, rows: Sequence[Row | BadRow], ids: list[str], stream: str,
                 identifiers: tuple[str, ...], workers: int) -> tuple[FeatureTable, list[str]]:
    """Map rows to customers and their match features, in `workers` processes; keys are row indexes.

    Returns the features of the rows that mapped and, for the others, why not (file, row, reason).
    """
    chunks = ((s, rows[s:s + _CHUNK_ROWS], ids[s:s + _CHUNK_ROWS]) for s in range(0, len(rows), _CHUNK_ROWS))
    return _map_chunks(RowMapper(spec, identifiers, memo_limit=_WORKER_MEMO), chunks, stream, identifiers, workers)


def _map_chunks(mapper: RowMapper, chunks: Iterator[tuple[int, list[Row | BadRow], list[str]]], stream: str,
                identifiers: tuple[str, ...], workers: int | None) -> tuple[FeatureTable, list[str]]:
    """Features of every chunk, in order; chunks are read only as workers become free (bounded memory).

    `workers` None: two processes (at most one per core) once the rows reach _PARALLEL_FROM.
    """
    global _JOB  # noqa: PLW0603 - the mapper, inherited by forked workers
    _JOB = (mapper, stream, identifiers)
    head: list[tuple[int, list[Row | BadRow], list[str]]] = []
    for chunk in chunks:  # the first chunks tell whether the file is big enough for workers
        head.append(chunk)
        if sum(len(rows) for _, rows, _ in head) >= _PARALLEL_FROM:
            break
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if sum(len(rows) for _, rows, _ in head) >= _PARALLEL_FROM else 1
    everything = itertools.chain(head, chunks)
    table: FeatureTable | None = None
    problems: list[str] = []

    def take(part: FeatureTable, found: list[str]) -> None:
        nonlocal table
        problems.extend(found)
        if table is None:
            table = part
        else:
            table.extend(part)

    try:
        if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            for start, rows, chunk_ids in everything:
                take(*_map_chunk(start, chunk_ids, rows))
        else:
            # Workers get their chunk's rows pickled, and the parent's objects are frozen out of the
            # cycle collector: otherwise the workers' own collections would write to every inherited
            # object and copy the parent's memory into each. A few chunks in flight at a time.
            gc.freeze()
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                pending: deque[Future] = deque()
                for start, rows, chunk_ids in everything:
                    pending.append(pool.submit(_map_chunk, start, chunk_ids, rows))
                    if len(pending) >= 2 * workers:
                        take(*pending.popleft().result())
                while pending:
                    take(*pending.popleft().result())
    finally:
        gc.unfreeze()
        _JOB = None
    return (table if table is not None else features_from_canonical([], identifiers=identifiers)), problems


def _assign(n: int, resolution: Resolution) -> tuple[list[str], list[float]]:
    cluster_of = [""] * n
    probability = [0.0] * n
    for number, cluster in enumerate(resolution.clusters, start=1):
        for member in cluster.members:
            cluster_of[member.key] = f"c{number}"
            probability[member.key] = member.score if len(cluster.members) > 1 else 0.0
    extra = len(resolution.clusters)
    for i in range(n):  # rows that could not be mapped stand alone
        if not cluster_of[i]:
            extra += 1
            cluster_of[i] = f"c{extra}"
    return cluster_of, probability


def _write_csv(out: Path, ids: list[str], cluster_of: list[str], probability: list[float]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "cluster_id", "match_probability"])
        for record_id, cluster, p in zip(ids, cluster_of, probability, strict=True):
            writer.writerow([record_id, cluster, f"{p:.4f}"])


def _write_review(path: Path, columns: list[str], ids: list[str], rows: list[dict[str, object]],
                  cluster_of: list[str], probability: list[float], resolution: Resolution) -> None:
    explanation = {m.key: m.explanation for c in resolution.clusters for m in c.members if len(c.members) > 1}
    sizes: dict[str, int] = {}
    for cluster in cluster_of:
        sizes[cluster] = sizes.get(cluster, 0) + 1
    order = sorted(range(len(ids)), key=lambda i: (-sizes[cluster_of[i]], int(cluster_of[i][1:]), i))
    book = Workbook()
    sheet = book.active
    sheet.title = "Clusters"
    sheet.append(["Cluster", "Records in cluster", "Match probability", "Why", "Record id", *columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    shade, previous = 0, None
    for i in order:
        if cluster_of[i] != previous:
            shade, previous = 1 - shade, cluster_of[i]
        sheet.append([cluster_of[i], sizes[cluster_of[i]], round(probability[i], 4), explanation.get(i, ""),
                      ids[i], *[rows[i].get(c) for c in columns]])
        if sizes[cluster_of[i]] > 1:
            for cell in sheet[sheet.max_row]:
                cell.fill = PatternFill("solid", fgColor=_FILLS[shade] if shade else "FFDDEBF7")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    suggestions = book.create_sheet("Suggestions")
    suggestions.append(["Record id A", "Record id B", "Match probability", "Reason", "Why"])
    for s in resolution.suggestions:
        suggestions.append([ids[s.record_a], ids[s.record_b], round(s.probability, 4), s.reason, s.explanation])
    book.save(path)
