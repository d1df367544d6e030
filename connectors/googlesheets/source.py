"""Google Sheets as an Airbyte source: one stream per tab, rows as the user sees them (contract 9).

Each read fetches the tab's values (FORMATTED_VALUE, in blocks of `page_rows` rows) and turns
them into rows with the spreadsheet-file logic of `connectors.files` (header detection below
title rows, column naming, row-content-hash record ids), so a tab and the same tab exported
to .xlsx give the same records. The state is the files source's pass state
(`fingerprint`, `pass_id`, `position`, `complete`): an unchanged tab is not emitted again, a
changed one is read as a new pass whose end lets the store mark removed rows deleted, and a
read cut short resumes the same pass at `position` when the tab has not changed meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from airbyte_cdk.models import AirbyteMessage, ConnectorSpecification, DestinationSyncMode, FailureType, SyncMode
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from openpyxl.utils import get_column_letter
from pydantic import Field, SecretStr, model_validator

from connectors.common.config import ConnectorConfigError, connection_spec, parse_config
from connectors.common.http import ApiError, AuthError, HttpSettings, TransientError
from connectors.common.stream import CrmsyncSource, KeyedStream, config_error, read_in_process
from connectors.files.grid import build_rows
from connectors.files.model import FileReadError, Table
from connectors.files.records import ROW_KEY, check_primary_key, iter_records, json_schema
from connectors.googlesheets.client import SheetsClient, client_for
from sync.redaction import register_secret

__all__ = ["GoogleSheetsConfig", "GoogleSheetsSource", "SheetStream", "iter_airbyte_messages"]

logger = logging.getLogger(__name__)


class GoogleSheetsConfig(HttpSettings):
    """Which spreadsheet and tabs to read, and with which credentials (exactly one kind)."""

    spreadsheet_id: str = Field(min_length=1, description="the id in the sheet's URL: /spreadsheets/d/<id>/edit")
    sheets: list[str] | None = Field(None, min_length=1, description="tab names to read; default: every visible tab")
    api_key: SecretStr | None = Field(None, description="an API key (reads sheets shared 'anyone with the link')",
                                      json_schema_extra={"airbyte_secret": True})
    access_token: SecretStr | None = Field(None, description="an OAuth access token with a spreadsheets or "
                                           "drive scope", json_schema_extra={"airbyte_secret": True})
    service_account_info: SecretStr | None = Field(
        None, description="a service account's JSON key, as text; share the spreadsheet with its client_email",
        json_schema_extra={"airbyte_secret": True})
    service_account_file: str | None = Field(
        None, description="path of a service account's JSON key file (relative: to the project folder); "
        "instead of service_account_info")
    header_row: int | None = Field(None, ge=1, description="the row holding the column names; default: detected")
    primary_key: list[str] | None = Field(None, min_length=1, description="columns identifying a row; default: "
                                          "the row's content hash")
    page_rows: int = Field(5000, ge=1, le=100_000, description="rows per values request at most")
    page_cells: int = Field(60_000, ge=1, description="cells per values request at most (grid rows × columns), "
                            "keeping responses near Google's advised 2 MB")
    checkpoint_every: int = Field(500, ge=1, description="records between STATE messages")
    reread_unchanged: bool = Field(False, description="emit an unchanged tab again (as the files source does), "
                                   "e.g. once after editing its mapping so the rows are mapped anew")
    base_url: str = Field("https://sheets.googleapis.com", description="the API root; an emulator's URL in tests")
    # Sheets allows 60 reads a minute per user and answers 429 past it, refilled each minute.
    requests_per_minute: float | None = Field(55.0, gt=0, description="pace reads under the per-user quota")
    max_retries: int = Field(8, ge=0, le=20, description="retries of 429, 5xx, timeouts and resets")
    backoff_seconds: float = Field(2.0, ge=0, le=60, description="first back-off; doubles each retry")

    @model_validator(mode="after")
    def _one_credential(self) -> GoogleSheetsConfig:
        kinds = ("api_key", "access_token", "service_account_info", "service_account_file")
        given = [n for n in kinds if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("set exactly one of api_key, access_token, service_account_info or service_account_file"
                             + (f" (got {', '.join(given)})" if given else ""))
        if self.service_account_file is not None:
            self.service_account_info = SecretStr(_read_key_file(self.service_account_file, self.base_dir))
        if self.service_account_info is not None:
            _service_account(self.service_account_info)
        return self


def _read_key_file(name: str, base_dir: str | None) -> str:
    path = Path(name).expanduser()
    if not path.is_absolute() and base_dir:
        path = Path(base_dir) / path
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"service_account_file: cannot read {path} ({exc.strerror or exc}); point it at the "
                         "JSON key downloaded for the service account") from None
    except UnicodeDecodeError:
        raise ValueError(f"service_account_file: {path} is not a JSON key file (not UTF-8 text)") from None


def _service_account(secret: SecretStr) -> dict[str, Any]:
    try:
        info = json.loads(secret.get_secret_value())
    except ValueError:
        raise ValueError("service_account_info must be the service account's JSON key file, as text") from None
    missing = [k for k in ("client_email", "private_key", "token_uri") if not isinstance(info, dict) or k not in info]
    if missing:
        raise ValueError(f"service_account_info lacks {', '.join(missing)}; paste the whole JSON key file")
    return dict(info)


def parse_sheets_config(raw: Mapping[str, Any]) -> GoogleSheetsConfig:
    """The typed config, its secrets registered for redaction; ConnectorConfigError names the key."""
    config = parse_config(GoogleSheetsConfig, dict(raw), "googlesheets")
    for secret in (config.api_key, config.access_token):
        if secret is not None:
            register_secret(secret.get_secret_value())
    if config.service_account_info is not None:
        register_secret(config.service_account_info.get_secret_value())
        register_secret(str(_service_account(config.service_account_info)["private_key"]))
    return config


def quote_sheet(title: str) -> str:
    """A tab name in A1 notation: always quoted, inner quotes doubled (`'Q1 ''24'`)."""
    return "'" + title.replace("'", "''") + "'"


def _metadata(client: SheetsClient, config: GoogleSheetsConfig) -> dict[str, Any]:
    body = client.get_json(f"v4/spreadsheets/{quote(config.spreadsheet_id, safe='')}",
                           {"fields": "properties.title,sheets.properties"})
    if not isinstance(body, Mapping) or not isinstance(body.get("sheets"), list):
        raise ApiError("Google Sheets answered spreadsheets.get without a 'sheets' list")
    return dict(body)


def _tabs(meta: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Grid tabs by title, in order (charts and other object sheets have no cells)."""
    tabs = {}
    for sheet in meta["sheets"]:
        props = sheet.get("properties") or {}
        if props.get("sheetType", "GRID") == "GRID" and isinstance(props.get("title"), str):
            tabs[props["title"]] = props
    return tabs


def selected_tabs(meta: Mapping[str, Any], config: GoogleSheetsConfig) -> list[str]:
    """The configured tabs (each must exist), else every visible grid tab."""
    tabs = _tabs(meta)
    if config.sheets is None:
        return [title for title, props in tabs.items() if not props.get("hidden")]
    title = (meta.get("properties") or {}).get("title", config.spreadsheet_id)
    for name in config.sheets:
        if name not in tabs:
            raise ApiError(f"spreadsheet '{title}': sheet '{name}' not found (sheets: {', '.join(tabs) or 'none'}); "
                           "fix \"sheets\"")
    return list(config.sheets)


class SheetStream(KeyedStream):
    """One tab, read in passes that resume mid-tab and skip an unchanged tab."""

    cursor_name = ROW_KEY  # `_row` orders the records; the resume point is the state's position

    def __init__(self, config: GoogleSheetsConfig, tab: str) -> None:
        super().__init__(tab, config.checkpoint_every)
        self.config = config
        self.tab = tab
        self._incoming: dict[str, Any] = {}

    @property
    def state(self) -> MutableMapping[str, Any]:
        """The pass state: fingerprint, pass_id, position (records emitted), complete."""
        return dict(self._state)

    @state.setter
    def state(self, value: MutableMapping[str, Any]) -> None:
        self._incoming = dict(value or {})
        self._state = dict(self._incoming)

    def get_json_schema(self) -> Mapping[str, Any]:
        """Open: the columns are known only once read; the metadata keys typed."""
        return json_schema(Table(Path("spreadsheet"), "gsheet", (), (), "", sheet=self.tab))

    def fetch(self, client: SheetsClient) -> Table:
        """The tab's rows, fetched in blocks of `page_rows` up to its grid size."""
        meta = _metadata(client, self.config)
        title = str((meta.get("properties") or {}).get("title") or self.config.spreadsheet_id)
        props = _tabs(meta).get(self.tab)
        if props is None:
            raise ApiError(f"spreadsheet '{title}': sheet '{self.tab}' not found (sheets: "
                           f"{', '.join(_tabs(meta)) or 'none'}); fix \"sheets\"")
        grid_size = props.get("gridProperties") or {}
        row_count = int(grid_size.get("rowCount") or 0)
        columns = max(1, int(grid_size.get("columnCount") or 1))
        raw: list[tuple[int, list[object]]] = []
        step = max(1, min(self.config.page_rows, self.config.page_cells // columns))
        for first in range(1, row_count + 1, step):
            last = min(row_count, first + step - 1)
            a1 = f"{quote_sheet(self.tab)}!{first}:{last}"
            body = client.get_json(
                f"v4/spreadsheets/{quote(self.config.spreadsheet_id, safe='')}/values/{quote(a1, safe='')}",
                {"valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"})
            values = body.get("values", []) if isinstance(body, Mapping) else None
            if not isinstance(values, list) or not all(isinstance(v, list) for v in values):
                raise ApiError(f"Google Sheets answered values.get {a1} without a 'values' list of rows")
            raw.extend((first + i, cells) for i, cells in enumerate(values))
        path = Path(title.replace("/", "_") or "spreadsheet")
        settings = [self.config.header_row, self.config.primary_key]
        fingerprint = hashlib.sha256(json.dumps([settings, raw], ensure_ascii=False).encode()).hexdigest()
        try:
            grid = build_rows(raw, path=path, header_row=self.config.header_row,
                              blank_name=lambda i: f"column_{get_column_letter(i + 1)}")
            table = Table(path=path, file_format="gsheet", columns=grid.columns, rows=grid.rows,
                          fingerprint=fingerprint, sheet=self.tab, header_row=grid.header_row)
            check_primary_key(table, self.config.primary_key)
        except FileReadError as exc:
            raise ApiError(f"spreadsheet '{title}', sheet '{self.tab}': {exc.message}") from None
        return table

    def read_records(
        self,
        sync_mode: SyncMode,
        cursor_field: list[str] | None = None,
        stream_slice: Mapping[str, Any] | None = None,
        stream_state: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        """Yield the pass's remaining records, keeping `state` exact after every record."""
        if sync_mode == SyncMode.full_refresh:
            self._incoming = {}
        client = client_for(self.config)
        try:
            table = self.fetch(client)
        except ApiError as exc:
            kind = FailureType.config_error if isinstance(exc, AuthError) else (
                FailureType.transient_error if isinstance(exc, TransientError) else FailureType.system_error)
            raise AirbyteTracedException(message=f"{self.name}: {exc}", internal_message=str(exc),
                                         failure_type=kind) from exc
        finally:
            client.close()
        incoming = self._incoming
        if (incoming.get("complete") and incoming.get("fingerprint") == table.fingerprint
                and not self.config.reread_unchanged):
            logger.info("%s: unchanged since pass %s; nothing to read", self.name, incoming.get("pass_id"))
            self._state = dict(incoming)
            return
        pass_id, position = self._resume_point(table)
        base = {"fingerprint": table.fingerprint, "pass_id": pass_id}
        self._state = {**base, "position": position, "complete": False}
        for record in iter_records(table, pass_id=pass_id, primary_key=self.config.primary_key, skip=position):
            # The CDK reads `state` while this generator is paused at the yield: count the record first.
            position += 1
            self._state = {**base, "position": position, "complete": False}
            yield record
        self._state = {**base, "position": max(position, len(table.rows)), "complete": True}

    def _resume_point(self, table: Table) -> tuple[str, int]:
        state = self._incoming
        if (state.get("fingerprint") == table.fingerprint and not state.get("complete")
                and isinstance(state.get("pass_id"), str) and isinstance(state.get("position"), int)
                and state["position"] >= 0):
            logger.info("%s: resuming pass %s at record %d", self.name, state["pass_id"], state["position"])
            return state["pass_id"], state["position"]
        pass_id = uuid.uuid4().hex
        logger.info("%s: starting pass %s", self.name, pass_id)
        return pass_id, 0


class GoogleSheetsSource(CrmsyncSource):
    """Reads the tabs of one Google spreadsheet through the Sheets values API."""

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        """The connection specification (see `GoogleSheetsConfig`)."""
        return ConnectorSpecification(connectionSpecification=connection_spec(GoogleSheetsConfig, "Google Sheets"),
                                      supportsIncremental=True,
                                      supported_destination_sync_modes=[DestinationSyncMode.append])

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, str | None]:
        """Read the spreadsheet's tab list: proves the credentials, the sharing and the tab names."""
        try:
            parsed = parse_sheets_config(config)
        except ConnectorConfigError as exc:
            return False, str(exc)
        client = client_for(parsed)
        try:
            selected_tabs(_metadata(client, parsed), parsed)
        except ApiError as exc:
            return False, str(exc)
        finally:
            client.close()
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        """One stream per configured tab (asking the API for the tabs when none are named)."""
        try:
            parsed = parse_sheets_config(config)
        except ConnectorConfigError as exc:
            raise config_error(str(exc)) from exc
        tabs = parsed.sheets
        if tabs is None:
            client = client_for(parsed)
            try:
                tabs = selected_tabs(_metadata(client, parsed), parsed)
            except ApiError as exc:
                raise config_error(str(exc)) from exc
            finally:
                client.close()
        return [SheetStream(parsed, tab) for tab in tabs]


def iter_airbyte_messages(
    config: dict[str, Any],
    streams: list[str] | None = None,
    state: dict[str, dict[str, Any]] | None = None,
) -> Iterator[AirbyteMessage]:
    """Run an incremental `read` in-process and yield its Airbyte messages."""
    yield from read_in_process(GoogleSheetsSource(), config, streams, state)
