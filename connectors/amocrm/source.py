"""The Airbyte source for amoCRM / Kommo API v4: contacts and companies, incremental by `updated_at`.

Each stream asks for records with `filter[updated_at][from]` and `order[updated_at]=asc`, asking
again from the last `updated_at` seen after each page (see `AmoClient.changed_since`: page
numbers shift when a record changes during the read, so they are followed only through a tie).
The cursor is the `updated_at` all of whose records were emitted; a new read starts
`lookback_seconds` before it, because a record changed later in the same second shares the
timestamp. Deletions come from amoCRM's events API (outside our contract): `contact_deleted` /
`company_deleted` events since `deleted_cursor`, emitted as `{_record_id, _ab_cdc_deleted_at}`
rows in the same stream, which ingest marks deleted. The events list is newest first, so the
deletion cursor moves only when the whole list has been read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any, Literal

from airbyte_cdk.models import AirbyteMessage, ConnectorSpecification, DestinationSyncMode
from airbyte_cdk.sources.streams import Stream
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.amocrm.client import AmoClient, open_client
from connectors.common.config import ConnectorConfigError, connection_spec, parse_config
from connectors.common.http import ApiError as SourceApiError
from connectors.common.http import AuthError as SourceAuthError
from connectors.common.http import TransientError
from connectors.common.stream import RECORD_ID_KEY, CrmsyncSource, CursorStream, config_error, read_in_process
from sync.push.destination import RateLimitSettings
from sync.push.retries import ApiError, AuthError, RetryPolicy, TransportError

__all__ = ["AmoSource", "AmoSourceConfig", "AmoStream", "flatten", "iter_airbyte_messages"]

logger = logging.getLogger(__name__)
CURSOR = "updated_at"
DELETED_KEY = "_ab_cdc_deleted_at"  # Airbyte's CDC marker: ingest marks the record deleted
DELETED_CURSOR = "deleted_cursor"
_SINGULAR = {"contacts": "contact", "companies": "company"}


class AmoSourceConfig(BaseModel):
    """Which account to read and how (`sources[].config` in crmsync.yaml, or an Airbyte config.json)."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="the account's address, e.g. https://SUBDOMAIN.amocrm.ru")
    token: SecretStr = Field(description="OAuth access token or long-lived token",
                             json_schema_extra={"airbyte_secret": True})
    objects: list[Literal["contacts", "companies"]] = Field(default_factory=lambda: ["contacts", "companies"])
    start_date: datetime | None = Field(None, description="read records updated since (default: all)")
    lookback_seconds: int = Field(60, ge=0, le=86_400, description="re-read this much before the cursor")
    page_size: int = Field(250, ge=1, le=250, description="records per page (amoCRM allows 250)")
    read_deletions: bool = Field(True, description="read deletions from the events API (needs its scope)")
    rate_limit: RateLimitSettings = Field(default_factory=lambda: RateLimitSettings(max_requests=7,
                                                                                   interval_seconds=1))
    account: str | None = Field(None, description="share one rate budget between entries naming the same account")
    timeout_seconds: float = Field(30.0, gt=0, le=600)
    max_retries: int = Field(5, ge=0, le=20, description="retries of 429, 5xx, timeouts and resets")
    backoff_seconds: float = Field(0.5, ge=0, le=60, description="first back-off; grows each retry")
    max_wait_seconds: float = Field(60.0, ge=0, le=3600, description="cap on any one back-off")
    base_dir: str | None = Field(None, description="project folder (set by crmsync; unused here)")

    def client(self) -> AmoClient:
        """A client on the account's shared rate budget."""
        policy = RetryPolicy(attempts=self.max_retries + 1, max_seconds=3600, backoff_base=self.backoff_seconds,
                             backoff_cap=self.max_wait_seconds)
        return open_client(base_url=self.base_url, token=self.token.get_secret_value(), rate_limit=self.rate_limit,
                           account=self.account, timeout=self.timeout_seconds, policy=policy)


def parse_amo_config(raw: Mapping[str, Any]) -> AmoSourceConfig:
    """The typed config; ConnectorConfigError names the key."""
    return parse_config(AmoSourceConfig, dict(raw), "amocrm")


def _iso(moment: Any) -> str | None:
    return datetime.fromtimestamp(int(moment), UTC).isoformat() if moment not in (None, "") else None


def flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    """One amoCRM entity as a flat row: custom fields by code (`phone`, `email`, …) or `cf_<id>`."""
    row: dict[str, Any] = {RECORD_ID_KEY: str(record["id"])}
    for key in ("id", "name", "first_name", "last_name", "responsible_user_id", "group_id", "created_by",
                "updated_by", "created_at", "updated_at", "closest_task_at", "account_id"):
        if key in record:
            row[key] = record[key]
    row["created_at_iso"], row["updated_at_iso"] = _iso(record.get("created_at")), _iso(record.get("updated_at"))
    custom: dict[str, Any] = {}
    for field in record.get("custom_fields_values") or []:
        values = [str(v.get("value")) for v in field.get("values") or [] if v.get("value") not in (None, "")]
        column = str(field["field_code"]).lower() if field.get("field_code") else f"cf_{field.get('field_id')}"
        row[column] = "; ".join(values)
        custom[str(field.get("field_name") or column)] = values
    row["custom_fields"] = custom
    embedded = record.get("_embedded") or {}
    row["tags"] = "; ".join(str(t.get("name")) for t in embedded.get("tags") or [])
    row["company_ids"] = [c.get("id") for c in embedded.get("companies") or []]
    row["contact_ids"] = [c.get("id") for c in embedded.get("contacts") or []]
    return row


class AmoStream(CursorStream):
    """One entity type (`contacts` or `companies`), oldest change first."""

    cursor_name = CURSOR

    def __init__(self, config: AmoSourceConfig, entity: str) -> None:
        super().__init__(entity, checkpoint_every=config.page_size)
        self.config = config
        self._deleted_cursor: int | None = None

    @property
    def state(self) -> MutableMapping[str, Any]:
        """`{"cursor": updated_at, "deleted_cursor": created_at of the newest deletion event read}`."""
        merged = dict(self._state)
        if self._deleted_cursor is not None:
            merged[DELETED_CURSOR] = self._deleted_cursor
        return merged

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        saved = dict(value or {})
        deleted = saved.pop(DELETED_CURSOR, None)
        self._deleted_cursor = int(deleted) if deleted is not None else None
        self._state = saved

    def get_json_schema(self) -> Mapping[str, Any]:
        """The columns every row has; custom fields add more."""
        text = {"type": ["null", "string"]}
        number = {"type": ["null", "integer"]}
        return {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": True,
                "properties": {RECORD_ID_KEY: {"type": "string"}, "id": {"type": "integer"}, "name": text,
                               "first_name": text, "last_name": text, "created_at": number, CURSOR: number,
                               "created_at_iso": text, "updated_at_iso": text, "phone": text, "email": text,
                               "tags": text, "custom_fields": {"type": "object"}, DELETED_KEY: text}}

    def _since(self) -> int | None:
        if self.saved_cursor is not None:
            return max(0, int(self.saved_cursor) - self.config.lookback_seconds)
        return int(self.config.start_date.timestamp()) if self.config.start_date else None

    def read_new(self) -> Iterator[Mapping[str, Any]]:
        """Records from the cursor (less the look-back) on, oldest change first."""
        client = self.config.client()
        try:
            for item in client.changed_since(self.name, self._since(), self.config.page_size):
                self.advance(int(item[CURSOR]))
                yield flatten(item)
            if self.config.read_deletions:
                yield from self._deletions(client)
        except (ApiError, TransportError) as exc:
            # the shared CursorStream reports these errors (with their kind) as Airbyte trace messages
            if isinstance(exc, AuthError):
                raise SourceAuthError(str(exc), exc.status) from None
            if isinstance(exc, TransportError) or exc.status >= 500 or exc.status == 429:
                raise TransientError(str(exc), getattr(exc, "status", None)) from None
            raise SourceApiError(str(exc), exc.status) from None
        finally:
            client.close()


    def _deletions(self, client: AmoClient) -> Iterator[Mapping[str, Any]]:
        """Deletion events since the deletion cursor (less the look-back), each as a deleted-record row."""
        since = self._deleted_cursor
        if since is None:
            since = self._since() or 0  # deletions before the records' own window were never read as records
        since = max(0, since - (self.config.lookback_seconds if self._deleted_cursor is not None else 0))
        params = {"filter[type]": f"{_SINGULAR[self.name]}_deleted", "filter[created_at][from]": since,
                  "limit": 100}
        newest = self._deleted_cursor
        emitted: set[int] = set()
        for page in client.pages("events", params):
            for event in page:
                moment = int(event.get("created_at") or 0)
                newest = moment if newest is None else max(newest, moment)
                entity_id = int(event["entity_id"])
                if entity_id in emitted:
                    continue
                emitted.add(entity_id)
                yield {RECORD_ID_KEY: str(entity_id), "id": entity_id, DELETED_KEY: _iso(moment),
                       "deleted_by": event.get("created_by"), "updated_at_iso": _iso(moment)}
        self._deleted_cursor = newest  # the list is newest first: only a complete read moves the cursor


class AmoSource(CrmsyncSource):
    """amoCRM contacts and companies as Airbyte streams."""

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        """The connection specification (see `AmoSourceConfig`)."""
        return ConnectorSpecification(connectionSpecification=connection_spec(AmoSourceConfig, "amoCRM / Kommo"),
                                      supportsIncremental=True,
                                      supported_destination_sync_modes=[DestinationSyncMode.append])

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, str | None]:
        """Fetch the account and one record of each object: proves the token and the address."""
        try:
            parsed = parse_amo_config(config)
            client = parsed.client()
        except (ConnectorConfigError, ValueError) as exc:
            return False, str(exc)
        try:
            client.request("GET", "/api/v4/account")
            for entity in parsed.objects:
                client.request("GET", f"/api/v4/{entity}", params={"limit": 1})
        except (ApiError, TransportError) as exc:
            return False, f"cannot read amoCRM: {exc}"
        finally:
            client.close()
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        """One stream per configured object."""
        try:
            parsed = parse_amo_config(config)
        except ConnectorConfigError as exc:
            raise config_error(str(exc)) from exc
        return [AmoStream(parsed, entity) for entity in parsed.objects]


def iter_airbyte_messages(config: dict[str, Any], streams: list[str] | None = None,
                          state: dict[str, dict[str, Any]] | None = None) -> Iterator[AirbyteMessage]:
    """Run an incremental `read` in-process and yield its Airbyte messages (what crmsync's ingest uses)."""
    yield from read_in_process(AmoSource(), config, streams, state)
