"""A local Google Sheets API v4 (contract 9): spreadsheets.get, values.get, values.batchGet, an OAuth token URL.

Refuses what Google refuses, in Google's error body `{error: {code, message, status, details?}}`:

| request | answer |
|---|---|
| no credentials | 403 PERMISSION_DENIED "The request is missing a valid API key." |
| wrong API key (`key=` or `X-goog-api-key`) | 400 INVALID_ARGUMENT, reason API_KEY_INVALID |
| API key on a spreadsheet that is not shared publicly | 403 PERMISSION_DENIED |
| unknown or expired bearer token | 401 UNAUTHENTICATED |
| a token without a Sheets or Drive scope | 403 PERMISSION_DENIED "insufficient authentication scopes" |
| a range that does not parse (unquoted name with spaces, unknown sheet, bad A1) | 400 "Unable to parse range: ..." |
| more than `reads_per_minute` reads per credential in `quota_window` seconds | 429 RESOURCE_EXHAUSTED, no Retry-After |

The token URL (`POST /token`) takes a service account's signed JWT (grant type jwt-bearer),
checks its RS256 signature against the registered public key, its audience, issuer,
expiry and scope, and issues a bearer token; `revoke_tokens()` makes issued tokens 401.
Values come back as the Sheets UI shows them (FORMATTED_VALUE), or raw (UNFORMATTED_VALUE,
FORMULA); trailing empty cells and rows are dropped, so rows are ragged.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

import google.auth.exceptions
import google.auth.jwt

from connectors.testing.emulator import Emulator, EmuRequest, EmuResponse, Route

__all__ = ["Formatted", "GoogleSheetsEmulator", "Sheet", "Spreadsheet", "column_letter", "quote_sheet"]

API = "/v4/spreadsheets"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
READ_SCOPES = frozenset({
    "https://www.googleapis.com/auth/spreadsheets.readonly", "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive.readonly", "https://www.googleapis.com/auth/drive",
})
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
           429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE"}
_BARE_NAME = re.compile(r"\w+")
_CELL = re.compile(r"(?P<col>[A-Za-z]{0,3})(?P<row>\d{0,7})")


@dataclass(frozen=True)
class Formatted:
    """A cell whose display differs from its value (a date, a currency): what the UI shows, and the raw value."""

    text: str
    value: Any


Cell = str | int | float | bool | Formatted | None


@dataclass
class Sheet:
    """One tab: its rows of cells (row 1 first) and its grid size."""

    title: str
    sheet_id: int
    rows: list[list[Cell]] = field(default_factory=list)
    row_count: int = 1000
    column_count: int = 26
    hidden: bool = False

    def grid_rows(self) -> int:
        return max(self.row_count, len(self.rows))

    def grid_columns(self) -> int:
        return max([self.column_count, *(len(r) for r in self.rows)])


@dataclass
class Spreadsheet:
    """A spreadsheet: its title, its tabs in order and whether anyone with the link (an API key) may read it."""

    spreadsheet_id: str
    title: str
    sheets: list[Sheet] = field(default_factory=list)
    public: bool = True

    def sheet(self, title: str) -> Sheet | None:
        return next((s for s in self.sheets if s.title == title), None)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    value = 0
    for char in letters.upper():
        value = value * 26 + (ord(char) - 64)
    return value - 1


def quote_sheet(title: str) -> str:
    """A sheet name as A1 notation needs it: quoted (inner quotes doubled) unless it is a plain word."""
    if _BARE_NAME.fullmatch(title):
        return title
    return "'" + title.replace("'", "''") + "'"


class RangeError(ValueError):
    """A range that Sheets would not parse."""


@dataclass(frozen=True)
class Bounds:
    """A parsed A1 range: the sheet and 0-based inclusive bounds (None: to the grid's edge)."""

    sheet: Sheet
    row_start: int
    row_end: int | None
    col_start: int
    col_end: int | None


def _split_sheet(text: str) -> tuple[str | None, str | None]:
    """(sheet name or None, cell part or None) of an A1 range."""
    if text.startswith("'"):
        name, i = [], 1
        while i < len(text):
            if text[i] == "'":
                if text[i + 1:i + 2] == "'":
                    name.append("'")
                    i += 2
                    continue
                rest = text[i + 1:]
                if rest and not rest.startswith("!"):
                    raise RangeError(text)
                return "".join(name), (rest[1:] if rest else None)
            name.append(text[i])
            i += 1
        raise RangeError(text)  # unclosed quote
    if "!" in text:
        name, _, cells = text.partition("!")
        if not _BARE_NAME.fullmatch(name):
            raise RangeError(text)  # names with spaces or punctuation must be quoted
        return name, cells
    return None, text


def parse_range(text: str, book: Spreadsheet) -> Bounds:
    """Resolve A1 notation (`Sheet1!A1:D5`, `'My sheet'!2:100`, `Sheet1`, `A1:B2` on the first tab)."""
    name, cells = _split_sheet(text)
    if name is None and cells is not None and book.sheet(cells) is not None:
        name, cells = cells, None  # a bare sheet name means the whole tab
    sheet = book.sheet(name) if name is not None else (book.sheets[0] if book.sheets else None)
    if sheet is None:
        raise RangeError(text)
    if not cells:
        return Bounds(sheet, 0, None, 0, None)
    start, sep, end = cells.partition(":")
    first = _CELL.fullmatch(start)
    last = _CELL.fullmatch(end) if sep else first
    if not first or not last:
        raise RangeError(text)
    c1, r1, c2, r2 = first["col"], first["row"], last["col"], last["row"]
    if not (c1 or r1) or not (c2 or r2) or (not sep and not (c1 and r1)):
        raise RangeError(text)
    row_start = int(r1) - 1 if r1 else 0
    row_end = int(r2) - 1 if r2 else None
    col_start = _column_index(c1) if c1 else 0
    col_end = _column_index(c2) if c2 else None
    if row_start < 0 or (row_end is not None and row_end < row_start) or (
            col_end is not None and col_end < col_start):
        raise RangeError(text)
    return Bounds(sheet, row_start, row_end, col_start, col_end)


def _render(cell: Cell, option: str) -> Any:
    if isinstance(cell, Formatted):
        return cell.text if option == "FORMATTED_VALUE" else cell.value
    if option != "FORMATTED_VALUE" or cell is None or isinstance(cell, str):
        return "" if cell is None else cell
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


class GoogleSheetsEmulator(Emulator):
    """Spreadsheets readable with an API key, a fixed bearer token, or a service account's tokens."""

    name = "googlesheets-emulator"

    def __init__(self, *, api_key: str | None = None, access_token: str | None = None,
                 service_account: tuple[str, str] | None = None, reads_per_minute: int | None = 60,
                 quota_window: float = 60.0, token_lifetime: int = 3600) -> None:
        self.api_key = api_key
        self.service_account = service_account  # (client_email, public key PEM)
        self.reads_per_minute = reads_per_minute
        self.quota_window = quota_window
        self.token_lifetime = token_lifetime
        self.books: dict[str, Spreadsheet] = {}
        self._tokens: dict[str, tuple[float, frozenset[str]]] = {}  # token → (expires at, scopes)
        if access_token:
            self._tokens[access_token] = (float("inf"), READ_SCOPES)
        self._reads: dict[str, deque[float]] = {}
        self._revoke_after: int | None = None
        self.quota_refusals = 0
        self.tokens_issued = 0
        self._data_lock = threading.Lock()
        super().__init__()

    # ------------------------------------------------------------ data

    def add_spreadsheet(self, spreadsheet_id: str, title: str, *, public: bool = True) -> Spreadsheet:
        """A new empty spreadsheet."""
        with self._data_lock:
            book = self.books[spreadsheet_id] = Spreadsheet(spreadsheet_id, title, public=public)
            return book

    def add_sheet(self, spreadsheet_id: str, title: str, rows: list[list[Cell]] | None = None, *,
                  hidden: bool = False) -> Sheet:
        """A new tab at the end of a spreadsheet."""
        with self._data_lock:
            book = self.books[spreadsheet_id]
            sheet = Sheet(title, sheet_id=len(book.sheets) * 1000 + 7, rows=[list(r) for r in rows or []],
                          hidden=hidden)
            book.sheets.append(sheet)
            return sheet

    def append_rows(self, spreadsheet_id: str, title: str, rows: list[list[Cell]]) -> None:
        """Add rows after the last row of a tab."""
        with self._data_lock:
            sheet = self.books[spreadsheet_id].sheet(title)
            assert sheet is not None, title
            sheet.rows.extend(list(r) for r in rows)

    def revoke_tokens(self, *, after: int = 0) -> None:
        """Make every token issued by the token URL invalid, now or after `after` more reads (the fixed one stays)."""
        with self._data_lock:
            if after:
                self._revoke_after = after
                return
            self._revoke_after = None
            self._tokens = {t: v for t, v in self._tokens.items() if v[0] == float("inf")}

    # ------------------------------------------------------------ protocol

    def routes(self) -> list[Route]:
        """Spreadsheet metadata, values, batch values and the OAuth token URL."""
        return [
            Route("POST", r"/token", self._token, group="token"),
            Route("GET", API + r"/(?P<id>[^/]+)/values:batchGet", self._batch_get, group="values"),
            Route("GET", API + r"/(?P<id>[^/:]+)/values/(?P<range>[^/]+)", self._values_get, group="values"),
            Route("GET", API + r"/(?P<id>[^/:]+)", self._spreadsheet, group="meta"),
        ]

    def error(self, status: int, message: str, reason: str | None = None) -> EmuResponse:
        """Google's error body: {error: {code, message, status, details?}}."""
        body: dict[str, Any] = {"code": status, "message": message,
                                "status": _STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")}
        if reason:
            body["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
                                "domain": "googleapis.com", "metadata": {"service": "sheets.googleapis.com"}}]
        return EmuResponse(status, {"error": body})

    def rate_limited(self, retry_after: float | None) -> EmuResponse:
        """RESOURCE_EXHAUSTED; a Retry-After only when a test asked for one."""
        response = self.error(429, "Quota exceeded for quota metric 'Read requests' and limit 'Read requests "
                              "per minute per user' of service 'sheets.googleapis.com'.", "RATE_LIMIT_EXCEEDED")
        if retry_after is not None:
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response

    def authenticate(self, request: EmuRequest) -> EmuResponse | None:
        """API key (query `key` or `X-goog-api-key`) or `Authorization: Bearer`; then the per-user read quota."""
        if request.group == "token":
            return None
        key = request.arg("key") or request.headers.get("x-goog-api-key")
        bearer = request.headers.get("authorization", "")
        if bearer.startswith("Bearer "):
            token = bearer.removeprefix("Bearer ")
            with self._data_lock:
                expires, scopes = self._tokens.get(token, (0.0, frozenset()))
            if expires < time.time():
                reason = "ACCESS_TOKEN_EXPIRED" if expires else "CREDENTIALS_MISSING"
                return self.error(401, "Request had invalid authentication credentials. Expected OAuth 2 access "
                                  "token, login cookie or other valid authentication credential.", reason)
            if not scopes & READ_SCOPES:
                return self.error(403, "Request had insufficient authentication scopes.",
                                  "ACCESS_TOKEN_SCOPE_INSUFFICIENT")
            who = "token:" + token
        elif key is not None:
            if self.api_key is None or key != self.api_key:
                return self.error(400, "API key not valid. Please pass a valid API key.", "API_KEY_INVALID")
            book = self.books.get(request.params.get("id", ""))
            if book is not None and not book.public:
                return self.error(403, "The caller does not have permission")
            who = "key:" + key
        else:
            return self.error(403, "The request is missing a valid API key.")
        return self._charge(who)

    def _charge(self, who: str) -> EmuResponse | None:
        with self._data_lock:
            if self._revoke_after is not None:
                self._revoke_after -= 1
                due = self._revoke_after <= 0
            else:
                due = False
        if due:
            self.revoke_tokens()
        if not self.reads_per_minute:
            return None
        now = time.monotonic()
        with self._data_lock:
            reads = self._reads.setdefault(who, deque())
            while reads and reads[0] <= now - self.quota_window:
                reads.popleft()
            if len(reads) >= self.reads_per_minute:
                self.quota_refusals += 1
                return self.rate_limited(None)
            reads.append(now)
        return None

    def _book(self, request: EmuRequest) -> Spreadsheet | EmuResponse:
        book = self.books.get(request.params["id"])
        if book is None:
            return self.error(404, "Requested entity was not found.")
        return book

    def _spreadsheet(self, request: EmuRequest) -> EmuResponse:
        book = self._book(request)
        if isinstance(book, EmuResponse):
            return book
        with self._data_lock:
            sheets = [{"properties": {
                "sheetId": s.sheet_id, "title": s.title, "index": i, "sheetType": "GRID",
                "gridProperties": {"rowCount": s.grid_rows(), "columnCount": s.grid_columns()},
                **({"hidden": True} if s.hidden else {}),
            }} for i, s in enumerate(book.sheets)]
        return EmuResponse(200, {"spreadsheetId": book.spreadsheet_id, "properties": {"title": book.title},
                                 "sheets": sheets})

    def _value_range(self, book: Spreadsheet, text: str, request: EmuRequest) -> dict[str, Any]:
        option = request.arg("valueRenderOption", "FORMATTED_VALUE") or "FORMATTED_VALUE"
        if option not in ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"):
            raise RangeError(f"Invalid value at 'value_render_option' ({option})")
        dimension = request.arg("majorDimension", "ROWS") or "ROWS"
        with self._data_lock:
            bounds = parse_range(text, book)
            sheet = bounds.sheet
            last_row = min(bounds.row_end if bounds.row_end is not None else sheet.grid_rows() - 1,
                           sheet.grid_rows() - 1)
            last_col = min(bounds.col_end if bounds.col_end is not None else sheet.grid_columns() - 1,
                           sheet.grid_columns() - 1)
            grid: list[list[Any]] = []
            for r in range(bounds.row_start, min(last_row, len(sheet.rows) - 1) + 1):
                cells = sheet.rows[r][bounds.col_start:last_col + 1]
                grid.append([_render(c, option) for c in cells])
        if dimension == "COLUMNS":
            width = max((len(r) for r in grid), default=0)
            grid = [[row[c] if c < len(row) else "" for row in grid] for c in range(width)]
        for row in grid:  # the API drops trailing empty cells and rows
            while row and row[-1] == "":
                row.pop()
        while grid and not grid[-1]:
            grid.pop()
        shown = (f"{quote_sheet(sheet.title)}!{column_letter(bounds.col_start)}{bounds.row_start + 1}:"
                 f"{column_letter(last_col)}{last_row + 1}")
        body: dict[str, Any] = {"range": shown, "majorDimension": dimension}
        if grid:
            body["values"] = grid
        return body

    def _values_get(self, request: EmuRequest) -> EmuResponse:
        book = self._book(request)
        if isinstance(book, EmuResponse):
            return book
        text = unquote(request.params["range"])
        try:
            return EmuResponse(200, self._value_range(book, text, request))
        except RangeError as exc:
            return self.error(400, f"Unable to parse range: {exc}")

    def _batch_get(self, request: EmuRequest) -> EmuResponse:
        book = self._book(request)
        if isinstance(book, EmuResponse):
            return book
        ranges = request.query.get("ranges") or []
        try:
            found = [self._value_range(book, text, request) for text in ranges]
        except RangeError as exc:
            return self.error(400, f"Unable to parse range: {exc}")
        return EmuResponse(200, {"spreadsheetId": book.spreadsheet_id, "valueRanges": found})

    def _token(self, request: EmuRequest) -> EmuResponse:
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != JWT_GRANT or not form.get("assertion"):
            return EmuResponse(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."})
        if self.service_account is None:
            return EmuResponse(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        email, public_pem = self.service_account
        try:
            # google-auth addresses the assertion to Google's own token URL, whatever the key's token_uri
            claims = google.auth.jwt.decode(form["assertion"], certs=public_pem,
                                            audience=[GOOGLE_TOKEN_URL, f"{self.url}/token"])
        except (ValueError, google.auth.exceptions.GoogleAuthError):
            return EmuResponse(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        if claims.get("iss") != email:
            return EmuResponse(400, {"error": "invalid_grant", "error_description": "Invalid JWT: issuer unknown."})
        token = "ya29.emu-" + secrets.token_urlsafe(24)
        with self._data_lock:
            self._tokens[token] = (time.time() + self.token_lifetime, frozenset(str(claims.get("scope", "")).split()))
            self.tokens_issued += 1
        return EmuResponse(200, {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"})
