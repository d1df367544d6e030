"""A local Zadarma API (contract 7c): signed requests, PBX call statistics, its 3-per-minute limit.

The signature is checked against the query string exactly as sent: `Authorization:
<key>:<base64 of the hex HMAC-SHA1 of path + query + md5(query)>`, query sorted by key.
Refuses a bad key or signature (401), an unsorted or unsigned query (401), a period over one
month or a limit over 1000 (400), and more statistics calls than `stats_per_minute` (429).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import threading
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from connectors.testing.emulator import Emulator, EmuRequest, EmuResponse, Route

__all__ = ["ZadarmaEmulator"]

_FORMAT = "%Y-%m-%d %H:%M:%S"
_DISPOSITIONS = ("answered", "answered", "busy", "no answer", "cancel", "call failed")


class ZadarmaEmulator(Emulator):
    """One Zadarma account's PBX statistics."""

    name = "zadarma-emulator"

    def __init__(self, key: str, secret: str, *, stats_per_minute: int = 3, seed: int = 11) -> None:
        self.key = key
        self.secret = secret
        self.calls: list[dict[str, Any]] = []
        self.raw_queries: list[str] = []
        self._data_lock = threading.Lock()
        self._rng = random.Random(seed)
        super().__init__()
        self.limit_rate(stats_per_minute, window=60.0, group="statistics", permanent=True)
        self.limit_rate(100, window=60.0, permanent=True)

    def routes(self) -> list[Route]:
        """Balance (for check) and PBX statistics."""
        return [
            Route("GET", r"/v1/info/balance/", self._balance, group="info"),
            Route("GET", r"/v1/statistics/pbx/", self._pbx, group="statistics"),
        ]

    def error(self, status: int, message: str) -> EmuResponse:
        """Zadarma's error body."""
        return EmuResponse(status, {"status": "error", "message": message})

    def _expected(self, path: str, query: str) -> str:
        digest = hashlib.md5(query.encode()).hexdigest()  # noqa: S324 - the API's own scheme
        signed = hmac.new(self.secret.encode(), (path + query + digest).encode(), hashlib.sha1).hexdigest()
        return base64.b64encode(signed.encode()).decode()

    def authenticate(self, request: EmuRequest) -> EmuResponse | None:
        """`Authorization: key:signature` over the path and the sorted query string as sent."""
        query = request.raw_query
        self.raw_queries.append(query)
        key, _, signature = request.headers.get("authorization", "").partition(":")
        pairs = parse_qsl(query, keep_blank_values=True)
        if key != self.key or not signature:
            return self.error(401, "Not authorized")
        if urlencode(sorted(pairs)) != query:
            return self.error(401, "Not authorized: parameters must be sorted by name")
        if not hmac.compare_digest(signature, self._expected(request.path, query)):
            return self.error(401, "Not authorized")
        return None

    def add_calls(self, count: int, *, start: datetime | None = None, step: timedelta = timedelta(minutes=20),
                  **overrides: Any) -> list[dict[str, Any]]:
        """Append `count` synthetic calls, after the last one by default (account-local times)."""
        with self._data_lock:
            if start is None:
                last = max((datetime.strptime(c["callstart"], _FORMAT) for c in self.calls),
                           default=datetime(2024, 5, 1, 9))
                start = last + step
            made = []
            for i in range(count):
                n = len(self.calls) + 1
                inbound = n % 2 == 1
                customer = f"7912{self._rng.randrange(10**7):07d}"
                disposition = _DISPOSITIONS[n % len(_DISPOSITIONS)]
                call = {
                    "call_id": f"{1714550400 + n}.{n}", "sip": "100",
                    "callstart": (start + step * i).strftime(_FORMAT),
                    "clid": customer if inbound else "100", "destination": "100" if inbound else customer,
                    "disposition": disposition, "seconds": self._rng.randrange(10, 600) if disposition == "answered"
                    else 0, "is_recorded": "false", "pbx_call_id": f"in_{n:040x}" if inbound else f"out_{n:040x}",
                }
                call.update(overrides)
                self.calls.append(call)
                made.append(call)
            return made

    def _balance(self, request: EmuRequest) -> EmuResponse:
        return EmuResponse(200, {"status": "success", "balance": 10.5, "currency": "USD"})

    def _pbx(self, request: EmuRequest) -> EmuResponse:
        try:
            start = datetime.strptime(request.arg("start") or "", _FORMAT)
            end = datetime.strptime(request.arg("end") or "", _FORMAT)
            skip = int(request.arg("skip", "0") or 0)
            limit = int(request.arg("limit", "1000") or 1000)
        except ValueError:
            return self.error(400, "start and end must be 'YYYY-MM-DD HH:MM:SS'; skip and limit numbers")
        if end < start or end - start > timedelta(days=31):
            return self.error(400, "Wrong period: at most one month")
        if not 1 <= limit <= 1000 or skip < 0:
            return self.error(400, "limit must be between 1 and 1000")
        low, high = start.strftime(_FORMAT), end.strftime(_FORMAT)
        with self._data_lock:
            chosen = sorted((c for c in self.calls if low <= c["callstart"] <= high),
                            key=lambda c: (c["callstart"], c["call_id"]))
        return EmuResponse(200, {"status": "success", "start": low, "end": high, "version": 2,
                                 "stats": chosen[skip:skip + limit]})
