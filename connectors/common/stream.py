"""Cursor streams and a source base: what every incremental crmsync source has in common.

A stream's state is `{"cursor": value}` where every record whose cursor is at or below
`value` has been emitted. Sources that read in ascending cursor order report progress with
`advance()` (the state moves only when the cursor value strictly grows, so records that tie
on the cursor are never cut in half); sources that read newest-first inside a window call
`commit()` once the window is complete. A crash therefore re-reads, never skips.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
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
from pydantic import BaseModel

from connectors.common.config import ConnectorConfigError, connection_spec
from connectors.common.http import ApiError, AuthError, TransientError
from sync.redaction import redact

__all__ = [
    "CURSOR_KEY",
    "ConfiguredSource",
    "RECORD_ID_KEY",
    "ROW_KEY",
    "CrmsyncSource",
    "CursorStream",
    "KeyedStream",
    "config_error",
    "configured_catalog",
    "read_in_process",
    "state_messages",
]

RECORD_ID_KEY = "_record_id"
ROW_KEY = "_row"
CURSOR_KEY = "cursor"


def config_error(message: str) -> AirbyteTracedException:
    """An Airbyte config error whose user-facing message is `message` (secrets masked)."""
    text = redact(message)
    return AirbyteTracedException(message=text, internal_message=text, failure_type=FailureType.config_error)


class KeyedStream(Stream, CheckpointMixin):
    """A resumable stream of records keyed by `_record_id`: the name, key, cursor column and state plumbing.

    Subclasses set `cursor_name` (the record column that orders the stream) and read records;
    `state` is whatever dictionary the subclass keeps in `self._state`.
    """

    cursor_name = "cursor"  # the record column the cursor follows, for the catalog

    def __init__(self, name: str, checkpoint_every: int = 100) -> None:
        self._name = name
        self._checkpoint_every = checkpoint_every
        self._state: dict[str, Any] = {}

    @property
    def name(self) -> str:  # type: ignore[override]
        """The stream name."""
        return self._name

    @property
    def primary_key(self) -> list[list[str]]:
        """Records are identified by `_record_id`."""
        return [[RECORD_ID_KEY]]

    @property
    def cursor_field(self) -> str:
        """The record column that orders the stream."""
        return self.cursor_name

    @property
    def state_checkpoint_interval(self) -> int:
        """Records between STATE messages."""
        return self._checkpoint_every

    @property
    def state(self) -> MutableMapping[str, Any]:
        """The stream's resume point (a copy)."""
        return dict(self._state)

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._state = dict(value or {})


class CursorStream(KeyedStream):
    """An incremental stream whose state is one cursor value, `{"cursor": value}`: everything at or below
    value has been emitted. Subclasses implement `read_new`."""

    def __init__(self, name: str, checkpoint_every: int = 100) -> None:
        super().__init__(name, checkpoint_every)
        self._pending: Any = None  # the highest cursor seen but not yet safe to save

    @property
    def saved_cursor(self) -> Any:
        """The saved cursor value, or None before the first complete read."""
        return self._state.get(CURSOR_KEY)

    def advance(self, value: Any) -> None:
        """Note a record's cursor value, read in ascending order.

        The state moves to the previous value once a strictly greater one appears: only then
        are all records tying on the previous value known to be emitted.
        """
        if self._pending is not None and value > self._pending and (
                self.saved_cursor is None or self._pending > self.saved_cursor):  # re-reads never move it back
            self._state = {CURSOR_KEY: self._pending}
        if self._pending is None or value > self._pending:
            self._pending = value

    def commit(self, value: Any | None = None) -> None:
        """Everything up to `value` (default: the highest value seen) has been emitted."""
        target = value if value is not None else self._pending
        if target is not None and (self.saved_cursor is None or target > self.saved_cursor):
            self._state = {CURSOR_KEY: target}
        self._pending = None

    def get_json_schema(self) -> Mapping[str, Any]:
        """Open schema: the metadata keys typed, the rest free (each source documents its columns)."""
        return {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": True,
            "properties": {RECORD_ID_KEY: {"type": "string"}, self.cursor_name: {"type": ["string", "null"]}},
        }

    def read_new(self) -> Iterator[Mapping[str, Any]]:
        """Yield records after the saved cursor, calling `advance`/`commit` as they are emitted."""
        raise NotImplementedError

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        """Incremental reads resume from the state; full refresh starts from the beginning."""
        if sync_mode == SyncMode.full_refresh:
            self._state = {}
        self._pending = None
        try:
            yield from self.read_new()
        except ApiError as exc:
            # The CDK would report any other exception as "Something went wrong in the connector".
            kind = FailureType.config_error if isinstance(exc, AuthError) else (
                FailureType.transient_error if isinstance(exc, TransientError) else FailureType.system_error)
            raise AirbyteTracedException(message=f"{self.name}: {exc}", internal_message=str(exc),
                                         failure_type=kind) from exc
        self.commit()


class CrmsyncSource(AbstractSource):
    """An AbstractSource whose check reports the plain user message and masks secrets."""

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Like the CDK's check, but the failure message is the connector's own sentence."""
        ok, error = self.check_connection(logger, config)
        if ok:
            return AirbyteConnectionStatus(status=Status.SUCCEEDED)
        return AirbyteConnectionStatus(status=Status.FAILED, message=redact(str(error)))


class ConfiguredSource(CrmsyncSource):
    """A source described by its typed config: spec, check and streams follow from four members.

    Subclasses set `config_model` and `title` and implement `parse` (raw config → typed, raising
    ConnectorConfigError), `probe` (one cheap call proving credentials and ids: None when fine, else
    the user's sentence; an ApiError counts as a failed check) and `make_streams`.
    """

    config_model: type[BaseModel]
    title: str

    def parse(self, config: Mapping[str, Any]) -> Any:
        """The typed config; ConnectorConfigError names the key that is wrong."""
        raise NotImplementedError

    def probe(self, parsed: Any) -> str | None:
        """None when the service answers as it should, else what is wrong."""
        raise NotImplementedError

    def make_streams(self, parsed: Any) -> list[Stream]:
        """The streams this config reads."""
        raise NotImplementedError

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        """The connection specification, from `config_model`."""
        return ConnectorSpecification(connectionSpecification=connection_spec(self.config_model, self.title),
                                      supportsIncremental=True,
                                      supported_destination_sync_modes=[DestinationSyncMode.append])

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, str | None]:
        """Parse the config, then `probe`."""
        try:
            problem = self.probe(self.parse(config))
        except (ConnectorConfigError, ApiError) as exc:
            return False, str(exc)
        return problem is None, problem

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        """`make_streams` of the parsed config; a bad config is an Airbyte config error."""
        try:
            parsed = self.parse(config)
        except ConnectorConfigError as exc:
            raise config_error(str(exc)) from exc
        return self.make_streams(parsed)

    @classmethod
    def read_messages(
        cls,
        config: Mapping[str, Any],
        streams: list[str] | None = None,
        state: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Iterator[AirbyteMessage]:
        """Run an incremental `read` in-process and yield its Airbyte messages."""
        yield from read_in_process(cls(), config, streams, state)


def configured_catalog(streams: Iterable[Stream]) -> ConfiguredAirbyteCatalog:
    """A catalog that reads the given streams incrementally."""
    configured = []
    for stream in streams:
        cursor = [str(stream.cursor_field)]
        configured.append(ConfiguredAirbyteStream(
            stream=AirbyteStream(
                name=stream.name, json_schema={"type": "object"},
                supported_sync_modes=[SyncMode.full_refresh, SyncMode.incremental],
                source_defined_cursor=True, default_cursor_field=cursor,
                source_defined_primary_key=[[RECORD_ID_KEY]],
            ),
            sync_mode=SyncMode.incremental, destination_sync_mode=DestinationSyncMode.append,
            cursor_field=cursor, primary_key=[[RECORD_ID_KEY]],
        ))
    return ConfiguredAirbyteCatalog(streams=configured)


def state_messages(state: Mapping[str, Mapping[str, Any]] | None) -> list[AirbyteStateMessage]:
    """Per-stream STATE messages for a `{stream name: state}` mapping."""
    return [
        AirbyteStateMessage(
            type=AirbyteStateType.STREAM,
            stream=AirbyteStreamState(stream_descriptor=StreamDescriptor(name=name),
                                      stream_state=AirbyteStateBlob(dict(value))),
        )
        for name, value in (state or {}).items()
    ]


def read_in_process(
    source: AbstractSource,
    config: Mapping[str, Any],
    streams: list[str] | None,
    state: Mapping[str, Mapping[str, Any]] | None,
) -> Iterator[AirbyteMessage]:
    """Run an incremental `read` of the named streams (default: all) and yield its messages."""
    available = source.streams(config)
    names = [s.name for s in available]
    selected = list(streams) if streams is not None else names
    unknown = [name for name in selected if name not in names]
    if unknown:
        raise config_error(f"unknown stream '{unknown[0]}'; this source's streams are: {', '.join(names)}")
    chosen = [s for s in available if s.name in selected]
    yield from source.read(logging.getLogger("airbyte"), config, configured_catalog(chosen), state_messages(state))
