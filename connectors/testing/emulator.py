"""A base for local API emulators: a real threaded HTTP server on 127.0.0.1 that fails on demand.

An emulator subclass declares its routes, checks credentials and renders errors in its
API's own shape; this base serves them over a real socket and adds what every test of a
connector needs: injected faults (N 429s with Retry-After, 5xx, a stalled answer, a dropped
connection), a rate limit per window, and a log of the requests it saw.

    with TwilioEmulator(account_sid=..., auth_token=...) as api:
        api.inject("429", count=2, retry_after=1)
        ... point the connector at api.url ...
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

__all__ = ["EmuRequest", "EmuResponse", "Emulator", "Fault", "FaultKind", "RateLimit", "Route", "paginate"]

log = logging.getLogger(__name__)
FaultKind = Literal["429", "500", "502", "503", "timeout", "drop"]


@dataclass(frozen=True)
class EmuRequest:
    """One request as a handler sees it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # named groups of the route's pattern
    group: str = "unrouted"  # the route group it matched
    raw_query: str = ""  # the query string exactly as sent (for APIs that sign it)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body or b"null")


@dataclass
class EmuResponse:
    """What a handler answers."""

    status: int = 200
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        """The body bytes."""
        if isinstance(self.body, bytes):
            return self.body
        return b"" if self.body is None else json.dumps(self.body).encode()


Handler = Callable[[EmuRequest], EmuResponse]


@dataclass(frozen=True)
class Route:
    """A method and a path pattern (a regex, anchored) served by a handler."""

    method: str
    pattern: str
    handler: Handler
    group: str = "default"  # rate limits and faults can target a group of routes


@dataclass
class Fault:
    """A fault applied to the next `count` matching requests."""

    kind: FaultKind
    count: int = 1
    retry_after: float | None = None
    delay: float = 5.0  # for "timeout": how long the answer stalls
    group: str | None = None  # None: any route


@dataclass
class RateLimit:
    """At most `limit` requests per `window` seconds (per route group, or over all)."""

    limit: int
    window: float = 1.0
    group: str | None = None
    permanent: bool = False  # the API's own limit: clear_faults() keeps it


class _QuietServer(ThreadingHTTPServer):
    """A client that gave up (a test's timeout, a dropped connection) is expected, not an error to print."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("emulator: connection from %s ended abruptly", client_address)


class Emulator:
    """Subclass: set `routes()`, and override `authenticate`, `error` and `rate_limited` as the API does."""

    name = "emulator"

    def __init__(self) -> None:
        self._faults: deque[Fault] = deque()
        self._limits: list[RateLimit] = []
        self._hits: dict[int, deque[float]] = {}  # by id() of the RateLimit
        self._lock = threading.Lock()
        self.requests: list[EmuRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._compiled = [(r, re.compile(r.pattern + r"\Z")) for r in self.routes()]

    # ------------------------------------------------------------ for subclasses

    def routes(self) -> list[Route]:
        """The API's routes."""
        return []

    def authenticate(self, request: EmuRequest) -> EmuResponse | None:
        """None if the request's credentials are good, else the API's refusal."""
        return None

    def error(self, status: int, message: str) -> EmuResponse:
        """An error in the API's own body shape."""
        return EmuResponse(status, {"error": message})

    def rate_limited(self, retry_after: float | None) -> EmuResponse:
        """The API's answer when over its rate limit."""
        response = self.error(429, "Too Many Requests")
        if retry_after is not None:
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response

    # ------------------------------------------------------------ switches for tests

    def inject(self, kind: FaultKind, *, count: int = 1, retry_after: float | None = None, delay: float = 5.0,
               group: str | None = None) -> None:
        """Fail the next `count` requests (of a route group, or any) with `kind`."""
        with self._lock:
            self._faults.append(Fault(kind, count, retry_after, delay, group))

    def limit_rate(self, limit: int, window: float = 1.0, group: str | None = None, *,
                   permanent: bool = False) -> None:
        """Answer 429 beyond `limit` requests per `window` seconds (`permanent`: the API's own limit)."""
        with self._lock:
            self._limits.append(RateLimit(limit, window, group, permanent))

    def clear_faults(self) -> None:
        """Remove pending faults and the rate limits a test added (the API's own stay)."""
        with self._lock:
            self._faults.clear()
            self._limits[:] = [limit for limit in self._limits if limit.permanent]
            self._hits.clear()

    def count(self, group: str | None = None) -> int:
        """Requests seen (that matched a route of `group`, or all)."""
        with self._lock:
            return sum(1 for r in self.requests if group is None or r.group == group)

    # ------------------------------------------------------------ server

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:53127."""
        if self._server is None:
            raise RuntimeError(f"{self.name} is not started; use `with emulator:` or start()")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Emulator:
        """Listen on a free port of 127.0.0.1 in a background thread."""
        emulator = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
                log.debug("%s: " + format, emulator.name, *args)

            def _serve(self) -> None:
                emulator._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self._server = _QuietServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name=f"{self.name}-http",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ dispatch

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route, pattern in self._compiled:
            found = pattern.match(path)
            if found and route.method == method:
                return route, {k: v for k, v in found.groupdict().items() if v is not None}
        return None, {}

    def _take_fault(self, group: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.group is None or fault.group == group:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _over_limit(self, group: str) -> float | None:
        """Seconds until a slot frees up if this request is over a rate limit, else None."""
        now = time.monotonic()
        with self._lock:
            for limit in self._limits:
                if limit.group not in (None, group):
                    continue
                hits = self._hits.setdefault(id(limit), deque())
                while hits and hits[0] <= now - limit.window:
                    hits.popleft()
                if len(hits) >= limit.limit:
                    return max(0.0, hits[0] + limit.window - now)
            for limit in self._limits:
                if limit.group in (None, group):
                    self._hits.setdefault(id(limit), deque()).append(now)
        return None

    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        body = http.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in http.headers.items()}
        route, params = self._match(http.command, parts.path)
        group = route.group if route else "unrouted"
        request = EmuRequest(http.command, parts.path, parse_qs(parts.query, keep_blank_values=True), headers, body,
                             params, group, parts.query)
        with self._lock:
            self.requests.append(request)
        response = self._respond(request, route, http)
        if response is None:
            return
        payload = response.encoded()
        http.send_response(response.status)
        http.send_header("Content-Type", response.headers.pop("Content-Type", "application/json"))
        http.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            http.send_header(name, value)
        http.end_headers()
        http.wfile.write(payload)

    def _respond(self, request: EmuRequest, route: Route | None, http: BaseHTTPRequestHandler) -> EmuResponse | None:
        group = request.group
        fault = self._take_fault(group)
        if fault is not None:
            if fault.kind == "drop":
                http.close_connection = True
                with contextlib.suppress(OSError):  # the client may have gone already
                    http.connection.shutdown(socket.SHUT_RDWR)
                return None
            if fault.kind == "timeout":
                time.sleep(fault.delay)
            elif fault.kind == "429":
                return self.rate_limited(fault.retry_after)
            else:
                response = self.error(int(fault.kind), "injected server error")
                if fault.retry_after is not None:
                    response.headers["Retry-After"] = f"{fault.retry_after:g}"
                return response
        if route is None:
            return self.error(404, f"no such resource: {request.method} {request.path}")
        refused = self.authenticate(request)
        if refused is not None:
            return refused
        wait = self._over_limit(group)
        if wait is not None:
            return self.rate_limited(max(1.0, round(wait + 0.5)))
        return route.handler(request)


def paginate(items: list[Any], page: int, size: int) -> tuple[list[Any], bool]:
    """One page of a list and whether another page follows."""
    start = page * size
    return items[start:start + size], start + size < len(items)
