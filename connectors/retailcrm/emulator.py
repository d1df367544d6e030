"""A local RetailCRM API v5 (customers) on 127.0.0.1 for tests (contract §6).

Auth by `X-API-KEY` (or `apiKey=`); writes are form posts whose complex parameters are JSON
strings (`customer=<json>`, `customers=<json array>`). It refuses what RetailCRM refuses: a
missing or wrong key (401), a `limit` other than 20/50/100, an upload of more than 50, invalid
e-mails and taken externalIds (per customer in an upload: HTTP 460 with `failedCustomers`), and
more than `rate_per_second` requests per key (503). Fault switches as in the other emulators.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from connectors.bitrix24.phpquery import decode

__all__ = ["RetailCrmEmulator", "RetailSettings"]

log = logging.getLogger(__name__)
Reply = tuple[int, dict[str, Any]]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ROUTE = re.compile(r"^/api/v5/customers(?:/([^/]+))?(?:/(edit))?$")
UPLOAD_LIMIT = 50
_AFTER = frozenset({"500", "timeout", "drop"})


def _fail(status: int, message: str, errors: dict[str, str] | None = None, **extra: Any) -> Reply:
    body: dict[str, Any] = {"success": False, "errorMsg": message, **extra}
    if errors:
        body["errors"] = errors
    return status, body


@dataclass
class RetailSettings:
    api_key: str = "test-key"
    rate_per_second: int = 10
    stall_seconds: float = 2.0
    site: str = "main-shop"


@dataclass
class Faults:
    queued: deque[str] = field(default_factory=deque)
    rate: float = 0.0
    kinds: tuple[str, ...] = ("503", "500", "timeout", "drop", "drop_before")
    rng: random.Random = field(default_factory=lambda: random.Random(5))
    fired: Counter[str] = field(default_factory=Counter)

    def next(self) -> str | None:
        fault = self.queued.popleft() if self.queued else (
            self.rng.choice(self.kinds) if self.rate and self.rng.random() < self.rate else None)
        if fault and fault != "none":
            self.fired[fault] += 1
            return fault
        return None


class RetailCrmEmulator:
    """Customers of one RetailCRM account behind a real HTTP server."""

    def __init__(self, settings: RetailSettings | None = None, *, port: int = 0) -> None:
        self.settings = settings or RetailSettings()
        self.faults = Faults()
        self.calls: Counter[str] = Counter()
        self.customers: dict[int, dict[str, Any]] = {}
        self._next_id = 1200
        self._window: deque[float] = deque()
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/v5"

    def __enter__(self) -> RetailCrmEmulator:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self, settings: RetailSettings | None = None) -> None:
        with self._lock:
            self.settings = settings or RetailSettings()
            self.faults, self.customers, self._next_id = Faults(), {}, 1200
            self.calls.clear()
            self._window.clear()

    @property
    def write_calls(self) -> int:
        return sum(n for route, n in self.calls.items() if route.startswith("POST"))

    # ------------------------------------------------------------ customers

    def _by(self, key: str, by: str) -> dict[str, Any] | None:
        if by == "id":
            return self.customers.get(int(key)) if key.isdigit() else None
        return next((c for c in self.customers.values() if c.get("externalId") == key), None)

    def _check(self, customer: Any, *, exclude: int | None = None) -> dict[str, str]:
        if not isinstance(customer, dict):
            return {"customer": "must be a JSON object"}
        problems = {}
        email = customer.get("email")
        if email and not _EMAIL.match(str(email)):
            problems["email"] = f"\"{email}\" is not a valid email address."
        external = customer.get("externalId")
        if external and any(c.get("externalId") == external and c["id"] != exclude for c in self.customers.values()):
            problems["externalId"] = f"Customer with externalId \"{external}\" already exists."
        return problems

    def _store(self, customer: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        if existing is None:
            self._next_id += 1
            existing = {"id": self._next_id, "createdAt": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                        "site": self.settings.site, "vip": False, "bad": False}
            self.customers[self._next_id] = existing
        for name, value in customer.items():
            if name == "id":
                continue
            if isinstance(value, dict) and isinstance(existing.get(name), dict):
                existing[name].update(value)
            else:
                existing[name] = value
        return existing

    def _list(self, query: dict[str, Any]) -> Reply:
        limit = int(str(query.get("limit") or 20))
        if limit not in (20, 50, 100):
            return _fail(400, "Errors in the input parameters", {"limit": "This value should be 20, 50 or 100."})
        page = max(1, int(str(query.get("page") or 1)))
        filters = query.get("filter") or {}
        hits = sorted(self.customers.values(), key=lambda c: c["id"])
        if filters.get("externalIds"):
            wanted = set(filters["externalIds"])
            hits = [c for c in hits if c.get("externalId") in wanted]
        if filters.get("ids"):
            wanted_ids = {int(i) for i in filters["ids"]}
            hits = [c for c in hits if c["id"] in wanted_ids]
        if filters.get("email"):
            hits = [c for c in hits if str(c.get("email", "")).lower() == str(filters["email"]).lower()]
        pages = max(1, -(-len(hits) // limit))
        return 200, {"success": True, "pagination": {"limit": limit, "totalCount": len(hits), "currentPage": page,
                                                     "totalPageCount": pages},
                     "customers": hits[(page - 1) * limit:page * limit]}

    def _upload(self, form: dict[str, Any]) -> Reply:
        try:
            batch = json.loads(form.get("customers") or "[]")
        except ValueError:
            return _fail(400, "Parameter 'customers' is not valid JSON")
        if not isinstance(batch, list):
            return _fail(400, "Parameter 'customers' must be a JSON array")
        if len(batch) > UPLOAD_LIMIT:
            return _fail(400, f"Errors in the input parameters: at most {UPLOAD_LIMIT} customers per upload")
        uploaded, failed, errors = [], [], {}
        for index, customer in enumerate(batch):
            problems = self._check(customer)
            if problems:
                failed.append({"externalId": (customer or {}).get("externalId")})
                errors[str(index)] = "; ".join(f"{k}: {v}" for k, v in problems.items())
                continue
            stored = self._store(customer, None)
            uploaded.append({"id": stored["id"], "externalId": stored.get("externalId")})
        if failed:
            return _fail(460, "Not all customers from the list were uploaded", errors,
                         uploadedCustomers=uploaded, failedCustomers=failed)
        return 201, {"success": True, "uploadedCustomers": uploaded}

    def route(self, method: str, path: str, query: dict[str, Any], form: dict[str, Any]) -> Reply:
        found = _ROUTE.match(path)
        if found is None:
            return _fail(404, "API method not found")
        key, edit = found.group(1), found.group(2)
        if method == "GET" and key is None:
            return self._list(query)
        if method == "GET" and key and not edit:
            customer = self._by(key, str(query.get("by") or "externalId"))
            return (200, {"success": True, "customer": customer}) if customer else _fail(404, "Not found")
        if method != "POST":
            return _fail(405, "Method not allowed")
        if key == "upload":
            return self._upload(form)
        if key == "fix-external-ids":
            for pair in json.loads(form.get("customers") or "[]"):
                target = self._by(str(pair.get("id")), "id")
                if target is not None:
                    target["externalId"] = pair.get("externalId")
            return 200, {"success": True}
        try:
            customer = json.loads(form.get("customer") or "null")
        except ValueError:
            return _fail(400, "Parameter 'customer' is not valid JSON")
        if key == "create":
            problems = self._check(customer)
            if problems:
                return _fail(400, "Errors in the entity format", problems)
            return 201, {"success": True, "id": self._store(customer, None)["id"]}
        if edit:
            existing = self._by(key, str(form.get("by") or "externalId"))
            if existing is None:
                return _fail(404, "Not found")
            problems = self._check(customer, exclude=existing["id"])
            if problems:
                return _fail(400, "Errors in the entity format", problems)
            return 200, {"success": True, "id": self._store(customer, existing)["id"], "state": "updated"}
        return _fail(404, "API method not found")

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[Reply | None,
                                                                                                str | None]:
        parts = urlsplit(target)
        query = decode(parts.query)
        key = headers.get("x-api-key") or query.get("apiKey")
        if not key:
            return _fail(401, "\"apiKey\" is missing."), None
        if key != self.settings.api_key:
            return _fail(401, "Wrong \"apiKey\" value."), None
        with self._lock:
            now = time.monotonic()
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if len(self._window) >= self.settings.rate_per_second:
                return _fail(503, "Service temporarily unavailable: too many requests"), None
            self._window.append(now)
            fault = self.faults.next()
            route = parts.path.rstrip("/")
            self.calls[f"{method} {re.sub(r'/customers/[^/]+/edit', '/customers/*/edit', route)}"] += 1
        if fault == "drop_before":
            return None, "drop"
        if fault == "503":
            return _fail(503, "Service temporarily unavailable"), None
        form = dict(parse_qsl(body.decode(), keep_blank_values=True)) if body else {}
        with self._lock:
            reply = self.route(method, parts.path.rstrip("/"), query, form)
        if fault == "500":
            reply = _fail(500, "Internal server error")
        return reply, fault if fault in _AFTER else None


def _handler_for(emulator: RetailCrmEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply, fault = emulator.handle(self.command, self.path, headers, body)
            if fault == "drop" or reply is None:
                self.close_connection = True
                self.connection.close()
                return
            if fault == "timeout":
                time.sleep(emulator.settings.stall_seconds)
            status, payload = reply
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
            log.debug("retailcrm emulator: " + format, *args)

    return Handler
