"""A local Bitrix24 REST API on 127.0.0.1 (inbound-webhook URLs) for tests and benchmarks (contract §4).

`POST /rest/{user_id}/{webhook_code}/{method}[.json]` with a JSON or form body. It refuses what
Bitrix24 refuses: a wrong webhook code (401 NO_AUTH_FOUND), a `batch` of more than 50 commands
(400 ERROR_BATCH_LENGTH_EXCEEDED), requests over the leaky bucket (503 QUERY_LIMIT_EXCEEDED: each
request, and each batch as a whole, adds 1; the bucket drains `drain_per_second`; above
`bucket_size` every request is refused), contacts without NAME or LAST_NAME, companies without
TITLE, invalid e-mails. Contacts (`crm.contact.*`) and companies (`crm.company.*`) are kept apart.
Fault switches as in the HubSpot emulator ("503", "500", "timeout", "drop", "drop_before"), plus
the shared connector suite's `inject`/`limit_rate`/`clear_faults`/`count`, aimed at one method.

    python -m connectors.bitrix24.emulator --port 8124 --webhook 1/devcode
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from connectors.bitrix24.emulator_methods import Companies, Contacts, Reply, error
from connectors.bitrix24.phpquery import decode
from connectors.testing.switches import RANDOM_FAULT_KINDS, Faults, SuiteSwitches

__all__ = ["BitrixEmulator", "BitrixSettings", "FAULT_KINDS"]

log = logging.getLogger(__name__)

FAULT_KINDS = RANDOM_FAULT_KINDS
_AFTER = frozenset({"500", "timeout", "drop"})
_PATH = re.compile(r"^/rest/(\d+)/([^/]+)/([a-z0-9_.]+?)(?:\.json)?$", re.IGNORECASE)
BATCH_LIMIT = 50


@dataclass
class BitrixSettings:
    """Defaults are the non-Enterprise cloud plans: a bucket of 50, draining 2 per second."""

    webhook: str = "1/testcode"  # "{user_id}/{code}"
    bucket_size: int = 50
    drain_per_second: float = 2.0
    stall_seconds: float = 2.0
    latency_seconds: float = 0.0


class BitrixEmulator(SuiteSwitches):
    """A real HTTP server speaking Bitrix24 REST through an inbound webhook; inspect it in-process."""

    def __init__(self, settings: BitrixSettings | None = None, *, port: int = 0) -> None:
        self.settings = settings or BitrixSettings()
        self.contacts = Contacts()
        self.companies = Companies()
        self.faults = Faults()
        self._windows: list[tuple[int, float, str | None, deque[float]]] = []  # limit_rate(): extra limits
        self.calls: Counter[str] = Counter()
        self.status_counts: Counter[int] = Counter()
        self._level = 0.0
        self._drained_at = time.monotonic()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def webhook_url(self) -> str:
        """What a user pastes into crmsync.yaml as base_url."""
        return f"{self.url}/rest/{self.settings.webhook}"

    def start(self) -> BitrixEmulator:
        threading.Thread(target=self._server.serve_forever, name="bitrix-emulator", daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> BitrixEmulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def reset(self, settings: BitrixSettings | None = None) -> None:
        with self._lock:
            self.settings = settings or BitrixSettings()
            self.contacts.clear()
            self.companies.clear()
            self.faults = Faults()
            self._windows.clear()
            self.calls.clear()
            self.status_counts.clear()
            self._level, self._drained_at = 0.0, time.monotonic()

    def all_contacts(self) -> list[dict[str, Any]]:
        """Every contact with its multi-fields, as crm.contact.get returns it."""
        with self.contacts.lock:
            return [self.contacts.get({"id": cid})[1]["result"] for cid in sorted(self.contacts.items)]

    @property
    def write_calls(self) -> int:
        return sum(n for name, n in self.calls.items() if name in Contacts.WRITES | Companies.WRITES)

    def _entity(self, method: str) -> Contacts:
        return self.companies if method.lower().startswith("crm.company.") else self.contacts

    # ------------------------------------------------------------ request handling

    def _admit(self) -> bool:
        now = time.monotonic()
        self._level = max(0.0, self._level - (now - self._drained_at) * self.settings.drain_per_second)
        self._drained_at = now
        if self._level + 1 > self.settings.bucket_size:
            return False
        self._level += 1
        return True

    def _batch(self, params: dict[str, Any]) -> Reply:
        commands = params.get("cmd") or {}
        if not isinstance(commands, dict):
            return error("INVALID_REQUEST", "cmd must be an object of named commands")
        if len(commands) > BATCH_LIMIT:
            return error("ERROR_BATCH_LENGTH_EXCEEDED", f"Max batch length exceeded: {len(commands)} > {BATCH_LIMIT}")
        halt = str(params.get("halt") or "0") in ("1", "true", "Y")
        results: dict[str, Any] = {}
        errors: dict[str, Any] = {}
        for key, command in commands.items():
            method, _, query = str(command).partition("?")
            if method.lower() == "batch":
                errors[key] = {"error": "ERROR_BATCH_METHOD_NOT_ALLOWED", "error_description": "Nested batch calls"}
                continue
            with self._lock:
                self.calls[method.lower()] += 1
            status, body = self._entity(method).call(method, decode(query))
            if "error" in body:
                errors[key] = body
                if halt:
                    break
            else:
                results[key] = body["result"]
        return 200, {"result": {"result": results, "result_error": errors, "result_total": {},
                                "result_next": {}, "result_time": {}}}

    def handle(self, path: str, content_type: str, body: bytes,
               headers: dict[str, str] | None = None) -> tuple[Reply | None, str | None]:
        """Answer one request; `headers` (if given) receives extra response headers such as Retry-After."""
        parts = urlsplit(path)
        found = _PATH.match(unquote(parts.path))
        if found is None:
            return error("ERROR_METHOD_NOT_FOUND", f"no REST route {parts.path}", 404), None
        if f"{found.group(1)}/{found.group(2)}" != self.settings.webhook:
            return error("NO_AUTH_FOUND", "Wrong authorization data", 401), None
        method = found.group(3).lower()
        with self._lock:
            if not self._within_windows(method, time.monotonic()) or not self._admit():
                return error("QUERY_LIMIT_EXCEEDED", "Too many requests", 503), None
            targeted = self.faults.take_targeted(method)
            fault = targeted.kind if targeted else self.faults.next()
            self.calls[method] += 1
        if targeted is not None and targeted.kind in ("429", "502"):
            if targeted.retry_after is not None and headers is not None:
                headers["Retry-After"] = f"{targeted.retry_after:g}"
            return (error("OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.", 429) if
                    targeted.kind == "429" else error("INTERNAL_SERVER_ERROR", "Bad gateway", 502)), None
        if fault in ("503", "drop_before"):
            return (error("INTERNAL_SERVER_ERROR", "Service unavailable", 503), None) if fault == "503" \
                else (None, "drop")
        params: dict[str, Any] = dict(decode(parts.query)) if parts.query else {}
        if body:
            if "json" in content_type:
                try:
                    loaded = json.loads(body)
                except ValueError:
                    return error("INVALID_REQUEST", "the body is not valid JSON"), None
                params.update(loaded if isinstance(loaded, dict) else {})
            else:
                params.update(decode(body.decode()))
        reply = self._batch(params) if method == "batch" else self._entity(method).call(method, params)
        if fault == "500":
            reply = error("INTERNAL_SERVER_ERROR", "Internal server error", 500)
        if reply[0] == 200:
            now = time.time()
            reply[1]["time"] = {"start": now, "finish": now, "duration": 0.0, "processing": 0.0, "operating": 0}
        return reply, fault if fault in _AFTER else None


def _handler_for(emulator: BitrixEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            extra: dict[str, str] = {}
            if self.path.startswith("/_emulator/"):
                reply: Reply | None = (200, {"contacts": emulator.all_contacts(), "calls": dict(emulator.calls)})
                fault = None
            else:
                reply, fault = emulator.handle(self.path, self.headers.get("Content-Type", ""), body, extra)
            if fault == "drop" or reply is None:
                self.close_connection = True
                self.connection.close()
                return
            time.sleep(emulator.settings.stall_seconds if fault == "timeout" else emulator.settings.latency_seconds)
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
            log.debug("bitrix24 emulator: " + format, *args)

    return Handler


def main() -> None:
    """Run the emulator in the foreground until interrupted."""
    parser = argparse.ArgumentParser(description="A local Bitrix24 REST API (inbound webhook) for tests.")
    parser.add_argument("--port", type=int, default=8124)
    parser.add_argument("--webhook", default="1/testcode", help="USER_ID/CODE of the inbound webhook")
    parser.add_argument("--bucket-size", type=int, default=50)
    parser.add_argument("--drain-per-second", type=float, default=2.0)
    args = parser.parse_args()
    emulator = BitrixEmulator(BitrixSettings(webhook=args.webhook, bucket_size=args.bucket_size,
                                             drain_per_second=args.drain_per_second), port=args.port).start()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    log.info("Bitrix24 emulator: webhook URL %s", emulator.webhook_url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emulator.stop()


if __name__ == "__main__":
    main()

