"""Load on the form-webhook inbox: `crmsync serve` in one process, signed posts from this one.

Starts a real server (`python -m crmsync serve`) on 127.0.0.1 with a fresh store, posts
Typeform-signed JSON submissions (each with its own id) over keep-alive connections for a
bounded time, stops the server, then counts the inbox rows: every submission answered 200
must be there (zero loss) and nothing else.

    .venv/bin/python bench/webhook_load.py [--seconds 10] [--connections 32] [--database-url URL]

The client is a small asyncio HTTP/1.1 loop rather than an HTTP library, so that it takes as
little of the shared CPU as possible away from the server it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.webforms import sign_typeform  # noqa: E402
from sync.store import count_submissions, open_store  # noqa: E402

SECRET = "bench-secret-0123456789"
PROJECT = """\
version: 1
name: webhook-load
store:
  url: {url}
sources:
  - name: website
    connector: webforms
    config:
      source: website
      database_url: {url}
      secret: ${{BENCH_FORMS_SECRET}}
    streams:
      submissions: {templates}/webforms_customers.yaml
"""


@dataclass
class Tally:
    accepted: int = 0
    duplicate: int = 0
    failed: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _request(port: int, submission_id: str) -> bytes:
    body = json.dumps({"submission_id": submission_id, "name": "Load Test", "email": f"{submission_id}@example.test",
                       "phone": "+7 912 345-67-89", "message": "x" * 200}).encode()
    head = (f"POST /hooks/forms/website HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Typeform-Signature: {sign_typeform(SECRET, body)}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("server closed the connection")
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return status, await reader.readexactly(length)


async def _connection(port: int, number: int, deadline: float, tally: Tally) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(_request(port, f"load-{number}-{sent}"))
            sent += 1
            status, body = await _read_response(reader)
            tally.latencies.append(time.perf_counter() - started)
            if status == 200:
                if json.loads(body)["status"] == "accepted":
                    tally.accepted += 1
                else:
                    tally.duplicate += 1
            else:
                tally.failed[status] = tally.failed.get(status, 0) + 1
    finally:
        writer.close()


async def _load(port: int, seconds: float, connections: int) -> tuple[Tally, float]:
    tally = Tally()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_connection(port, n, deadline, tally) for n in range(connections)))
    return tally, time.perf_counter() - started


def _start_server(project_file: Path, port: int, env: dict[str, str]) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-m", "crmsync", "serve", "-c", str(project_file), "--port",
                                str(port)], cwd=project_file.parent, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"crmsync serve exited: {process.stderr.read() if process.stderr else ''}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("crmsync serve did not become healthy within 90 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to post")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--database-url", help="an empty store (default: a new SQLite file)")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="crmsync-webhook-load-"))
    url = args.database_url or f"sqlite:///{folder / 'crmsync.db'}"
    project_file = folder / "crmsync.yaml"
    project_file.write_text(PROJECT.format(url=url, templates=ROOT / "mappings" / "templates"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRMSYNC_", "PREFECT_"))}
    env.update(BENCH_FORMS_SECRET=SECRET, PREFECT_HOME=str(folder / "prefect"),
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]))
    store = open_store(url)
    with store.session() as session:
        before = count_submissions(session, "website")
    store.dispose()

    port = _free_port()
    server = _start_server(project_file, port, env)
    try:
        tally, elapsed = asyncio.run(_load(port, args.seconds, args.connections))
    finally:
        server.terminate()
        server.wait(timeout=30)

    store = open_store(url)
    with store.session() as session:
        stored = count_submissions(session, "website") - before
    store.dispose()
    lost = tally.accepted - stored
    latencies = sorted(tally.latencies)
    p50 = statistics.median(latencies) * 1000 if latencies else 0.0
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0
    print(f"store: {url.split('://')[0]}  connections: {args.connections}  seconds: {elapsed:.1f}")
    print(f"accepted: {tally.accepted}  duplicates: {tally.duplicate}  failed: {tally.failed or 0}")
    print(f"throughput: {tally.accepted / elapsed:.0f} submissions/s  latency p50 {p50:.1f} ms  p99 {p99:.1f} ms")
    print(f"inbox rows: {stored}  lost: {lost}  extra: {max(0, -lost)}")
    if lost != 0 or tally.failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
