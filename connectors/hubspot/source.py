"""The Airbyte source for HubSpot CRM v3: contacts and companies, incremental by last-modified time.

Streams `contacts` and `companies` carry live and archived records alike. Live records are read
through search with a GTE filter on the last-modified property, ascending; search stops at
10,000 results per query, so near that cap the stream re-queries from the last timestamp it saw,
and walks a timestamp shared by more records than that by `hs_object_id`. Archived records come
from the list endpoint (`archived=true`; search never returns them) on the same stream, each
carrying Airbyte's `_ab_cdc_deleted_at` marker, so ingest marks the stored record deleted.
The two parts keep separate cursors in the stream state (`cursor_ms`, `archived_ms`). The
archived list is ordered by id, not by time, so `archived_ms` only moves once the list was read
to its end: a read cut short re-reads it rather than skipping what it had not reached.
Every new read starts `lookback_seconds` before the saved cursors: timestamps tie, and search
shows a modified record only a few seconds later. Re-reading is harmless (ingest is idempotent).
Each record also exposes `crmsync_id`, the golden id crmsync's destination writes, when present.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from datetime import datetime
from typing import Any, Literal

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
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from connectors.hubspot.client import DEFAULT_BASE_URL, DailyLimitReached, HubSpotClient, account_zone, open_client
from sync.push.budgets import BudgetExhausted
from sync.push.destination import RateLimitSettings
from sync.push.retries import ApiError, TransportError

__all__ = ["HubSpotSource", "HubSpotSourceConfig", "iter_airbyte_messages"]

logger = logging.getLogger(__name__)

RECORD_ID_KEY = "_record_id"
DELETED_KEY = "_ab_cdc_deleted_at"
SEARCH_CAP = 10_000
MODIFIED = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate"}
EXTERNAL_ID = "crmsync_id"  # what connectors.hubspot.destination writes; HubSpot reads skip unknown properties
DEFAULT_PROPERTIES = {
    "contacts": ["email", "firstname", "lastname", "phone", "mobilephone", "company", "jobtitle", "address", "city",
                 "state", "zip", "country", "date_of_birth", "hs_language", "hs_additional_emails", "createdate",
                 "lastmodifieddate"],
    "companies": ["name", "domain", "phone", "address", "city", "state", "zip", "country", "industry", "website",
                  "createdate", "hs_lastmodifieddate"],
}


class HubSpotSourceConfig(BaseModel):
    """The source's settings (`sources[].config` in crmsync.yaml, or an Airbyte config.json)."""

    model_config = ConfigDict(extra="ignore")  # crmsync adds base_dir to every source's config

    base_url: str = DEFAULT_BASE_URL
    token: SecretStr = Field(description="HubSpot private app token", json_schema_extra={"airbyte_secret": True})
    objects: list[Literal["contacts", "companies"]] = Field(default_factory=lambda: ["contacts"])
    properties: dict[str, list[str]] = Field(default_factory=dict, description="object → properties to read")
    start_date: datetime | None = Field(None, description="read records modified since (default: all)")
    lookback_seconds: int = Field(60, ge=0)
    page_size: int = Field(100, ge=1, le=200)
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    account: str | None = None
    timeout_seconds: float = Field(30.0, gt=0)
    external_id_property: str = Field(EXTERNAL_ID, description="the property holding crmsync's golden id")
    time_zone: str = Field("UTC", description="the account's time zone; its daily API limit resets at midnight there")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        account_zone(value)
        return value

    def client(self) -> HubSpotClient:
        return open_client(base_url=self.base_url, token=self.token.get_secret_value(), rate_limit=self.rate_limit,
                           account=self.account, timeout=self.timeout_seconds, time_zone=self.time_zone)


def _config_error(message: str) -> AirbyteTracedException:
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


def stream_error(what: str, exc: ApiError | TransportError | BudgetExhausted) -> AirbyteTracedException:
    """The error ingest reports for a failed read: the API's own words, the daily limit with its reset time."""
    if isinstance(exc, DailyLimitReached):  # nothing is wrong with the data or the connector: come back later
        return AirbyteTracedException(message=str(exc), internal_message=f"{what}: {exc}",
                                      failure_type=FailureType.transient_error)
    return AirbyteTracedException(message=f"{what}: {exc}", internal_message=str(exc),
                                  failure_type=FailureType.system_error)


def parse_config(config: Mapping[str, Any]) -> HubSpotSourceConfig:
    try:
        return HubSpotSourceConfig.model_validate(dict(config))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _config_error(f"HubSpot source config: {where}: {first['msg']}") from None


def _ms(value: Any) -> int:
    if value in (None, ""):
        return 0
    text = str(value)
    if text.isdigit():
        return int(text)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _flatten(result: Mapping[str, Any]) -> dict[str, Any]:
    archived = bool(result.get("archived"))
    record = {RECORD_ID_KEY: str(result["id"]), "id": str(result["id"]), **(result.get("properties") or {}),
              "createdAt": result.get("createdAt"), "updatedAt": result.get("updatedAt"), "archived": archived}
    if archived:
        record["archivedAt"] = result.get("archivedAt")
        record[DELETED_KEY] = result.get("archivedAt") or result.get("updatedAt")
    return record


class HubSpotStream(Stream, CheckpointMixin):
    """One object type: its live records through search, then its archived ones as deletions."""

    def __init__(self, config: HubSpotSourceConfig, obj: str, client: HubSpotClient) -> None:
        self.config, self.obj, self.client = config, obj, client
        self.modified = MODIFIED[obj]
        chosen = list(config.properties.get(obj) or DEFAULT_PROPERTIES[obj])
        extra = [config.external_id_property] if config.external_id_property not in chosen else []
        self.properties = [*chosen, *extra]
        self._state: dict[str, Any] = {}

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.obj

    @property
    def primary_key(self) -> list[list[str]]:
        return [[RECORD_ID_KEY]]

    @property
    def cursor_field(self) -> str:
        return self.modified

    @property
    def state_checkpoint_interval(self) -> int:
        return self.config.page_size

    @property
    def state(self) -> MutableMapping[str, Any]:
        return dict(self._state)

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._state = dict(value or {})

    def get_json_schema(self) -> Mapping[str, Any]:
        names = [*self.properties, "createdAt", "updatedAt", "archivedAt", DELETED_KEY]
        columns = {name: {"type": ["null", "string"]} for name in names}
        columns.update({RECORD_ID_KEY: {"type": "string"}, "id": {"type": "string"}, "archived": {"type": "boolean"}})
        return {"type": "object", "properties": columns, "additionalProperties": True}

    def _since(self, key: str) -> int:
        saved = int(self._state.get(key) or 0)
        if saved:
            return max(0, saved - self.config.lookback_seconds * 1000)
        return int(self.config.start_date.timestamp() * 1000) if self.config.start_date else 0

    def _advance(self, key: str, moment_ms: int) -> None:
        if moment_ms > int(self._state.get(key) or 0):
            self._state = {**self._state, key: moment_ms}

    def read_records(self, sync_mode: SyncMode, cursor_field: list[str] | None = None,
                     stream_slice: Mapping[str, Any] | None = None,
                     stream_state: Mapping[str, Any] | None = None) -> Iterable[Mapping[str, Any]]:
        try:
            for result, moment in self._search(self._since("cursor_ms")):
                self._advance("cursor_ms", moment)  # the CDK reads `state` right after each record it takes
                yield _flatten(result)
            newest = 0
            for result, moment in self._archived(self._since("archived_ms")):
                newest = max(newest, moment)
                yield _flatten({**result, "archived": True})
            self._advance("archived_ms", newest)  # only now: the list is in id order, not time order
        except (ApiError, TransportError, BudgetExhausted) as exc:
            raise stream_error(f"HubSpot {self.name}", exc) from None

    def _page(self, filters: list[dict[str, Any]], sort: str, after: int) -> dict[str, Any]:
        body = {"filterGroups": [{"filters": filters}], "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
                "properties": self.properties, "limit": self.config.page_size, "after": str(after)}
        reply: dict[str, Any] = self.client.request("POST", f"/crm/v3/objects/{self.obj}/search", body=body) or {}
        return reply

    def _search(self, lower: int) -> Iterator[tuple[dict[str, Any], int]]:
        after = 0
        while True:
            page = self._page([{"propertyName": self.modified, "operator": "GTE", "value": str(lower)}],
                              self.modified, after)
            results = page.get("results") or []
            for result in results:
                yield result, _ms((result.get("properties") or {}).get(self.modified))
            following = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not following or not results:
                return
            if int(following) + self.config.page_size <= SEARCH_CAP:
                after = int(following)
                continue
            last = _ms((results[-1].get("properties") or {}).get(self.modified))
            if last <= lower:  # more than 10,000 records share one timestamp: walk it by id
                yield from self._walk_tie(lower)
                last = lower + 1
            logger.info("%s: %d results reached the search cap; re-querying from %d", self.name, SEARCH_CAP, last)
            lower, after = last, 0

    def _walk_tie(self, moment: int) -> Iterator[tuple[dict[str, Any], int]]:
        last_id = 0
        while True:
            page = self._page([{"propertyName": self.modified, "operator": "EQ", "value": str(moment)},
                               {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)}],
                              "hs_object_id", 0)
            results = page.get("results") or []
            for result in results:
                last_id = int(result["id"])
                yield result, moment
            if not (page.get("paging") or {}).get("next") or not results:
                return

    def _archived(self, since: int) -> Iterator[tuple[dict[str, Any], int]]:
        params: dict[str, Any] = {"archived": "true", "limit": min(100, self.config.page_size),
                                  "properties": ",".join(self.properties)}
        while True:
            page = self.client.request("GET", f"/crm/v3/objects/{self.obj}", params=params) or {}
            for result in page.get("results") or []:
                moment = _ms(result.get("archivedAt") or result.get("updatedAt"))
                if moment >= since:
                    yield result, moment
            following = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not following:
                return
            params = {**params, "after": following}


class HubSpotSource(AbstractSource):
    """HubSpot contacts and companies as Airbyte streams, archived records as deletions."""

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        schema = HubSpotSourceConfig.model_json_schema()
        return ConnectorSpecification(connectionSpecification=schema, supportsIncremental=True,
                                      supported_destination_sync_modes=[DestinationSyncMode.append])

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, str | None]:
        try:
            parsed = parse_config(config)
            client = parsed.client()
            for obj in parsed.objects:
                client.request("GET", f"/crm/v3/objects/{obj}", params={"limit": 1})
        except AirbyteTracedException as exc:
            return False, exc.message
        except DailyLimitReached as exc:
            return False, str(exc)
        except (ApiError, TransportError, ValueError) as exc:
            return False, f"cannot read HubSpot: {exc}"
        return True, None

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        ok, error = self.check_connection(logger, config)
        return AirbyteConnectionStatus(status=Status.SUCCEEDED if ok else Status.FAILED, message=error)

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        parsed = parse_config(config)
        try:
            client = parsed.client()
        except ValueError as exc:
            raise _config_error(str(exc)) from None
        return [HubSpotStream(parsed, obj, client) for obj in parsed.objects]


def configured_catalog(source: HubSpotSource, config: Mapping[str, Any], names: Iterable[str]) -> \
        ConfiguredAirbyteCatalog:
    by_name = {s.name: s for s in source.streams(config)}
    return ConfiguredAirbyteCatalog(streams=[ConfiguredAirbyteStream(
        stream=AirbyteStream(name=name, json_schema=dict(by_name[name].get_json_schema()),
                             supported_sync_modes=[SyncMode.full_refresh, SyncMode.incremental],
                             source_defined_cursor=True, default_cursor_field=[by_name[name].cursor_field],
                             source_defined_primary_key=[[RECORD_ID_KEY]]),
        sync_mode=SyncMode.incremental, destination_sync_mode=DestinationSyncMode.append,
        cursor_field=[by_name[name].cursor_field], primary_key=[[RECORD_ID_KEY]]) for name in names])


def iter_airbyte_messages(config: dict[str, Any], streams: list[str] | None = None,
                          state: dict[str, dict[str, Any]] | None = None) -> Iterator[AirbyteMessage]:
    """Run an incremental `read` in-process and yield its Airbyte messages (what crmsync's ingest uses)."""
    source = HubSpotSource()
    available = [s.name for s in source.streams(config)]
    selected = list(streams) if streams is not None else available
    unknown = [name for name in selected if name not in available]
    if unknown:
        raise _config_error(f"unknown stream '{unknown[0]}'; this HubSpot source has: {', '.join(available)}")
    states = [AirbyteStateMessage(type=AirbyteStateType.STREAM, stream=AirbyteStreamState(
        stream_descriptor=StreamDescriptor(name=name), stream_state=AirbyteStateBlob(dict(value))))
        for name, value in (state or {}).items()]
    yield from source.read(logging.getLogger("airbyte"), config, configured_catalog(source, config, selected), states)
