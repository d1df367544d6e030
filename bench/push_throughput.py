"""Push throughput against the HubSpot emulator's rate limit, and kill -9 trials.

    python bench/push_throughput.py [--records 20000] [--rate-max 100] [--interval-ms 10000]
                                    [--workers 2] [--database-url postgresql://...] [--kill-trials 20]

The emulator runs in its own process (`python -m connectors.hubspot.emulator`), limited to
`rate-max` requests per rolling `interval-ms`. Golden records are seeded straight into a fresh
store, then pushed once. With 100 records per batch call the theoretical maximum is
100 × rate-max / interval seconds (1,000 records/s at HubSpot's Free/Starter 100 per 10 s).
Reported: records/s and its share of that maximum, requests, and the share answered 429; then
a second push (expected: zero write calls). `--kill-trials N` then kills a push at random
moments N times (an unthrottled emulator, `--kill-records` records), re-runs it each time and
checks that the emulator holds exactly one contact per golden record with equal fields.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from pydantic import SecretStr
from sqlalchemy import create_engine, make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mappings import content_hash  # noqa: E402
from mappings.outbound import OutboundSpec, load_outbound, template  # noqa: E402
from sync.push.destination import DestinationSettings, RateLimitSettings  # noqa: E402
from sync.push.run import push_destination  # noqa: E402
from sync.store import Store, load_golden, open_store, save_golden  # noqa: E402

TOKEN = "bench-token"
BATCH = 100


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def emulator(rate_max: int, interval_ms: int, latency: float = 0.0) -> Iterator[str]:
    """The emulator in its own process; yields its base URL."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "connectors.hubspot.emulator", "--port", str(port), "--token",
                                TOKEN, "--rate-max", str(rate_max), "--rate-interval-ms", str(interval_ms),
                                "--latency", str(latency)], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                requests.get(f"{url}/_emulator/stats", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def stats(url: str) -> dict[str, Any]:
    reply: dict[str, Any] = requests.get(f"{url}/_emulator/stats", timeout=30).json()
    return reply


@contextmanager
def fresh_store(database_url: str | None) -> Iterator[tuple[Store, str]]:
    """A new SQLite file, or a new database on the given PostgreSQL server (dropped afterwards)."""
    if not database_url or database_url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="crmsync-push-bench-") as folder:
            url = f"sqlite:///{folder}/crmsync.db"
            store = open_store(url)
            try:
                yield store, url
            finally:
                store.dispose()
        return
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    name = f"crmsync_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    store = open_store(url)
    try:
        yield store, url
    finally:
        store.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def person(i: int, title: str | None = None, *, bare: bool = False) -> dict[str, Any]:
    return {"full_name": f"Person{i} Bench", "given_name": f"Person{i}", "family_name": "Bench",
            "emails": [] if bare else [f"p{i}@bench.example"], "phones": [f"+1415{i:07d}"],
            "company": f"Firm {i % 97}", "job_title": title, "address": {"city": "Springfield", "country": "US"},
            "consent": {}, "custom": {}, "tags": [], "birth_date": None, "locale": None, "patronymic": None,
            "sources": ["bench"]}


def seed(store: Store, people: list[tuple[str, dict[str, Any]]]) -> None:
    now = datetime.now(UTC)
    with store.session() as session:
        for golden_id, fields in people:
            save_golden(session, golden_id, fields=fields, provenance={}, content_hash=content_hash(fields), now=now)


def settings(url: str, rate_max: int, interval_s: float, workers: int) -> DestinationSettings:
    return DestinationSettings(name="hubspot", connector="hubspot", base_url=url, token=SecretStr(TOKEN),
                               workers=workers, rate_limit=RateLimitSettings(max_requests=rate_max,
                                                                             interval_seconds=interval_s))


def throughput(args: argparse.Namespace, spec: OutboundSpec) -> dict[str, Any]:
    interval_s = args.interval_ms / 1000
    theoretical = BATCH * args.rate_max / interval_s
    with emulator(args.rate_max, args.interval_ms) as url, fresh_store(args.database_url) as (store, _):
        every = round(1 / args.bare_share) if args.bare_share else 0
        people = [(str(uuid.uuid4()), person(i, bare=bool(every) and i % every == 0)) for i in range(args.records)]
        started = time.perf_counter()
        seed(store, people)
        seeded = time.perf_counter() - started
        config = settings(url, args.rate_max, interval_s, args.workers)
        report = push_destination(store, config, spec)
        first = stats(url)
        again = push_destination(store, config, spec)
        second = stats(url)
        with store.session() as session:
            golden = len(load_golden(session))
    requests_made = sum(first["calls"].values()) + int(first["status_counts"].get("429", 0))
    limited = int(first["status_counts"].get("429", 0))
    rate = report.delivered / report.seconds if report.seconds else 0.0
    return {
        "records": golden, "seed_seconds": round(seeded, 2), "push_seconds": round(report.seconds, 2),
        "delivered": report.delivered, "dead_lettered": report.dead_lettered, "error": report.error,
        "records_per_second": round(rate, 1), "theoretical_per_second": theoretical,
        "share_of_theoretical": round(rate / theoretical, 4), "requests": requests_made,
        "answered_429": limited, "share_429": round(limited / requests_made, 4) if requests_made else 0.0,
        "contacts_in_emulator": first["contacts"],
        "second_push_write_calls": second["write_calls"] - first["write_calls"],
        "second_push_unchanged": again.unchanged,
    }


def worker(store_url: str, url: str) -> None:
    """`--worker`: one push in this process (the kill trials kill it)."""
    store = open_store(store_url)
    try:
        config = settings(url, 1_000_000, 10.0, 2).model_copy(update={"batch_size": 50})
        push_destination(store, config, load_outbound(template("hubspot_contacts_out")))
    finally:
        store.dispose()


def kill_trials(args: argparse.Namespace, spec: OutboundSpec) -> dict[str, Any]:
    rnd = random.Random(5)
    killed = 0
    with emulator(1_000_000, 10_000, latency=0.02) as url, fresh_store(args.database_url) as (store, store_url):
        ids = [str(uuid.uuid4()) for _ in range(args.kill_records)]
        seed(store, [(gid, person(i, bare=i % 10 == 3)) for i, gid in enumerate(ids)])
        for trial in range(args.kill_trials):
            changed = rnd.sample(range(len(ids)), max(1, len(ids) // 10))
            seed(store, [(ids[i], person(i, title=f"Title {trial}", bare=i % 10 == 3)) for i in changed])
            before = stats(url)["write_calls"]
            process = subprocess.Popen([sys.executable, __file__, "--worker", store_url, url], cwd=ROOT,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while stats(url)["write_calls"] == before and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rnd.uniform(0.0, 0.3))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed += 1
            process.wait(60)
            report = push_destination(store, settings(url, 1_000_000, 10.0, 2), spec)
            contacts = requests.get(f"{url}/_emulator/contacts", timeout=60).json()["results"]
            keyed = {c.get("crmsync_id"): c for c in contacts}
            with store.session() as session:
                golden = load_golden(session)
            wrong = [gid for gid, row in golden.items()
                     if {k: keyed.get(gid, {}).get(k) for k, v in spec.render(gid, row.fields).items()}
                     != spec.render(gid, row.fields)]
            if report.error or len(keyed) != len(contacts) or len(contacts) != len(golden) or wrong:
                return {"trials": trial + 1, "killed_mid_push": killed, "ok": False,
                        "detail": f"{len(contacts)} contacts, {len(keyed)} golden ids, {len(wrong)} differ, "
                                  f"error={report.error}"}
    return {"trials": args.kill_trials, "killed_mid_push": killed, "records": args.kill_records, "ok": True}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rate-max", type=int, default=100)
    parser.add_argument("--interval-ms", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--bare-share", type=float, default=0.0,
                        help="share of records without an e-mail (each batch of them costs a look-up call)")
    parser.add_argument("--database-url", default=os.environ.get("CRMSYNC_BENCH_DATABASE_URL"))
    parser.add_argument("--kill-trials", type=int, default=0)
    parser.add_argument("--kill-records", type=int, default=2000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--worker", nargs=2, metavar=("STORE_URL", "BASE_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    spec = load_outbound(template("hubspot_contacts_out"))
    results: dict[str, Any] = {"store": "postgresql" if args.database_url and not args.database_url.startswith(
        "sqlite") else "sqlite"}
    if args.records:
        results["throughput"] = figures = throughput(args, spec)
        print(f"pushed {figures['delivered']:,} of {figures['records']:,} golden records in "
              f"{figures['push_seconds']}s: {figures['records_per_second']:,} records/s = "
              f"{figures['share_of_theoretical']:.1%} of the theoretical {figures['theoretical_per_second']:,.0f}/s; "
              f"{figures['requests']} requests, {figures['answered_429']} answered 429 "
              f"({figures['share_429']:.2%}); second push: {figures['second_push_write_calls']} write calls")
    if args.kill_trials:
        results["kill"] = kill = kill_trials(args, spec)
        verdict = ("exactly one contact per golden record with equal fields after each re-run" if kill["ok"]
                   else f"FAILED: {kill['detail']}")
        print(f"kill -9 trials: {kill['trials']} ({kill['killed_mid_push']} killed mid-push), {verdict}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
