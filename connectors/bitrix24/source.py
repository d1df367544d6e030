"""The Airbyte source for Bitrix24 CRM: contacts and companies, incremental by DATE_MODIFY, deletions included.

Streams `contacts` (`crm.contact.list`) and `companies` (`crm.company.list`) read records
modified since the saved cursor, ordered by DATE_MODIFY then ID, in Bitrix24's fixed pages of
50 with `start=-1` (no count, as Bitrix24 advises for exports). Pages are keyed, not offset: the
next page filters `>=DATE_MODIFY` from the last row read and skips rows already emitted, so a
record modified mid-read cannot shift a page and be skipped. More than 50 records sharing one
DATE_MODIFY second are walked by `>ID`. The state `{cursor, id}` is exactly the last record
emitted, so a read killed anywhere resumes without loss and without repeats.

Bitrix24's REST API has no feed of deleted records (contract §4), so deletions are found by
comparing ids: the state keeps the ids seen (as compact ranges), and after the changes each read
lists the live ids (`select: [ID]`, keyed by `>ID`). An id that is gone comes out as a record
with Airbyte's `_ab_cdc_deleted_at`, which ingest turns into a deletion. Every call goes through
the portal's shared rate-limit budget, the same one the destination writer uses.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from airbyte_cdk.models import AirbyteMessage, ConnectorSpecification, DestinationSyncMode, FailureType, SyncMode
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.bitrix24.client import BitrixClient, open_client
from connectors.bitrix24.ids import IdRanges
from connectors.common.config import ConnectorConfigError, connection_spec, parse_config
from connectors.common.stream import RECORD_ID_KEY, CrmsyncSource, KeyedStream, config_error, read_in_process
from sync.push.budgets import BudgetExhausted
from sync.push.destination import RateLimitSettings
from sync.push.retries import ApiError, AuthError, RetryPolicy, TransportError
from sync.redaction import register_secret

__all__ = ["Bitrix24Source", "Bitrix24SourceConfig", "iter_airbyte_messages"]

logger = logging.getLogger(__name__)

PAGE = 50  # fixed by Bitrix24
DELETED_KEY = "_ab_cdc_deleted_at"
CURSOR = "DATE_MODIFY"
ENTITY = {"contacts": "contact", "companies": "company"}
MULTI = ("PHONE", "EMAIL", "WEB", "IM")


class Bitrix24SourceConfig(BaseModel):
    """The source's settings (`sources[].config` in crmsync.yaml, or an Airbyte config.json)."""

    model_config = ConfigDict(extra="forbid")

    webhook_url: SecretStr = Field(description="inbound webhook URL, https://PORTAL.bitrix24.ru/rest/USER_ID/CODE "
                                   "(the URL is the credential)", json_schema_extra={"airbyte_secret": True})
    objects: list[Literal["contacts", "companies"]] = Field(default_factory=lambda: ["contacts", "companies"])
    start_date: datetime | None = Field(None, description="read records modified since (default: all)")
    lookback_seconds: int = Field(60, ge=0, le=86_400, description="re-read this long before the cursor: "
                                  "DATE_MODIFY has whole seconds, so a change in the cursor's own second to a "
                                  "record with a lower ID is seen only by a look-back (re-reading is harmless)")
    detect_deletions: bool = Field(True, description="list live ids after each read to find deleted records "
                                   "(costs one request per 50 records)")
    deletion_sweep_hours: float = Field(0, ge=0, description="list live ids at most once per this many hours "
                                        "(0: on every read); deletions show up that much later, for fewer requests")
    checkpoint_every: int = Field(PAGE, ge=1, description="records between state checkpoints")
    rate_limit: RateLimitSettings = Field(default_factory=lambda: RateLimitSettings(max_requests=100,
                                                                                    interval_seconds=50))
    account: str | None = Field(None, description="budget name shared with the destination of the same portal")
    timeout_seconds: float = Field(30.0, gt=0, le=600)
    max_retries: int = Field(5, ge=0, le=20, description="retries of rate limits, 5xx, timeouts and resets")
    backoff_seconds: float = Field(0.5, ge=0, le=60, description="first back-off; doubles each retry")
    base_dir: str | None = Field(None, description="project folder (set by crmsync; unused here)")

    def client(self) -> BitrixClient:
        """A client on the portal's shared budget."""
        policy = RetryPolicy(attempts=self.max_retries + 1, backoff_base=self.backoff_seconds)
        return open_client(webhook_url=self.webhook_url.get_secret_value(), rate_limit=self.rate_limit,
                           account=self.account, timeout=self.timeout_seconds, policy=policy)


def parse_bitrix_config(raw: Mapping[str, Any]) -> Bitrix24SourceConfig:
    """The typed config (the webhook registered as a secret); ConnectorConfigError names the key."""
    config = parse_config(Bitrix24SourceConfig, dict(raw), "bitrix24")
    url = config.webhook_url.get_secret_value()
    register_secret(url)
    register_secret(url.rstrip("/").rsplit("/", 1)[-1])
    return config


def _moment(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def _flatten(row: Mapping[str, Any]) -> dict[str, Any]:
    """The record as Bitrix24 sent it, plus `PHONE_LIST`/`EMAIL_LIST`: the multi-field values joined by '; '."""
    record = {**row, RECORD_ID_KEY: str(row["ID"])}
    for kind in ("PHONE", "EMAIL"):
        items = row.get(kind) or []
        record[f"{kind}_LIST"] = "; ".join(str(i.get("VALUE")) for i in items if isinstance(i, dict) and
                                           i.get("VALUE")) or None
    return record


class BitrixStream(KeyedStream):
    """One entity type; the state is the last record emitted `{cursor, id}` and the ids seen (`known`)."""

    cursor_name = CURSOR

    def __init__(self, config: Bitrix24SourceConfig, name: str, client: BitrixClient) -> None:
        super().__init__(name, config.checkpoint_every)
        self.config, self.client = config, client
        self.method = f"crm.{ENTITY[name]}.list"

    def get_json_schema(self) -> Mapping[str, Any]:
        """Open schema: Bitrix24's fields as they come, the keys crmsync relies on typed."""
        return {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": True,
                "properties": {RECORD_ID_KEY: {"type": "string"}, "ID": {"type": "string"},
                               CURSOR: {"type": ["string", "null"]}, DELETED_KEY: {"type": ["string", "null"]},
                               "PHONE_LIST": {"type": ["string", "null"]}, "EMAIL_LIST": {"type": ["string", "null"]}}}

    # ------------------------------------------------------------ reading

    def _list(self, filters: dict[str, Any], order: dict[str, str], select: list[str]) -> list[dict[str, Any]]:
        result = self.client.call(self.method, {"filter": filters, "order": order, "select": select, "start": -1})
        if not isinstance(result, list):
            raise ApiError(502, f"Bitrix24 answered {self.method} without a list of records")
        return result

    def _start(self) -> tuple[datetime | None, int]:
        saved = self._state.get("cursor")
        if saved:
            if self.config.lookback_seconds:
                return _moment(saved) - timedelta(seconds=self.config.lookback_seconds), 0
            return _moment(saved), int(self._state.get("id") or 0)
        return (self.config.start_date.astimezone(UTC) if self.config.start_date else None), 0

    def _emit(self, row: Mapping[str, Any], known: IdRanges) -> dict[str, Any]:
        known.add(int(row["ID"]))
        self._state = {**self._state, "cursor": row.get(CURSOR), "id": int(row["ID"]), "known": known.dumps()}
        return _flatten(row)

    def _changed(self, known: IdRanges) -> Iterator[dict[str, Any]]:
        since, last_id = self._start()
        select = ["*", "UF_*", *MULTI]
        operator = ">="
        while True:
            filters = {f"{operator}{CURSOR}": since.isoformat()} if since else {}
            rows = self._list(filters, {CURSOR: "ASC", "ID": "ASC"}, select)
            fresh = [r for r in rows if since is None or operator == ">" or
                     (_moment(r[CURSOR]), int(r["ID"])) > (since, last_id)]
            for row in fresh:
                since, last_id = _moment(row[CURSOR]), int(row["ID"])
                yield self._emit(row, known)
            if len(rows) < PAGE:
                return
            if fresh:
                operator = ">="
                continue
            # a whole page ties on one second, all of it read already: walk that second by ID, then step past it
            assert since is not None
            while True:
                tied = self._list({f"={CURSOR}": since.isoformat(), ">ID": last_id}, {"ID": "ASC"}, select)
                for row in tied:
                    last_id = int(row["ID"])
                    yield self._emit(row, known)
                if len(tied) < PAGE:
                    break
            operator = ">"

    def _live_ids(self) -> set[int]:
        live: set[int] = set()
        last = 0
        while True:
            rows = self._list({">ID": last}, {"ID": "ASC"}, ["ID"])
            for row in rows:
                last = max(last, int(row["ID"]))
                live.add(int(row["ID"]))
            if len(rows) < PAGE:
                return live

    def _deleted(self, known: IdRanges) -> Iterator[dict[str, Any]]:
        live = self._live_ids()
        gone = [i for i in known if i not in live]
        now = datetime.now(UTC).isoformat()
        for record_id in gone:
            known.discard(record_id)
            self._state = {**self._state, "known": known.dumps()}
            yield {RECORD_ID_KEY: str(record_id), "ID": str(record_id), CURSOR: None, DELETED_KEY: now}
        # ids created after the changes were read come in with the next read; knowing them now is harmless
        for record_id in live:
            known.add(record_id)
        self._state = {**self._state, "known": known.dumps(), "swept_at": datetime.now(UTC).isoformat()}

    def _sweep_due(self) -> bool:
        swept = self._state.get("swept_at")
        if not self.config.detect_deletions:
            return False
        if not swept or not self.config.deletion_sweep_hours:
            return True
        return datetime.now(UTC) - _moment(swept) >= timedelta(hours=self.config.deletion_sweep_hours)

    def read_records(self, sync_mode: SyncMode, cursor_field: list[str] | None = None,
                     stream_slice: Mapping[str, Any] | None = None,
                     stream_state: Mapping[str, Any] | None = None) -> Iterable[Mapping[str, Any]]:
        """Changed records since the state, then (if enabled) the deleted ones."""
        if sync_mode == SyncMode.full_refresh:
            self._state = {}
        known = IdRanges.loads(self._state.get("known"))
        try:
            yield from self._changed(known)
            if self._sweep_due():
                yield from self._deleted(known)
        except (ApiError, TransportError, BudgetExhausted) as exc:
            kind = FailureType.config_error if isinstance(exc, AuthError) else FailureType.system_error
            raise AirbyteTracedException(message=f"Bitrix24 {self.name}: {exc}", internal_message=str(exc),
                                         failure_type=kind) from None


class Bitrix24Source(CrmsyncSource):
    """Bitrix24 contacts and companies as incremental Airbyte streams."""

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        """The connection specification (see `Bitrix24SourceConfig`)."""
        return ConnectorSpecification(connectionSpecification=connection_spec(Bitrix24SourceConfig, "Bitrix24 CRM"),
                                      supportsIncremental=True,
                                      supported_destination_sync_modes=[DestinationSyncMode.append])

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, str | None]:
        """List one page of each object: proves the webhook and its CRM permission."""
        try:
            parsed = parse_bitrix_config(config)
            client = parsed.client()
        except (ConnectorConfigError, ValueError) as exc:
            return False, str(exc)
        try:
            for name in parsed.objects:
                client.call(f"crm.{ENTITY[name]}.list", {"select": ["ID"], "start": -1})
        except AuthError as exc:
            return False, f"Bitrix24 refused the webhook: {exc}"
        except (ApiError, TransportError, BudgetExhausted) as exc:
            return False, f"cannot read Bitrix24: {exc}"
        finally:
            client.close()
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        """One stream per configured object."""
        try:
            parsed = parse_bitrix_config(config)
            client = parsed.client()
        except (ConnectorConfigError, ValueError) as exc:
            raise config_error(str(exc)) from exc
        return [BitrixStream(parsed, name, client) for name in parsed.objects]


def iter_airbyte_messages(config: dict[str, Any], streams: list[str] | None = None,
                          state: dict[str, dict[str, Any]] | None = None) -> Iterator[AirbyteMessage]:
    """Run an incremental `read` in-process and yield its Airbyte messages (what crmsync's ingest uses)."""
    yield from read_in_process(Bitrix24Source(), config, streams, state)
