"""The HubSpot emulator refuses what HubSpot refuses (contract §1), over a real socket."""

from __future__ import annotations

import time

import pytest
import requests

from connectors.hubspot.emulator import EmulatorSettings, HubSpotEmulator
from tests.connectors.hubspot.emulator_fixtures import TOKEN

pytestmark = pytest.mark.emulator

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def call(hub: HubSpotEmulator, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, hub.url + path, headers=AUTH, timeout=5, **kwargs)


def upsert(hub: HubSpotEmulator, *emails: str) -> requests.Response:
    inputs = [{"id": e, "idProperty": "email", "properties": {"firstname": e.split("@")[0]}} for e in emails]
    return call(hub, "POST", "/crm/v3/objects/contacts/batch/upsert", json={"inputs": inputs})


def test_bad_or_missing_token_gets_hubspots_401_body(hubspot):
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        reply = requests.get(hubspot.url + "/crm/v3/objects/contacts", headers=headers, timeout=5)
        assert reply.status_code == 401
        body = reply.json()
        assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION"
        assert "correlationId" in body
    hubspot.faults.expired_tokens = 1
    assert call(hubspot, "GET", "/crm/v3/objects/contacts").json()["category"] == "EXPIRED_AUTHENTICATION"
    assert call(hubspot, "GET", "/crm/v3/objects/contacts").status_code == 200


def test_list_pages_with_opaque_after_and_no_paging_on_the_last_page(hubspot):
    assert upsert(hubspot, *(f"p{i}@example.test" for i in range(25))).status_code == 200
    seen, after, pages = [], None, 0
    while True:
        params = {"limit": 10, "properties": "email"} | ({"after": after} if after else {})
        body = call(hubspot, "GET", "/crm/v3/objects/contacts", params=params).json()
        seen += [r["properties"]["email"] for r in body["results"]]
        pages += 1
        if "paging" not in body:
            break
        after = body["paging"]["next"]["after"]
        assert not after.isdigit()  # opaque, not an id
    assert pages == 3 and len(seen) == len(set(seen)) == 25
    assert call(hubspot, "GET", "/crm/v3/objects/contacts", params={"limit": 101}).status_code == 400


def test_batch_of_more_than_100_inputs_is_a_400(hubspot):
    reply = upsert(hubspot, *(f"p{i}@example.test" for i in range(101)))
    assert reply.status_code == 400
    assert reply.json()["category"] == "VALIDATION_ERROR" and "101" in reply.json()["message"]
    assert hubspot.contacts() == []


def test_invalid_email_is_a_per_record_error_in_a_207(hubspot):
    reply = upsert(hubspot, "ann@example.test", "not-an-email", "bob@example.test")
    assert reply.status_code == 207
    body = reply.json()
    assert body["numErrors"] == 1 and len(body["results"]) == 2
    error = body["errors"][0]
    assert error["category"] == "VALIDATION_ERROR" and error["context"]["ids"] == ["not-an-email"]
    assert "Email address not-an-email is invalid" in error["message"]
    assert {c["email"] for c in hubspot.contacts()} == {"ann@example.test", "bob@example.test"}


def test_whole_batch_mode_fails_the_call_and_writes_nothing(hubspot):
    hubspot.settings.batch_mode = "whole_batch"
    reply = upsert(hubspot, "ann@example.test", "not-an-email")
    assert reply.status_code == 400 and reply.json()["category"] == "VALIDATION_ERROR"
    assert hubspot.contacts() == []


def test_upsert_by_email_is_idempotent_and_says_whether_it_created(hubspot):
    first = upsert(hubspot, "Ann@Example.test").json()["results"][0]
    again = upsert(hubspot, "ann@example.test").json()["results"][0]
    assert first["new"] is True and again["new"] is False and first["id"] == again["id"]
    assert len(hubspot.contacts()) == 1


def test_duplicate_email_conflicts_on_create(hubspot):
    upsert(hubspot, "ann@example.test")
    reply = call(hubspot, "POST", "/crm/v3/objects/contacts", json={"properties": {"email": "ann@example.test"}})
    assert reply.status_code == 409
    assert reply.json()["category"] == "CONFLICT" and reply.json()["message"].startswith("Contact already exists")
    batch = call(hubspot, "POST", "/crm/v3/objects/contacts/batch/create", json={"inputs": [
        {"properties": {"email": "ann@example.test"}, "objectWriteTraceId": "t1"},
        {"properties": {"email": "new@example.test"}, "objectWriteTraceId": "t2"}]})
    assert batch.status_code == 207
    assert batch.json()["errors"][0]["context"]["objectWriteTraceId"] == ["t1"]
    assert batch.json()["results"][0]["objectWriteTraceId"] == "t2"


def test_unknown_and_read_only_properties_are_refused(hubspot):
    reply = call(hubspot, "POST", "/crm/v3/objects/contacts", json={"properties": {"emial": "x@y.z"}})
    assert reply.status_code == 400 and "PROPERTY_DOESNT_EXIST" in reply.json()["message"]
    reply = call(hubspot, "POST", "/crm/v3/objects/contacts", json={"properties": {"hs_object_id": "9"}})
    assert reply.status_code == 400 and "READ_ONLY_VALUE" in reply.json()["message"]


def test_search_filters_sorts_and_caps_at_10000(hubspot):
    upsert(hubspot, "a@example.test", "b@example.test", "c@example.test")
    body = {"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": "0"}]}],
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}], "limit": 2,
            "properties": ["email"]}
    page = call(hubspot, "POST", "/crm/v3/objects/contacts/search", json=body).json()
    assert page["total"] == 3 and [r["properties"]["email"] for r in page["results"]] == [
        "c@example.test", "b@example.test"]
    assert page["paging"]["next"]["after"] == "2"
    capped = call(hubspot, "POST", "/crm/v3/objects/contacts/search", json={**body, "after": "10000"})
    assert capped.status_code == 400 and "10000" in capped.json()["message"]
    eq = {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": "B@example.test"}]}]}
    assert call(hubspot, "POST", "/crm/v3/objects/contacts/search", json=eq).json()["total"] == 1
    too_many = {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}]}] * 6}
    assert call(hubspot, "POST", "/crm/v3/objects/contacts/search", json=too_many).status_code == 400


def test_archived_records_are_listed_only_when_asked(hubspot):
    ids = [r["id"] for r in upsert(hubspot, "a@example.test", "b@example.test").json()["results"]]
    assert call(hubspot, "POST", "/crm/v3/objects/contacts/batch/archive",
                json={"inputs": [{"id": ids[0]}]}).status_code == 204
    live = call(hubspot, "GET", "/crm/v3/objects/contacts").json()["results"]
    gone = call(hubspot, "GET", "/crm/v3/objects/contacts", params={"archived": "true"}).json()["results"]
    assert [r["id"] for r in live] == [ids[1]] and [r["id"] for r in gone] == [ids[0]]
    assert gone[0]["archived"] is True and "archivedAt" in gone[0]


def test_merge_keeps_the_primary_and_its_email_finds_both(hubspot):
    a, b = (r["id"] for r in upsert(hubspot, "a@example.test", "b@example.test").json()["results"])
    reply = call(hubspot, "POST", "/crm/v3/objects/contacts/merge", json={"primaryObjectId": a, "objectIdToMerge": b})
    assert reply.status_code == 200 and reply.json()["id"] == a
    assert [c["id"] for c in hubspot.contacts()] == [a]
    found = call(hubspot, "GET", "/crm/v3/objects/contacts/b@example.test", params={"idProperty": "email"})
    assert found.json()["id"] == a
    again = call(hubspot, "POST", "/crm/v3/objects/contacts/merge", json={"primaryObjectId": a, "objectIdToMerge": b})
    assert again.status_code == 400


def test_gdpr_delete_removes_the_contact_for_good(hubspot):
    (a,) = (r["id"] for r in upsert(hubspot, "a@example.test").json()["results"])
    assert call(hubspot, "POST", "/crm/v3/objects/contacts/gdpr-delete", json={"objectId": a}).status_code == 204
    assert hubspot.contacts() == [] and hubspot.contacts(archived=True) == []
    assert call(hubspot, "POST", "/crm/v3/objects/contacts/gdpr-delete", json={"objectId": a}).status_code == 404


def test_ten_second_limit_answers_429_with_headers_and_body(hubspot):
    hubspot.reset(EmulatorSettings(tokens=frozenset({TOKEN}), rate_max=3, rate_interval_ms=400,
                                   send_retry_after=True))
    replies = [call(hubspot, "GET", "/crm/v3/objects/contacts") for _ in range(4)]
    assert [r.status_code for r in replies] == [200, 200, 200, 429]
    assert replies[0].headers["X-HubSpot-RateLimit-Max"] == "3"
    assert replies[0].headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "400"
    assert [r.headers["X-HubSpot-RateLimit-Remaining"] for r in replies[:3]] == ["2", "1", "0"]
    body = replies[3].json()
    assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert replies[3].headers["Retry-After"] == "1"
    time.sleep(0.45)  # the window rolls on
    assert call(hubspot, "GET", "/crm/v3/objects/contacts").status_code == 200


def test_daily_limit(hubspot):
    hubspot.reset(EmulatorSettings(tokens=frozenset({TOKEN}), daily_limit=2))
    statuses = [call(hubspot, "GET", "/crm/v3/objects/contacts") for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[1].headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
    assert statuses[2].json()["policyName"] == "DAILY"
    assert statuses[2].json()["message"] == "You have reached your daily limit."


def test_faults_fire_as_switched(hubspot):
    hubspot.settings.stall_seconds = 0.5
    hubspot.faults.queued.extend(["429", "500", "drop", "timeout", "drop_before"])
    assert call(hubspot, "GET", "/crm/v3/objects/contacts").status_code == 429
    assert upsert(hubspot, "a@example.test").status_code == 500  # ...but the write happened
    assert len(hubspot.contacts()) == 1
    with pytest.raises(requests.ConnectionError):
        upsert(hubspot, "b@example.test")
    assert len(hubspot.contacts()) == 2  # dropped after the write
    with pytest.raises(requests.Timeout):
        requests.post(hubspot.url + "/crm/v3/objects/contacts/batch/upsert", headers=AUTH, timeout=0.2,
                      json={"inputs": [{"id": "c@example.test", "idProperty": "email", "properties": {}}]})
    with pytest.raises(requests.ConnectionError):
        upsert(hubspot, "d@example.test")
    time.sleep(0.4)
    assert {c["email"] for c in hubspot.contacts()} == {"a@example.test", "b@example.test", "c@example.test"}


def test_custom_unique_property_can_be_created_and_used_as_id_property(hubspot):
    reply = call(hubspot, "POST", "/crm/v3/properties/contacts", json={
        "name": "crmsync_id", "label": "crmsync id", "type": "string", "fieldType": "text",
        "groupName": "contactinformation", "hasUniqueValue": True})
    assert reply.status_code == 201 and reply.json()["hasUniqueValue"] is True
    assert call(hubspot, "GET", "/crm/v3/properties/contacts/crmsync_id").status_code == 200
    call(hubspot, "POST", "/crm/v3/objects/contacts", json={"properties": {"crmsync_id": "g-1", "firstname": "A"}})
    read = call(hubspot, "POST", "/crm/v3/objects/contacts/batch/read",
                json={"idProperty": "crmsync_id", "inputs": [{"id": "g-1"}, {"id": "g-2"}], "properties": ["firstname"]})
    assert read.status_code == 207
    assert read.json()["results"][0]["properties"]["firstname"] == "A"
    assert read.json()["errors"][0]["context"]["ids"] == ["g-2"]
    dup = call(hubspot, "POST", "/crm/v3/objects/contacts", json={"properties": {"crmsync_id": "g-1"}})
    assert dup.status_code == 409


def test_inspection_views_need_no_token_and_count_nothing(hubspot):
    upsert(hubspot, "a@example.test")
    stats = requests.get(hubspot.url + "/_emulator/stats", timeout=5).json()
    assert stats["contacts"] == 1 and stats["write_calls"] == 1
    assert stats["calls"] == {"POST contacts/batch/upsert": 1}
    contacts = requests.get(hubspot.url + "/_emulator/contacts", timeout=5).json()["results"]
    assert [c["email"] for c in contacts] == ["a@example.test"]
