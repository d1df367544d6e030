"""Calls from unknown numbers become leads; a lead merges into the customer who later has that phone.

The match stage with the real probabilistic engine, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from test_incremental_match import ingest, person, population  # same folder: shared test data

from dedupe.engine import ProbabilisticMatcher
from mappings import content_hash
from sync.match import match_store
from sync.store import (
    InteractionIndexIn,
    SourceRecordIn,
    Store,
    load_golden,
    read_audit,
    upsert_interactions,
    upsert_source_records,
)
from sync.store.match_state import load_leads

CALLED_AT = datetime(2026, 5, 4, 10, 30, tzinfo=UTC)


def call(store: Store, rid: str, phone: str, at: datetime = CALLED_AT) -> None:
    canonical = {"ref": {"source": "telephony", "stream": "calls", "source_record_id": rid}, "kind": "call",
                 "phone": phone, "occurred_at": at.isoformat()}
    record = SourceRecordIn(source="telephony", stream="calls", source_record_id=rid, entity="interaction",
                            raw={"id": rid}, canonical=canonical, content_hash=content_hash(canonical))
    with store.session() as session:
        counts = upsert_source_records(session, [record], seen_at=datetime.now(UTC), pass_id=None)
        pk = counts.pks[record.key]
        upsert_interactions(session, [InteractionIndexIn(pk, "call", at, phone, None)])


def golden_of_calls(store: Store) -> dict[str, str | None]:
    from sqlalchemy import select

    from sync.store.models import Interaction

    with store.session() as session:
        return {phone: golden for phone, golden in session.execute(select(Interaction.phone, Interaction.golden_id))}


def test_unknown_caller_becomes_one_lead_that_merges_into_a_later_customer(store: Store) -> None:
    ingest(store, population(200))
    call(store, "c1", "+14155550123")  # nobody has this number
    call(store, "c2", "+16465550007")  # p7's phone: a known customer
    first = match_store(store, ProbabilisticMatcher())
    assert first.leads_new == 1
    with store.session() as session:
        leads = load_leads(session)
        lead = load_golden(session, list(leads.values()))[leads["+14155550123"]]
    assert lead.fields == {"phones": ["+14155550123"], "lead": True, "lead_source": "telephony",
                           "first_seen_at": CALLED_AT.isoformat()}
    attached = golden_of_calls(store)
    assert attached["+14155550123"] == lead.id and attached["+16465550007"] not in (None, lead.id)

    # more calls from the same number, and re-runs (incremental and full): still one lead
    call(store, "c3", "+14155550123", CALLED_AT.replace(hour=12))
    assert match_store(store, ProbabilisticMatcher()).leads_new == 0
    assert match_store(store, ProbabilisticMatcher(), full=True).leads_new == 0
    with store.session() as session:
        assert load_leads(session) == {"+14155550123": lead.id}
        assert load_golden(session, [lead.id])[lead.id].status == "active"

    # the caller turns out to be a customer: the lead merges into them
    ingest(store, [person("new-customer", "Mariam", "Kvaratskhelia", phones=["+14155550123"], source="form")])
    merged = match_store(store, ProbabilisticMatcher())
    assert merged.leads_merged == 1 and merged.leads_new == 0
    attached = golden_of_calls(store)
    with store.session() as session:
        assert load_leads(session) == {}
        assert load_golden(session, [lead.id], status=None)[lead.id].status == "retired"
        customer = load_golden(session, [attached["+14155550123"]])[attached["+14155550123"]]
        entries = [e for e in read_audit(session, entity_id=lead.id) if e.action == "lead.merge"]
    assert customer.fields["phones"] == ["+14155550123"] and not customer.fields.get("lead")
    assert entries and entries[0].after == {"merged_into": customer.id}
