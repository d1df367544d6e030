"""The Bitrix24 source against its emulator: the shared suite, keyed pages and ties, deletions, the leaky bucket."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from airbyte_cdk.models import Type
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from connectors.bitrix24.client import open_client
from connectors.bitrix24.emulator import BitrixEmulator, BitrixSettings
from connectors.bitrix24.ids import IdRanges
from connectors.bitrix24.source import Bitrix24Source, Bitrix24SourceConfig, iter_airbyte_messages
from connectors.testing.suite import ConnectorSuite, Harness
from sync.push.budgets import forget_budgets
from sync.push.destination import RateLimitSettings

pytestmark = pytest.mark.emulator


@pytest.fixture(autouse=True)
def fresh_budgets() -> Iterator[None]:
    forget_budgets()
    yield
    forget_budgets()


@pytest.fixture
def ticking(bitrix: BitrixEmulator, monkeypatch: pytest.MonkeyPatch) -> BitrixEmulator:
    """The emulator with each write stamped one second after the last (DATE_MODIFY has whole seconds)."""
    moments = iter(datetime(2024, 5, 1, tzinfo=UTC) + timedelta(seconds=n) for n in range(1_000_000))
    monkeypatch.setattr(bitrix.contacts, "clock", lambda: next(moments))
    return bitrix


def config_for(bitrix: BitrixEmulator, **overrides: Any) -> dict[str, Any]:
    return {"webhook_url": bitrix.webhook_url, "objects": ["contacts", "companies"], "checkpoint_every": 10,
            "lookback_seconds": 0,
            "timeout_seconds": 1.0, "max_retries": 4, "backoff_seconds": 0.05,
            "rate_limit": {"max_requests": 1000, "interval_seconds": 1}, **overrides}


def add_contacts(bitrix: BitrixEmulator, count: int, start: int = 0) -> list[str]:
    ids = []
    for i in range(start, start + count):
        _, body = bitrix.contacts.call("crm.contact.add", {"fields": {
            "NAME": f"Ann{i}", "LAST_NAME": "Lee", "PHONE": [{"VALUE": f"+7999000{i:04d}", "VALUE_TYPE": "WORK"}],
            "EMAIL": [{"VALUE": f"ann{i}@example.test"}, {"VALUE": f"ann{i}@work.test"}]}})
        ids.append(str(body["result"]))
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


class TestBitrix24Suite(ConnectorSuite):
    @pytest.fixture
    def harness(self, bitrix: BitrixEmulator) -> Harness:
        bad = bitrix.webhook_url.rsplit("/", 1)[0] + "/wrongcode77"
        return Harness(source=Bitrix24Source(), module="connectors.bitrix24", stream="contacts",
                       config=config_for(bitrix), bad_config=config_for(bitrix, webhook_url=bad),
                       add_records=lambda n: add_contacts(bitrix, n, start=len(bitrix.contacts.items)),
                       secrets=["testcode", "wrongcode77"], secret_fields=["webhook_url"], emulator=bitrix,  # type: ignore[arg-type]
                       fault_group="crm.contact.list", credential_words=("webhook",))


def test_records_carry_multi_fields_and_the_cursor_moves_to_the_last_record(bitrix: BitrixEmulator) -> None:
    ids = add_contacts(bitrix, 3)
    records, states, errors = read(config_for(bitrix), ["contacts"])
    assert not errors and [r["_record_id"] for r in records] == ids
    assert records[0]["PHONE_LIST"] == "+79990000000"
    assert records[0]["EMAIL_LIST"] == "ann0@example.test; ann0@work.test"
    assert records[0]["PHONE"][0]["TYPE_ID"] == "PHONE" and "_ab_cdc_deleted_at" not in records[0]
    assert states["contacts"]["id"] == int(ids[-1]) and states["contacts"]["cursor"] == records[-1]["DATE_MODIFY"]
    assert IdRanges.loads(states["contacts"]["known"]).dumps() == f"{ids[0]}-{ids[-1]}"


def test_more_than_a_page_on_one_second_is_walked_by_id_with_pages_of_50(bitrix: BitrixEmulator) -> None:
    ids = add_contacts(bitrix, 130)
    with bitrix.contacts.lock:  # a bulk import: every contact stamped with the same second
        for contact in bitrix.contacts.items.values():
            contact.fields["DATE_MODIFY"] = "2024-05-02T10:00:00+03:00"
    records, states, errors = read(config_for(bitrix, detect_deletions=False), ["contacts"])
    assert not errors and [r["_record_id"] for r in records] == ids  # each once, in ID order
    assert states["contacts"] == {**states["contacts"], "cursor": "2024-05-02T10:00:00+03:00", "id": int(ids[-1])}
    again, _, _ = read(config_for(bitrix, detect_deletions=False), ["contacts"], states)
    assert again == []


def test_a_record_modified_during_the_read_is_not_skipped(ticking: BitrixEmulator) -> None:
    bitrix = ticking
    ids = add_contacts(bitrix, 120)
    seen: list[str] = []
    for message in iter_airbyte_messages(config_for(bitrix, detect_deletions=False), ["contacts"], None):
        if message.type == Type.RECORD:
            seen.append(message.record.data["_record_id"])
            if len(seen) == 10:  # someone edits an early contact while the read is on page one
                bitrix.contacts.call("crm.contact.update", {"id": ids[2], "fields": {"POST": "CFO"}})
    assert set(seen) == set(ids) and seen.count(ids[2]) == 2


def test_a_change_in_the_cursors_second_is_caught_by_the_look_back(bitrix: BitrixEmulator) -> None:
    ids = add_contacts(bitrix, 5)
    with bitrix.contacts.lock:
        for contact in bitrix.contacts.items.values():
            contact.fields["DATE_MODIFY"] = "2024-05-02T10:00:00+00:00"
    _, state, _ = read(config_for(bitrix, detect_deletions=False), ["contacts"])
    # the same second, a lower ID than the cursor's: (cursor, id) alone would never see this change again
    bitrix.contacts.items[int(ids[1])].fields.update(POST="CFO")
    again, _, _ = read(config_for(bitrix, detect_deletions=False, lookback_seconds=1), ["contacts"], state)
    assert [r["POST"] for r in again if r["_record_id"] == ids[1]] == ["CFO"]


def test_companies_stream_and_deletions_come_as_deleted_records(ticking: BitrixEmulator) -> None:
    bitrix = ticking
    ids = add_contacts(bitrix, 6)
    for title in ("Acme", "Globex"):
        bitrix.companies.call("crm.company.add", {"fields": {"TITLE": title, "PHONE": [{"VALUE": "+74950000000"}]}})
    records, state, errors = read(config_for(bitrix), ["contacts", "companies"])
    assert not errors and sorted(r["TITLE"] for r in records if "TITLE" in r) == ["Acme", "Globex"]
    bitrix.contacts.call("crm.contact.delete", {"id": ids[1]})
    bitrix.contacts.call("crm.contact.delete", {"id": ids[4]})
    bitrix.contacts.call("crm.contact.update", {"id": ids[0], "fields": {"NAME": "Anna"}})
    again, state, errors = read(config_for(bitrix), ["contacts", "companies"], state)
    gone = [r for r in again if r.get("_ab_cdc_deleted_at")]
    assert not errors and sorted(r["_record_id"] for r in gone) == sorted([ids[1], ids[4]])
    assert [r["NAME"] for r in again if not r.get("_ab_cdc_deleted_at")] == ["Anna"]
    third, _, _ = read(config_for(bitrix), ["contacts", "companies"], state)
    assert third == []  # a deletion is reported once


def test_the_id_sweep_can_run_less_often_than_reads(bitrix: BitrixEmulator) -> None:
    ids = add_contacts(bitrix, 3)
    config = config_for(bitrix, objects=["contacts"], deletion_sweep_hours=1)
    _, state, _ = read(config, ["contacts"])
    bitrix.contacts.call("crm.contact.delete", {"id": ids[0]})
    bitrix.calls.clear()
    again, state, _ = read(config, ["contacts"], state)
    assert again == [] and bitrix.calls["crm.contact.list"] == 1  # the changes only: the sweep is not due
    state["contacts"]["swept_at"] = "2024-01-01T00:00:00+00:00"
    later, _, _ = read(config, ["contacts"], state)
    assert [(r["_record_id"], bool(r["_ab_cdc_deleted_at"])) for r in later] == [(ids[0], True)]


def test_a_read_killed_during_the_deletion_sweep_reports_the_deletions_again(bitrix: BitrixEmulator) -> None:
    ids = add_contacts(bitrix, 30)
    _, state, _ = read(config_for(bitrix), ["contacts"])
    for record_id in ids[:25]:
        bitrix.contacts.call("crm.contact.delete", {"id": record_id})
    committed: dict[str, Any] = state
    first_gone = []
    for message in iter_airbyte_messages(config_for(bitrix), ["contacts"], state):
        if message.type == Type.RECORD:
            first_gone.append(message.record.data["_record_id"])
        elif message.type == Type.STATE:
            committed = {"contacts": dict(vars(message.state.stream.stream_state))}
            break  # killed right after the first checkpoint
    assert len(first_gone) == 10
    rest, _, _ = read(config_for(bitrix), ["contacts"], committed)
    assert sorted(first_gone + [r["_record_id"] for r in rest]) == sorted(ids[:25])


def test_the_leaky_bucket_is_respected_through_the_shared_budget(ticking: BitrixEmulator) -> None:
    bitrix = ticking
    bitrix.reset(BitrixSettings(bucket_size=4, drain_per_second=4.0))  # a small bucket: 4, draining 4/s
    ids = add_contacts(bitrix, 260)
    config = config_for(bitrix, rate_limit={"max_requests": 8, "interval_seconds": 2})  # the portal's plan
    records, _, errors = read(config, ["contacts"])
    assert not errors and sorted(r["_record_id"] for r in records) == sorted(ids)
    assert bitrix.status_counts[503] == 0 and bitrix.calls["crm.contact.list"] == 6 + 6


def test_over_the_bucket_the_source_waits_on_query_limit_exceeded(bitrix: BitrixEmulator) -> None:
    bitrix.reset(BitrixSettings(bucket_size=2, drain_per_second=2.0))
    ids = add_contacts(bitrix, 200)
    config = config_for(bitrix, max_retries=8)  # configured far above what the portal allows
    records, _, errors = read(config, ["contacts"])
    assert not errors and sorted(r["_record_id"] for r in records) == sorted(ids)
    assert bitrix.status_counts[503] > 0


def test_pull_and_push_of_one_portal_share_one_budget(bitrix: BitrixEmulator) -> None:
    source = Bitrix24SourceConfig.model_validate({"webhook_url": bitrix.webhook_url}).client()
    writer = open_client(webhook_url=bitrix.webhook_url)
    assert source.budget is writer.budget


def test_ingest_maps_contacts_and_marks_deleted_ones(bitrix: BitrixEmulator, store: Any) -> None:
    from mappings import load_mapping
    from mappings.templates import TEMPLATES_DIR
    from sync.ingest import ingest_source
    from sync.store import load_customer_records

    ids = add_contacts(bitrix, 4)
    mapping = {"contacts": load_mapping(TEMPLATES_DIR / "bitrix24_contacts_in.yaml")}
    report = ingest_source(store, source="b24", connector="bitrix24", config=config_for(bitrix, objects=["contacts"]),
                           mappings=mapping)
    assert report.error is None and report.stream("contacts").new == 4, report
    with store.session() as session:
        customers = {c.source_record_id: c for c in load_customer_records(session)}
    first = customers[ids[0]].canonical
    assert first["given_name"] == "Ann0" and first["family_name"] == "Lee"
    assert first["phones"] == ["+79990000000"] and first["emails"] == ["ann0@example.test", "ann0@work.test"]
    bitrix.contacts.call("crm.contact.delete", {"id": ids[2]})
    again = ingest_source(store, source="b24", connector="bitrix24", config=config_for(bitrix, objects=["contacts"]),
                          mappings=mapping)
    assert again.error is None and again.stream("contacts").deleted == 1 and again.stream("contacts").new == 0
    with store.session() as session:
        live = {c.source_record_id for c in load_customer_records(session)}
    assert live == {ids[0], ids[1], ids[3]}


def test_a_pull_and_a_push_running_together_stay_inside_the_bucket(ticking: BitrixEmulator) -> None:
    bitrix = ticking
    bitrix.reset(BitrixSettings(bucket_size=4, drain_per_second=4.0))
    ids = add_contacts(bitrix, 200)
    limits = {"max_requests": 8, "interval_seconds": 2}
    writer = open_client(webhook_url=bitrix.webhook_url, rate_limit=RateLimitSettings(**limits))
    written: list[int] = []

    def push() -> None:
        for i in range(12):
            written.append(writer.call("crm.contact.add", {"fields": {"NAME": f"Pushed{i}"}}, idempotent=False))

    pusher = threading.Thread(target=push)
    pusher.start()
    records, _, errors = read(config_for(bitrix, rate_limit=limits), ["contacts"])
    pusher.join()
    assert not errors and set(ids) <= {r["_record_id"] for r in records} and len(written) == 12
    assert bitrix.status_counts[503] == 0  # each alone would fit; together they fit only by sharing one budget


def test_an_unreachable_portal_fails_the_read_without_showing_the_webhook_code(bitrix: BitrixEmulator) -> None:
    dead = "http://127.0.0.1:9/rest/1/secretcode42"  # requests puts the URL path in its connection errors
    with pytest.raises(AirbyteTracedException) as failed:
        read(config_for(bitrix, webhook_url=dead, max_retries=1), ["contacts"])
    said = f"{failed.value.message} {failed.value.internal_message}"
    assert "crm.contact.list" in said and "connect" in said
    assert "secretcode42" not in said and "/rest/1/***/crm.contact.list" in said  # there, and masked
