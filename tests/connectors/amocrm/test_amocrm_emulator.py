"""The amoCRM emulator refuses what amoCRM refuses (contract §5), over a real socket."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest
import requests

from connectors.amocrm.emulator import AmoEmulator
from tests.connectors.amocrm.conftest import TOKEN

pytestmark = pytest.mark.emulator
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def get(amo: AmoEmulator, path: str, headers: dict[str, str] | None = None, **params: object) -> requests.Response:
    return requests.get(f"{amo.url}{path}", params=params, headers=AUTH if headers is None else headers, timeout=5)


def send(amo: AmoEmulator, method: str, path: str, body: object) -> requests.Response:
    return requests.request(method, f"{amo.url}{path}", json=body, headers=AUTH, timeout=5)


def test_a_missing_or_wrong_token_is_a_401_problem(amo):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}):
        reply = get(amo, "/api/v4/contacts", headers)
        assert reply.status_code == 401 and reply.headers["Content-Type"] == "application/problem+json"
        body = reply.json()
        assert (body["title"], body["status"], body["type"]) == ("Unauthorized", 401, "https://httpstatus.es/401")


def test_pages_of_at_most_250_linked_by_next_and_204_when_empty(amo):
    assert get(amo, "/api/v4/contacts").status_code == 204  # nothing at all: an empty body, not []
    assert get(amo, "/api/v4/contacts").content == b""
    amo.add("contacts", 260)
    first = get(amo, "/api/v4/contacts", limit=250)
    assert first.headers["Content-Type"] == "application/hal+json"
    body = first.json()
    assert body["_page"] == 1 and len(body["_embedded"]["contacts"]) == 250
    following = requests.get(body["_links"]["next"]["href"], headers=AUTH, timeout=5).json()
    assert following["_page"] == 2 and len(following["_embedded"]["contacts"]) == 10
    assert "next" not in following["_links"]
    assert get(amo, "/api/v4/contacts", limit=250, page=3).status_code == 204
    too_big = get(amo, "/api/v4/contacts", limit=251)
    assert too_big.status_code == 400 and too_big.json()["validation-errors"][0]["errors"][0]["path"] == "limit"


def test_filters_order_and_query(amo):
    made = amo.add("contacts", 6)
    since = made[3]["updated_at"]
    newer = get(amo, "/api/v4/contacts", **{"filter[updated_at][from]": since, "order[updated_at]": "desc"}).json()
    assert [c["id"] for c in newer["_embedded"]["contacts"]] == [m["id"] for m in made[3:]][::-1]
    some = get(amo, "/api/v4/contacts", **{"filter[id][]": [made[0]["id"], made[2]["id"]]}).json()
    assert [c["id"] for c in some["_embedded"]["contacts"]] == [made[0]["id"], made[2]["id"]]
    phone = made[1]["custom_fields_values"][0]["values"][0]["value"]
    by_phone = get(amo, "/api/v4/contacts", query=phone[2:]).json()["_embedded"]["contacts"]
    assert [c["id"] for c in by_phone] == [made[1]["id"]]
    assert get(amo, "/api/v4/contacts", query="nobody@nowhere.test").status_code == 204
    header = {**AUTH, "If-Modified-Since": formatdate(made[4]["updated_at"], usegmt=True)}
    recent = get(amo, "/api/v4/contacts", header).json()["_embedded"]["contacts"]
    assert [c["id"] for c in recent] == [made[4]["id"], made[5]["id"]]


def test_custom_fields_are_read_with_ids_and_written_by_code(amo):
    created = send(amo, "POST", "/api/v4/contacts", [{"name": "Ann Lee", "request_id": "r1", "custom_fields_values": [
        {"field_code": "PHONE", "values": [{"value": "+79990000000", "enum_code": "MOB"}]}]}])
    assert created.status_code == 200
    (made,) = created.json()["_embedded"]["contacts"]
    assert made["request_id"] == "r1"
    contact = get(amo, f"/api/v4/contacts/{made['id']}").json()
    (phone,) = contact["custom_fields_values"]
    assert (phone["field_id"], phone["field_code"], phone["field_type"]) == (1, "PHONE", "multitext")
    assert phone["values"] == [{"value": "+79990000000", "enum_id": 13, "enum_code": "MOB"}]
    # writing a field replaces its values; values: null clears it
    send(amo, "PATCH", f"/api/v4/contacts/{made['id']}", {"custom_fields_values": [
        {"field_id": 1, "values": [{"value": "+79991111111", "enum_code": "WORK"}]}]})
    assert get(amo, f"/api/v4/contacts/{made['id']}").json()["custom_fields_values"][0]["values"][0]["value"] == \
        "+79991111111"
    send(amo, "PATCH", "/api/v4/contacts", [{"id": made["id"], "custom_fields_values": [{"field_id": 1,
                                                                                         "values": None}]}])
    assert get(amo, f"/api/v4/contacts/{made['id']}").json()["custom_fields_values"] is None


def test_a_batch_with_an_invalid_entity_is_refused_whole_naming_it(amo):
    reply = send(amo, "POST", "/api/v4/contacts", [
        {"name": "Fine"},
        {"name": "Odd enum", "custom_fields_values": [{"field_code": "PHONE", "values": [
            {"value": "+7999", "enum_code": "PAGER"}]}]},
        {"name": "Unknown field", "custom_fields_values": [{"field_id": 999, "values": [{"value": "x"}]}]}])
    assert reply.status_code == 400
    body = reply.json()
    assert (body["title"], body["detail"], body["status"]) == ("Bad Request", "Request validation failed", 400)
    errors = {e["request_id"]: e["errors"][0] for e in body["validation-errors"]}
    assert errors["1"]["code"] == "NotSupportedChoice" and errors["1"]["path"] == "custom_fields_values.0.values.0.enum_code"
    assert errors["2"]["path"] == "custom_fields_values.0.field_id" and "0" not in errors
    assert amo.contacts() == []  # nothing of a refused batch is written
    assert send(amo, "POST", "/api/v4/contacts", [{"name": str(i)} for i in range(251)]).status_code == 400
    assert send(amo, "POST", "/api/v4/contacts", {"name": "not an array"}).status_code == 400
    missing = send(amo, "PATCH", "/api/v4/contacts", [{"id": 1, "name": "x"}])
    assert missing.json()["validation-errors"][0]["errors"][0]["code"] == "NotFound"


def test_more_than_seven_requests_a_second_get_429(amo):
    time.sleep(1.05)  # an empty window
    statuses = [get(amo, "/api/v4/account").status_code for _ in range(9)]
    assert statuses[:7] == [200] * 7 and statuses[7] == 429
    limited = get(amo, "/api/v4/account")
    assert limited.status_code == 429 and limited.json()["status"] == 429
    assert limited.headers["Content-Type"] == "application/problem+json" and float(limited.headers["Retry-After"]) >= 1


def test_fault_switches(amo):
    amo.reset(token=TOKEN, rate_per_second=1000)
    amo.inject("503", count=1, group="list")
    assert get(amo, "/api/v4/contacts").status_code == 503
    amo.lose_answers(1, method="POST")
    with pytest.raises(requests.ConnectionError):
        send(amo, "POST", "/api/v4/contacts", [{"name": "Written anyway"}])
    assert [c["name"] for c in amo.contacts()] == ["Written anyway"]
    amo.fault_rate, amo.fault_kinds = 1.0, ("500",)
    assert get(amo, "/api/v4/contacts").status_code == 500 and amo.fired["500"] == 1


def test_deletions_are_events_newest_first(amo):
    assert get(amo, "/api/v4/events").status_code == 204
    made = amo.add("contacts", 3)
    for record in made:
        amo.forget("contacts", record["id"])
    events = get(amo, "/api/v4/events", **{"filter[type]": "contact_deleted", "limit": 2}).json()
    assert [e["entity_id"] for e in events["_embedded"]["events"]] == [made[2]["id"], made[1]["id"]]
    assert events["_embedded"]["events"][0]["entity_type"] == "contact" and "next" in events["_links"]
    assert get(amo, "/api/v4/events", **{"filter[type]": "company_deleted"}).status_code == 204
    assert get(amo, "/api/v4/events", limit=101).status_code == 400
    assert get(amo, f"/api/v4/contacts/{made[0]['id']}").status_code == 204  # gone from the API
