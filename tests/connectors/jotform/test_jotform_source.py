"""JotForm submissions against the emulator: the shared suite, ties on a second, quota, webhook/API parity."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest

from connectors.jotform.emulator import JotformEmulator
from connectors.jotform.source import JotformSource
from connectors.testing.suite import ConnectorSuite, Harness, read
from connectors.webforms import parse_submission
from mappings import SourceRef, load_mapping, map_row
from mappings.templates import TEMPLATES_DIR

KEY = "jotform-api-key-0123456789"
FORM = "241118882299062"
START = datetime(2024, 5, 1, 9)
pytestmark = pytest.mark.emulator


def config_for(api: JotformEmulator, **overrides: object) -> dict[str, object]:
    return {"api_key": KEY, "form_ids": [FORM], "base_url": api.url, "page_size": 5, "timeout_seconds": 1.0,
            "max_retries": 3, "backoff_seconds": 0.05, "max_wait_seconds": 2.0, **overrides}


@pytest.fixture
def api() -> Iterator[JotformEmulator]:
    with JotformEmulator(KEY, [FORM, "999"]) as emulator:
        yield emulator  # type: ignore[misc]


def harness_for(api: JotformEmulator, **overrides: object) -> Harness:
    def add(count: int) -> list[str]:
        start = START if not api.submissions[FORM] else None
        return [s["id"] for s in api.add_submissions(FORM, count, start=start)]

    return Harness(source=JotformSource(), module="connectors.jotform", stream=f"submissions:{FORM}",
                   config=config_for(api, **overrides), bad_config=config_for(api, api_key="wrong-key-9876"),
                   add_records=add, secrets=[KEY, "wrong-key-9876"], secret_fields=["api_key"], emulator=api,
                   fault_group="submissions")


class TestJotformSuite(ConnectorSuite):
    @pytest.fixture
    def harness(self, api: JotformEmulator) -> Harness:
        return harness_for(api)


def test_submissions_tying_on_a_second_are_not_split_between_runs(api: JotformEmulator) -> None:
    api.add_submissions(FORM, 12, start=START, step=timedelta(0))  # all at 09:00:00, pages of 5
    api.add_submissions(FORM, 3, start=START + timedelta(seconds=1), step=timedelta(0))
    harness = harness_for(api)
    full = read(harness)
    created = {s["id"]: s["created_at"] for s in api.submissions[FORM]}
    emitted: set[str] = set()
    for message in full.messages:  # every checkpoint covers only what was emitted before it
        if message.record:
            emitted.add(message.record.data["_record_id"])
        elif message.state:
            cursor = message.state.stream.stream_state.cursor
            assert {i for i, at in created.items() if at <= cursor} <= emitted
    assert full.final_state == {"cursor": "2024-05-01 09:00:01"}
    assert read(harness, full.final_state).ids == []


def test_filter_and_order_are_sent_as_jotform_expects(api: JotformEmulator) -> None:
    api.add_submissions(FORM, 2, start=START)
    read(harness_for(api, start_date="2024-05-01"))
    (request,) = [r for r in api.requests if r.group == "submissions"]
    assert json.loads(request.arg("filter") or "") == {"created_at:gt": "2024-04-30 23:59:59"}
    assert (request.arg("orderby"), request.arg("direction")) == ("created_at", "ASC")
    assert request.arg("apiKey") is None and request.headers["apikey"] == KEY  # never in the URL


def test_a_spent_daily_quota_fails_clearly(api: JotformEmulator) -> None:
    api.add_submissions(FORM, 2, start=START)
    api.limit_left = 0
    result = read(harness_for(api, max_retries=1))
    assert result.errors and "daily limit" in result.errors[0] and "429" in result.errors[0]


def test_an_unknown_form_is_named() -> None:
    with JotformEmulator(KEY, [FORM]) as emulator:
        status = JotformSource().check(logging.getLogger(), config_for(emulator, form_ids=["123"]))  # type: ignore[arg-type]
    assert "404" in (status.message or "") and "form/123" in (status.message or "")


def test_api_and_webhook_give_the_same_fields(api: JotformEmulator) -> None:
    (item,) = api.add_submissions(FORM, 1, start=START)
    (record,) = read(harness_for(api)).records
    raw = {"slug": f"submit/{FORM}", "q3_fullName": item["answers"]["3"]["answer"],
           "q4_email": item["answers"]["4"]["answer"], "q5_phoneNumber": item["answers"]["5"]["answer"]}
    body = urlencode({"formID": FORM, "submissionID": item["id"], "rawRequest": json.dumps(raw)}).encode()
    parsed = parse_submission("application/x-www-form-urlencoded", body, {})
    for key in ("fullName.first", "fullName.last", "email", "phoneNumber.full", "form_id", "id"):
        assert parsed.fields[key] == record[key], key
    assert parsed.submission_id == record["_record_id"]


def test_submissions_map_to_customers(api: JotformEmulator) -> None:
    api.add_submissions(FORM, 2, start=START)
    spec = load_mapping(TEMPLATES_DIR / "jotform_customers.yaml")
    for record in read(harness_for(api)).records:
        result = map_row(spec, {k: v for k, v in record.items() if not k.startswith("_")},
                         SourceRef(source="jotform", stream=f"submissions:{FORM}", source_record_id=record["_record_id"]))
        assert result.record is not None, result.problems
        assert result.record.given_name == record["fullName.first"]
        assert result.record.phones == [record["phoneNumber.full"]]
