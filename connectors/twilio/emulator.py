"""A local Twilio Calls API (contract 7a): Basic auth, newest-first pages linked by next_page_uri.

Refuses what Twilio refuses: wrong credentials (401, error 20003), another account's SID in
the path (403, 20006 [our choice of code]), PageSize over 1000 and forged page tokens
(400), and — when switched on — too many requests (429, 20429, Retry-After).
"""

from __future__ import annotations

import base64
import random
import secrets
import threading
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from connectors.testing.emulator import Emulator, EmuRequest, EmuResponse, Route

__all__ = ["TwilioEmulator", "call_sid"]

API = "/2010-04-01/Accounts"
_STATUSES = ("completed", "completed", "completed", "no-answer", "busy", "failed")
_DIRECTIONS = ("inbound", "outbound-api", "outbound-dial")


def call_sid(rng: random.Random) -> str:
    """A call SID: CA and 32 hex digits."""
    return "CA" + "".join(rng.choice("0123456789abcdef") for _ in range(32))


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=False).replace("-0000", "+0000")


class TwilioEmulator(Emulator):
    """Twilio's Calls list for one account."""

    name = "twilio-emulator"

    def __init__(self, account_sid: str, auth_token: str, *, seed: int = 7) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.calls: list[dict[str, Any]] = []
        self._tokens: dict[str, int] = {}
        self._data_lock = threading.Lock()
        self._rng = random.Random(seed)
        super().__init__()

    def routes(self) -> list[Route]:
        """The account and its calls."""
        return [
            Route("GET", API + r"/(?P<sid>[^/]+)\.json", self._account, group="account"),
            Route("GET", API + r"/(?P<sid>[^/]+)/Calls\.json", self._list_calls, group="calls"),
        ]

    def error(self, status: int, message: str, code: int | None = None) -> EmuResponse:
        """Twilio's error body."""
        code = code or {401: 20003, 404: 20404, 429: 20429}.get(status, 20500 if status >= 500 else 21000)
        return EmuResponse(status, {"code": code, "message": message,
                                    "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status})

    def rate_limited(self, retry_after: float | None) -> EmuResponse:
        """429 with error 20429 and Retry-After."""
        response = self.error(429, "Too Many Requests", 20429)
        if retry_after is not None:
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response

    def authenticate(self, request: EmuRequest) -> EmuResponse | None:
        """HTTP Basic with the account SID and auth token; the path's SID must be that account."""
        header = request.headers.get("authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if header != expected:
            response = self.error(401, "Authenticate", 20003)
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return response
        if request.params.get("sid") != self.account_sid:
            return self.error(403, "Resource not accessible with this Account", 20006)
        return None

    # ------------------------------------------------------------ data

    def add_calls(self, count: int, *, start: datetime | None = None, step: timedelta = timedelta(minutes=7),
                  **overrides: Any) -> list[dict[str, Any]]:
        """Append `count` synthetic calls starting at `start` (default: after the last one)."""
        with self._data_lock:
            if start is None:
                latest = max((c["_start"] for c in self.calls), default=datetime(2024, 5, 1, 9, tzinfo=UTC))
                start = latest + step
            made = []
            for i in range(count):
                began = start + step * i
                direction = _DIRECTIONS[len(self.calls) % 3]
                customer = f"+7912{self._rng.randrange(10**7):07d}"
                ours = "+74951234567"
                status = _STATUSES[len(self.calls) % len(_STATUSES)]
                duration = self._rng.randrange(15, 900) if status == "completed" else 0
                call = {
                    "sid": call_sid(self._rng), "account_sid": self.account_sid, "parent_call_sid": None,
                    "from": customer if direction == "inbound" else ours,
                    "to": ours if direction == "inbound" else customer,
                    "from_formatted": None, "to_formatted": None, "phone_number_sid": None,
                    "status": status, "direction": direction, "start_time": _rfc2822(began),
                    "end_time": _rfc2822(began + timedelta(seconds=duration)), "duration": str(duration),
                    "price": "-0.0085" if duration else None, "price_unit": "USD", "answered_by": None,
                    "caller_name": None, "date_created": _rfc2822(began), "date_updated": _rfc2822(began),
                    "_start": began,
                }
                call.update(overrides)
                self.calls.append(call)
                made.append(call)
            return made

    # ------------------------------------------------------------ handlers

    def _account(self, request: EmuRequest) -> EmuResponse:
        return EmuResponse(200, {"sid": self.account_sid, "friendly_name": "crmsync test account",
                                 "status": "active", "type": "Full"})

    def _filtered(self, request: EmuRequest) -> list[dict[str, Any]]:
        def day(name: str) -> date | None:
            value = request.arg(name)
            return date.fromisoformat(value) if value else None

        since, until, exact = day("StartTime>"), day("StartTime<"), day("StartTime")
        # `StartTime>=2024-05-02` arrives as the parameter "StartTime>" with the value "2024-05-02"
        with self._data_lock:
            calls = list(self.calls)
        chosen = []
        for call in calls:
            started: date = call["_start"].date()
            if (since and started < since) or (until and started > until) or (exact and started != exact):
                continue
            chosen.append(call)
        chosen.sort(key=lambda c: (c["_start"], c["sid"]), reverse=True)  # newest first, as Twilio lists
        return chosen

    def _list_calls(self, request: EmuRequest) -> EmuResponse:
        try:
            size = int(request.arg("PageSize", "50") or 50)
            page = int(request.arg("Page", "0") or 0)
            calls = self._filtered(request)
        except ValueError as exc:
            return self.error(400, f"Invalid parameter: {exc}", 20001)
        if not 1 <= size <= 1000:
            return self.error(400, "PageSize must be between 1 and 1000", 20001)
        start = 0
        if page > 0:
            token = request.arg("PageToken") or ""
            if token not in self._tokens:
                return self.error(400, "Invalid PageToken", 20001)
            start = self._tokens[token]
        items = calls[start:start + size]
        base = f"{API}/{self.account_sid}/Calls.json"
        filters = {k: v[0] for k, v in request.query.items() if k.startswith(("StartTime", "To", "From", "Status"))}
        next_uri = None
        if start + size < len(calls):
            token = "PA" + secrets.token_hex(8)
            self._tokens[token] = start + size
            next_uri = f"{base}?{urlencode({**filters, 'PageSize': size, 'Page': page + 1, 'PageToken': token})}"
        first = f"{base}?{urlencode({**filters, 'PageSize': size, 'Page': 0})}"
        return EmuResponse(200, {
            "calls": [{k: v for k, v in call.items() if not k.startswith("_")} for call in items],
            "first_page_uri": first, "next_page_uri": next_uri, "previous_page_uri": None, "page": page,
            "page_size": size, "uri": f"{base}?{urlencode({**filters, 'PageSize': size, 'Page': page})}",
            "start": start, "end": start + len(items) - 1 if items else start,
        })
