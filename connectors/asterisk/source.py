"""Asterisk CDR CSV (`cdr_csv`, Master.csv) as an Airbyte source: one `cdr` stream, incremental by byte offset.

Asterisk only ever appends to the file, so the state is where the last complete line ended
(`cursor`, in bytes), its line number, and a fingerprint of the file's first line: when the
file is shorter than the cursor or starts differently, it was rotated and is read from the
top. A last line without its newline is still being written and waits for the next run.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airbyte_cdk.sources.streams import Stream
from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.asterisk.cdr import CdrError, direction_of, parse_line
from connectors.common.config import parse_config
from connectors.common.stream import (
    CURSOR_KEY,
    RECORD_ID_KEY,
    ROW_KEY,
    ConfiguredSource,
    CursorStream,
    config_error,
)

__all__ = ["AsteriskConfig", "AsteriskSource", "CdrStream", "iter_airbyte_messages"]

logger = logging.getLogger(__name__)
_HEAD_BYTES = 4096


class AsteriskConfig(BaseModel):
    """Where the CDR file is and how to read its times and numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1, description="the cdr_csv file, e.g. /var/log/asterisk/cdr-csv/Master.csv; "
                      "relative paths resolve against base_dir")
    timezone: str = Field("UTC", description="IANA zone of the CDR times (Asterisk writes local time unless "
                          "cdr.conf sets usegmtime=yes)")
    extra_columns: list[Literal["uniqueid", "userfield"]] | None = Field(
        None, description="columns after the standard 16; default: by field count (17: uniqueid, 18: both)")
    extension_digits: int = Field(5, ge=1, le=10, description="numbers this short are internal extensions")
    outbound_contexts: list[str] = Field(default_factory=lambda: ["from-internal"],
                                         description="dialplan contexts of your phones (for calls without a caller)")
    checkpoint_every: int = Field(500, ge=1, description="records between state checkpoints")
    base_dir: str | None = Field(None, description="project folder (set by crmsync)")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Moscow or UTC") from None
        return value

    def resolved_path(self) -> Path:
        """The file's absolute path."""
        path = Path(self.path).expanduser()
        if not path.is_absolute():
            path = (Path(self.base_dir).expanduser() if self.base_dir else Path.cwd()) / path
        return path


def parse_asterisk_config(raw: Mapping[str, Any]) -> AsteriskConfig:
    """The typed config; ConnectorConfigError names the key."""
    return parse_config(AsteriskConfig, dict(raw), "asterisk")


def _head(data: bytes) -> str:
    first = data.split(b"\n", 1)[0]
    return hashlib.sha256(first).hexdigest()[:16]


class CdrStream(CursorStream):
    """The calls appended to the CDR file since the last run."""

    cursor_name = "started_at"

    def __init__(self, config: AsteriskConfig) -> None:
        super().__init__("cdr", checkpoint_every=config.checkpoint_every)
        self.config = config
        self.path = config.resolved_path()
        self.zone = ZoneInfo(config.timezone)
        self.extra = tuple(config.extra_columns) if config.extra_columns is not None else None
        self.outbound = frozenset(config.outbound_contexts)

    def _start(self, size: int, head: str) -> tuple[int, int]:
        offset = self._state.get(CURSOR_KEY)
        line = self._state.get("line", 0)
        if not isinstance(offset, int) or not isinstance(line, int) or offset < 0:
            return 0, 0
        if offset > size or (offset > 0 and self._state.get("head") != head):
            logger.info("%s: the file was rotated or truncated; reading it from the top", self.path)
            return 0, 0
        return offset, line

    def _record(self, text: str, number: int) -> dict[str, Any]:
        where = {ROW_KEY: number, "_file": self.path.name}
        try:
            row = parse_line(text, timezone=self.zone, extra=self.extra)
        except CdrError as exc:
            digest = hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:24]
            return {"line": text, RECORD_ID_KEY: digest, "_error": f"line {number} {exc}", **where}
        direction = direction_of(row.values, outbound_contexts=self.outbound,
                                 extension_digits=self.config.extension_digits)
        return {**row.values, "started_at": row.started_at.isoformat(), "direction": direction,
                RECORD_ID_KEY: row.record_id, **where}

    def read_new(self) -> Iterator[Mapping[str, Any]]:
        """Complete lines after the saved offset; the state is exact after every record."""
        try:
            with self.path.open("rb") as file:
                head_bytes = file.read(_HEAD_BYTES)
                size = file.seek(0, 2)
                head = _head(head_bytes)
                offset, number = self._start(size, head)
                file.seek(offset)
                for raw in file:
                    if not raw.endswith(b"\n"):
                        break  # still being written
                    offset += len(raw)
                    number += 1
                    text = raw.rstrip(b"\r\n").decode("utf-8", "replace")
                    # The CDK reads the state while this generator is paused at the yield.
                    self._state = {CURSOR_KEY: offset, "line": number, "head": head}
                    if text.strip():
                        yield self._record(text, number)
                self._state = {CURSOR_KEY: offset, "line": number, "head": head}
        except FileNotFoundError as exc:
            raise config_error(f"asterisk: CDR file not found at {self.path}; fix path") from exc
        except OSError as exc:
            raise config_error(f"asterisk: cannot read {self.path}: {exc.strerror or exc}; fix path") from exc


class AsteriskSource(ConfiguredSource):
    """Reads an Asterisk cdr_csv file."""

    config_model = AsteriskConfig
    title = "Asterisk CDR CSV"

    def parse(self, config: Mapping[str, Any]) -> AsteriskConfig:
        """The typed config (see `AsteriskConfig`)."""
        return parse_asterisk_config(config)

    def probe(self, parsed: AsteriskConfig) -> str | None:
        """The file exists and is readable, and its first line (if any) is a CDR."""
        path = parsed.resolved_path()
        if not path.is_file():
            return f"asterisk: CDR file not found at {path}; fix path (cdr_csv writes Master.csv)"
        try:
            with path.open("rb") as file:
                first = file.readline().rstrip(b"\r\n").decode("utf-8", "replace")
        except OSError as exc:
            return f"asterisk: cannot read {path}: {exc.strerror or exc}"
        if first:
            try:
                parse_line(first, timezone=ZoneInfo(parsed.timezone),
                           extra=tuple(parsed.extra_columns) if parsed.extra_columns is not None else None)
            except CdrError as exc:
                return f"asterisk: {path} line 1 {exc}; is this a cdr_csv file?"
        return None

    def make_streams(self, parsed: AsteriskConfig) -> list[Stream]:
        """The `cdr` stream."""
        return [CdrStream(parsed)]


iter_airbyte_messages = AsteriskSource.read_messages
