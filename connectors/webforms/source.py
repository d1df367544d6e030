"""The Airbyte source over the web-form inbox: submissions in inbox order, incremental by sequence id.

Two streams carry the same submissions, each with its own cursor, because a mapping turns
one stream into one entity: `submissions` feeds customers, `interactions` feeds
form_submission interactions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from airbyte_cdk.models import AirbyteMessage, ConnectorSpecification, DestinationSyncMode
from airbyte_cdk.sources.streams import Stream
from sqlalchemy.exc import SQLAlchemyError

from connectors.common.config import ConnectorConfigError
from connectors.common.stream import (
    RECORD_ID_KEY,
    ROW_KEY,
    CrmsyncSource,
    CursorStream,
    config_error,
    read_in_process,
)
from connectors.webforms.config import CONNECTION_SPECIFICATION, WebformsConfig, parse_webforms_config
from sync.store import InboxRow, Store, StoreError, count_submissions, open_store, read_submissions, safe_url

__all__ = ["InboxStream", "WebformsSource", "iter_airbyte_messages", "record_of"]

logger = logging.getLogger(__name__)
STREAMS = ("submissions", "interactions")
INBOX_ID = "inbox.id"


def record_of(row: InboxRow, *, qualified: bool) -> dict[str, Any]:
    """One inbox row as record data: the form's fields plus `inbox.*` columns and the metadata keys."""
    data: dict[str, Any] = dict(row.fields)
    data.update({
        INBOX_ID: row.id,
        "inbox.source": row.source,
        "inbox.submission_id": row.submission_id,
        "inbox.shape": row.shape,
        "inbox.received_at": row.received_at.isoformat(),
    })
    data[RECORD_ID_KEY] = f"{row.source}:{row.submission_id}" if qualified else row.submission_id
    data[ROW_KEY] = row.id
    return data


def open_inbox(config: WebformsConfig) -> Store:
    """Open the store that holds the inbox (never migrates it: that is the writer's job)."""
    url = config.resolved_database_url()
    try:
        return open_store(url, upgrade_schema=False)
    except StoreError as exc:
        raise config_error(f"webforms: {exc}") from exc


class InboxStream(CursorStream):
    """Inbox submissions of one source (or all), oldest first, resuming after the saved inbox id."""

    cursor_name = INBOX_ID

    def __init__(self, name: str, config: WebformsConfig) -> None:
        super().__init__(name, checkpoint_every=config.batch_size)
        self.config = config

    def read_new(self) -> Iterator[Mapping[str, Any]]:
        """Page through the inbox by id; each id is unique, so every record advances the cursor."""
        after = int(self.saved_cursor or 0)
        store = open_inbox(self.config)
        try:
            while True:
                try:
                    with store.session() as session:
                        rows = read_submissions(session, source=self.config.source, after_id=after,
                                                limit=self.config.batch_size)
                except SQLAlchemyError as exc:
                    raise config_error(f"webforms: cannot read the inbox at {store.url}: "
                                       f"{type(exc).__name__}; run `crmsync db upgrade`") from exc
                for row in rows:
                    after = row.id
                    self.advance(row.id)
                    yield record_of(row, qualified=self.config.source is None)
                if len(rows) < self.config.batch_size:
                    return
        finally:
            store.dispose()


class WebformsSource(CrmsyncSource):
    """Reads the crmsync web-form inbox (filled by POST /hooks/forms/{source})."""

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        """The connection specification (see `config.WebformsConfig`)."""
        return ConnectorSpecification(connectionSpecification=CONNECTION_SPECIFICATION, supportsIncremental=True,
                                      supported_destination_sync_modes=[DestinationSyncMode.append])

    def parsed(self, config: Mapping[str, Any]) -> WebformsConfig:
        """The typed config, or an Airbyte config error naming the key."""
        try:
            return parse_webforms_config(dict(config))
        except ConnectorConfigError as exc:
            raise config_error(str(exc)) from exc

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, str | None]:
        """Open the store and count the inbox rows."""
        try:
            parsed = parse_webforms_config(dict(config))
        except ConnectorConfigError as exc:
            return False, str(exc)
        url = parsed.resolved_database_url()
        try:
            store = open_store(url, upgrade_schema=False)
        except StoreError as exc:
            return False, f"webforms: {exc}"
        try:
            with store.session() as session:
                count = count_submissions(session, parsed.source)
        except SQLAlchemyError as exc:
            return False, f"webforms: cannot read the inbox at {safe_url(url)} ({type(exc).__name__})"
        finally:
            store.dispose()
        logger.info("webforms: %d submissions in the inbox", count)
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        """`submissions` and `interactions`, the same records with separate cursors."""
        parsed = self.parsed(config)
        return [InboxStream(name, parsed) for name in STREAMS]


def iter_airbyte_messages(
    config: dict[str, Any],
    streams: list[str] | None = None,
    state: dict[str, dict[str, Any]] | None = None,
) -> Iterator[AirbyteMessage]:
    """Run an incremental `read` in-process and yield its Airbyte messages."""
    yield from read_in_process(WebformsSource(), config, streams, state)
