"""Twilio Calls against its emulator: the shared suite, paging, windows, look-back, the mapping template."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors.testing.suite import ConnectorSuite, Harness, read
from connectors.twilio.emulator import TwilioEmulator
from connectors.twilio.source import TwilioSource
from mappings import SourceRef, load_mapping, map_row
from mappings.templates import TEMPLATES_DIR

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "twilio-auth-token-1234"
# Recent, so that day windows from start_date to today stay few.
START = (datetime.now(UTC) - timedelta(days=4)).replace(minute=0, second=0, microsecond=0)
pytestmark = pytest.mark.emulator


def config_for(api: TwilioEmulator, **overrides: object) -> dict[str, object]:
    return {"account_sid": SID, "auth_token": TOKEN, "base_url": api.url, "start_date": START.date().isoformat(),
            "page_size": 5, "window_days": 1, "lookback_minutes": 0, "timeout_seconds": 1.0, "max_retries": 3,
            "backoff_seconds": 0.05, "max_wait_seconds": 2.0, **overrides}


@pytest.fixture
def api() -> Iterator[TwilioEmulator]:
    with TwilioEmulator(SID, TOKEN) as emulator:
        yield emulator  # type: ignore[misc]


class TestTwilioSuite(ConnectorSuite):
    @pytest.fixture
    def harness(self, api: TwilioEmulator) -> Harness:
        def add(count: int) -> list[str]:
            start = START if not api.calls else None
            return [c["sid"] for c in api.add_calls(count, start=start, step=timedelta(hours=1))]

        return Harness(source=TwilioSource(), module="connectors.twilio", stream="calls", config=config_for(api),
                       bad_config=config_for(api, auth_token="wrong-token-5678"), add_records=add,
                       secrets=[TOKEN, "wrong-token-5678"], secret_fields=["auth_token"], emulator=api,
                       fault_group="calls", max_reemitted=1)


def test_pages_follow_next_page_uri_newest_first(api: TwilioEmulator) -> None:
    api.add_calls(12, start=START, step=timedelta(minutes=10))
    result = read(Harness(TwilioSource(), "connectors.twilio", "calls", config_for(api, window_days=7), lambda n: []))
    assert len(result.ids) == 12
    pages = [r for r in api.requests if r.group == "calls"]
    assert len(pages) == 3 and pages[1].arg("PageToken", "").startswith("PA")
    assert result.final_state == {"cursor": (START + timedelta(minutes=110)).isoformat()}


def test_look_back_re_reads_calls_that_may_have_changed(api: TwilioEmulator) -> None:
    api.add_calls(4, start=START, step=timedelta(minutes=20))
    harness = Harness(TwilioSource(), "connectors.twilio", "calls", config_for(api, lookback_minutes=45),
                      lambda n: [])
    first = read(harness)
    again = read(harness, first.final_state)
    assert again.ids == [c["sid"] for c in api.calls[1:]][::-1]  # 60 - 45 = 15 minutes before the last call


def test_queued_calls_without_a_start_time_wait_for_a_later_run(api: TwilioEmulator) -> None:
    api.add_calls(2, start=START)
    api.add_calls(1, start=START + timedelta(hours=1), start_time=None)
    harness = Harness(TwilioSource(), "connectors.twilio", "calls", config_for(api), lambda n: [])
    assert len(read(harness).ids) == 2


def test_another_accounts_sid_is_refused_naming_the_keys(api: TwilioEmulator) -> None:
    status = TwilioSource().check(logging.getLogger(), config_for(api, account_sid="AC" + "f" * 32))
    assert "401" in (status.message or "") and "account_sid and auth_token" in (status.message or "")


def test_a_malformed_account_sid_is_named() -> None:
    status = TwilioSource().check(logging.getLogger(), {"account_sid": "123", "auth_token": "x"})
    assert "account_sid" in (status.message or "") and "AC" in (status.message or "")


def test_calls_map_to_interactions_with_the_customers_number(api: TwilioEmulator) -> None:
    api.add_calls(3, start=START)
    records = read(Harness(TwilioSource(), "connectors.twilio", "calls", config_for(api), lambda n: [])).records
    spec = load_mapping(TEMPLATES_DIR / "twilio_calls.yaml")
    by_direction = {}
    for record in records:
        result = map_row(spec, {k: v for k, v in record.items() if not k.startswith("_")},
                         SourceRef(source="twilio", stream="calls", source_record_id=record["_record_id"]))
        assert result.record is not None, result.problems
        by_direction[record["direction"]] = (record, result.record)
    inbound, mapped = by_direction["inbound"]
    assert mapped.phone == inbound["from"] and mapped.direction == "inbound"
    outbound, mapped_out = by_direction["outbound-api"]
    assert mapped_out.phone == outbound["to"] and mapped_out.direction == "outbound"
    assert mapped.occurred_at == START and mapped.kind == "call"
