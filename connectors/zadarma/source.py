"""Zadarma PBX call statistics as an Airbyte source: one `pbx_calls` stream, incremental by call start (7c).

Every request is signed (see `sign`). Statistics are limited to 3 calls a minute and a
period of one month, so the stream asks for month-long windows, oldest first, in pages of
`page_size`, and paces itself below the limit rather than collecting 429s. Calls come back
oldest first, so the cursor follows them (never splitting calls that tie on one second);
each run also re-reads `lookback_minutes`, because a call is listed only once it has ended.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airbyte_cdk.sources.streams import Stream
from pydantic import Field, SecretStr, field_validator

from connectors.common.config import parse_config
from connectors.common.http import ApiClient, ApiError, HttpSettings
from connectors.common.stream import RECORD_ID_KEY, ConfiguredSource, CursorStream
from sync.redaction import register_secret

__all__ = ["PbxCallsStream", "ZadarmaConfig", "ZadarmaSource", "iter_airbyte_messages", "sign"]

logger = logging.getLogger(__name__)
CURSOR = "callstart"
_FORMAT = "%Y-%m-%d %H:%M:%S"
STATS_PATH = "/v1/statistics/pbx/"


def sign(method_path: str, params: Mapping[str, Any], secret: str) -> tuple[str, str]:
    """The query string and its signature, as Zadarma's own client makes them.

    Parameters (with `format=json`) sorted by name and URL-encoded; HMAC-SHA1 with the secret
    over `path + query + md5(query)`; the hex digest, base64-encoded.
    """
    query = urlencode(sorted({**{k: str(v) for k, v in params.items()}, "format": "json"}.items()))
    digest = hashlib.md5(query.encode("utf-8")).hexdigest()  # noqa: S324 - the API's scheme, not ours
    signature = hmac.new(secret.encode("utf-8"), (method_path + query + digest).encode("utf-8"), hashlib.sha1)
    return query, base64.b64encode(signature.hexdigest().encode("ascii")).decode("ascii")


class ZadarmaConfig(HttpSettings):
    """The API key pair, how far back to read, and the account's clock."""

    key: str = Field(min_length=1, description="API key (Settings → API and integrations)")
    secret: SecretStr = Field(description="API secret", json_schema_extra={"airbyte_secret": True})
    start_date: date | None = Field(None, description="first day to read; default: 30 days ago")
    timezone: str = Field("UTC", description="the account's time zone (Zadarma reports local times)")
    lookback_minutes: int = Field(120, ge=0, le=7 * 24 * 60, description="re-read calls that started this long "
                                  "before the cursor (a call is listed once it has ended)")
    window_days: int = Field(30, ge=1, le=31, description="days per request (Zadarma allows one month)")
    page_size: int = Field(1000, ge=1, le=1000, description="calls per page")
    extension_digits: int = Field(5, ge=1, le=10, description="numbers this short are PBX extensions")
    requests_per_minute: float | None = Field(3.0, gt=0, description="statistics calls per minute "
                                              "(Zadarma allows 3)")
    base_url: str = Field("https://api.zadarma.com", description="api-sandbox.zadarma.com to test; an "
                          "emulator's URL in tests")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Moscow or UTC") from None
        return value


def parse_zadarma_config(raw: Mapping[str, Any]) -> ZadarmaConfig:
    """The typed config (its secret registered for redaction); ConnectorConfigError names the key."""
    config = parse_config(ZadarmaConfig, dict(raw), "zadarma")
    register_secret(config.secret.get_secret_value())
    return config


class Zadarma:
    """Signed GETs against the Zadarma API."""

    def __init__(self, config: ZadarmaConfig, *, paced: bool = True) -> None:
        settings = config if paced else config.model_copy(update={"requests_per_minute": None})
        self.config = config
        self.client = ApiClient(config.base_url, api_name="Zadarma", settings=settings,
                                credentials_hint="key and secret (Zadarma → Settings → API and integrations)")

    def get(self, path: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """A signed GET; a body with status "error" is an ApiError with Zadarma's message."""
        query, signature = sign(path, params, self.config.secret.get_secret_value())
        body = self.client.get_json(f"{path.lstrip('/')}?{query}",
                                    headers={"Authorization": f"{self.config.key}:{signature}"})
        if not isinstance(body, Mapping) or body.get("status") != "success":
            message = body.get("message") if isinstance(body, Mapping) else None
            raise ApiError(f"Zadarma refused {path}: {message or 'no status success in the answer'}")
        return body

    def close(self) -> None:
        """Close pooled connections."""
        self.client.close()


def _digits(value: Any) -> str:
    return "".join(ch for ch in str(value or "") if ch.isdigit())


class PbxCallsStream(CursorStream):
    """Calls of the PBX, oldest first."""

    cursor_name = CURSOR

    def __init__(self, config: ZadarmaConfig) -> None:
        super().__init__("pbx_calls", checkpoint_every=config.page_size)
        self.config = config
        self.zone = ZoneInfo(config.timezone)

    def _direction(self, call: Mapping[str, Any]) -> str:
        caller, called = _digits(call.get("clid")), _digits(call.get("destination"))
        short = self.config.extension_digits
        if 0 < len(caller) <= short:
            return "internal" if 0 < len(called) <= short else "outbound"
        return "inbound"

    def _record(self, call: Mapping[str, Any], started: datetime) -> dict[str, Any]:
        direction = self._direction(call)
        customer = call.get("clid") if direction == "inbound" else (
            call.get("destination") if direction == "outbound" else None)
        return {**call, "direction": direction, "customer_number": customer,
                "started_at": started.replace(tzinfo=self.zone).isoformat(),
                RECORD_ID_KEY: str(call.get("pbx_call_id") or call.get("call_id"))}

    def read_new(self) -> Iterator[Mapping[str, Any]]:
        """Month windows from the cursor (less the look-back) to now, paged by skip/limit."""
        lookback = timedelta(minutes=self.config.lookback_minutes)
        cursor = datetime.strptime(self.saved_cursor, _FORMAT) if self.saved_cursor else None
        if cursor is not None:
            since = cursor - lookback
        else:
            first = self.config.start_date or (datetime.now(self.zone) - timedelta(days=30)).date()
            since = datetime.combine(first, datetime.min.time())
        now = datetime.now(self.zone).replace(tzinfo=None, microsecond=0)
        api = Zadarma(self.config)
        try:
            start = since
            while start <= now:
                end = min(now, start + timedelta(days=self.config.window_days) - timedelta(seconds=1))
                yield from self._window(api, start, end, cursor, lookback)
                start = end + timedelta(seconds=1)
        finally:
            api.close()

    def _window(self, api: Zadarma, start: datetime, end: datetime, cursor: datetime | None,
                lookback: timedelta) -> Iterator[Mapping[str, Any]]:
        skip = 0
        while True:
            body = api.get(STATS_PATH, {"start": start.strftime(_FORMAT), "end": end.strftime(_FORMAT),
                                        "version": 2, "skip": skip, "limit": self.config.page_size})
            stats = body.get("stats") or []
            if not isinstance(stats, list):
                raise ApiError(f"Zadarma answered {STATS_PATH} with 'stats' that is not a list")
            for call in stats:
                try:
                    started = datetime.strptime(str(call.get(CURSOR)), _FORMAT)
                except ValueError:
                    raise ApiError(f"Zadarma call {call.get('call_id')!r} has callstart {call.get(CURSOR)!r}, "
                                   "not 'YYYY-MM-DD HH:MM:SS'") from None
                if cursor is not None and (started <= cursor if not lookback else started < cursor - lookback):
                    continue  # emitted by an earlier run
                self.advance(str(call[CURSOR]))
                yield self._record(call, started)
            if len(stats) < self.config.page_size:
                return
            skip += len(stats)


class ZadarmaSource(ConfiguredSource):
    """Reads PBX call statistics from the Zadarma API."""

    config_model = ZadarmaConfig
    title = "Zadarma PBX calls"

    def parse(self, config: Mapping[str, Any]) -> ZadarmaConfig:
        """The typed config (see `ZadarmaConfig`)."""
        return parse_zadarma_config(config)

    def probe(self, parsed: ZadarmaConfig) -> str | None:
        """Ask for the balance (not a statistics call, so it spends none of the 3 a minute)."""
        api = Zadarma(parsed, paced=False)
        try:
            api.get("/v1/info/balance/", {})
        finally:
            api.close()
        return None

    def make_streams(self, parsed: ZadarmaConfig) -> list[Stream]:
        """The `pbx_calls` stream."""
        return [PbxCallsStream(parsed)]


iter_airbyte_messages = ZadarmaSource.read_messages
