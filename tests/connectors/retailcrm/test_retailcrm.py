"""RetailCRM: the emulator refuses what RetailCRM refuses; the writer pushes by externalId without duplicates."""

from __future__ import annotations

import json

import pytest
import requests
from pydantic import SecretStr

from connectors.retailcrm.emulator import RetailCrmEmulator, RetailSettings
from mappings.outbound import load_outbound, template
from sync.push.budgets import forget_budgets
from sync.push.destination import DestinationSettings, RateLimitSettings
from sync.push.run import push_destination
from sync.store import load_dead_letters
from tests.push.helpers import person, seed_golden

pytestmark = pytest.mark.emulator
KEY = "test-key"


@pytest.fixture(scope="module")
def retail_server():
    with RetailCrmEmulator() as server:
        yield server


@pytest.fixture
def retail(retail_server):
    retail_server.reset(RetailSettings(api_key=KEY, rate_per_second=1000))
    return retail_server


@pytest.fixture
def settings(retail):
    forget_budgets()
    yield DestinationSettings(name="shop", connector="retailcrm", base_url=retail.url, token=SecretStr(KEY),
                              timeout_seconds=2, rate_limit=RateLimitSettings(max_requests=1000, interval_seconds=1),
                              options={"site": "main-shop",
                                       "retry": {"attempts": 12, "backoff_base": 0.02, "backoff_cap": 0.3}})
    forget_budgets()


@pytest.fixture
def spec():
    return load_outbound(template("retailcrm_contacts_out"))


def test_emulator_contract(retail):
    assert requests.get(f"{retail.url}/customers", timeout=5).json()["errorMsg"] == '"apiKey" is missing.'
    wrong = requests.get(f"{retail.url}/customers", headers={"X-API-KEY": "nope"}, timeout=5)
    assert wrong.status_code == 401 and wrong.json() == {"success": False, "errorMsg": 'Wrong "apiKey" value.'}
    odd = requests.get(f"{retail.url}/customers?limit=30", headers={"X-API-KEY": KEY}, timeout=5)
    assert odd.status_code == 400 and "limit" in odd.json()["errors"]
    upload = requests.post(f"{retail.url}/customers/upload", headers={"X-API-KEY": KEY}, timeout=5, data={
        "customers": json.dumps([{"externalId": "a", "email": "a@x.io"}, {"externalId": "b", "email": "nope"}])})
    assert upload.status_code == 460
    assert upload.json()["failedCustomers"] == [{"externalId": "b"}] and "1" in upload.json()["errors"]
    too_many = requests.post(f"{retail.url}/customers/upload", headers={"X-API-KEY": KEY}, timeout=5,
                             data={"customers": json.dumps([{"externalId": str(i)} for i in range(51)])})
    assert too_many.status_code == 400
    retail.reset(RetailSettings(api_key=KEY, rate_per_second=2))
    statuses = [requests.get(f"{retail.url}/customers", headers={"X-API-KEY": KEY}, timeout=5).status_code
                for _ in range(3)]
    assert statuses == [200, 200, 503]


def test_push_uploads_then_edits_and_dead_letters_refusals(store, retail, settings, spec):
    records = [person(i) for i in range(70)]
    records[4] = person(4, emails=["broken@"])
    ids = seed_golden(store, records)

    first = push_destination(store, settings, spec)

    assert first.created == 69 and first.dead_lettered == 1 and first.error is None
    with store.session() as session:
        assert "not a valid email" in load_dead_letters(session, "shop")[ids[4]].error
    by_external = {c["externalId"]: c for c in retail.customers.values()}
    assert by_external[ids[0]]["phones"] == [{"number": "+14155550000"}]
    assert by_external[ids[0]]["address"]["city"] == "Springfield"

    retail.calls.clear()
    assert push_destination(store, settings, spec).unchanged == 70 and retail.write_calls == 0

    seed_golden(store, [person(1, job_title="x", company="y", emails=["new@example.test"])], [ids[1]])
    assert push_destination(store, settings, spec).updated == 1
    assert {c["externalId"]: c for c in retail.customers.values()}[ids[1]]["email"] == "new@example.test"


def test_a_lost_upload_answer_is_looked_up_not_repeated(store, retail, settings, spec):
    ids = seed_golden(store, [person(i) for i in range(10)])
    retail.faults.queued.extend(["none", "drop"])  # the look-up goes through; the upload happens, its answer is lost

    report = push_destination(store, settings, spec)

    assert report.error is None and report.linked == 10 and len(retail.customers) == 10
    assert sorted(c["externalId"] for c in retail.customers.values()) == sorted(ids)


def test_faults_and_erasure(store, retail, settings, spec):
    from sync.store import ERASE_ACTION, append_audit

    ids = seed_golden(store, [person(i) for i in range(120)])
    retail.settings.stall_seconds = 1.0
    retail.faults.rate = 0.1
    report = push_destination(store, settings, spec)
    assert report.error is None and report.delivered == 120 and len(retail.customers) == 120
    retail.faults.rate = 0.0
    with store.session() as session:
        append_audit(session, actor="user:dpo", action=ERASE_ACTION, entity_type="golden_record", entity_id=ids[0])
    assert push_destination(store, settings, spec).erased == 1
    erased = {c["externalId"]: c for c in retail.customers.values()}[ids[0]]
    assert erased["email"] == "" and erased["firstName"] == "" and erased["phones"] == []
