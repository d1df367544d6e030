"""Issue 6 follow-ups: archived HubSpot records end deleted in the store, `crmsync_id` comes back on
reads, and a spent daily allowance is reported as what it is. Emulator over HTTP, store on SQLite and
PostgreSQL, through sync.ingest.ingest_source (what `crmsync ingest` runs)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import select

from connectors.hubspot.client import DailyLimitReached, open_client
from connectors.hubspot.emulator import EmulatorSettings
from connectors.hubspot.source import iter_airbyte_messages
from dedupe.baseline import BaselineMatcher
from mappings import load_mapping
from mappings.outbound import template
from sync.ingest import ingest_source
from sync.match import match_store
from sync.push.budgets import forget_budgets
from sync.push.destination import RateLimitSettings
from sync.store import current_links, load_golden
from sync.store.models import SourceRecord
from tests.connectors.hubspot.emulator_fixtures import TOKEN

pytestmark = pytest.mark.emulator

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(autouse=True)
def fresh_budgets():
    forget_budgets()
    yield
    forget_budgets()


def add_contacts(hub, count: int) -> list[str]:
    inputs = [{"id": f"p{i}@example.test", "idProperty": "email",
               "properties": {"firstname": f"P{i}", "lastname": "Lee", "phone": f"+1415555{i:04d}"}}
              for i in range(count)]
    reply = requests.post(f"{hub.url}/crm/v3/objects/contacts/batch/upsert", json={"inputs": inputs}, headers=AUTH,
                          timeout=10)
    reply.raise_for_status()
    return sorted((r["id"] for r in reply.json()["results"]), key=int)


def archive(hub, ids: list[str]) -> None:
    reply = requests.post(f"{hub.url}/crm/v3/objects/contacts/batch/archive",
                          json={"inputs": [{"id": i} for i in ids]}, headers=AUTH, timeout=10)
    assert reply.status_code == 204, reply.text


def ingest(store, hub, **extra):
    config = {"base_url": hub.url, "token": TOKEN, "lookback_seconds": 0, **extra}
    return ingest_source(store, source="crm", connector="hubspot", config=config,
                         mappings={"contacts": load_mapping(template("hubspot_contacts_in"))})


def stored(store) -> dict[str, bool]:
    """HubSpot id → deleted, for the source's contact records."""
    with store.session() as session:
        rows = session.execute(select(SourceRecord.source_record_id, SourceRecord.deleted).where(
            SourceRecord.source == "crm", SourceRecord.stream == "contacts")).all()
    return {rid: bool(deleted) for rid, deleted in rows}


def test_an_archived_contact_ends_deleted_and_its_golden_record_follows(hubspot, store):
    ids = add_contacts(hubspot, 4)
    first = ingest(store, hubspot)
    assert first.error is None and first.stream("contacts").new == 4 and first.stream("contacts").deleted == 0
    match_store(store, BaselineMatcher())
    with store.session() as session:
        pk_of = {rid: pk for pk, rid in session.execute(select(SourceRecord.id, SourceRecord.source_record_id))}
        golden_of = {rid: current_links(session)[pk] for rid, pk in pk_of.items()}
    assert len(set(golden_of.values())) == 4

    archive(hubspot, [ids[2]])
    second = ingest(store, hubspot)
    assert second.error is None and second.stream("contacts").deleted == 1
    assert stored(store) == {i: i == ids[2] for i in ids}

    report = match_store(store, BaselineMatcher())
    assert report.golden_retired == 1
    with store.session() as session:
        active = load_golden(session)
        retired = load_golden(session, [golden_of[ids[2]]], status="retired")
    assert golden_of[ids[2]] not in active and retired[golden_of[ids[2]]].status == "retired"
    assert {golden_of[i] for i in ids if i != ids[2]} <= active.keys()

    third = ingest(store, hubspot)  # the archived record is read again (GTE on its cursor): no double counting
    assert third.error is None and third.stream("contacts").deleted == 0 and third.stream("contacts").new == 0


def test_a_read_cut_short_in_the_archived_list_resumes_without_skipping(hubspot, store):
    ids = add_contacts(hubspot, 6)
    assert ingest(store, hubspot).stream("contacts").new == 6
    for one in reversed(ids[:4]):  # the list comes in id order, so its first records are the newest archived
        archive(hubspot, [one])
        time.sleep(0.005)
    # page size 2: one search page for the 2 live contacts, then the archived list in pages of 2;
    # the allowance runs out after the first archived page
    hubspot.settings.daily_limit = hubspot.limits.daily_used + 2
    cut = ingest(store, hubspot, page_size=2)
    error = cut.stream("contacts").error
    assert error is not None and error.startswith("HubSpot daily API limit reached; resets at ")
    assert TOKEN not in error
    landed = sorted((i for i, deleted in stored(store).items() if deleted), key=int)
    assert 0 < len(landed) <= 2 and set(landed) <= set(ids[:2])  # what was checkpointed before the limit

    hubspot.settings.daily_limit = 250_000  # the next day
    forget_budgets()  # a new process
    resumed = ingest(store, hubspot, page_size=2)
    assert resumed.error is None and resumed.stream("contacts").error is None
    assert resumed.stream("contacts").deleted == 4 - len(landed)  # the archived list is read from its start
    assert stored(store) == {i: i in ids[:4] for i in ids}


def test_a_daily_429_is_reported_with_the_reset_time_not_as_a_connector_failure(hubspot, store):
    add_contacts(hubspot, 2)
    hubspot.reset(EmulatorSettings(tokens=frozenset({TOKEN}), daily_limit=0))
    report = ingest(store, hubspot, time_zone="America/New_York")
    error = report.stream("contacts").error or report.error
    assert error is not None and "Something went wrong" not in error and TOKEN not in error
    assert error.startswith("HubSpot daily API limit reached; resets at ")
    when = datetime.fromisoformat(error.removeprefix("HubSpot daily API limit reached; resets at ").split(" ")[0])
    local = when.astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (0, 0) and timedelta(0) < when - datetime.now(UTC) <= timedelta(days=1)
    assert "America/New_York" in error and hubspot.status_counts[429] == 1


def test_retry_after_on_the_daily_429_is_believed(hubspot):
    hubspot.reset(EmulatorSettings(tokens=frozenset({TOKEN}), daily_limit=0, send_retry_after=True))
    client = open_client(base_url=hubspot.url, token=TOKEN, rate_limit=RateLimitSettings())
    with pytest.raises(DailyLimitReached) as caught:
        client.request("GET", "/crm/v3/objects/contacts", params={"limit": 1})
    assert timedelta(minutes=59) < caught.value.resets_at - datetime.now(UTC) <= timedelta(hours=1)
    assert hubspot.status_counts[429] == 1  # stopped at once: no retries spent on a limit that lasts till tomorrow
    with pytest.raises(DailyLimitReached):  # the header said zero left: not even sent
        client.request("GET", "/crm/v3/objects/contacts", params={"limit": 1})
    assert hubspot.status_counts[429] == 1


def test_an_unknown_time_zone_is_a_config_error(hubspot, store):
    report = ingest(store, hubspot, time_zone="Mars/Olympus")
    assert report.error is not None and "time_zone" in report.error and "Mars/Olympus" in report.error


def test_reads_expose_the_golden_id_the_destination_wrote(hubspot, store):
    hubspot.data.add_unique_property("contacts", "crmsync_id", {"name": "crmsync_id", "hasUniqueValue": True})
    ids = add_contacts(hubspot, 3)
    requests.patch(f"{hubspot.url}/crm/v3/objects/contacts/{ids[0]}", json={"properties": {"crmsync_id": "g-7"}},
                   headers=AUTH, timeout=5).raise_for_status()
    archive(hubspot, [ids[1]])
    records = [m.record.data for m in iter_airbyte_messages({"base_url": hubspot.url, "token": TOKEN}, ["contacts"])
               if m.record is not None]
    by_id = {r["id"]: r for r in records}
    assert by_id[ids[0]]["crmsync_id"] == "g-7" and by_id[ids[2]]["crmsync_id"] is None
    assert by_id[ids[1]]["archived"] is True and "crmsync_id" in by_id[ids[1]]

    assert ingest(store, hubspot).stream("contacts").new == 2
    with store.session() as session:
        raw = dict(session.execute(select(SourceRecord.source_record_id, SourceRecord.raw)).all())
    assert raw[ids[0]]["crmsync_id"] == "g-7"  # kept with the source record, for look-ups by golden id


def test_archived_companies_come_on_the_companies_stream(hubspot):
    made = [requests.post(f"{hubspot.url}/crm/v3/objects/companies", json={"properties": {"name": f"Co {i}"}},
                          headers=AUTH, timeout=5).json()["id"] for i in range(3)]
    reply = requests.post(f"{hubspot.url}/crm/v3/objects/companies/batch/archive", json={"inputs": [{"id": made[0]}]},
                          headers=AUTH, timeout=5)
    assert reply.status_code == 204
    config = {"base_url": hubspot.url, "token": TOKEN, "objects": ["companies"]}
    records = [m.record for m in iter_airbyte_messages(config, ["companies"]) if m.record is not None]
    assert {r.stream for r in records} == {"companies"}
    deleted = {r.data["id"]: r.data.get("_ab_cdc_deleted_at") for r in records}
    assert deleted.keys() == set(made) and [k for k, v in deleted.items() if v] == [made[0]]


def test_check_names_the_daily_limit(hubspot):
    import logging

    from connectors.hubspot.source import HubSpotSource
    hubspot.reset(EmulatorSettings(tokens=frozenset({TOKEN}), daily_limit=0))
    status = HubSpotSource().check(logging.getLogger("test"), {"base_url": hubspot.url, "token": TOKEN})
    assert status.message.startswith("HubSpot daily API limit reached; resets at ") and TOKEN not in status.message
