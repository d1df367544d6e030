"""Page load of the admin review queue with many pending suggestions: server time per page.

Seeds a fresh store with N pending merge suggestions (2·N golden records, each from one source
record, matched by a scripted matcher so the figure is about the page and not about training),
starts the real app under uvicorn on 127.0.0.1, logs in through the login form and loads queue
pages, filtered and not, and one suggestion page. Reports the server's own time (its
`Server-Timing: app` header, from the session check to the rendered page), the client's wall time,
and the CPU time the process spent per page (server and client together): on a shared machine the
wall times include waiting for a core, the CPU time does not. The load average is printed too.

    .venv/bin/python bench/admin_queue.py [--suggestions 10000] [--requests 30] [--database-url URL] [--dir DIR]

`URL` must name an empty database (default: an SQLite file in DIR or a temp folder). With `--dir`,
a store seeded there by an earlier run with the same number of suggestions is reused.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crmsync.config import load_project  # noqa: E402
from crmsync.web import create_app  # noqa: E402
from crmsync.web.auth import hash_password  # noqa: E402
from dedupe.types import Cluster, MatchRecord, MemberDecision, Resolution, Suggestion  # noqa: E402
from mappings import content_hash  # noqa: E402
from sync.match import match_store  # noqa: E402
from sync.store import SourceRecordIn, count_suggestions, open_store, upsert_source_records  # noqa: E402
from sync.store.users import add_user  # noqa: E402

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SOURCES = ("crm", "sheet", "web")
EVIDENCE = {"comparisons": {"family_name": {"level": "exact", "bits": 6.2},
                            "email": {"level": "different", "bits": -3.1}}}


@dataclass
class PairMatcher:
    """Each record its own cluster; records 2i and 2i+1 suggested at a score spread over 0.70–0.95."""

    def resolve(self, records: Sequence[MatchRecord], cannot_link: Iterable[tuple[int, int]] = ()) -> Resolution:
        ordered = sorted(records, key=lambda r: int(r.customer.custom["n"]))
        clusters = [Cluster((MemberDecision(r.key, "new", 1.0, "single record"),)) for r in ordered]
        suggestions = [Suggestion(i, i + 1, ordered[i].key, ordered[i + 1].key, 0.70 + 0.25 * ((i // 2) % 97) / 96,
                                  "uncertain", "same surname; e-mail differs", EVIDENCE)
                       for i in range(0, len(ordered) - 1, 2)]
        return Resolution(clusters, suggestions)


def record(n: int) -> SourceRecordIn:
    source = SOURCES[n % len(SOURCES)]
    canonical = {"ref": {"source": source, "stream": "contacts", "source_record_id": str(n)},
                 "source_updated_at": T0.isoformat(), "full_name": f"Customer {n // 2} Lee",
                 "emails": [f"c{n}@example.com"], "phones": [], "company": f"Firm {n % 50}", "custom": {"n": str(n)}}
    return SourceRecordIn(source=source, stream="contacts", source_record_id=str(n), entity="customer",
                          raw={"n": n}, canonical=canonical, content_hash=content_hash(canonical),
                          source_updated_at=T0 + timedelta(minutes=n))


def seed(url: str, suggestions: int) -> float:
    started = time.perf_counter()
    store = open_store(url)
    try:
        records = [record(n) for n in range(2 * suggestions)]
        with store.session() as session:
            upsert_source_records(session, records, seen_at=T0, pass_id=None)
        match_store(store, PairMatcher())  # type: ignore[arg-type]
        with store.session() as session:
            add_user(session, "bench", "reviewer", hash_password("bench-password-1"), now=datetime.now(UTC))
            pending = count_suggestions(session, ("pending",))
    finally:
        store.dispose()
    if pending != suggestions:
        raise SystemExit(f"seeding made {pending} pending suggestions, wanted {suggestions}")
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(client: httpx.Client, path: str, repeat: int) -> tuple[list[float], list[float], float]:
    server, wall = [], []
    cpu = time.process_time()
    for _ in range(repeat):
        started = time.perf_counter()
        answer = client.get(path)
        wall.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
        timing = re.search(r"app;dur=([\d.]+)", answer.headers.get("server-timing", ""))
        if timing is None:
            raise SystemExit(f"{path}: no Server-Timing header in the answer")
        server.append(float(timing.group(1)))
    return server, wall, (time.process_time() - cpu) * 1000 / repeat


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suggestions", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30, help="loads of each page measured")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--dir", type=Path, default=None, help="folder for the project (reused if seeded)")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="crmsync-bench-admin-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{folder / 'crmsync.db'}"
    marker = folder / f"seeded-{args.suggestions}"
    (folder / "crmsync.yaml").write_text(f"version: 1\nname: admin-bench\nstore:\n  url: '{url}'\n", encoding="utf-8")
    if marker.exists() and args.database_url is None:
        print(f"reusing the store seeded with {args.suggestions} suggestions in {folder}")
    else:
        print(f"seeding {args.suggestions} pending suggestions ({2 * args.suggestions} golden records) ...", flush=True)
        print(f"  seeded in {seed(url, args.suggestions):.1f} s")
        marker.touch()

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(load_project(folder / "crmsync.yaml")), host="127.0.0.1",
                                           port=port, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
            client.post("/login", data={"name": "bench", "password": "bench-password-1", "csrf_token": token})
            first = client.get("/queue")
            first.raise_for_status()
            sid = re.search(r'href="/suggestions/(\d+)', first.text).group(1)  # type: ignore[union-attr]
            pages = [("/queue", "queue, page 1"), ("/queue?page=100", "queue, page 100"),
                     ("/queue?source=web&min_score=0.8&max_score=0.9", "queue, filtered"),
                     (f"/suggestions/{sid}", "one suggestion"), ("/api/queue", "queue JSON")]
            print(f"\nload average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
            print(f"{'page':<18} {'server median':>14} {'server p95':>11} {'wall median':>12} {'CPU/page':>9}   "
                  f"(ms, {args.requests} loads each)")
            for path, label in pages:
                measure(client, path, 2)  # warm up
                server_ms, wall_ms, cpu_ms = measure(client, path, args.requests)
                print(f"{label:<18} {statistics.median(server_ms):>14.1f} {p95(server_ms):>11.1f} "
                      f"{statistics.median(wall_ms):>12.1f} {cpu_ms:>9.1f}")
            print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        server.should_exit = True
        thread.join(timeout=15)


if __name__ == "__main__":
    main()
