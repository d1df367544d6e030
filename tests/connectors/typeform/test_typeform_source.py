"""Typeform responses against the emulator: the shared suite, windows, paging, webhook/API key parity."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors.testing.suite import ConnectorSuite, Harness, read
from connectors.typeform.emulator import TypeformEmulator
from connectors.typeform.source import TypeformSource
from connectors.webforms import parse_submission
from mappings import SourceRef, load_mapping, map_row
from mappings.templates import TEMPLATES_DIR

TOKEN = "tfp_personal-token-abcdef"
FORM = "lT4Z3j"
START = (datetime.now(UTC) - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
pytestmark = pytest.mark.emulator


def config_for(api: TypeformEmulator, **overrides: object) -> dict[str, object]:
    return {"token": TOKEN, "form_ids": [FORM], "base_url": api.url, "start_date": START.date().isoformat(),
            "window_days": 1, "page_size": 5, "requests_per_minute": None, "timeout_seconds": 1.0, "max_retries": 3, "backoff_seconds": 0.05,
            "max_wait_seconds": 2.0, **overrides}


@pytest.fixture
def api() -> Iterator[TypeformEmulator]:
    with TypeformEmulator(TOKEN, [FORM, "other"], requests_per_second=None) as emulator:
        yield emulator  # type: ignore[misc]


def harness_for(api: TypeformEmulator, **overrides: object) -> Harness:
    def add(count: int) -> list[str]:
        start = START if not api.responses[FORM] else None
        return [r["token"] for r in api.add_responses(FORM, count, start=start, step=timedelta(hours=1))]

    return Harness(source=TypeformSource(), module="connectors.typeform", stream=f"responses:{FORM}",
                   config=config_for(api, **overrides), bad_config=config_for(api, token="tfp_wrong-token"),
                   add_records=add, secrets=[TOKEN, "tfp_wrong-token"], secret_fields=["token"], emulator=api,
                   fault_group="responses", max_reemitted=1)


class TestTypeformSuite(ConnectorSuite):
    @pytest.fixture
    def harness(self, api: TypeformEmulator) -> Harness:
        return harness_for(api)


def test_pages_go_back_with_the_before_token(api: TypeformEmulator) -> None:
    api.add_responses(FORM, 12, start=START, step=timedelta(minutes=10))
    result = read(harness_for(api, window_days=30))
    assert len(result.ids) == 12 and len(set(result.ids)) == 12
    pages = [r for r in api.requests if r.group == "responses"]
    assert [p.arg("before") is None for p in pages] == [True, False, False]


def test_an_unknown_form_is_named(api: TypeformEmulator) -> None:
    import logging

    status = TypeformSource().check(logging.getLogger(), config_for(api, form_ids=[FORM, "nope"]))
    assert "FORM_NOT_FOUND" in (status.message or "") and "nope" in (status.message or "")


def test_api_and_webhook_give_the_same_fields(api: TypeformEmulator) -> None:
    (item,) = api.add_responses(FORM, 1, start=START)
    (record,) = read(harness_for(api)).records
    webhook = json.dumps({"event_id": "e1", "event_type": "form_response",
                          "form_response": {**{k: v for k, v in item.items() if not k.startswith("_")},
                                            "form_id": FORM}}).encode()
    parsed = parse_submission("application/json", webhook, {})
    for key in ("name", "email", "phone", "topic", "hidden.utm_source", "submitted_at"):
        assert parsed.fields[key] == record[key], key
    assert parsed.submission_id == record["_record_id"]


def test_responses_map_to_customers(api: TypeformEmulator) -> None:
    api.add_responses(FORM, 2, start=START)
    spec = load_mapping(TEMPLATES_DIR / "typeform_customers.yaml")
    for record in read(harness_for(api)).records:
        result = map_row(spec, {k: v for k, v in record.items() if not k.startswith("_")},
                         SourceRef(source="typeform", stream=f"responses:{FORM}", source_record_id=record["_record_id"]))
        assert result.record is not None, result.problems
        assert result.record.emails == [record["email"]] and result.record.phones == [record["phone"]]
        assert result.record.custom["utm_source"] == record["hidden.utm_source"]


def test_the_default_pace_stays_under_two_requests_a_second() -> None:
    with TypeformEmulator(TOKEN, [FORM]) as api:  # the real limit, enforced
        api.add_responses(FORM, 12, start=START, step=timedelta(minutes=10))
        config = config_for(api, window_days=30, max_retries=0)  # type: ignore[arg-type]
        del config["requests_per_minute"]  # the default
        result = read(Harness(TypeformSource(), "connectors.typeform", f"responses:{FORM}", config, lambda n: []))
        assert not result.errors, result.errors
        assert len(result.ids) == 12
