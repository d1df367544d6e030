"""Read throughput of the Bitrix24 and RetailCRM sources under each API's own rate limit.

    python bench/crm_source_read.py [--bitrix-records 2000] [--retail-records 5000]

Each emulator runs on 127.0.0.1 with the limit of the real API: Bitrix24's leaky bucket (50,
draining 2 requests/s; answered 503 QUERY_LIMIT_EXCEEDED) and RetailCRM's 10 requests/s (503).
The sources use their default budgets. Reported per source: records/s, requests and requests/s
against the API's limit, rejected requests, and the requests of a second (incremental) read with
nothing changed (Bitrix24 re-reads its 60 s look-back; the contacts are stamped a minute apart),
and for Bitrix24 a third with `deletion_sweep_hours: 24` (the id sweep not due).
The first read of Bitrix24 also lists live ids to find deletions (1 request per 50 records), so
its ceiling is 2 req/s × 50 / 2 = 50 records/s; RetailCRM's is 10 req/s × 100 history entries /
2 requests (history page + look-up) = 500 records/s.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from airbyte_cdk.models import Type

from connectors.bitrix24.emulator import BitrixEmulator, BitrixSettings
from connectors.bitrix24.source import iter_airbyte_messages as bitrix_read
from connectors.retailcrm.emulator import RetailCrmEmulator, RetailSettings
from connectors.retailcrm.source import iter_airbyte_messages as retail_read
from sync.push.budgets import forget_budgets


def _read(reader: Any, config: dict[str, Any], state: dict[str, Any] | None) -> tuple[int, dict[str, Any], float]:
    started = time.perf_counter()
    records, states = 0, {}
    for message in reader(config, ["contacts"], state):
        if message.type == Type.RECORD:
            records += 1
        elif message.type == Type.STATE:
            states[message.state.stream.stream_descriptor.name] = dict(vars(message.state.stream.stream_state))
        elif message.type == Type.TRACE and message.trace.error:
            raise SystemExit(f"the read failed: {message.trace.error.message}")
    return records, states, time.perf_counter() - started


def bench_bitrix(count: int) -> dict[str, Any]:
    with BitrixEmulator(BitrixSettings()) as api:  # the non-Enterprise bucket: 50, draining 2/s
        moments = iter(datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=n) for n in range(10 * count + 10))
        api.contacts.clock = lambda: next(moments)  # contacts made over weeks, a minute apart, not all just now
        for i in range(count):
            api.contacts.call("crm.contact.add", {"fields": {"NAME": f"N{i}", "PHONE": [{"VALUE": f"+7999{i:07d}"}],
                                                             "EMAIL": [{"VALUE": f"n{i}@example.test"}]}})
        forget_budgets()
        config = {"webhook_url": api.webhook_url, "objects": ["contacts"]}
        records, state, seconds = _read(bitrix_read, config, None)
        first_calls, rejected = sum(api.calls.values()), api.status_counts[503]
        api.calls.clear()
        again, state, again_seconds = _read(bitrix_read, config, state)
        sweeps = sum(api.calls.values())
        api.calls.clear()
        _read(bitrix_read, {**config, "deletion_sweep_hours": 24}, state)  # the id sweep at most daily
        daily = sum(api.calls.values())
        return {"source": "bitrix24", "third_read_requests_sweep_daily": daily, "records": records,
                "seconds": round(seconds, 2),
                "records_per_s": round(records / seconds, 1), "ceiling_records_per_s": 50.0,
                "share_of_ceiling": round(records / seconds / 50.0, 3), "requests": first_calls,
                "requests_per_s": round(first_calls / seconds, 2), "api_limit_per_s": 2.0,
                "rejected_503": rejected, "second_read_records": again, "second_read_requests": sweeps,
                "second_read_seconds": round(again_seconds, 2)}


def bench_retail(count: int) -> dict[str, Any]:
    key = "bench-key"
    with RetailCrmEmulator(RetailSettings(api_key=key, rate_per_second=1000)) as api:
        for first in range(0, count, 50):
            batch = [{"externalId": f"x{i}", "firstName": f"N{i}", "email": f"n{i}@example.test",
                      "phones": [{"number": f"+7999{i:07d}"}]} for i in range(first, min(count, first + 50))]
            requests.post(f"{api.url}/customers/upload", data={"customers": json.dumps(batch)},
                          headers={"X-API-KEY": key}, timeout=10).raise_for_status()
        api.settings.rate_per_second = 10  # RetailCRM's own limit from here on
        time.sleep(1.1)
        api.calls.clear()
        api.status_counts.clear()
        forget_budgets()
        config = {"base_url": api.url, "api_key": key, "objects": ["contacts"]}
        records, state, seconds = _read(retail_read, config, None)
        first_calls, rejected = sum(api.calls.values()), api.status_counts[503]
        api.calls.clear()
        again, _, again_seconds = _read(retail_read, config, state)
        return {"source": "retailcrm", "records": records, "seconds": round(seconds, 2),
                "records_per_s": round(records / seconds, 1), "ceiling_records_per_s": 500.0,
                "share_of_ceiling": round(records / seconds / 500.0, 3), "requests": first_calls,
                "requests_per_s": round(first_calls / seconds, 2), "api_limit_per_s": 10.0,
                "rejected_503": rejected, "second_read_records": again, "second_read_requests": sum(api.calls.values()),
                "second_read_seconds": round(again_seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bitrix-records", type=int, default=2000)
    parser.add_argument("--retail-records", type=int, default=5000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for result in (bench_bitrix(args.bitrix_records), bench_retail(args.retail_records)):
        print(json.dumps(result))


if __name__ == "__main__":
    main()
