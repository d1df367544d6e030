"""Zadarma PBX statistics against the emulator: the shared suite, signatures, pacing under 3/min, the template."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from connectors.testing.suite import ConnectorSuite, Harness, read
from connectors.zadarma.emulator import ZadarmaEmulator
from connectors.zadarma.source import ZadarmaSource, sign
from mappings import SourceRef, load_mapping, map_row
from mappings.templates import TEMPLATES_DIR

KEY = "zadarma-key-123"
SECRET = "zadarma-secret-abcdef"
START = (datetime.now() - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
pytestmark = pytest.mark.emulator


def config_for(api: ZadarmaEmulator, **overrides: object) -> dict[str, object]:
    return {"key": KEY, "secret": SECRET, "base_url": api.url, "start_date": START.date().isoformat(),
            "window_days": 1, "page_size": 5, "lookback_minutes": 0, "requests_per_minute": None,
            "timeout_seconds": 1.0, "max_retries": 3, "backoff_seconds": 0.05, "max_wait_seconds": 2.0, **overrides}


@pytest.fixture
def api() -> Iterator[ZadarmaEmulator]:
    with ZadarmaEmulator(KEY, SECRET, stats_per_minute=10_000) as emulator:
        yield emulator  # type: ignore[misc]


def harness_for(api: ZadarmaEmulator, **overrides: object) -> Harness:
    def add(count: int) -> list[str]:
        start = START if not api.calls else None
        return [c["pbx_call_id"] for c in api.add_calls(count, start=start, step=timedelta(hours=1))]

    return Harness(source=ZadarmaSource(), module="connectors.zadarma", stream="pbx_calls",
                   config=config_for(api, **overrides), bad_config=config_for(api, secret="wrong-secret-999"),
                   add_records=add, secrets=[SECRET, "wrong-secret-999"], secret_fields=["secret"], emulator=api,
                   fault_group="statistics")


class TestZadarmaSuite(ConnectorSuite):
    @pytest.fixture
    def harness(self, api: ZadarmaEmulator) -> Harness:
        return harness_for(api)


def test_signature_matches_the_official_clients_scheme() -> None:
    # Recomputed step by step as zadarma/user-api-py-v1 does: sorted urlencoded params with format=json,
    # HMAC-SHA1(secret, path + query + md5(query)) as hex, then base64 of that hex text.
    query, signature = sign("/v1/statistics/pbx/", {"start": "2024-05-01 00:00:00", "end": "2024-05-02 00:00:00"},
                            "secret")
    assert query == "end=2024-05-02+00%3A00%3A00&format=json&start=2024-05-01+00%3A00%3A00"
    assert signature == "NzY1Yzk1OTM0OGZjZGZkNTUwYzhlZDc1NGQ3OTg1NzllZDFhY2E3ZQ=="


def test_a_tampered_query_is_refused(api: ZadarmaEmulator) -> None:
    status = ZadarmaSource().check(logging.getLogger(), config_for(api, key="other-key"))
    assert "401" in (status.message or "") and "key and secret" in (status.message or "")


def test_reads_stay_under_the_statistics_limit_by_pacing() -> None:
    with ZadarmaEmulator(KEY, SECRET, stats_per_minute=10_000) as api:
        api.add_calls(4, start=START, step=timedelta(hours=1))
        api.limit_rate(3, window=1.0, group="statistics", permanent=True)  # the real 3/min, sped up 60 times
        started = time.monotonic()
        result = read(harness_for(api, requests_per_minute=150.0, max_retries=0))  # type: ignore[arg-type]
        assert not result.errors, result.errors
        assert len(result.ids) == 4
        statistics_calls = api.count("statistics")
        assert statistics_calls >= 4  # one per day window
        assert time.monotonic() - started >= (statistics_calls - 1) * 0.4 - 0.1


def test_calls_map_to_interactions_with_the_customers_number(api: ZadarmaEmulator) -> None:
    api.add_calls(2, start=START)
    spec = load_mapping(TEMPLATES_DIR / "zadarma_calls.yaml").model_copy(update={"defaults": {"phone_region": "RU"}})
    records = read(harness_for(api)).records
    mapped = [map_row(spec, {k: v for k, v in r.items() if not k.startswith("_")},
                      SourceRef(source="pbx", stream="pbx_calls", source_record_id=r["_record_id"])) for r in records]
    assert [m.record.direction for m in mapped] == ["inbound", "outbound"]
    assert mapped[0].record.phone == "+" + records[0]["clid"]
    assert mapped[1].record.phone == "+" + records[1]["destination"]


def test_the_emulator_refuses_a_fourth_statistics_call_in_a_minute() -> None:
    from connectors.common.http import TransientError
    from connectors.zadarma.source import STATS_PATH, Zadarma, parse_zadarma_config

    with ZadarmaEmulator(KEY, SECRET) as api:
        client = Zadarma(parse_zadarma_config(config_for(api, max_retries=0)), paced=False)
        params = {"start": "2024-05-01 00:00:00", "end": "2024-05-02 00:00:00", "version": 2}
        for _ in range(3):
            client.get(STATS_PATH, params)
        with pytest.raises(TransientError, match="429"):
            client.get(STATS_PATH, params)
        client.get("/v1/info/balance/", {})  # other methods have their own, larger budget
        client.close()
