"""A table's rows on demand, a chunk at a time: what big files are read with (see iter_table)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from connectors.files.csv_stream import CellRow, CsvLayout
from connectors.files.model import BadRow, Row, Table

__all__ = ["TableStream"]


@dataclass(frozen=True)
class TableStream:
    """One table's layout (columns, fingerprint, header row, ...) and its rows, read when iterated.

    A UTF-8 CSV file is parsed as the rows are asked for, so memory does not grow with the
    file; other files are read whole on the first iteration (see connectors/files/csv_stream.py).
    Iterating again reads the file again. The rows are exactly read_table's, in the same order.
    """

    head: Table  # the table without its rows: path, format, columns, fingerprint, header_row, ...
    layout: CsvLayout | None = None  # None: read_table reads the rows
    whole: Table | None = None  # the rows of a table that was read whole

    @property
    def path(self) -> Path:
        return self.head.path

    @property
    def file(self) -> str:
        return self.head.file

    @property
    def columns(self) -> tuple[str, ...]:
        return self.head.columns

    @property
    def fingerprint(self) -> str:
        return self.head.fingerprint

    def __iter__(self) -> Iterator[Row | BadRow]:
        """Every row (good or bad) in file order."""
        layout = self.layout
        if layout is None:
            assert self.whole is not None
            yield from self.whole.rows
            return
        to_row = layout.to_row
        for item in layout.items():
            yield item if type(item) is BadRow else to_row(*item)  # type: ignore[misc]

    def chunks(self, size: int = 5000) -> Iterator[list[Row | BadRow]]:
        """The rows in lists of at most ``size`` (the last one may be shorter; none is empty)."""
        chunk: list[Row | BadRow] = []
        for row in self:
            chunk.append(row)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def items(self) -> Iterator[CellRow | Row | BadRow]:
        """The rows, with a streamed CSV's good rows still as (line, cells) (see CsvLayout.to_row)."""
        if self.layout is not None:
            yield from self.layout.items()
        else:
            assert self.whole is not None
            yield from self.whole.rows
