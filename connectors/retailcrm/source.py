"""The Airbyte source for RetailCRM API v5: customers and corporate customers, incremental through the history.

Streams `contacts` (`/customers`) and `companies` (`/customers-corporate`). RetailCRM's list
endpoints filter by creation date, not by change, so changes are read where the contract says
they are seen: the history (`/customers/history`, `/customers-corporate/history`), paged by
`filter[sinceId]` (the last history id read; always page 1, as RetailCRM advises). For each
history page the customers it touched are fetched as they are now (`filter[ids][]`, up to 100 a
request) and emitted once each; customers the history marks `deleted` (a combine, a deletion in
the web interface), or that are no longer there, come out as records with Airbyte's
`_ab_cdc_deleted_at`, which ingest turns into deletions. The state `{since_id}` moves to a page's
last history id as that page's last record is emitted, so a read killed anywhere repeats at most
one page and never skips one. Every call goes through the account's shared rate-limit budget
(10 requests/s), the same one the destination writer uses.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from airbyte_cdk.models import AirbyteMessage, ConnectorSpecification, DestinationSyncMode, FailureType, SyncMode
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.common.config import ConnectorConfigError, connection_spec, parse_config
from connectors.common.stream import RECORD_ID_KEY, CrmsyncSource, KeyedStream, config_error, read_in_process
from connectors.retailcrm.client import RetailCrmClient, open_client
from sync.push.budgets import BudgetExhausted
from sync.push.destination import RateLimitSettings
from sync.push.retries import ApiError, AuthError, RetryPolicy, TransportError
from sync.redaction import register_secret

__all__ = ["RetailCrmSource", "RetailCrmSourceConfig", "iter_airbyte_messages"]

logger = logging.getLogger(__name__)

DELETED_KEY = "_ab_cdc_deleted_at"
CURSOR = "_history_id"
# stream → (path, the list answer's key)
OBJECTS = {"contacts": ("/customers", "customers"), "companies": ("/customers-corporate", "customersCorporate")}
IDS_PER_REQUEST = 100


class RetailCrmSourceConfig(BaseModel):
    """The source's settings (`sources[].config` in crmsync.yaml, or an Airbyte config.json)."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="the account's API root, https://ACCOUNT.retailcrm.ru/api/v5")
    api_key: SecretStr = Field(description="API key (Settings → Integration → API access keys)",
                               json_schema_extra={"airbyte_secret": True})
    objects: list[Literal["contacts", "companies"]] = Field(default_factory=lambda: ["contacts", "companies"])
    start_date: datetime | None = Field(None, description="on the first read, history since (default: all of it)")
    page_size: Literal[20, 50, 100] = Field(100, description="history entries per request (RetailCRM: 20, 50, 100)")
    checkpoint_every: int = Field(100, ge=1, description="records between state checkpoints")
    rate_limit: RateLimitSettings = Field(default_factory=lambda: RateLimitSettings(max_requests=10,
                                                                                    interval_seconds=1))
    account: str | None = Field(None, description="budget name shared with the destination of the same account")
    timeout_seconds: float = Field(30.0, gt=0, le=600)
    max_retries: int = Field(5, ge=0, le=20, description="retries of rate limits, 5xx, timeouts and resets")
    backoff_seconds: float = Field(0.5, ge=0, le=60, description="first back-off; doubles each retry")
    base_dir: str | None = Field(None, description="project folder (set by crmsync; unused here)")

    def client(self) -> RetailCrmClient:
        """A client on the account's shared budget."""
        policy = RetryPolicy(attempts=self.max_retries + 1, backoff_base=self.backoff_seconds)
        return open_client(base_url=self.base_url, api_key=self.api_key.get_secret_value(), site=None,
                           rate_limit=self.rate_limit, account=self.account, timeout=self.timeout_seconds,
                           policy=policy)


def parse_retailcrm_config(raw: Mapping[str, Any]) -> RetailCrmSourceConfig:
    """The typed config (the key registered as a secret); ConnectorConfigError names the key."""
    config = parse_config(RetailCrmSourceConfig, dict(raw), "retailcrm")
    register_secret(config.api_key.get_secret_value())
    return config


def _flatten(customer: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """The customer as RetailCRM sent it, plus `PHONE_LIST` (its numbers joined by '; '), `changedAt` (its last
    history entry's time) and the address parts as flat `address_city`, `address_index`, ... columns."""
    phones = customer.get("phones") or []
    numbers = [str(p.get("number")) for p in phones if isinstance(p, dict) and p.get("number")]
    address = customer.get("address") if isinstance(customer.get("address"), dict) else {}
    parts = {f"address_{k}": address.get(k) for k in ("text", "city", "region", "index", "countryIso")}
    return {**customer, **parts, RECORD_ID_KEY: str(customer["id"]), CURSOR: int(entry["id"]),
            "PHONE_LIST": "; ".join(numbers) or None, "changedAt": entry.get("createdAt")}


class HistoryStream(KeyedStream):
    """Customers (or corporate customers) changed since the saved history id, each as it is now."""

    cursor_name = CURSOR

    def __init__(self, config: RetailCrmSourceConfig, name: str, client: RetailCrmClient) -> None:
        super().__init__(name, config.checkpoint_every)
        self.config, self.client = config, client
        self.path, self.list_key = OBJECTS[name]

    def get_json_schema(self) -> Mapping[str, Any]:
        """Open schema: RetailCRM's fields as they come, the keys crmsync relies on typed."""
        return {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": True,
                "properties": {RECORD_ID_KEY: {"type": "string"}, "id": {"type": "integer"},
                               CURSOR: {"type": "integer"}, DELETED_KEY: {"type": ["string", "null"]},
                               "PHONE_LIST": {"type": ["string", "null"]}}}

    # ------------------------------------------------------------ reading

    def _history(self, since_id: int) -> list[dict[str, Any]]:
        filters: dict[str, Any] = {"sinceId": since_id} if since_id else {}
        if not since_id and self.config.start_date:
            filters["startDate"] = self.config.start_date.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        body = self.client.request("GET", f"{self.path}/history",
                                   query={"filter": filters, "limit": self.config.page_size})
        entries = body.get("history")
        if not isinstance(entries, list):
            raise ApiError(502, f"RetailCRM answered {self.path}/history without a 'history' list")
        return entries

    def _current(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(ids), IDS_PER_REQUEST):
            part = ids[start:start + IDS_PER_REQUEST]
            body = self.client.request("GET", self.path, query={"filter": {"ids": part}, "limit": 100})
            for item in body.get(self.list_key) or []:
                found[int(item["id"])] = item
        return found

    def _page_records(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        latest: dict[int, dict[str, Any]] = {}  # customer id → its last entry on this page
        for entry in entries:
            customer_id = int((entry.get("customer") or {}).get("id") or 0)
            if customer_id:
                latest.pop(customer_id, None)
                latest[customer_id] = entry
        current = self._current([cid for cid, entry in latest.items() if not entry.get("deleted")])
        records = []
        for customer_id, entry in latest.items():
            live = current.get(customer_id)
            if live is not None and not entry.get("deleted"):
                records.append(_flatten(live, entry))
            else:  # deleted, combined into another, or gone since
                when = entry.get("createdAt") if entry.get("deleted") else None
                records.append({RECORD_ID_KEY: str(customer_id), "id": customer_id, CURSOR: int(entry["id"]),
                                DELETED_KEY: str(when or datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"))})
        return records

    def read_records(self, sync_mode: SyncMode, cursor_field: list[str] | None = None,
                     stream_slice: Mapping[str, Any] | None = None,
                     stream_state: Mapping[str, Any] | None = None) -> Iterable[Mapping[str, Any]]:
        """History pages from the saved id; each page's customers as they are now."""
        if sync_mode == SyncMode.full_refresh:
            self._state = {}
        since_id = int(self._state.get("since_id") or 0)
        try:
            while True:
                entries = self._history(since_id)
                if not entries:
                    return
                last_id = max(int(e["id"]) for e in entries)
                records = self._page_records(entries)
                for index, record in enumerate(records):
                    if index == len(records) - 1:  # the page is complete once its last record is out
                        self._state = {"since_id": last_id}
                    yield record
                if not records:
                    self._state = {"since_id": last_id}
                since_id = last_id
                if len(entries) < self.config.page_size:
                    return
        except (ApiError, TransportError, BudgetExhausted) as exc:
            kind = FailureType.config_error if isinstance(exc, AuthError) else FailureType.system_error
            raise AirbyteTracedException(message=f"RetailCRM {self.name}: {exc}", internal_message=str(exc),
                                         failure_type=kind) from None


class RetailCrmSource(CrmsyncSource):
    """RetailCRM customers and corporate customers as incremental Airbyte streams."""

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        """The connection specification (see `RetailCrmSourceConfig`)."""
        return ConnectorSpecification(connectionSpecification=connection_spec(RetailCrmSourceConfig, "RetailCRM"),
                                      supportsIncremental=True,
                                      supported_destination_sync_modes=[DestinationSyncMode.append])

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, str | None]:
        """Read one page of each object's history: proves the URL, the key and its permissions."""
        try:
            parsed = parse_retailcrm_config(config)
            client = parsed.client()
        except (ConnectorConfigError, ValueError) as exc:
            return False, str(exc)
        try:
            for name in parsed.objects:
                client.request("GET", f"{OBJECTS[name][0]}/history", query={"limit": 20})
        except AuthError as exc:
            return False, f"RetailCRM refused the API key: {exc}"
        except (ApiError, TransportError, BudgetExhausted) as exc:
            return False, f"cannot read RetailCRM: {exc}"
        finally:
            client.close()
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        """One stream per configured object."""
        try:
            parsed = parse_retailcrm_config(config)
            client = parsed.client()
        except (ConnectorConfigError, ValueError) as exc:
            raise config_error(str(exc)) from exc
        return [HistoryStream(parsed, name, client) for name in parsed.objects]


def iter_airbyte_messages(config: dict[str, Any], streams: list[str] | None = None,
                          state: dict[str, dict[str, Any]] | None = None) -> Iterator[AirbyteMessage]:
    """Run an incremental `read` in-process and yield its Airbyte messages (what crmsync's ingest uses)."""
    yield from read_in_process(RetailCrmSource(), config, streams, state)
