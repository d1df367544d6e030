"""amoCRM source against its emulator: the shared suite, ties on a second, 204s, the mapping template."""

from __future__ import annotations

import logging

import pytest

from connectors.amocrm.emulator import AmoEmulator
from connectors.amocrm.source import AmoSource
from connectors.testing.suite import ConnectorSuite, Harness, read
from mappings import SourceRef, load_mapping, map_row
from mappings.templates import TEMPLATES_DIR
from tests.connectors.amocrm.conftest import TOKEN

pytestmark = pytest.mark.emulator


def config_for(api: AmoEmulator, **overrides: object) -> dict[str, object]:
    return {"base_url": api.url, "token": TOKEN, "objects": ["contacts", "companies"], "page_size": 5,
            "lookback_seconds": 0, "timeout_seconds": 1.0, "max_retries": 3, "backoff_seconds": 0.05,
            "max_wait_seconds": 2.0, "rate_limit": {"max_requests": 50, "interval_seconds": 1}, **overrides}


def harness_for(api: AmoEmulator, stream: str = "contacts", **overrides: object) -> Harness:
    return Harness(source=AmoSource(), module="connectors.amocrm", stream=stream, config=config_for(api, **overrides),
                   add_records=lambda n: [str(r["id"]) for r in api.add(stream, n)])


class TestAmoContactsSuite(ConnectorSuite):
    @pytest.fixture
    def harness(self, amo: AmoEmulator) -> Harness:
        from sync.push.budgets import forget_budgets

        forget_budgets()
        return Harness(source=AmoSource(), module="connectors.amocrm", stream="contacts", config=config_for(amo),
                       bad_config=config_for(amo, token="wrong-amo-token-9d2e"),
                       add_records=lambda n: [str(r["id"]) for r in amo.add("contacts", n)],
                       secrets=[TOKEN, "wrong-amo-token-9d2e"], secret_fields=["token"], emulator=amo,
                       fault_group="list", max_reemitted=1)


def test_companies_stream_reads_every_company(amo: AmoEmulator) -> None:
    made = amo.add("companies", 12)
    result = read(harness_for(amo, "companies"))
    assert not result.errors and result.ids == [str(c["id"]) for c in made]
    assert result.records[0]["web"] == made[0]["custom_fields_values"][0]["values"][0]["value"]


def test_a_second_shared_by_more_records_than_a_page_is_read_whole(amo: AmoEmulator) -> None:
    amo.add("contacts", 3)
    tied = amo.clock + 1
    made = amo.add("contacts", 13)
    for record in made:  # 13 records on one second: more than two pages of 5
        amo.entities["contacts"][record["id"]]["updated_at"] = tied
    later = amo.add("contacts", 4)
    first = read(harness_for(amo))
    assert not first.errors and len(first.ids) == 20 and len(set(first.ids)) == 20
    pages = [r.arg("page") for r in amo.requests if r.group == "list"]
    assert "2" in pages and "3" in pages  # the tie was walked by page
    assert first.final_state == {"cursor": later[-1]["updated_at"]}


def test_a_record_changed_mid_read_is_not_skipped(amo: AmoEmulator) -> None:
    made = amo.add("contacts", 12)
    harness = harness_for(amo)
    seen: list[str] = []
    messages = AmoSource().read(logging.getLogger("airbyte"), harness.config, _catalog(harness), [])
    for message in messages:
        if message.record:
            seen.append(message.record.data["_record_id"])
            if len(seen) == 2:  # someone edits an early record: it moves to the end of the order
                amo._apply("contacts", amo.entities["contacts"][made[0]["id"]], {"name": "Edited"})
    assert set(seen) == {str(r["id"]) for r in made}


def test_nothing_new_is_a_204_and_an_empty_read(amo: AmoEmulator) -> None:
    amo.add("contacts", 2)
    first = read(harness_for(amo))
    again = read(harness_for(amo), {"cursor": first.final_state["cursor"] + 1})
    assert not again.errors and again.ids == []
    asked = [r for r in amo.requests if r.arg("filter[updated_at][from]")]
    assert asked and all("if-modified-since" in r.headers for r in asked)  # as Kommo asks of list calls


def test_a_bad_config_names_the_key_and_the_page_limit() -> None:
    status = AmoSource().check(logging.getLogger(), {"base_url": "http://x", "token": "t", "page_size": 500})
    assert "page_size" in (status.message or "") and "250" in (status.message or "")


def test_contacts_map_to_customers(amo: AmoEmulator) -> None:
    amo.add("contacts", 1, custom_fields_values=[
        {"field_code": "PHONE", "values": [{"value": "+7 999 123-45-67", "enum_code": "MOB"},
                                           {"value": "+79990001122", "enum_code": "WORK"}]},
        {"field_code": "EMAIL", "values": [{"value": "Ann.Lee@Example.test", "enum_code": "PRIV"}]},
        {"field_code": "POSITION", "values": [{"value": "CTO"}]}], name="Ann Lee", first_name="Ann", last_name="Lee")
    record = read(harness_for(amo)).records[0]
    spec = load_mapping(TEMPLATES_DIR / "amocrm_contacts_in.yaml")
    result = map_row(spec, {k: v for k, v in record.items() if not k.startswith("_")},
                     SourceRef(source="amocrm", stream="contacts", source_record_id=record["_record_id"]))
    assert result.record is not None, result.problems
    customer = result.record
    assert customer.phones == ["+79991234567", "+79990001122"] and customer.emails == ["ann.lee@example.test"]
    assert (customer.given_name, customer.family_name, customer.job_title) == ("Ann", "Lee", "CTO")
    assert customer.source_updated_at is not None and int(customer.source_updated_at.timestamp()) == amo.clock


def _catalog(harness: Harness):
    from connectors.common.stream import configured_catalog

    return configured_catalog([s for s in harness.source.streams(harness.config) if s.name == harness.stream])


def test_deletions_are_read_from_the_events_and_only_once(amo: AmoEmulator) -> None:
    made = amo.add("contacts", 6)
    harness = harness_for(amo, lookback_seconds=0)
    first = read(harness)
    amo.forget("contacts", made[1]["id"])
    amo.forget("contacts", made[4]["id"])
    amo.add("companies", 1)
    amo.forget("companies", amo.add("companies", 1)[0]["id"])  # a company's deletion is not a contact's

    second = read(harness, first.final_state)

    gone = [r for r in second.records if r.get("_ab_cdc_deleted_at")]
    assert sorted(r["_record_id"] for r in gone) == sorted([str(made[1]["id"]), str(made[4]["id"])])
    assert second.final_state["deleted_cursor"] == amo.events[1]["created_at"]
    kinds = {r.arg("filter[type]") for r in amo.requests if r.group == "events"}
    assert kinds == {"contact_deleted"}
    third = read(harness, second.final_state)
    assert len([r for r in third.records if r.get("_ab_cdc_deleted_at")]) <= 1  # `from` is inclusive
    unasked = read(harness_for(amo, read_deletions=False), first.final_state).records
    assert not [r for r in unasked if r.get("_ab_cdc_deleted_at")]


def test_ingest_marks_a_contact_deleted_in_amocrm_deleted(amo: AmoEmulator, store) -> None:
    from sqlalchemy import select

    from sync.ingest import ingest_source
    from sync.store.models import SourceRecord

    made = amo.add("contacts", 3)
    mappings = {"contacts": load_mapping(TEMPLATES_DIR / "amocrm_contacts_in.yaml")}
    config = config_for(amo, objects=["contacts"])
    first = ingest_source(store, source="amo", connector="amocrm", config=config, mappings=mappings)
    assert first.error is None
    amo.forget("contacts", made[0]["id"])
    second = ingest_source(store, source="amo", connector="amocrm", config=config, mappings=mappings)
    assert second.error is None and second.total("deleted") == 1
    with store.session() as session:
        rows = {r.source_record_id: r for r in session.scalars(select(SourceRecord))}
    assert rows[str(made[0]["id"])].deleted and not rows[str(made[1]["id"])].deleted
    email = made[1]["custom_fields_values"][1]["values"][0]["value"]
    assert rows[str(made[1]["id"])].canonical["emails"] == [email]
