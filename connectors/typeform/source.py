"""Typeform responses as an Airbyte source: one stream per form, incremental by submitted_at (contract 8a).

The Responses API lists newest first; pages go back with `before=<token of the last item>`.
So each stream reads time windows (`since`/`until`, oldest window first) and saves its
cursor, the latest `submitted_at`, only when a window is complete: a read cut short re-reads
that window rather than losing its older responses. The next run starts at the cursor
itself (inclusive), so responses that tie on the last second are read again, never missed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airbyte_cdk.sources.streams import Stream
from pydantic import Field, SecretStr

from connectors.common.config import parse_config
from connectors.common.http import ApiClient, ApiError, HttpSettings
from connectors.common.stream import RECORD_ID_KEY, ConfiguredSource, CursorStream
from connectors.typeform.answers import TypeformShapeError, flatten_response
from sync.redaction import register_secret

__all__ = ["ResponsesStream", "TypeformConfig", "TypeformSource", "iter_airbyte_messages"]

logger = logging.getLogger(__name__)
CURSOR = "submitted_at"


class TypeformConfig(HttpSettings):
    """Which forms to read and how."""

    token: SecretStr = Field(description="personal access token with the responses:read scope",
                             json_schema_extra={"airbyte_secret": True})
    form_ids: list[str] = Field(min_length=1, description="form ids (the part after /to/ in the form's URL)")
    start_date: date | None = Field(None, description="first day to read (UTC); default: everything")
    window_days: int = Field(30, ge=1, le=3660, description="days per since/until window")
    page_size: int = Field(1000, ge=1, le=1000, description="responses per page (Typeform allows 1000)")
    base_url: str = Field("https://api.typeform.com", description="api.eu.typeform.com for EU accounts; "
                          "an emulator's URL in tests")
    requests_per_minute: float | None = Field(110.0, gt=0, description="pace requests below Typeform's "
                                              "2 per second")


def parse_typeform_config(raw: Mapping[str, Any]) -> TypeformConfig:
    """The typed config (its token registered for redaction); ConnectorConfigError names the key."""
    config = parse_config(TypeformConfig, dict(raw), "typeform")
    register_secret(config.token.get_secret_value())
    return config


def client_for(config: TypeformConfig) -> ApiClient:
    """An API client with the Bearer token."""
    return ApiClient(config.base_url, api_name="Typeform", settings=config,
                     credentials_hint="token (a personal access token with the responses:read scope)",
                     headers={"Authorization": f"Bearer {config.token.get_secret_value()}"},
                     error_text=_typeform_error)


def _typeform_error(response: Any) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, Mapping):
        return " ".join(str(body[k]) for k in ("code", "description") if body.get(k)) or None
    return None


def _time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class ResponsesStream(CursorStream):
    """The responses of one form, oldest window first."""

    cursor_name = CURSOR

    def __init__(self, config: TypeformConfig, form_id: str) -> None:
        super().__init__(f"responses:{form_id}", checkpoint_every=config.page_size)
        self.config = config
        self.form_id = form_id

    def _since(self) -> datetime:
        if self.saved_cursor:
            return _time(self.saved_cursor)
        first = self.config.start_date or date(2012, 1, 1)  # Typeform's own beginning
        return datetime.combine(first, datetime.min.time(), tzinfo=UTC)

    def _window(self, client: ApiClient, since: datetime, until: datetime) -> Iterator[Mapping[str, Any]]:
        params: dict[str, Any] = {"page_size": self.config.page_size, "since": _stamp(since), "until": _stamp(until)}
        path = f"forms/{self.form_id}/responses"
        while True:
            page = client.get_json(path, params)
            items = page.get("items") if isinstance(page, Mapping) else None
            if not isinstance(items, list):
                raise ApiError(f"Typeform answered {path} without an 'items' list")
            yield from items
            if len(items) < self.config.page_size or not items:
                return
            params = {**params, "before": items[-1].get("token")}

    def _record(self, item: Mapping[str, Any]) -> dict[str, Any]:
        try:
            fields = flatten_response(item)
        except TypeformShapeError as exc:
            raise ApiError(f"Typeform form {self.form_id}: {exc}") from None
        token = str(item.get("token") or item.get("response_id"))
        return {**fields, "form_id": self.form_id, RECORD_ID_KEY: token}  # submitted_at as Typeform wrote it

    def read_new(self) -> Iterator[Mapping[str, Any]]:
        """Windows from the cursor to now, each committed when complete."""
        since = self._since()
        now = datetime.now(UTC).replace(microsecond=0)
        client = client_for(self.config)
        try:
            start = since
            while start <= now:
                end = min(now, start + timedelta(days=self.config.window_days))
                newest: datetime | None = None
                for item in self._window(client, start, end):
                    if not item.get("submitted_at"):
                        continue  # a partial response: it is listed again once submitted
                    submitted = _time(item["submitted_at"])
                    if submitted < since:
                        continue
                    newest = submitted if newest is None or submitted > newest else newest
                    yield self._record(item)
                if newest is not None:
                    self.commit(newest.isoformat())
                start = end + timedelta(seconds=1)
        finally:
            client.close()


class TypeformSource(ConfiguredSource):
    """Reads form responses from the Typeform Responses API."""

    config_model = TypeformConfig
    title = "Typeform responses"

    def parse(self, config: Mapping[str, Any]) -> TypeformConfig:
        """The typed config (see `TypeformConfig`)."""
        return parse_typeform_config(config)

    def probe(self, parsed: TypeformConfig) -> str | None:
        """Ask each form for one response: proves the token, its scope and the form ids."""
        client = client_for(parsed)
        try:
            for form_id in parsed.form_ids:
                client.get_json(f"forms/{form_id}/responses", {"page_size": 1})
        finally:
            client.close()
        return None

    def make_streams(self, parsed: TypeformConfig) -> list[Stream]:
        """`responses:<form id>` for every configured form."""
        return [ResponsesStream(parsed, form_id) for form_id in parsed.form_ids]


iter_airbyte_messages = TypeformSource.read_messages
