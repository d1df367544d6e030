"""Faults: 10 % of requests failing, tight rate limits, reads and writes sharing a budget, kill -9 mid-push."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from connectors.hubspot.emulator import FAULT_KINDS, EmulatorSettings
from sync.push.destination import RateLimitSettings
from sync.push.run import push_destination
from sync.store import load_dead_letters, load_golden, load_xrefs
from tests.connectors.hubspot.emulator_fixtures import TOKEN
from tests.push.helpers import person

pytestmark = pytest.mark.emulator

WORKER = Path(__file__).with_name("push_worker.py")
# 20 trials on SQLite; PostgreSQL adds its transaction semantics in fewer (bench/push_throughput.py runs more)
KILL_TRIALS = {"sqlite": int(os.environ.get("CRMSYNC_KILL_TRIALS", "20")), "postgres": 6}


def mixed_people(count: int, *, invalid_every: int = 0, bare_every: int = 0) -> list[dict]:
    people = []
    for i in range(count):
        if invalid_every and i % invalid_every == 3:
            people.append(person(i, emails=[f"broken{i}@"]))
        elif bare_every and i % bare_every == 5:
            people.append(person(i, emails=[]))
        else:
            people.append(person(i))
    return people


def check_exactly_once(store, hubspot, spec, *, allow_dead_letters: bool = True) -> dict:
    """Each active golden record is one contact with equal fields, or dead-lettered with a reason."""
    with store.session() as session:
        golden = load_golden(session)
        letters = load_dead_letters(session, "hubspot")
        xrefs = load_xrefs(session, "hubspot")
    contacts = hubspot.contacts()
    keyed = {c.get("crmsync_id"): c for c in contacts}
    assert len(keyed) == len(contacts), "a golden record has two contacts"
    assert set(keyed) <= set(golden), "a contact belongs to no golden record"
    for golden_id, row in golden.items():
        if golden_id in letters:
            assert allow_dead_letters and letters[golden_id].error
            assert golden_id not in keyed
            continue
        expected = spec.render(golden_id, row.fields)
        contact = keyed[golden_id]
        assert {k: contact.get(k) for k in expected} == expected, golden_id
        assert xrefs[golden_id].remote_id == contact["id"]
    return letters


def test_ten_percent_faults_every_record_delivered_once_or_dead_lettered(store, seed, spec, settings, hubspot):
    hubspot.reset(EmulatorSettings(tokens=frozenset({TOKEN}), rate_max=100_000, stall_seconds=0.8))
    hubspot.faults.rate, hubspot.faults.kinds = 0.10, FAULT_KINDS
    seed(mixed_people(1200, invalid_every=60, bare_every=12))
    fast = settings.model_copy(update={"timeout_seconds": 0.5, "batch_size": 50,
                                       "rate_limit": RateLimitSettings(max_requests=100_000, interval_seconds=10)})

    report = push_destination(store, fast, spec)

    assert report.error is None
    letters = check_exactly_once(store, hubspot, spec)
    assert len(letters) == 20 and all("is invalid" in letter.error for letter in letters.values())
    assert report.delivered == 1180 and len(hubspot.contacts()) == 1180
    fired = hubspot.faults.fired
    assert sum(fired.values()) >= 3 and len(fired) >= 3, fired  # the faults did happen, of several kinds


def test_tight_rate_limit_is_respected_without_a_429_storm(store, seed, spec, settings, hubspot):
    hubspot.reset(EmulatorSettings(tokens=frozenset({TOKEN}), rate_max=10, rate_interval_ms=1000))
    seed([person(i) for i in range(2500)])
    limited = settings.model_copy(update={"workers": 4, "rate_limit": RateLimitSettings(
        max_requests=10, interval_seconds=1)})

    report = push_destination(store, limited, spec)

    assert report.created == 2500 and report.error is None
    assert report.rate_limited <= max(1, report.requests // 100)  # at most 1 % answered 429
    assert report.seconds >= 2.0  # 27 requests at ≤ 10 per second


def test_reads_and_writes_of_one_account_share_one_budget(store, seed, spec, settings, hubspot):
    from connectors.hubspot.source import iter_airbyte_messages

    hubspot.reset(EmulatorSettings(tokens=frozenset({TOKEN}), rate_max=12, rate_interval_ms=1000,
                                   search_per_second=None))
    seed([person(i) for i in range(1500)])
    limited = settings.model_copy(update={"rate_limit": RateLimitSettings(max_requests=12, interval_seconds=1)})
    push_destination(store, limited, spec)  # 1,500 contacts to read back
    seed([person(i, job_title="Buyer") for i in range(1500, 2500)])
    config = {"base_url": hubspot.url, "token": TOKEN, "page_size": 100,
              "rate_limit": {"max_requests": 12, "interval_seconds": 1}}
    read: list[int] = []

    def pull() -> None:
        read.append(sum(1 for m in iter_airbyte_messages(config, ["contacts"], None) if m.record))

    hubspot.reset_counters()
    reader = threading.Thread(target=pull)
    reader.start()
    report = push_destination(store, limited, spec)
    reader.join(60)

    assert read and read[0] >= 1500 and report.created == 1000 and report.error is None
    assert hubspot.status_counts[429] <= 1  # neither side starved the other into a 429 storm


@pytest.mark.slow
def test_kill_9_at_random_moments_then_rerun_leaves_exactly_one_contact_each(store, store_url, seed, spec, settings,
                                                                           hubspot):
    hubspot.reset(EmulatorSettings(tokens=frozenset({TOKEN}), rate_max=1_000_000, latency_seconds=0.02))
    ids = seed(mixed_people(800, bare_every=10))
    rnd = random.Random(11)
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    killed_mid_push, trials = 0, KILL_TRIALS["sqlite" if store_url.startswith("sqlite") else "postgres"]
    for trial in range(trials):
        changed = rnd.sample(range(len(ids)), 80)  # give each trial updates as well as creates
        seed([person(i, job_title=f"Title {trial}", emails=[] if i % 10 == 5 else [f"p{i}@example.test"])
              for i in changed], [ids[i] for i in changed])
        writes_before = hubspot.write_calls
        worker = subprocess.Popen([sys.executable, str(WORKER), store_url, hubspot.url, TOKEN], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while hubspot.write_calls == writes_before and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rnd.uniform(0.0, 0.25))
        if worker.poll() is None:
            worker.send_signal(signal.SIGKILL)
            killed_mid_push += 1
        worker.wait(30)
        assert worker.returncode in (0, -signal.SIGKILL), worker.stderr.read().decode() if worker.stderr else ""
        report = push_destination(store, settings.model_copy(update={
            "rate_limit": RateLimitSettings(max_requests=1_000_000, interval_seconds=10)}), spec)
        assert report.error is None and report.dead_lettered == 0
        check_exactly_once(store, hubspot, spec, allow_dead_letters=False)
        assert len(hubspot.contacts()) == len(ids)
    assert killed_mid_push >= trials // 2
