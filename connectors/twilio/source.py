"""Twilio Calls as an Airbyte source: one `calls` stream, incremental by start time (contract 7a).

Twilio lists newest first and filters by whole UTC days, so the stream reads in windows of
`window_days` days, oldest window first, following `next_page_uri` inside a window, and
saves its cursor (the latest start time) only when a window is complete: a read cut short
starts that window again rather than skipping the rest of it. Each run also re-reads
`lookback_minutes` before the cursor, because a call's record changes until it ends.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from airbyte_cdk.sources.streams import Stream
from pydantic import Field, SecretStr, field_validator

from connectors.common.config import parse_config
from connectors.common.http import ApiClient, ApiError, HttpSettings
from connectors.common.stream import RECORD_ID_KEY, ConfiguredSource, CursorStream
from sync.redaction import register_secret

__all__ = ["CallsStream", "TwilioConfig", "TwilioSource", "iter_airbyte_messages"]

logger = logging.getLogger(__name__)
CURSOR = "started_at"


class TwilioConfig(HttpSettings):
    """Which account to read, how far back, and how."""

    account_sid: str = Field(description="Account SID (AC followed by 32 hex digits)")
    auth_token: SecretStr = Field(description="Auth token of that account", json_schema_extra={"airbyte_secret": True})
    start_date: date | None = Field(None, description="first day to read (UTC); default: 30 days ago")
    lookback_minutes: int = Field(60, ge=0, le=7 * 24 * 60, description="re-read calls started this long "
                                  "before the cursor (they change until they end)")
    window_days: int = Field(7, ge=1, le=366, description="days per request window")
    page_size: int = Field(1000, ge=1, le=1000, description="calls per page (Twilio allows 1000)")
    base_url: str = Field("https://api.twilio.com", description="API root (an emulator's URL in tests)")

    @field_validator("account_sid")
    @classmethod
    def _sid(cls, value: str) -> str:
        if not re.fullmatch(r"AC[0-9a-fA-F]{32}", value.strip()):
            raise ValueError("expected 'AC' followed by 32 hex digits (Twilio Console → Account Info)")
        return value.strip()


def parse_twilio_config(raw: Mapping[str, Any]) -> TwilioConfig:
    """The typed config (its token registered for redaction); ConnectorConfigError names the key."""
    config = parse_config(TwilioConfig, dict(raw), "twilio")
    register_secret(config.auth_token.get_secret_value())
    return config


def client_for(config: TwilioConfig) -> ApiClient:
    """An API client authenticated as the account."""
    return ApiClient(config.base_url, api_name="Twilio", settings=config,
                     credentials_hint="account_sid and auth_token (Twilio Console → Account Info)",
                     auth=(config.account_sid, config.auth_token.get_secret_value()))


def _started(call: Mapping[str, Any]) -> datetime | None:
    value = call.get("start_time")
    if not value:
        return None  # queued calls have not started: they appear once they do
    try:
        return parsedate_to_datetime(str(value)).astimezone(UTC)
    except (TypeError, ValueError):
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


class CallsStream(CursorStream):
    """Every call of the account, oldest window first."""

    cursor_name = CURSOR

    def __init__(self, config: TwilioConfig) -> None:
        super().__init__("calls", checkpoint_every=config.page_size)
        self.config = config

    def _since(self) -> datetime:
        if self.saved_cursor:
            return datetime.fromisoformat(self.saved_cursor) - timedelta(minutes=self.config.lookback_minutes)
        first = self.config.start_date or (datetime.now(UTC) - timedelta(days=30)).date()
        return datetime.combine(first, datetime.min.time(), tzinfo=UTC)

    def _window(self, client: ApiClient, first: date, last: date) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] | None = {"StartTime>": first.isoformat(), "StartTime<": last.isoformat(),
                                         "PageSize": self.config.page_size}
        path = f"2010-04-01/Accounts/{self.config.account_sid}/Calls.json"
        while path:
            page = client.get_json(path, params)
            if not isinstance(page, Mapping) or not isinstance(page.get("calls"), list):
                raise ApiError(f"Twilio answered {path.split('?')[0]} without a 'calls' list")
            yield from page["calls"]
            path, params = page.get("next_page_uri"), None  # the next URI carries every parameter

    def read_new(self) -> Iterator[Mapping[str, Any]]:
        """Windows from the cursor (less the look-back) to today, each committed when complete."""
        since = self._since()
        today = datetime.now(UTC).date()
        client = client_for(self.config)
        try:
            first = since.date()
            while first <= today:
                last = min(today, first + timedelta(days=self.config.window_days - 1))
                newest: datetime | None = None
                for call in self._window(client, first, last):
                    started = _started(call)
                    if started is None or started < since:
                        continue
                    newest = started if newest is None or started > newest else newest
                    yield {**call, CURSOR: started.isoformat(), RECORD_ID_KEY: str(call["sid"])}
                if newest is not None:
                    self.commit(newest.isoformat())
                first = last + timedelta(days=1)
        finally:
            client.close()


class TwilioSource(ConfiguredSource):
    """Reads an account's calls from the Twilio REST API."""

    config_model = TwilioConfig
    title = "Twilio Calls"

    def parse(self, config: Mapping[str, Any]) -> TwilioConfig:
        """The typed config (see `TwilioConfig`)."""
        return parse_twilio_config(config)

    def probe(self, parsed: TwilioConfig) -> str | None:
        """Fetch the account: proves the credentials and the base URL."""
        client = client_for(parsed)
        try:
            client.get_json(f"2010-04-01/Accounts/{parsed.account_sid}.json")
        finally:
            client.close()
        return None

    def make_streams(self, parsed: TwilioConfig) -> list[Stream]:
        """The `calls` stream."""
        return [CallsStream(parsed)]


iter_airbyte_messages = TwilioSource.read_messages
