"""GDPR erasure on SQLite and PostgreSQL: after it, no table holds the person's e-mail, phone or name
(only keyed hashes in the tombstone), a receipt lists every place touched, destinations are told to
delete, the audit log is intact but unreadable for them, and an old copy ingested again is flagged."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, select, text

from mappings import content_hash
from sync.review import ReviewError, accept, erase, list_suggestions, pin, preview_erasure, show_golden
from sync.review.audit import audit_entries
from sync.store import (
    ERASED,
    InboxSubmissionIn,
    InteractionIndexIn,
    QuarantineIn,
    SourceRecordIn,
    Store,
    add_submissions,
    destination_actions,
    digest,
    finish_run,
    open_quarantine,
    quarantine_rows,
    receipts,
    start_run,
    tombstoned,
    upsert_interactions,
    upsert_source_records,
)
from sync.store.models import DeadLetter, DestinationXref
from sync.store.push import erased_golden_ids
from tests.review.conftest import PEOPLE, ScriptedMatcher, customer, golden_of, ingest, run_match

ANN = {"ann@x.com", "ann.lee@y.com", "anne@z.com", "+14155550101", "4155550101", "Ann Lee", "Anne Lee"}
ACTOR = "user:dpo"


def everything(store: Store) -> dict[str, list[str]]:
    """Every value of every row of every table, as text (bytes decoded, JSON dumped)."""
    found: dict[str, list[str]] = {}
    with store.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            texts = []
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("utf-8", "replace")
                    elif isinstance(value, dict | list):
                        value = json.dumps(value, ensure_ascii=False)
                    texts.append(str(value))
            found[table] = texts
    return found


def hits(store: Store, needles: set[str]) -> dict[str, set[str]]:
    where: dict[str, set[str]] = {}
    for table, values in everything(store).items():
        for value in values:
            for needle in needles:
                if needle.casefold() in value.casefold():
                    where.setdefault(table, set()).add(needle)
    return where


def call(rid: str, phone: str) -> SourceRecordIn:
    canonical = {"ref": {"source": "pbx", "stream": "calls", "source_record_id": rid}, "kind": "call",
                 "phone": phone, "body": "called about the Acme invoice"}
    return SourceRecordIn(source="pbx", stream="calls", source_record_id=rid, entity="interaction",
                          raw={"from": phone}, canonical=canonical, content_hash=content_hash(canonical))


@pytest.fixture
def everywhere(matched: Store, matcher: ScriptedMatcher) -> Store:
    """Ann is in source records, golden records, a merge, a pin, calls, the inbox, quarantine,
    a dead letter, a run report, a destination and the audit log."""
    store = matched
    ann = golden_of(store, "crm", "1")
    accept(store, next(i.id for i in list_suggestions(store) if i.score < 0.6), actor="user:ann")  # Anne is Ann
    pin(store, ann, "job_title", "CFO", actor="user:ann")
    now = datetime.now(UTC)
    with store.session() as session:
        pks = upsert_source_records(session, [call("c1", "+14155550101"), call("c2", "+14155550199")],
                                    seen_at=now, pass_id=None).pks
        upsert_interactions(session, [InteractionIndexIn(pk, "call", now, phone, None) for (_, _, rid), pk in
                                      pks.items() for phone in [{"c1": "+14155550101", "c2": "+14155550199"}[rid]]])
        add_submissions(session, [InboxSubmissionIn(
            source="forms", submission_id="s1", shape="form", content_type="application/x-www-form-urlencoded",
            body=b"name=Ann+Lee&email=ann%40x.com", fields={"name": "Ann Lee", "email": "ann@x.com"},
            received_at=now)])
        quarantine_rows(session, [QuarantineIn("sheet", "contacts", "row-9", 9, "people.csv", "Phone",
                                               "'call me' is not a phone number", {"Name": "Ann Lee",
                                                                                   "Email": "ann@x.com"})],
                        seen_at=now, pass_id=None)
        session.add(DeadLetter(destination="hubspot", golden_id=ann, record_hash="h", payload={"email": "ann@x.com"},
                               error="CONFLICT: contact ann@x.com already exists", first_failed_at=now,
                               last_failed_at=now))
        session.add(DestinationXref(destination="hubspot", golden_id=ann, remote_id="hs-1"))
        run_id = start_run(session, "ingest", "sheet")
        finish_run(session, run_id, status="completed",
                   counts={"contacts": {"problems": ["row 9: 'ann@x.com' has no phone"]}})
    run_match(store, matcher)  # attaches the call to Ann
    assert hits(store, {"ann@x.com"}).keys() >= {"source_records", "golden_records", "inbox", "quarantine",
                                                 "dead_letters", "sync_runs", "golden_changes"}
    return store


def test_after_erasure_no_table_holds_the_person(everywhere: Store) -> None:
    store = everywhere
    ann = golden_of(store, "crm", "1")
    preview = preview_erasure(store, emails=["ANN@x.com"])
    assert ann in preview.golden_ids and preview.source_records == 3 and preview.interactions == 1
    assert (preview.inbox, preview.quarantine, preview.dead_letters, preview.destinations) == (1, 1, 1, ("hubspot",))
    assert hits(store, {"ann@x.com"})  # a preview removes nothing

    result = erase(store, actor=ACTOR, emails=["ANN@x.com"], reason="request #17")

    assert hits(store, ANN) == {}, "the person's data is still somewhere"
    assert ann in result.golden_ids and len(result.golden_ids) == 2  # Ann and the Anne record merged into her
    assert result.touched["source_records"] == 4 and result.touched["inbox"] == 1  # 3 customers + her call
    assert result.touched["audit_redactions"] > 0 and result.touched["subject_keys"] == 2
    with store.session() as session:
        assert tombstoned(session, "email", [digest("email", "ann@x.com")])
        assert tombstoned(session, "source_record", [digest("source_record", "crm/contacts/1")])
        [receipt] = receipts(session)
        actions = destination_actions(session)
        assert ann in erased_golden_ids(session)  # the push engine deletes her in the CRM
    assert receipt["id"] == result.receipt_id and receipt["actor"] == ACTOR and receipt["reason"] == "request #17"
    assert set(receipt["touched"]) >= {"source_records", "golden_records", "inbox", "quarantine", "dead_letters",
                                       "golden_changes", "golden_pins", "sync_runs", "golden_ids"}
    assert receipt["identifiers"]["email"] == sorted(digest("email", e) for e in
                                                     ("ann@x.com", "ann.lee@y.com", "anne@z.com"))
    assert [(a.action, a.destination, a.remote_id, a.payload) for a in actions] == [
        ("delete", "hubspot", "hs-1", {"receipt": result.receipt_id})]
    # the audit log is whole (append-only) but the person's values read as erased
    view = show_golden(store, ann)
    assert view.golden.status == "retired" and view.golden.fields == {} and view.records == []
    create = next(e for e in view.history if e.action == "golden.create")
    assert create.after == {ERASED: result.receipt_id}
    assert [e.action for e in view.history][-1] == "golden.erase"
    exported = json.dumps([e.after for e in audit_entries(store, customer=ann)])
    assert "ann@x.com" not in exported and result.receipt_id in exported
    # everyone else is untouched
    bob = golden_of(store, "web", "4")
    assert show_golden(store, bob).golden.fields["emails"] == ["bob@x.com"]
    assert hits(store, {"bob@x.com", "+14155550199"}).keys() >= {"source_records", "golden_records"}


def test_an_old_copy_ingested_again_is_flagged_not_restored(everywhere: Store, matcher: ScriptedMatcher) -> None:
    store = everywhere
    erase(store, actor=ACTOR, phones=["+1 415 555 0101"])
    office = customer("sheet", "8", "zed", name="Zed Ray", emails=["zed@x.com"], phones=["+14155550199"])
    again = [PEOPLE[0], customer("web", "7", "ann", name="A. Lee", emails=["ann@x.com"]), office]
    ingest(store, again)
    report = run_match(store, matcher)
    assert report.erased_flagged == 2  # her old CRM record (by key) and a new one carrying her e-mail
    assert hits(store, {"ann@x.com", "+14155550101", "Ann Lee", "A. Lee"}) == {}
    with store.session() as session:
        flagged = [q for q in open_quarantine(session) if q.reason.startswith("erased person")]
    assert sorted((q.source, q.row_key, q.raw) for q in flagged) == [("crm", "erased:1", {}), ("web", "erased:7", {})]
    assert "record's source record" in flagged[0].reason or "record's e-mail" in flagged[0].reason
    assert golden_of(store, "sheet", "8")  # someone else on a number she also used is matched as usual
    flags = [e for e in audit_entries(store) if e.action == "erasure.flagged"]
    assert sorted(e.entity_id for e in flags) == ["crm/contacts/1", "web/contacts/7"]


def test_erasure_needs_a_person_and_names_bad_input(matched: Store) -> None:
    with pytest.raises(ReviewError, match="name the person to erase"):
        erase(matched, actor=ACTOR)
    with pytest.raises(ReviewError, match="cannot erase"):
        erase(matched, actor=ACTOR, emails=["not an email"])
    with pytest.raises(LookupError, match="no golden record"):
        erase(matched, actor=ACTOR, golden_ids=["nope"])


def test_erasing_someone_unknown_still_leaves_a_receipt_and_a_tombstone(matched: Store) -> None:
    result = erase(matched, actor=ACTOR, emails=["stranger@x.com"])
    assert result.golden_ids == () and result.touched == {}
    with matched.session() as session:
        assert tombstoned(session, "email", [digest("email", "stranger@x.com")])
        assert session.execute(select(text("count(*)")).select_from(text("source_records"))).scalar() == 6


def test_a_merge_of_an_erased_person_cannot_be_undone(matched: Store) -> None:
    from sync.review import merge, unmerge

    bob, cy = golden_of(matched, "web", "4"), golden_of(matched, "crm", "6")
    merge(matched, bob, cy, actor="user:ann")
    erase(matched, actor=ACTOR, emails=["cy@x.com"])
    with pytest.raises(ReviewError, match="was erased since"):
        unmerge(matched, bob, actor="user:ann")
