"""The Airbyte source for local files: one stream per CSV/JSON file and per workbook sheet."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStream,
    AirbyteStreamState,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteStream,
    ConnectorSpecification,
    DestinationSyncMode,
    FailureType,
    Status,
    StreamDescriptor,
    SyncMode,
)
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import CheckpointMixin, Stream
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from connectors.files.config import (
    CONNECTION_SPECIFICATION,
    FileEntry,
    FilesConfig,
    FilesConfigError,
    parse_config,
)
from connectors.files.model import FileReadError, Table
from connectors.files.readers import iter_table, list_sheets, read_table, resolve_format
from connectors.files.records import (
    RECORD_ID_KEY,
    ROW_KEY,
    check_primary_key,
    iter_records,
    iter_stream_records,
    json_schema,
)

logger = logging.getLogger(__name__)


def config_error(message: str) -> AirbyteTracedException:
    """An Airbyte config error whose user-facing message is ``message``."""
    return AirbyteTracedException(
        message=message, internal_message=message, failure_type=FailureType.config_error
    )


class FileStream(Stream, CheckpointMixin):
    """One CSV/JSON file or one workbook sheet, read in passes that can resume mid-file."""

    def __init__(
        self, entry: FileEntry, path: Path, stream_name: str, sheet: str | None,
        checkpoint_every: int,
    ) -> None:
        self.entry = entry
        self.path = path
        self.sheet = sheet
        self._name = stream_name
        self._checkpoint_every = checkpoint_every
        self._table: Table | None = None
        self._incoming: dict[str, Any] = {}
        self._state: dict[str, Any] = {}

    @property
    def name(self) -> str:  # type: ignore[override]
        """The stream name: ``name`` for csv/json, ``name:sheet`` for workbooks."""
        return self._name

    @property
    def primary_key(self) -> list[list[str]]:
        """Records are identified by ``_record_id``."""
        return [[RECORD_ID_KEY]]

    @property
    def cursor_field(self) -> str:
        """``_row`` orders the records; the real resume point is the state's position."""
        return ROW_KEY

    @property
    def state_checkpoint_interval(self) -> int:
        """Records between STATE messages."""
        return self._checkpoint_every

    @property
    def state(self) -> MutableMapping[str, Any]:
        """The pass state: fingerprint, pass_id, position (records emitted), complete."""
        return dict(self._state)

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._incoming = dict(value or {})
        self._state = dict(self._incoming)

    def _read_options(self) -> dict[str, Any]:
        entry = self.entry
        return {"file_format": entry.format, "sheet": self.sheet, "encoding": entry.encoding,
                "delimiter": entry.delimiter, "header_row": entry.header_row}

    def load(self) -> Table:
        """Read the table once per stream instance; raises ``FileReadError``."""
        if self._table is None:
            self._table = read_table(self.path, **self._read_options())
            check_primary_key(self._table, self.entry.primary_key)
        return self._table

    def get_json_schema(self) -> Mapping[str, Any]:
        """Every column a nullable string, plus the metadata keys."""
        try:
            return json_schema(self.load())
        except FileReadError as exc:
            raise config_error(str(exc)) from exc

    def _resume_point(self, table: Table) -> tuple[str, int]:
        state = self._incoming
        resumable = (
            state.get("fingerprint") == table.fingerprint
            and not state.get("complete", False)
            and isinstance(state.get("pass_id"), str)
            and isinstance(state.get("position"), int)
            and state["position"] >= 0
        )
        if resumable:
            logger.info("%s: resuming pass %s at record %d", self.name, state["pass_id"],
                        state["position"])
            return state["pass_id"], state["position"]
        pass_id = uuid.uuid4().hex
        logger.info("%s: starting pass %s", self.name, pass_id)
        return pass_id, 0

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        """Yield the pass's remaining records, keeping ``state`` exact after every record."""
        try:
            table = self.load()
        except FileReadError as exc:
            raise config_error(str(exc)) from exc
        pass_id, position = self._resume_point(table)
        base = {"fingerprint": table.fingerprint, "pass_id": pass_id}
        self._state = {**base, "position": position, "complete": False}
        records = iter_records(
            table, pass_id=pass_id, primary_key=self.entry.primary_key, skip=position
        )
        for record in records:
            # The CDK reads ``state`` right after this record is consumed, while this generator
            # is paused here, so the position must already count this record.
            position += 1
            self._state = {**base, "position": position, "complete": False}
            yield record
        self._state = {**base, "position": max(position, len(table.rows)), "complete": True}


    def read_batches(self, size: int) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
        """read_records in lists of ``size`` records, each with the state that follows it.

        The same records and the same states as the CDK emits every ``size`` records and at the
        end of the stream, without working the state out after every record, and with the file
        streamed (iter_table) rather than held as a table.
        """
        try:
            stream = iter_table(self.path, **self._read_options())
            check_primary_key(stream.head, self.entry.primary_key)
            pass_id, position = self._resume_point(stream.head)
            base = {"fingerprint": stream.fingerprint, "pass_id": pass_id}
            self._state = {**base, "position": position, "complete": False}
            batch: list[dict[str, Any]] = []
            for record in iter_stream_records(stream, pass_id=pass_id, primary_key=self.entry.primary_key,
                                              skip=position):
                batch.append(record)
                if len(batch) >= size:
                    position += len(batch)
                    self._state = {**base, "position": position, "complete": False}
                    yield batch, self.state
                    batch = []
        except FileReadError as exc:
            raise config_error(str(exc)) from exc
        # every row is counted in the position by now (skipped ones included), as read_records ends
        self._state = {**base, "position": position + len(batch), "complete": True}
        yield batch, self.state


class FilesSource(AbstractSource):
    """Reads CSV, XLSX, XLS, ODS and JSON files as Airbyte streams."""

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        """The connection specification (see ``config.CONNECTION_SPECIFICATION``)."""
        return ConnectorSpecification(
            connectionSpecification=CONNECTION_SPECIFICATION,
            supportsIncremental=True,
            supported_destination_sync_modes=[DestinationSyncMode.append],
        )

    def check_connection(
        self, logger: logging.Logger, config: Mapping[str, Any]
    ) -> tuple[bool, str | None]:
        """Open every configured file and sheet; fail with the first clear error."""
        try:
            for stream in self.file_streams(config):
                stream.load()
        except (FileReadError, FilesConfigError) as exc:
            return False, str(exc)
        except AirbyteTracedException as exc:
            return False, exc.message
        return True, None

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Like the CDK's check, but the failure message is the plain user message."""
        ok, error = self.check_connection(logger, config)
        if ok:
            return AirbyteConnectionStatus(status=Status.SUCCEEDED)
        return AirbyteConnectionStatus(status=Status.FAILED, message=error)

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        """One stream per csv/json file and per selected workbook sheet."""
        try:
            return list(self.file_streams(config))
        except (FileReadError, FilesConfigError) as exc:
            raise config_error(str(exc)) from exc

    def file_streams(self, config: Mapping[str, Any]) -> list[FileStream]:
        """The typed streams; raises ``FilesConfigError`` or ``FileReadError``."""
        parsed: FilesConfig = parse_config(config)
        streams: list[FileStream] = []
        names: set[str] = set()
        for entry in parsed.files:
            path = entry.resolved_path(parsed.base_dir)
            resolve_format(path, entry.format)  # fails early on an unknown extension
            if entry.is_workbook:
                sheets = entry.sheets if entry.sheets is not None else list_sheets(
                    path, entry.format
                )
                pairs = [(f"{entry.stream_prefix}:{sheet}", sheet) for sheet in sheets]
            else:
                if entry.sheets:
                    raise FileReadError(path, "is not a workbook; remove \"sheets\" for it")
                pairs = [(entry.stream_prefix, None)]
            for stream_name, sheet in pairs:
                if stream_name in names:
                    raise FilesConfigError(
                        f"two files give the stream name '{stream_name}'; set a different "
                        "\"name\" on one of them"
                    )
                names.add(stream_name)
                streams.append(FileStream(entry, path, stream_name, sheet, parsed.checkpoint_every))
        return streams


def configured_catalog(stream_names: Iterable[str]) -> ConfiguredAirbyteCatalog:
    """A catalog that reads the named streams incrementally."""
    return ConfiguredAirbyteCatalog(
        streams=[
            ConfiguredAirbyteStream(
                stream=AirbyteStream(
                    name=name,
                    json_schema={"type": "object"},
                    supported_sync_modes=[SyncMode.full_refresh, SyncMode.incremental],
                    source_defined_cursor=True,
                    default_cursor_field=[ROW_KEY],
                    source_defined_primary_key=[[RECORD_ID_KEY]],
                ),
                sync_mode=SyncMode.incremental,
                destination_sync_mode=DestinationSyncMode.append,
                cursor_field=[ROW_KEY],
                primary_key=[[RECORD_ID_KEY]],
            )
            for name in stream_names
        ]
    )


def state_messages(state: Mapping[str, Mapping[str, Any]] | None) -> list[AirbyteStateMessage]:
    """Per-stream STATE messages for a ``{stream name: state}`` mapping."""
    return [
        AirbyteStateMessage(
            type=AirbyteStateType.STREAM,
            stream=AirbyteStreamState(
                stream_descriptor=StreamDescriptor(name=name),
                stream_state=AirbyteStateBlob(dict(value)),
            ),
        )
        for name, value in (state or {}).items()
    ]


def iter_airbyte_messages(
    config: dict[str, Any],
    streams: list[str] | None = None,
    state: dict[str, dict[str, Any]] | None = None,
) -> Iterator[AirbyteMessage]:
    """Run an incremental ``read`` in-process and yield its Airbyte messages."""
    source = FilesSource()
    try:
        available = [s.name for s in source.file_streams(config)]
    except (FileReadError, FilesConfigError) as exc:
        raise config_error(str(exc)) from exc
    selected = list(streams) if streams is not None else available
    unknown = [name for name in selected if name not in available]
    if unknown:
        raise config_error(
            f"unknown stream '{unknown[0]}'; the configured streams are: {', '.join(available)}"
        )
    yield from source.read(
        logging.getLogger("airbyte"), config, configured_catalog(selected), state_messages(state)
    )


def input_bytes(config: dict[str, Any]) -> int:
    """How many bytes the configured files hold (0 for a config or file that cannot be read)."""
    try:
        parsed = parse_config(config)
    except FilesConfigError:
        return 0
    total = 0
    for entry in parsed.files:
        try:
            total += entry.resolved_path(parsed.base_dir).stat().st_size
        except OSError:
            continue
    return total


BatchEvent = tuple[str, str, Any]
"""("records", stream, [record data, ...]) | ("state", stream, state) | ("error", stream, message)."""


def iter_record_batches(
    config: dict[str, Any],
    streams: list[str] | None = None,
    state: dict[str, dict[str, Any]] | None = None,
) -> Iterator[BatchEvent]:
    """The same read as ``iter_airbyte_messages``, as batches of record data, for in-process ingest.

    Records, STATE checkpoints (every ``checkpoint_every`` records and at the end of a stream)
    and per-stream errors come in the order the Airbyte protocol gives them, without wrapping
    each record in a message: the pipeline's fast path. Airbyte deployments and
    ``python -m connectors.files read`` keep using the protocol.
    """
    source = FilesSource()
    try:
        available = {s.name: s for s in source.file_streams(config)}
    except (FileReadError, FilesConfigError) as exc:
        raise config_error(str(exc)) from exc
    selected = list(streams) if streams is not None else list(available)
    unknown = [name for name in selected if name not in available]
    if unknown:
        raise config_error(
            f"unknown stream '{unknown[0]}'; the configured streams are: {', '.join(available)}"
        )
    for name in selected:
        stream = available[name]
        stream.state = dict((state or {}).get(name) or {})
        try:
            for batch, checkpoint in stream.read_batches(stream.state_checkpoint_interval):
                yield "records", name, batch
                yield "state", name, checkpoint
        except AirbyteTracedException as exc:
            yield "error", name, exc.message or str(exc)
