"""JotForm submissions as an Airbyte source: one stream per form, incremental by created_at (contract 8b).

Submissions are asked for oldest first (`orderby=created_at&direction=ASC`) with the filter
`{"created_at:gt": <cursor>}` and offset paging, so the cursor can follow the records: it
moves to a timestamp only once a later one appears (submissions tying on a second are never
split between runs), and `:gt` then skips exactly what was emitted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from airbyte_cdk.sources.streams import Stream
from pydantic import Field, SecretStr

from connectors.common.config import parse_config
from connectors.common.http import ApiClient, ApiError, HttpSettings
from connectors.common.stream import RECORD_ID_KEY, ConfiguredSource, CursorStream
from connectors.jotform.answers import JotformShapeError, flatten_api_submission
from sync.redaction import register_secret

__all__ = ["JotformConfig", "JotformSource", "SubmissionsStream", "iter_airbyte_messages"]

logger = logging.getLogger(__name__)
CURSOR = "created_at"
_FORMAT = "%Y-%m-%d %H:%M:%S"


class JotformConfig(HttpSettings):
    """Which forms to read and how."""

    api_key: SecretStr = Field(description="API key (My Account → API), read access",
                               json_schema_extra={"airbyte_secret": True})
    form_ids: list[str] = Field(min_length=1, description="form ids (the number in the form's URL)")
    start_date: date | None = Field(None, description="first day to read (the account's time zone); "
                                    "default: everything")
    page_size: int = Field(1000, ge=1, le=1000, description="submissions per page (JotForm allows 1000)")
    base_url: str = Field("https://api.jotform.com", description="eu-api.jotform.com for EU accounts; "
                          "an emulator's URL in tests")


def parse_jotform_config(raw: Mapping[str, Any]) -> JotformConfig:
    """The typed config (its key registered for redaction); ConnectorConfigError names the key."""
    config = parse_config(JotformConfig, dict(raw), "jotform")
    register_secret(config.api_key.get_secret_value())
    return config


def client_for(config: JotformConfig) -> ApiClient:
    """An API client sending the key in the APIKEY header (never in the URL, which gets logged)."""
    return ApiClient(config.base_url, api_name="JotForm", settings=config,
                     credentials_hint="api_key (JotForm → My Account → API)",
                     headers={"APIKEY": config.api_key.get_secret_value()})


class SubmissionsStream(CursorStream):
    """The submissions of one form, oldest first."""

    cursor_name = CURSOR

    def __init__(self, config: JotformConfig, form_id: str) -> None:
        super().__init__(f"submissions:{form_id}", checkpoint_every=config.page_size)
        self.config = config
        self.form_id = form_id

    def _after(self) -> str:
        if self.saved_cursor:
            return str(self.saved_cursor)
        first = self.config.start_date or date(2006, 1, 1)  # before JotForm existed
        return (datetime.combine(first, datetime.min.time()) - timedelta(seconds=1)).strftime(_FORMAT)

    def _record(self, item: Mapping[str, Any]) -> dict[str, Any]:
        try:
            fields = flatten_api_submission(item)
        except JotformShapeError as exc:
            raise ApiError(f"JotForm form {self.form_id}: {exc}") from None
        return {**fields, "form_id": self.form_id, RECORD_ID_KEY: str(item["id"])}

    def read_new(self) -> Iterator[Mapping[str, Any]]:
        """Offset pages of the submissions created after the cursor, oldest first."""
        params: dict[str, Any] = {"filter": json.dumps({"created_at:gt": self._after()}), "orderby": CURSOR,
                                  "direction": "ASC", "limit": self.config.page_size, "offset": 0}
        client = client_for(self.config)
        path = f"form/{self.form_id}/submissions"
        try:
            while True:
                page = client.get_json(path, params)
                items = page.get("content") if isinstance(page, Mapping) else None
                if not isinstance(items, list):
                    raise ApiError(f"JotForm answered {path} without a 'content' list")
                for item in items:
                    if not isinstance(item, Mapping) or not item.get("id") or not item.get(CURSOR):
                        raise ApiError(f"JotForm form {self.form_id}: a submission without id or created_at")
                    self.advance(str(item[CURSOR]))
                    yield self._record(item)
                if len(items) < self.config.page_size:
                    logger.info("jotform form %s: read; %s API calls left today", self.form_id,
                                page.get("limit-left", "?"))
                    return
                params["offset"] += len(items)
        finally:
            client.close()


class JotformSource(ConfiguredSource):
    """Reads form submissions from the JotForm API."""

    config_model = JotformConfig
    title = "JotForm submissions"

    def parse(self, config: Mapping[str, Any]) -> JotformConfig:
        """The typed config (see `JotformConfig`)."""
        return parse_jotform_config(config)

    def probe(self, parsed: JotformConfig) -> str | None:
        """Fetch the user, then one submission of each form: proves the key and the form ids."""
        client = client_for(parsed)
        try:
            client.get_json("user")
            for form_id in parsed.form_ids:
                client.get_json(f"form/{form_id}/submissions", {"limit": 1})
        finally:
            client.close()
        return None

    def make_streams(self, parsed: JotformConfig) -> list[Stream]:
        """`submissions:<form id>` for every configured form."""
        return [SubmissionsStream(parsed, form_id) for form_id in parsed.form_ids]


iter_airbyte_messages = JotformSource.read_messages
