"""Dedupe one spreadsheet for people migrating off Excel: clusters.csv and a workbook to review.

`crmsync dedupe FILE --map MAPPING.yaml --out clusters.csv [--xlsx review.xlsx]`. Every row of the
file appears in the output: rows that cannot be mapped stay on their own, with the reason.
"""

from __future__ import annotations

import csv
import gc
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from connectors.files import BadRow, Row, read_table
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
_PARALLEL_FROM = 20_000  # below this many rows a process pool costs more than it saves
# what forked workers read instead of receiving it pickled: (mapper, rows, stream, identifiers)
_JOB: tuple[RowMapper, Sequence[Row | BadRow], str, tuple[str, ...]] | None = None


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

    `workers`: processes that map rows (default: one per core, two at most, for files of 20,000
    rows and more; 0 or 1 maps in this process).
    """
    spec = load_mapping(mapping)
    table = read_table(path, sheet=sheet)
    if id_column and id_column not in table.columns:
        raise ValueError(f"{path.name}: --id-column {id_column!r} is not a column "
                         f"(columns: {', '.join(table.columns)})")
    result = FileDedupeResult()
    ids: list[str] = []
    raw_rows: list[dict[str, object]] = []
    for row in table.rows:
        if isinstance(row, BadRow):
            ids.append(f"row:{row.number}")
            result.unmapped.append(f"{path.name}, row {row.number}: {row.message}")
        else:
            ids.append(str(row.values.get(id_column) or f"row:{row.number}") if id_column else str(row.number))
        raw_rows.append(row.values if xlsx is not None and not isinstance(row, BadRow) else {})
    result.rows = len(ids)
    started = time.perf_counter()
    if isinstance(matcher, ProbabilisticMatcher):
        # map and build match features in worker processes, a chunk of rows at a time: mapping is
        # most of the work, and no parsed customer needs to stay in memory once its features exist
        features, problems = map_features(spec, table.rows, ids, path.name, tuple(matcher.settings.identifiers),
                                       workers if workers is not None else _default_workers(len(ids)))
        result.unmapped.extend(problems)
        if progress:
            progress(f"mapped {len(features)} of {len(ids)} rows; matching")
        # the CSV carries no explanations: only the workbook needs them
        resolution = matcher.resolve_features(features, timings={"map_and_features": time.perf_counter() - started},
                                              explain=xlsx is not None)
    else:
        records: list[MatchRecord] = []
        for index, row in enumerate(table.rows):
            if isinstance(row, BadRow):
                continue
            customer, reason = _map_one(spec, row, path.name, ids[index])
            if customer is None:
                result.unmapped.append(f"{path.name}, row {row.number}: {reason}")
                continue
            records.append(MatchRecord(index, customer, _EPOCH))
        if progress:
            progress(f"mapped {len(records)} of {len(ids)} rows; matching")
        resolution = matcher.resolve(records)
    cluster_of, probability = _assign(len(ids), resolution)
    _write_csv(out, ids, cluster_of, probability)
    result.clusters = len(set(cluster_of))
    result.multi_record_clusters = sum(1 for c in resolution.clusters if len(c.members) > 1)
    result.suggestions = len(resolution.suggestions)
    if xlsx is not None:
        _write_review(xlsx, table.columns, ids, raw_rows, cluster_of, probability, resolution)
    return result


def _default_workers(rows: int) -> int:
    return min(2, os.cpu_count() or 1) if rows >= _PARALLEL_FROM else 1


def _map_one(spec: MappingSpec, row: Row, stream: str, record_id: str) -> tuple[object | None, str]:
    """The row's customer, or None and why not."""
    mapped = map_row(spec, row.values, SourceRef(source="file", stream=stream, source_record_id=record_id))
    if mapped.record is None or mapped.record.__class__.__name__ != "Customer":
        return None, "; ".join(p.describe() for p in mapped.problems) or "not a customer row"
    return mapped.record, ""


def _map_chunk(start: int, ids: Sequence[str], rows: Sequence[Row | BadRow] | None = None
               ) -> tuple[FeatureTable, list[str]]:
    """Features of rows start.. (as many as ids), keyed by row index; and the rows that could not be mapped.

    `rows` are the chunk's own rows (sent to a worker); without them they are read from the job.
    """
    assert _JOB is not None
    mapper, all_rows, stream, identifiers = _JOB
    customers, keys, problems = [], [], []
    for offset, record_id in enumerate(ids):
        row = rows[offset] if rows is not None else all_rows[start + offset]
        if isinstance(row, BadRow):
            continue
        # the memoised mapper: map_row's results, each distinct value transformed once per process
        mapped = mapper.map(row.values, "file", stream, record_id)
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
    global _JOB  # noqa: PLW0603 - the mapping, inherited by forked workers
    _JOB = (RowMapper(spec), rows, stream, identifiers)
    starts = range(0, len(rows), _CHUNK_ROWS)
    try:
        if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            done = [_map_chunk(s, ids[s:s + _CHUNK_ROWS]) for s in starts]
        else:
            # Workers get their chunk's rows pickled and never touch the parent's copy, and the
            # parent's objects are frozen out of the cycle collector: otherwise the workers' own
            # collections would write to every inherited object and copy the whole file into each.
            gc.freeze()
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
                done = list(pool.map(_map_chunk, starts, [ids[s:s + _CHUNK_ROWS] for s in starts],
                                     (rows[s:s + _CHUNK_ROWS] for s in starts)))
    finally:
        gc.unfreeze()
        _JOB = None
    problems = [message for _, found in done for message in found]
    return FeatureTable.concat([part for part, _ in done]), problems


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
