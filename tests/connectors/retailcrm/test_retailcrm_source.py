"""The RetailCRM source against its emulator: the shared suite, the history by sinceId, deletions, 10 requests/s."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from airbyte_cdk.models import Type

from connectors.retailcrm.client import open_client
from connectors.retailcrm.emulator import RetailCrmEmulator, RetailSettings
from connectors.retailcrm.source import RetailCrmSource, RetailCrmSourceConfig, iter_airbyte_messages
from connectors.testing.suite import ConnectorSuite, Harness
from sync.push.budgets import forget_budgets
from sync.push.destination import RateLimitSettings

pytestmark = pytest.mark.emulator
KEY = "retail-source-key-123"
HISTORY = "GET /api/v5/customers/history"


@pytest.fixture(scope="module")
def retail_server() -> Iterator[RetailCrmEmulator]:
    with RetailCrmEmulator(RetailSettings(api_key=KEY)) as server:
        yield server


@pytest.fixture
def retail(retail_server: RetailCrmEmulator) -> Iterator[RetailCrmEmulator]:
    retail_server.reset(RetailSettings(api_key=KEY, rate_per_second=1000))
    forget_budgets()
    yield retail_server
    forget_budgets()


def config_for(retail: RetailCrmEmulator, **overrides: Any) -> dict[str, Any]:
    return {"base_url": retail.url, "api_key": KEY, "objects": ["contacts", "companies"], "page_size": 20,
            "checkpoint_every": 10, "timeout_seconds": 1.0, "max_retries": 4, "backoff_seconds": 0.05,
            "rate_limit": {"max_requests": 1000, "interval_seconds": 1}, **overrides}


def post(retail: RetailCrmEmulator, path: str, **form: Any) -> dict[str, Any]:
    data = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in form.items()}
    reply = requests.post(f"{retail.url}{path}", data=data, headers={"X-API-KEY": KEY}, timeout=5)
    assert reply.status_code < 300, reply.text
    return reply.json()  # type: ignore[no-any-return]


def add_customers(retail: RetailCrmEmulator, count: int) -> list[str]:
    start = len(retail.customers)
    ids = []
    for first in range(start, start + count, 50):
        batch = [{"externalId": f"x{i}", "firstName": f"Ann{i}", "lastName": "Lee", "email": f"ann{i}@example.test",
                  "phones": [{"number": f"+7999000{i:04d}"}, {"number": "8 (495) 123-45-67"}]}
                 for i in range(first, min(start + count, first + 50))]
        body = post(retail, "/customers/upload", customers=batch)
        ids += [str(c["id"]) for c in body["uploadedCustomers"]]
    return ids


def read(config: dict[str, Any], streams: list[str], state: dict[str, Any] | None = None) -> \
        tuple[list[dict[str, Any]], dict[str, dict[str, Any]], list[str]]:
    records, states, errors = [], {}, []
    for message in iter_airbyte_messages(config, streams, state):
        if message.type == Type.RECORD:
            records.append(dict(message.record.data))
        elif message.type == Type.STATE:
            states[message.state.stream.stream_descriptor.name] = dict(vars(message.state.stream.stream_state))
        elif message.type == Type.TRACE and message.trace.error:
            errors.append(message.trace.error.message)
    return records, states, errors


class TestRetailCrmSuite(ConnectorSuite):
    @pytest.fixture
    def harness(self, retail: RetailCrmEmulator) -> Harness:
        return Harness(source=RetailCrmSource(), module="connectors.retailcrm", stream="contacts",
                       config=config_for(retail), bad_config=config_for(retail, api_key="wrong-key-987"),
                       add_records=lambda n: add_customers(retail, n), secrets=[KEY, "wrong-key-987"],
                       secret_fields=["api_key"], emulator=retail, fault_group=HISTORY,  # type: ignore[arg-type]
                       credential_words=("API key",))


def test_changes_are_read_from_the_history_and_each_customer_comes_once_as_it_is_now(
        retail: RetailCrmEmulator) -> None:
    ids = add_customers(retail, 3)
    post(retail, "/customers/x1/edit", by="externalId", customer={"firstName": "Anna"})
    post(retail, "/customers/x1/edit", by="externalId", customer={"email": "anna@example.test"})
    records, states, errors = read(config_for(retail), ["contacts"])
    assert not errors and [r["_record_id"] for r in records] == [ids[0], ids[2], ids[1]]
    changed = records[-1]
    assert changed["firstName"] == "Anna" and changed["email"] == "anna@example.test"
    assert changed["PHONE_LIST"] == "+79990000001; 8 (495) 123-45-67" and "_ab_cdc_deleted_at" not in changed
    assert states["contacts"] == {"since_id": 5}
    assert retail.calls[HISTORY] == 1 and retail.calls["GET /api/v5/customers"] == 1
    again, _, _ = read(config_for(retail), ["contacts"], states)
    assert again == []


def test_history_pages_by_since_id_with_limits_of_20_50_100(retail: RetailCrmEmulator) -> None:
    ids = add_customers(retail, 130)
    records, states, errors = read(config_for(retail, page_size=50), ["contacts"])
    assert not errors and [r["_record_id"] for r in records] == ids
    assert retail.calls[HISTORY] == 3 and states["contacts"] == {"since_id": 130}
    refused = RetailCrmSource().check(logging.getLogger(), config_for(retail, page_size=30))
    assert "page_size" in (refused.message or "")


def test_deleted_and_combined_customers_come_as_deleted_records(retail: RetailCrmEmulator) -> None:
    ids = add_customers(retail, 5)
    _, state, _ = read(config_for(retail), ["contacts"])
    retail.delete(int(ids[1]))
    post(retail, "/customers/combine", customers=[{"id": int(ids[3])}], resultCustomer={"id": int(ids[4])})
    records, state, errors = read(config_for(retail), ["contacts"], state)
    gone = sorted(r["_record_id"] for r in records if r.get("_ab_cdc_deleted_at"))
    assert not errors and gone == sorted([ids[1], ids[3]])
    assert all(r["_ab_cdc_deleted_at"] for r in records if r["_record_id"] in gone)


def test_companies_come_from_the_corporate_history(retail: RetailCrmEmulator) -> None:
    post(retail, "/customers-corporate/create", customerCorporate={"nickName": "Acme", "externalId": "co-1"})
    post(retail, "/customers-corporate/create", customerCorporate={"nickName": "Globex"})
    add_customers(retail, 2)
    records, state, errors = read(config_for(retail), ["companies"])
    assert not errors and [r["nickName"] for r in records] == ["Acme", "Globex"]
    retail.delete(int(records[0]["id"]), kind="corporate")
    again, _, _ = read(config_for(retail), ["companies"], state)
    assert [(r["_record_id"], bool(r.get("_ab_cdc_deleted_at"))) for r in again] == [(records[0]["_record_id"], True)]


def test_a_read_killed_mid_page_repeats_at_most_that_page(retail: RetailCrmEmulator) -> None:
    ids = add_customers(retail, 50)
    committed: dict[str, Any] | None = None
    before: list[str] = []
    for message in iter_airbyte_messages(config_for(retail, checkpoint_every=7), ["contacts"], None):
        if message.type == Type.RECORD:
            before.append(message.record.data["_record_id"])
        elif message.type == Type.STATE and len(before) >= 28:
            committed = {"contacts": dict(vars(message.state.stream.stream_state))}
            break  # killed after the checkpoint at record 28 (page two of 20 is half read)
    assert committed == {"contacts": {"since_id": 20}}
    rest, _, _ = read(config_for(retail), ["contacts"], committed)
    assert set(before) | {r["_record_id"] for r in rest} == set(ids)
    assert [r["_record_id"] for r in rest] == ids[20:]  # repeats only the unfinished page


def test_ten_requests_a_second_is_respected_through_the_shared_budget(retail: RetailCrmEmulator) -> None:
    retail.reset(RetailSettings(api_key=KEY))  # RetailCRM's own limit: 10 requests/s, then 503
    ids = add_customers(retail, 400)
    time.sleep(1.1)  # the uploads above spent this second's allowance outside the budget
    retail.calls.clear()
    retail.status_counts.clear()
    config = config_for(retail, rate_limit={"max_requests": 10, "interval_seconds": 1}, page_size=20)
    records, _, errors = read(config, ["contacts"])
    assert not errors and sorted(r["_record_id"] for r in records) == sorted(ids)
    # 20 history pages and the empty one after them, 20 look-ups of the customers they touched
    assert sum(retail.calls.values()) == 41 and retail.status_counts[503] == 0


def test_pull_and_push_of_one_account_share_one_budget(retail: RetailCrmEmulator) -> None:
    source = RetailCrmSourceConfig.model_validate({"base_url": retail.url, "api_key": KEY}).client()
    writer = open_client(base_url=retail.url, api_key=KEY, site="main-shop", rate_limit=None)
    assert source.budget is writer.budget


def test_ingest_maps_customers_and_marks_deleted_ones(retail: RetailCrmEmulator, store: Any) -> None:
    from mappings import load_mapping
    from mappings.templates import TEMPLATES_DIR
    from sync.ingest import ingest_source
    from sync.store import load_customer_records

    ids = add_customers(retail, 4)
    post(retail, "/customers/x0/edit", by="externalId",
         customer={"address": {"city": "Казань", "index": "420111", "countryIso": "RU", "text": "ул. Баумана, 1"}})
    mapping = {"contacts": load_mapping(TEMPLATES_DIR / "retailcrm_contacts_in.yaml")}
    config = config_for(retail, objects=["contacts"])
    report = ingest_source(store, source="shop", connector="retailcrm", config=config, mappings=mapping)
    assert report.error is None and report.stream("contacts").new == 4, report
    with store.session() as session:
        customers = {c.source_record_id: c.canonical for c in load_customer_records(session)}
    assert customers[ids[0]]["given_name"] == "Ann0" and customers[ids[0]]["emails"] == ["ann0@example.test"]
    assert customers[ids[0]]["phones"] == ["+79990000000", "+74951234567"]
    assert customers[ids[0]]["address"] == {**customers[ids[0]]["address"], "city": "Казань", "postal_code": "420111",
                                            "country": "RU", "street": "ул. Баумана, 1"}
    retail.delete(int(ids[2]))
    again = ingest_source(store, source="shop", connector="retailcrm", config=config, mappings=mapping)
    assert again.error is None and again.stream("contacts").deleted == 1
    with store.session() as session:
        assert {c.source_record_id for c in load_customer_records(session)} == {ids[0], ids[1], ids[3]}


def test_a_pull_and_a_push_running_together_stay_under_ten_a_second(retail: RetailCrmEmulator) -> None:
    retail.reset(RetailSettings(api_key=KEY))  # 10 requests/s, then 503
    ids = add_customers(retail, 300)
    time.sleep(1.1)
    retail.status_counts.clear()
    limits = RateLimitSettings(max_requests=8, interval_seconds=1)  # each alone: 7/s; two budgets would send 14/s
    writer = open_client(base_url=retail.url, api_key=KEY, site="main-shop", rate_limit=limits)
    created: list[int] = []

    def push() -> None:
        for i in range(30):
            reply = writer.request("POST", "/customers/create", form={"customer": {"firstName": f"P{i}"}},
                                   idempotent=False)
            created.append(int(reply["id"]))

    pusher = threading.Thread(target=push)
    pusher.start()
    records, _, errors = read(config_for(retail, rate_limit=limits.model_dump(), page_size=20), ["contacts"])
    pusher.join()
    assert not errors and set(ids) <= {r["_record_id"] for r in records} and len(created) == 30
    assert retail.status_counts[503] == 0
