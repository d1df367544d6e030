"""The HubSpot Airbyte source against the emulator: incremental reads, the search cap, ties, archived records."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
import requests
from airbyte_cdk.models import Status, Type

from connectors.hubspot import emulator_api, source
from connectors.hubspot.source import HubSpotSource, iter_airbyte_messages
from sync.push.budgets import forget_budgets
from tests.connectors.hubspot.emulator_fixtures import TOKEN

pytestmark = pytest.mark.emulator


@pytest.fixture(autouse=True)
def fresh_budgets():
    forget_budgets()
    yield
    forget_budgets()


def add_contacts(hub, count: int, start: int = 0) -> list[str]:
    ids = []
    for first in range(start, start + count, 100):
        inputs = [{"id": f"c{i}@example.test", "idProperty": "email", "properties": {"firstname": f"C{i}",
                                                                                       "phone": "+14155550100"}}
                  for i in range(first, min(start + count, first + 100))]
        reply = requests.post(f"{hub.url}/crm/v3/objects/contacts/batch/upsert", json={"inputs": inputs},
                              headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        ids += [r["id"] for r in reply.json()["results"]]
    return ids


def read(hub, streams=("contacts",), state=None, **config):
    cfg = {"base_url": hub.url, "token": TOKEN, "lookback_seconds": 0, **config}
    records, states = [], {}
    for message in iter_airbyte_messages(cfg, list(streams), state):
        if message.type == Type.RECORD:
            records.append(message.record.data)
        elif message.type == Type.STATE:
            states[message.state.stream.stream_descriptor.name] = dict(vars(message.state.stream.stream_state))
    return records, states


def test_incremental_read_picks_up_only_what_changed(hubspot):
    add_contacts(hubspot, 30)
    records, state = read(hubspot)
    assert len(records) == 30 and {r["_record_id"] for r in records} == {r["id"] for r in records}
    assert records[0]["email"] == "c0@example.test" and records[0]["archived"] is False
    assert state["contacts"]["cursor_ms"] > 0

    add_contacts(hubspot, 3, start=100)
    add_contacts(hubspot, 2, start=10)  # re-upserted with new values would bump the date; same values do not
    requests.patch(f"{hubspot.url}/crm/v3/objects/contacts/{records[5]['id']}",
                   json={"properties": {"jobtitle": "CFO"}}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    again, _ = read(hubspot, state=state)
    emails = {r["email"] for r in again}
    assert {"c100@example.test", "c101@example.test", "c102@example.test", "c5@example.test"} <= emails
    assert len(again) <= 5  # the four changes and at most the record at the old cursor


def test_search_cap_is_worked_around_by_requerying(hubspot, monkeypatch):
    monkeypatch.setattr(emulator_api, "SEARCH_CAP", 50)
    monkeypatch.setattr(source, "SEARCH_CAP", 50)
    ids = add_contacts(hubspot, 130)
    hubspot.reset_counters()
    records, _ = read(hubspot, page_size=20)
    assert {r["id"] for r in records} == set(ids)
    assert hubspot.status_counts[400] == 0 and hubspot.calls["POST contacts/search"] > 130 // 20


def test_more_records_on_one_timestamp_than_the_cap_are_walked_by_id(hubspot, monkeypatch):
    monkeypatch.setattr(emulator_api, "SEARCH_CAP", 50)
    monkeypatch.setattr(source, "SEARCH_CAP", 50)
    ids = add_contacts(hubspot, 120)
    with hubspot.data.lock:  # a bulk import: every record stamped with the same millisecond
        for item in hubspot.data.objects["contacts"].values():
            item.properties["lastmodifieddate"] = "2024-05-02T10:00:00.000Z"
    records, state = read(hubspot, page_size=20)
    assert {r["id"] for r in records} == set(ids) and hubspot.status_counts[400] == 0
    assert state["contacts"]["cursor_ms"] == 1714644000000


def test_archived_records_come_on_the_live_stream_with_the_deletion_marker(hubspot):
    ids = add_contacts(hubspot, 5)
    requests.post(f"{hubspot.url}/crm/v3/objects/contacts/batch/archive", json={"inputs": [{"id": ids[1]}]},
                  headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    records, state = read(hubspot, streams=("contacts",))
    live = [r for r in records if not r["archived"]]
    gone = [r for r in records if r["archived"]]
    assert len(live) == 4 and [r["id"] for r in gone] == [ids[1]] and "_ab_cdc_deleted_at" not in live[0]
    assert gone[0]["_ab_cdc_deleted_at"] == gone[0]["archivedAt"] and gone[0]["email"] == "c1@example.test"
    assert state["contacts"]["archived_ms"] == source._ms(gone[0]["archivedAt"])
    assert [s.name for s in HubSpotSource().streams({"token": TOKEN, "objects": ["contacts", "companies"]})] == [
        "contacts", "companies"]

    again, _ = read(hubspot, state=state)  # GTE on both cursors: only what sits on them comes back
    assert [r["id"] for r in again if r["archived"]] == [ids[1]]
    assert all(source._ms(r["lastmodifieddate"]) == state["contacts"]["cursor_ms"] for r in again if not r["archived"])


def test_check_spec_and_the_airbyte_entrypoint(hubspot):
    logger = logging.getLogger("test")
    good = HubSpotSource().check(logger, {"base_url": hubspot.url, "token": TOKEN})
    bad = HubSpotSource().check(logger, {"base_url": hubspot.url, "token": "nope-nope"})
    assert good.status == Status.SUCCEEDED
    assert bad.status == Status.FAILED and "check the HubSpot token" in bad.message and "nope-nope" not in bad.message
    spec = subprocess.run([sys.executable, "-m", "connectors.hubspot", "spec"], capture_output=True, text=True,
                          timeout=120, check=True)
    message = next(json.loads(line) for line in spec.stdout.splitlines() if '"SPEC"' in line)
    properties = message["spec"]["connectionSpecification"]["properties"]
    assert properties["token"]["airbyte_secret"] is True and "objects" in properties


def test_ingest_maps_hubspot_contacts_onto_customers(hubspot, store):
    from mappings import load_mapping
    from mappings.outbound import template
    from sync.ingest import ingest_source
    from sync.store import load_customer_records

    add_contacts(hubspot, 12)
    config = {"base_url": hubspot.url, "token": TOKEN, "lookback_seconds": 0}
    report = ingest_source(store, source="crm", connector="hubspot", config=config,
                           mappings={"contacts": load_mapping(template("hubspot_contacts_in"))})
    assert report.error is None and report.stream("contacts").new == 12
    with store.session() as session:
        customers = load_customer_records(session)
    first = next(c for c in customers if c.canonical["emails"] == ["c0@example.test"])
    assert first.canonical["given_name"] == "C0" and first.canonical["phones"] == ["+14155550100"]
    again = ingest_source(store, source="crm", connector="hubspot", config=config,
                          mappings={"contacts": load_mapping(template("hubspot_contacts_in"))})
    assert again.stream("contacts").new == 0
