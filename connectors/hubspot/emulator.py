"""A local HubSpot CRM v3 API on 127.0.0.1 for tests, the demo and benchmarks (contract §1).

It refuses what HubSpot refuses: bad tokens (401), over-size batches (400), invalid e-mails and
unknown properties (per-record errors, 207), duplicate e-mails (409), pages past the search cap,
and requests over the 10-second rolling or daily limit (429 with HubSpot's headers and bodies).
Fault switches inject 429s, 5xx, timeouts and dropped connections, some of them *after* the
write happened, which is what makes a client's retries dangerous.

    python -m connectors.hubspot.emulator --port 8123 --token dev-token

`GET /_emulator/stats` and `GET /_emulator/contacts` show what it holds and counted (no auth).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import re
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from connectors.hubspot.emulator_api import BatchMode, HubSpotApi
from connectors.hubspot.emulator_data import CrmData, Reply, error_body

__all__ = ["FAULT_KINDS", "EmulatorSettings", "HubSpotEmulator"]

log = logging.getLogger(__name__)

FAULT_KINDS = ("429", "500", "502", "503", "timeout", "drop", "drop_before")
# faults that hit after the request was carried out: the caller cannot know whether it was
_AFTER = frozenset({"500", "timeout", "drop"})
_OBJECT = re.compile(r"^/crm/(?:v3/objects|objects/\d{4}-\d{2})/(contacts|companies)(?:/(.*))?$")
_PROPERTY = re.compile(r"^/crm/v3/properties/(contacts|companies)(?:/([^/]+))?$")
_WRITES = frozenset({"create", "update", "upsert", "archive", "merge", "gdpr-delete", "patch", "delete",
                     "create_one", "property"})


@dataclass
class EmulatorSettings:
    """Plans differ, so every limit is a setting; the defaults are HubSpot Free/Starter."""

    tokens: frozenset[str] = frozenset({"test-token"})
    rate_max: int = 100  # requests per rolling interval
    rate_interval_ms: int = 10_000
    daily_limit: int = 250_000
    search_per_second: int | None = 5  # None: no separate search limit
    send_retry_after: bool = False  # HubSpot does not always send it
    batch_mode: BatchMode = "per_record"
    stall_seconds: float = 2.0  # how long a "timeout" fault holds the response back
    latency_seconds: float = 0.0  # every answer waits this long after the work is done


@dataclass
class Faults:
    """Fault switches: a queue of forced faults, and a random rate of faults drawn from `kinds`."""

    queued: deque[str] = field(default_factory=deque)
    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    only_writes: bool = False
    expired_tokens: int = 0  # the next N requests answer 401 EXPIRED_AUTHENTICATION
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    fired: Counter[str] = field(default_factory=Counter)

    def next(self, is_write: bool) -> str | None:
        if self.only_writes and not is_write:
            return None
        fault = None
        if self.queued:
            fault = self.queued.popleft()
        elif self.rate and self.rng.random() < self.rate:
            fault = self.rng.choice(self.kinds)
        if fault is not None:
            self.fired[fault] += 1
        return fault


class _Limits:
    """The rolling 10-second window, the daily counter and the search limit of one account."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.window: deque[float] = deque()
        self.search_window: deque[float] = deque()
        self.daily_used = 0

    def admit(self, now: float, is_search: bool) -> tuple[str | None, float]:
        """(policy that refused the request or None, seconds until a slot frees)."""
        interval = self.settings.rate_interval_ms / 1000
        while self.window and self.window[0] <= now - interval:
            self.window.popleft()
        while self.search_window and self.search_window[0] <= now - 1.0:
            self.search_window.popleft()
        if self.daily_used >= self.settings.daily_limit:
            return "DAILY", 3600.0
        if len(self.window) >= self.settings.rate_max:
            return "TEN_SECONDLY_ROLLING", self.window[0] + interval - now
        if is_search and self.settings.search_per_second is not None \
                and len(self.search_window) >= self.settings.search_per_second:
            return "SECONDLY", self.search_window[0] + 1.0 - now
        self.window.append(now)
        if is_search:
            self.search_window.append(now)
        self.daily_used += 1
        return None, 0.0

    def headers(self, now: float) -> dict[str, str]:
        interval = self.settings.rate_interval_ms / 1000
        used = sum(1 for t in self.window if t > now - interval)
        return {"X-HubSpot-RateLimit-Daily": str(self.settings.daily_limit),
                "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.settings.daily_limit - self.daily_used)),
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(self.settings.rate_interval_ms),
                "X-HubSpot-RateLimit-Max": str(self.settings.rate_max),
                "X-HubSpot-RateLimit-Remaining": str(max(0, self.settings.rate_max - used))}


class HubSpotEmulator:
    """A real HTTP server on 127.0.0.1 speaking HubSpot's CRM v3; inspect it from tests in-process."""

    def __init__(self, settings: EmulatorSettings | None = None, *, port: int = 0) -> None:
        self.settings = settings or EmulatorSettings()
        self.data = CrmData()
        self.api = HubSpotApi(self.data, self.settings.batch_mode)
        self.faults = Faults()
        self.limits = _Limits(self.settings)
        self.calls: Counter[str] = Counter()  # "POST contacts/batch/upsert" → count
        self.status_counts: Counter[int] = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HubSpotEmulator:
        self._thread = threading.Thread(target=self._server.serve_forever, name="hubspot-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HubSpotEmulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ for tests

    def objects(self, obj: str = "contacts", *, archived: bool = False) -> list[dict[str, Any]]:
        """Live (or archived) objects as plain dicts: id plus every stored property."""
        with self.data.lock:
            return [{"id": o.id, **o.properties} for o in sorted(self.data.objects[obj].values(),
                                                                 key=lambda o: int(o.id))
                    if o.merged_into is None and o.archived == archived]

    def contacts(self, *, archived: bool = False) -> list[dict[str, Any]]:
        return self.objects("contacts", archived=archived)

    @property
    def write_calls(self) -> int:
        """Requests that could change data (batch writes, merges, deletes, single writes)."""
        return sum(n for route, n in self.calls.items() if route.rsplit("/", 1)[-1] in _WRITES)

    def reset(self, settings: EmulatorSettings | None = None) -> None:
        """Forget every object, counter, fault and rate-limit slot (one server serves a whole test session)."""
        with self._lock:
            self.settings = settings or EmulatorSettings()
            with self.data.lock:
                self.data.clear()
            self.faults = Faults()
            self.limits = _Limits(self.settings)
            self.calls.clear()
            self.status_counts.clear()

    def reset_counters(self) -> None:
        with self._lock:
            self.calls.clear()
            self.status_counts.clear()

    def reset_rate_limits(self) -> None:
        with self._lock:
            self.limits = _Limits(self.settings)

    # ------------------------------------------------------------ request handling

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[Reply, str | None,
                                                                                                dict[str, str]]:
        """(reply, fault to apply after replying or None, extra headers)."""
        self.api.batch_mode = self.settings.batch_mode
        parts = urlsplit(target)
        path, query = parts.path.rstrip("/"), dict(parse_qsl(parts.query))
        if path.startswith("/_emulator/") and method == "GET":
            return self._inspect(path.removeprefix("/_emulator/")), None, {}
        route, call = self._route(method, path)
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        with self._lock:
            if self.faults.expired_tokens > 0 and token in self.settings.tokens:
                self.faults.expired_tokens -= 1
                return (401, error_body("The OAuth token used to make this call expired 0 second(s) ago.",
                                        "EXPIRED_AUTHENTICATION")), None, {}
            if token not in self.settings.tokens:
                return (401, error_body(
                    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
                    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                    "INVALID_AUTHENTICATION")), None, {}
            now = time.monotonic()
            is_search = call.endswith("/search")
            policy, wait = self.limits.admit(now, is_search)
            rate_headers = {} if is_search else self.limits.headers(now)
            if policy is not None:
                return self._rate_limited(policy, wait, rate_headers)
            self.calls[call] += 1
            fault = self.faults.next(call.rsplit("/", 1)[-1] in _WRITES)
        if fault in ("429", "502", "503", "drop_before"):
            if fault == "429":
                return self._rate_limited("TEN_SECONDLY_ROLLING", 1.0, rate_headers)
            if fault == "drop_before":
                return (0, None), "drop", {}
            return (int(fault), error_body("Bad gateway" if fault == "502" else "Service unavailable",
                                           "SERVICE_UNAVAILABLE")), None, rate_headers
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            reply: Reply = (400, error_body("Invalid input JSON on line 1", "VALIDATION_ERROR"))
        else:
            with self.data.lock:
                reply = route(query, payload)
        if fault == "500":
            reply = (500, error_body("internal error", "INTERNAL_ERROR"))
        return reply, fault if fault in _AFTER else None, rate_headers

    def _inspect(self, what: str) -> Reply:
        """Test and benchmark access from another process: no auth, not counted against any limit."""
        if what == "stats":
            with self._lock:
                return 200, {"calls": dict(self.calls), "status_counts": {str(k): v for k, v in
                                                                          self.status_counts.items()},
                             "write_calls": self.write_calls, "faults_fired": dict(self.faults.fired),
                             "contacts": len(self.contacts()), "companies": len(self.objects("companies"))}
        if what in ("contacts", "companies"):
            return 200, {"results": self.objects(what)}
        return 404, error_body(f"no emulator view {what!r}; try stats, contacts or companies", "OBJECT_NOT_FOUND")

    def _rate_limited(self, policy: str, wait: float, rate_headers: dict[str, str]) -> tuple[Reply, None,
                                                                                            dict[str, str]]:
        message = {"DAILY": "You have reached your daily limit.",
                   "SECONDLY": "You have reached your secondly limit."}.get(
            policy, "You have reached your ten_secondly_rolling limit.")
        body = {"status": "error", "message": message, "errorType": "RATE_LIMIT",
                "correlationId": str(uuid.uuid4()), "policyName": policy, "requestId": str(uuid.uuid4())}
        extra = dict(rate_headers)
        if self.settings.send_retry_after:
            extra["Retry-After"] = str(max(1, math.ceil(wait)))
        return (429, body), None, extra

    def _route(self, method: str, path: str) -> tuple[Any, str]:
        def missing(_query: dict[str, str], _body: Any) -> Reply:
            return 404, error_body(f"no route for {method} {path}", "OBJECT_NOT_FOUND")

        found = _OBJECT.match(path)
        if found:
            obj, rest = found.group(1), found.group(2) or ""
            api = self.api
            if rest == "" and method == "GET":
                return (lambda q, b: api.list(obj, q)), f"GET {obj}"
            if rest == "" and method == "POST":
                return (lambda q, b: api.create_one(obj, b)), f"POST {obj}/create_one"
            if rest == "search" and method == "POST":
                return (lambda q, b: api.search(obj, b)), f"POST {obj}/search"
            if rest in ("merge", "gdpr-delete") and method == "POST":
                handler = api.merge if rest == "merge" else api.gdpr_delete
                return (lambda q, b: handler(obj, b)), f"POST {obj}/{rest}"
            if rest.startswith("batch/") and method == "POST":
                action = rest.removeprefix("batch/")
                return (lambda q, b: api.batch(obj, action, b, q)), f"POST {obj}/batch/{action}"
            if rest and "/" not in rest:
                if method == "GET":
                    return (lambda q, b: api.get(obj, rest, q)), f"GET {obj}/id"
                if method == "PATCH":
                    return (lambda q, b: api.patch_one(obj, rest, b)), f"PATCH {obj}/patch"
                if method == "DELETE":
                    return (lambda q, b: api.archive_one(obj, rest)), f"DELETE {obj}/delete"
        found = _PROPERTY.match(path)
        if found:
            obj, name = found.group(1), found.group(2)
            if method == "GET":
                return (lambda q, b: self.api.properties(obj, name)), f"GET properties/{obj}"
            if method == "POST" and name is None:
                return (lambda q, b: self.api.create_property(obj, b)), f"POST properties/{obj}/property"
        return missing, f"{method} unknown"


def _handler_for(emulator: HubSpotEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "HubSpotEmulator/1.0"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            (status, payload), fault, extra = emulator.handle(self.command, self.path, headers, body)
            if fault == "drop":
                self.close_connection = True
                self.connection.close()
                return
            if fault == "timeout":
                time.sleep(emulator.settings.stall_seconds)
            elif emulator.settings.latency_seconds:
                time.sleep(emulator.settings.latency_seconds)
            with emulator._lock:
                emulator.status_counts[status] += 1
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            if payload is not None:
                self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
            log.debug("hubspot emulator: " + format, *args)

    return Handler


def main() -> None:
    """Run the emulator in the foreground until interrupted."""
    parser = argparse.ArgumentParser(description="A local HubSpot CRM v3 API for tests and demos.")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--token", action="append", default=None, help="accepted Bearer token (repeatable)")
    parser.add_argument("--rate-max", type=int, default=100, help="requests per rolling interval")
    parser.add_argument("--rate-interval-ms", type=int, default=10_000)
    parser.add_argument("--daily-limit", type=int, default=250_000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds each answer waits")
    args = parser.parse_args()
    settings = EmulatorSettings(tokens=frozenset(args.token or ["test-token"]), rate_max=args.rate_max,
                                rate_interval_ms=args.rate_interval_ms, daily_limit=args.daily_limit,
                                latency_seconds=args.latency)
    emulator = HubSpotEmulator(settings, port=args.port).start()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    log.info("HubSpot emulator on %s (tokens: %d configured); Ctrl-C stops it", emulator.url, len(settings.tokens))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()
