"""Bitrix24: the emulator refuses what Bitrix24 refuses; the writer pushes golden records without duplicates."""

from __future__ import annotations

import pytest
import requests
from pydantic import SecretStr

from connectors.bitrix24.destination import multi_edit
from connectors.bitrix24.emulator import BitrixSettings
from connectors.bitrix24.phpquery import decode, encode
from mappings.outbound import load_outbound, template
from sync.push.budgets import forget_budgets
from sync.push.destination import DestinationSettings, RateLimitSettings
from sync.push.run import push_destination
from sync.store import load_dead_letters
from tests.push.helpers import person, seed_golden

pytestmark = pytest.mark.emulator


def rest(bitrix, method: str, **params) -> requests.Response:
    return requests.post(f"{bitrix.webhook_url}/{method}.json", json=params, timeout=5)


@pytest.fixture
def spec():
    return load_outbound(template("bitrix24_contacts_out"))


@pytest.fixture
def settings(bitrix):
    forget_budgets()
    yield DestinationSettings(name="b24", connector="bitrix24", token=SecretStr(bitrix.webhook_url), timeout_seconds=2,
                              rate_limit=RateLimitSettings(max_requests=100_000, interval_seconds=10),
                              options={"retry": {"attempts": 12, "backoff_base": 0.02, "backoff_cap": 0.3}})
    forget_budgets()


def test_php_query_round_trip():
    params = {"fields": {"NAME": "Ann & Co", "EMAIL": [{"VALUE": "a@b.c"}, {"ID": "5", "VALUE": ""}]},
              "filter": {"@ID": ["1", "2"]}}
    assert decode(encode(params)) == params


def test_emulator_auth_pages_of_50_and_required_names(bitrix):
    assert rest(bitrix, "crm.contact.list").status_code == 200
    wrong = requests.post(f"{bitrix.url}/rest/1/nope/crm.contact.list.json", json={}, timeout=5)
    assert wrong.status_code == 401 and wrong.json()["error"] == "NO_AUTH_FOUND"
    refused = rest(bitrix, "crm.contact.add", fields={"EMAIL": [{"VALUE": "a@b.c"}]})
    assert refused.status_code == 400 and "NAME or LAST_NAME" in refused.json()["error_description"]
    for i in range(120):
        rest(bitrix, "crm.contact.add", fields={"NAME": f"N{i}", "PHONE": [{"VALUE": f"+7999000{i:04d}"}]})
    page = rest(bitrix, "crm.contact.list", select=["ID", "PHONE"], start=50).json()
    assert len(page["result"]) == 50 and page["total"] == 120 and page["next"] == 100
    assert page["result"][0]["PHONE"][0]["TYPE_ID"] == "PHONE"
    assert "PHONE" not in rest(bitrix, "crm.contact.list").json()["result"][0]  # only when selected
    last = rest(bitrix, "crm.contact.list", start=100).json()
    assert len(last["result"]) == 20 and "next" not in last


def test_emulator_batch_limits_and_multifield_edits_by_item_id(bitrix):
    too_many = rest(bitrix, "batch", cmd={f"c{i}": "crm.contact.list" for i in range(51)})
    assert too_many.status_code == 400 and too_many.json()["error"] == "ERROR_BATCH_LENGTH_EXCEEDED"
    cid = rest(bitrix, "crm.contact.add", fields={"NAME": "Ann", "PHONE": [{"VALUE": "+1"}, {"VALUE": "+2"}]}).json()[
        "result"]
    items = rest(bitrix, "crm.contact.get", id=cid).json()["result"]["PHONE"]
    rest(bitrix, "crm.contact.update", id=cid, fields={"PHONE": multi_edit(items, ["+2", "+3"])})
    assert [p["VALUE"] for p in rest(bitrix, "crm.contact.get", id=cid).json()["result"]["PHONE"]] == ["+2", "+3"]
    batch = rest(bitrix, "batch", cmd={"ok": f"crm.contact.get?{encode({'id': cid})}",
                                       "bad": f"crm.contact.get?{encode({'id': 999999})}"}).json()["result"]
    assert batch["result"]["ok"]["NAME"] == "Ann" and batch["result_error"]["bad"]["error_description"] == "Not found"
    found = rest(bitrix, "crm.duplicate.findbycomm", type="PHONE", values=["+3"]).json()["result"]
    assert found == {"CONTACT": [cid]}
    assert rest(bitrix, "crm.duplicate.findbycomm", type="EMAIL", values=["x@y.z"]).json()["result"] == []


def test_emulator_leaky_bucket_answers_503_query_limit_exceeded(bitrix):
    bitrix.reset(BitrixSettings(bucket_size=3, drain_per_second=0.5))
    statuses = [rest(bitrix, "crm.contact.list").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 503]
    assert rest(bitrix, "crm.contact.list").json() == {"error": "QUERY_LIMIT_EXCEEDED",
                                                       "error_description": "Too many requests"}


def test_push_creates_updates_and_never_doubles(store, bitrix, spec, settings):
    records = [person(i, phones=[f"+1415555{i:04d}", f"+1415666{i:04d}"]) for i in range(120)]
    records[9] = person(9, emails=["bad@@"])
    ids = seed_golden(store, records)

    first = push_destination(store, settings, spec)

    assert first.created == 119 and first.dead_lettered == 1 and first.error is None
    with store.session() as session:
        assert "Invalid e-mail address: bad@@" in load_dead_letters(session, "b24")[ids[9]].error
    contacts = {c["ORIGIN_ID"]: c for c in bitrix.all_contacts()}
    assert len(contacts) == 119 and contacts[ids[0]]["NAME"] == "Person0"
    assert [p["VALUE"] for p in contacts[ids[0]]["PHONE"]] == ["+14155550000", "+14156660000"]
    assert bitrix.calls["batch"] <= 2 * 3 + 1  # lookup + write per 50

    bitrix.calls.clear()
    assert push_destination(store, settings, spec).unchanged == 120 and bitrix.calls["batch"] == 0  # incl. the refused one

    seed_golden(store, [person(0, phones=["+14155550000", "+14157770000"], job_title="CEO")], [ids[0]])
    assert push_destination(store, settings, spec).updated == 1
    contact = next(c for c in bitrix.all_contacts() if c["ORIGIN_ID"] == ids[0])
    assert [p["VALUE"] for p in contact["PHONE"]] == ["+14155550000", "+14157770000"] and contact["POST"] == "CEO"
    assert len(bitrix.all_contacts()) == 119


def test_push_links_contacts_people_made_and_survives_faults(store, bitrix, spec, settings):
    made = rest(bitrix, "crm.contact.add", fields={"NAME": "Typed", "EMAIL": [{"VALUE": "p1@example.test"}]})
    seed_golden(store, [person(i) for i in range(200)])
    bitrix.settings.stall_seconds = 1.0
    bitrix.faults.rate = 0.15

    report = push_destination(store, settings, spec)

    assert report.error is None and report.linked >= 1 and report.linked + report.created == 200
    contacts = bitrix.all_contacts()
    assert len(contacts) == 200 and len({c["ORIGIN_ID"] for c in contacts}) == 200
    assert any(c["ID"] == str(made.json()["result"]) and c["ORIGINATOR_ID"] == "crmsync" for c in contacts)
    assert sum(bitrix.faults.fired.values()) > 0


def test_an_add_batch_whose_answer_is_lost_is_looked_up_not_repeated(store, bitrix, spec, settings):
    ids = seed_golden(store, [person(i) for i in range(30)])
    bitrix.faults.queued.extend(["none", "none", "drop"])  # fields, lookup, then the add batch: done, answer lost

    report = push_destination(store, settings, spec)

    assert report.error is None and report.linked == 30 and report.created == 0
    assert sorted(c["ORIGIN_ID"] for c in bitrix.all_contacts()) == sorted(ids)
