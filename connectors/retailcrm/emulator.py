"""A local RetailCRM API v5 (customers) on 127.0.0.1 for tests (contract §6).

Auth by `X-API-KEY` (or `apiKey=`); writes are form posts whose complex parameters are JSON
strings (`customer=<json>`, `customers=<json array>`). It refuses what RetailCRM refuses: a
missing or wrong key (401), a `limit` other than 20/50/100, an upload of more than 50, invalid
e-mails and taken externalIds (per customer in an upload: HTTP 460 with `failedCustomers`), and
more than `rate_per_second` requests per key (503). Fault switches as in the other emulators.

Corporate customers live under `/customers-corporate` (list, create). Every change is written
to a history (`/customers/history`, `/customers-corporate/history`: `filter[sinceId]`,
`startDate`, `endDate`, `customerId`, ids ascending): `created: true` for a new customer, one
entry per changed field, `deleted: true` for a customer removed by `/customers/combine` (or by
`delete()` here, as if someone deleted it in the web interface).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from connectors.bitrix24.phpquery import decode
from connectors.testing.switches import Faults, SuiteSwitches

__all__ = ["RetailCrmEmulator", "RetailSettings"]

log = logging.getLogger(__name__)
Reply = tuple[int, dict[str, Any]]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ROUTE = re.compile(r"^/api/v5/customers(?:/([^/]+))?(?:/(edit))?$")
_CORPORATE = re.compile(r"^/api/v5/customers-corporate(?:/(create|history))?$")
_HISTORY = "/api/v5/customers/history"
UPLOAD_LIMIT = 50
_AFTER = frozenset({"500", "timeout", "drop"})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


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


class RetailCrmEmulator(SuiteSwitches):
    """Customers of one RetailCRM account behind a real HTTP server."""

    def __init__(self, settings: RetailSettings | None = None, *, port: int = 0) -> None:
        self.settings = settings or RetailSettings()
        self.faults = Faults(seed=5)
        self.calls: Counter[str] = Counter()
        self.status_counts: Counter[int] = Counter()  # every answer's HTTP status, rate-limit refusals included
        self.customers: dict[int, dict[str, Any]] = {}
        self.corporate: dict[int, dict[str, Any]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {"customers": [], "corporate": []}
        self._next_id = 1200
        self._next_history = 0
        self._window: deque[float] = deque()
        self._windows: list[tuple[int, float, str | None, deque[float]]] = []  # limit_rate(): extra limits
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
            self.faults, self.customers, self._next_id = Faults(seed=5), {}, 1200
            self.corporate, self.history, self._next_history = {}, {"customers": [], "corporate": []}, 0
            self.calls.clear()
            self.status_counts.clear()
            self._window.clear()
            self._windows.clear()

    @property
    def write_calls(self) -> int:
        return sum(n for route, n in self.calls.items() if route.startswith("POST"))

    # ------------------------------------------------------------ history

    def _log(self, kind: str, record: dict[str, Any], **entry: Any) -> None:
        self._next_history += 1
        brief = {"id": record["id"], "externalId": record.get("externalId"), "site": record.get("site")}
        self.history[kind].append({"id": self._next_history, "createdAt": _now(), "source": "api",
                                   "customer": json.loads(json.dumps(record)) if entry.get("created") else brief,
                                   **entry})

    def delete(self, customer_id: int, kind: str = "customers") -> None:
        """Remove a customer (or, with kind="corporate", a corporate customer) as the web interface would."""
        with self._lock:
            pool = self.customers if kind == "customers" else self.corporate
            record = pool.pop(customer_id)
            self._log(kind, record, deleted=True, field="id", oldValue=customer_id, newValue=None)

    def _history(self, kind: str, query: dict[str, Any]) -> Reply:
        limit = int(str(query.get("limit") or 20))
        if limit not in (20, 50, 100):
            return _fail(400, "Errors in the input parameters", {"limit": "This value should be 20, 50 or 100."})
        page = max(1, int(str(query.get("page") or 1)))
        filters = query.get("filter") or {}
        entries = self.history[kind]
        if filters.get("sinceId"):
            entries = [e for e in entries if e["id"] > int(filters["sinceId"])]
        if filters.get("customerId"):
            entries = [e for e in entries if e["customer"]["id"] == int(filters["customerId"])]
        if filters.get("startDate"):
            entries = [e for e in entries if e["createdAt"] >= str(filters["startDate"])]
        if filters.get("endDate"):
            entries = [e for e in entries if e["createdAt"] <= str(filters["endDate"])]
        pages = max(1, -(-len(entries) // limit))
        return 200, {"success": True, "generatedAt": _now(), "history": entries[(page - 1) * limit:page * limit],
                     "pagination": {"limit": limit, "totalCount": len(entries), "currentPage": page,
                                    "totalPageCount": pages}}

    def _combine(self, form: dict[str, Any]) -> Reply:
        try:
            merged, result = json.loads(form.get("customers") or "[]"), json.loads(form.get("resultCustomer") or "{}")
        except ValueError:
            return _fail(400, "Parameters 'customers' and 'resultCustomer' must be JSON")
        survivor = self._by(str((result or {}).get("id")), "id")
        if survivor is None or not isinstance(merged, list):
            return _fail(400, "Errors in the input parameters", {"resultCustomer": "Customer not found"})
        for item in merged:
            target = self._by(str((item or {}).get("id")), "id")
            if target is not None and target is not survivor:
                del self.customers[target["id"]]
                self._log("customers", target, deleted=True, combinedTo={"id": survivor["id"]}, field="id",
                          oldValue=target["id"], newValue=None)
        return 200, {"success": True}

    def _corporate(self, method: str, action: str | None, query: dict[str, Any], form: dict[str, Any]) -> Reply:
        if method == "GET" and action == "history":
            return self._history("corporate", query)
        if method == "GET" and action is None:
            status, body = self._list(query, self.corporate)
            if status == 200:
                body["customersCorporate"] = body.pop("customers")
            return status, body
        if method == "POST" and action == "create":
            try:
                company = json.loads(form.get("customerCorporate") or "null")
            except ValueError:
                return _fail(400, "Parameter 'customerCorporate' is not valid JSON")
            if not isinstance(company, dict):
                return _fail(400, "Errors in the entity format", {"customerCorporate": "must be a JSON object"})
            return 201, {"success": True, "id": self._store(company, None, kind="corporate")["id"]}
        return _fail(405, "Method not allowed")

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

    def _store(self, customer: dict[str, Any], existing: dict[str, Any] | None,
               kind: str = "customers") -> dict[str, Any]:
        created = existing is None
        if existing is None:
            self._next_id += 1
            existing = {"id": self._next_id, "createdAt": _now(), "site": self.settings.site, "vip": False,
                        "bad": False}
            (self.customers if kind == "customers" else self.corporate)[self._next_id] = existing
        before = json.loads(json.dumps(existing))
        for name, value in customer.items():
            if name == "id":
                continue
            if isinstance(value, dict) and isinstance(existing.get(name), dict):
                existing[name].update(value)
            else:
                existing[name] = value
        if created:
            self._log(kind, existing, created=True, field="id", oldValue=None, newValue=existing["id"])
        else:
            for name in customer:
                if name != "id" and before.get(name) != existing.get(name):
                    self._log(kind, existing, field=name, oldValue=before.get(name), newValue=existing.get(name))
        return existing

    def _list(self, query: dict[str, Any], pool: dict[int, dict[str, Any]] | None = None) -> Reply:
        limit = int(str(query.get("limit") or 20))
        if limit not in (20, 50, 100):
            return _fail(400, "Errors in the input parameters", {"limit": "This value should be 20, 50 or 100."})
        page = max(1, int(str(query.get("page") or 1)))
        filters = query.get("filter") or {}
        hits = sorted((self.customers if pool is None else pool).values(), key=lambda c: c["id"])
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
        corporate = _CORPORATE.match(path)
        if corporate is not None:
            return self._corporate(method, corporate.group(1), query, form)
        if path == _HISTORY:
            return self._history("customers", query) if method == "GET" else _fail(405, "Method not allowed")
        if path == "/api/v5/customers/combine" and method == "POST":
            return self._combine(form)
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

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes,
               extra: dict[str, str] | None = None) -> tuple[Reply | None, str | None]:
        """Answer one request; `extra` (if given) receives response headers such as Retry-After."""
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
            route = parts.path.rstrip("/")
            label = f"{method} {re.sub(r'/customers/[^/]+/edit', '/customers/*/edit', route)}"
            if len(self._window) >= self.settings.rate_per_second or not self._within_windows(label, now):
                return _fail(503, "Service temporarily unavailable: too many requests"), None
            self._window.append(now)
            targeted = self.faults.take_targeted(label)
            fault = targeted.kind if targeted else self.faults.next()
            self.calls[label] += 1
        if targeted is not None and targeted.kind in ("429", "502"):
            if targeted.retry_after is not None and extra is not None:
                extra["Retry-After"] = f"{targeted.retry_after:g}"
            return _fail(int(targeted.kind), "Too many requests" if targeted.kind == "429" else "Bad gateway"), None
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
            extra: dict[str, str] = {}
            reply, fault = emulator.handle(self.command, self.path, headers, body, extra)
            if fault == "drop" or reply is None:
                self.close_connection = True
                self.connection.close()
                return
            if fault == "timeout":
                time.sleep(emulator.settings.stall_seconds)
            status, payload = reply
            with emulator._lock:
                emulator.status_counts[status] += 1
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
            log.debug("retailcrm emulator: " + format, *args)

    return Handler
