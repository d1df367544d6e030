"""Store-backed incremental matching: only new and changed records are placed, golden ids stay put.

Runs the real probabilistic engine on SQLite and PostgreSQL (the `store` fixture).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from dedupe.engine import MatchSettings, ProbabilisticMatcher
from mappings import content_hash
from sync.match import match_store
from sync.store import SourceRecordIn, Store, current_links, load_golden, mark_records_deleted, upsert_source_records
from sync.store.match_state import load_match_state

FIRST = ["Anna", "Maria", "Olga", "John", "Peter", "Ivan", "Rahul", "Priya", "Giorgi", "Nino", "Emma", "Lukas"]
LAST = ["Smith", "Brown", "Petrova", "Ivanov", "Sharma", "Patel", "Beridze", "Wilson", "Kuznetsov", "Taylor"]


def person(rid: str, given: str, family: str, *, emails: Sequence[str] = (), phones: Sequence[str] = (),
           city: str | None = None, source: str = "crm") -> SourceRecordIn:
    canonical: dict[str, Any] = {
        "ref": {"source": source, "stream": "contacts", "source_record_id": rid},
        "given_name": given, "family_name": family, "emails": list(emails), "phones": list(phones),
        "address": {"city": city}}
    return SourceRecordIn(source=source, stream="contacts", source_record_id=rid, entity="customer",
                          raw={"id": rid}, canonical=canonical, content_hash=content_hash(canonical))


def population(n: int = 400) -> list[SourceRecordIn]:
    """Distinct people, so the model has something to learn chance agreement from; every 10th has a twin."""
    rnd = random.Random(3)
    out = []
    for i in range(n):
        given, family = rnd.choice(FIRST), rnd.choice(LAST)
        email, phone = f"{given.lower()}.{family.lower()}{i}@example.com", f"+1646555{i:04d}"
        out.append(person(f"p{i}", given, family, emails=[email], phones=[phone], city=rnd.choice(["Austin", "Pune"])))
        if i % 10 == 0:
            out.append(person(f"p{i}-web", given, family, emails=[email], source="web"))
    return out


def ingest(store: Store, records: Sequence[SourceRecordIn]) -> None:
    with store.session() as session:
        upsert_source_records(session, list(records), seen_at=datetime.now(UTC), pass_id=None)


def links_by_rid(store: Store) -> dict[str, str]:
    with store.session() as session:
        from sync.store import load_customer_records

        rid = {r.pk: f"{r.source}:{r.source_record_id}" for r in load_customer_records(session)}
        return {rid[pk]: golden for pk, golden in current_links(session).items() if pk in rid}


@pytest.fixture
def matched(store: Store) -> Store:
    ingest(store, population())
    report = match_store(store, ProbabilisticMatcher())
    assert report.mode == "full" and report.records_matched == 440
    return store


def test_new_records_are_placed_against_existing_golden_records_with_ids_kept(matched: Store) -> None:
    before = links_by_rid(matched)
    assert before["crm:p10"] == before["web:p10-web"]  # the twins of the full run
    ingest(matched, [person("p7-form", *_name_of(matched, "crm:p7"), phones=["+16465550007"], source="form"),
                     person("new-1", "Zurab", "Tsereteli", emails=["zurab@example.ge"], source="form")])
    report = match_store(matched, ProbabilisticMatcher())
    assert report.mode == "incremental"
    assert report.records_matched == 2  # not the 440 already matched
    after = links_by_rid(matched)
    assert {k: v for k, v in after.items() if k in before} == before  # nobody moved, ids kept
    assert after["form:p7-form"] == before["crm:p7"]  # the duplicate joined its customer
    assert after["form:new-1"] not in before.values()  # a new customer
    assert report.golden_new == 1 and report.golden_changed == 1 and report.golden_retired == 0
    with matched.session() as session:
        golden = load_golden(session, [before["crm:p7"]])[before["crm:p7"]]
    assert "+16465550007" in golden.fields["phones"]


def test_a_run_with_nothing_new_places_nothing_and_changes_nothing(matched: Store) -> None:
    before = links_by_rid(matched)
    report = match_store(matched, ProbabilisticMatcher())
    assert report.mode == "incremental" and report.records_matched == 0
    assert report.golden_new == report.golden_changed == report.golden_retired == report.links_changed == 0
    assert links_by_rid(matched) == before


def test_changed_and_deleted_records_rebuild_only_their_golden_records(matched: Store) -> None:
    before = links_by_rid(matched)
    name = _name_of(matched, "crm:p21")
    ingest(matched, [person("p21", *name, emails=["brand.new@example.com"], phones=["+16465550021"])])
    with matched.session() as session:
        mark_records_deleted(session, "web", "contacts", ["p30-web"], at=datetime.now(UTC))
    report = match_store(matched, ProbabilisticMatcher())
    assert report.mode == "incremental" and report.records_matched == 1
    after = links_by_rid(matched)
    assert after["crm:p21"] == before["crm:p21"]  # same phone and name: stays where it was
    with matched.session() as session:
        golden = load_golden(session, [before["crm:p21"], before["crm:p30"]])
    assert "brand.new@example.com" in golden[before["crm:p21"]].fields["emails"]
    assert golden[before["crm:p30"]].fields["phones"] == ["+16465550030"]  # still there, rebuilt without p30-web
    assert report.golden_changed >= 1 and report.golden_new == 0


def test_changed_settings_fall_back_to_a_full_run_that_keeps_ids(matched: Store) -> None:
    before = links_by_rid(matched)
    fingerprint = _state(matched)["fingerprint"]
    report = match_store(matched, ProbabilisticMatcher(MatchSettings(auto_merge=0.96)))
    assert report.mode == "full" and report.records_matched == 440
    assert links_by_rid(matched) == before
    assert _state(matched)["fingerprint"] != fingerprint
    again = match_store(matched, ProbabilisticMatcher(MatchSettings(auto_merge=0.96)))
    assert again.mode == "incremental"


def test_full_flag_forces_every_record_through_the_engine(matched: Store) -> None:
    report = match_store(matched, ProbabilisticMatcher(), full=True)
    assert report.mode == "full" and report.records_matched == 440 and report.golden_new == 0


def test_cannot_link_keeps_a_new_record_out_of_the_customer(matched: Store) -> None:
    from sync.store.suggestions import add_cannot_link

    before = links_by_rid(matched)
    ingest(matched, [person("p40-form", *_name_of(matched, "crm:p40"), phones=["+16465550040"], source="form")])
    with matched.session() as session:
        from sync.store import load_customer_records

        pk = {f"{r.source}:{r.source_record_id}": r.pk for r in load_customer_records(session)}
        add_cannot_link(session, pk["form:p40-form"], pk["crm:p40"], reason="test", created_by="tester",
                        now=datetime.now(UTC))
    report = match_store(matched, ProbabilisticMatcher())
    assert report.mode == "incremental"
    assert links_by_rid(matched)["form:p40-form"] != before["crm:p40"]


def _name_of(store: Store, key: str) -> tuple[str, str]:
    with store.session() as session:
        from sync.store import load_customer_records

        row = next(r for r in load_customer_records(session) if f"{r.source}:{r.source_record_id}" == key)
    return row.canonical["given_name"], row.canonical["family_name"]


def _state(store: Store) -> dict[str, Any]:
    with store.session() as session:
        state = load_match_state(session)
    assert state is not None
    return state
