"""Pushing to the HubSpot emulator over a real socket, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from mappings.outbound import OutboundSpec
from sync.push.run import push_destination
from sync.store import ERASE_ACTION, append_audit, load_dead_letters, load_xrefs, read_audit, recent_runs
from sync.store.models import DeadLetter, DestinationXref
from tests.connectors.hubspot.emulator_fixtures import TOKEN
from tests.push.helpers import link, person, provenance_of, retire, set_provenance

pytestmark = pytest.mark.emulator


def by_golden(hubspot) -> dict[str, dict]:
    contacts = hubspot.contacts()
    keyed = {c["crmsync_id"]: c for c in contacts}
    assert len(keyed) == len(contacts), "two contacts carry one golden id"
    return keyed


def assert_fields_equal(hubspot, spec, golden):
    """Every golden record is exactly one contact holding exactly what the mapping says."""
    contacts = by_golden(hubspot)
    for golden_id, fields in golden.items():
        expected = spec.render(golden_id, fields)
        got = {k: contacts[golden_id].get(k) for k in expected}
        assert got == expected, golden_id


def test_push_then_push_again_writes_nothing(store, seed, spec, settings, hubspot):
    golden = {gid: person(i) for i, gid in enumerate(seed([person(i) for i in range(250)]))}

    first = push_destination(store, settings, spec)

    assert first.created == 250 and first.dead_lettered == 0 and first.error is None
    assert_fields_equal(hubspot, spec, golden)
    assert hubspot.calls["POST contacts/batch/upsert"] == 3  # 100 + 100 + 50: the batch limit
    with store.session() as session:
        xrefs = load_xrefs(session, "hubspot")
        assert {x.remote_id for x in xrefs.values()} == {c["id"] for c in hubspot.contacts()}
        audit = read_audit(session, entity_id=next(iter(golden)))
        runs = recent_runs(session, 5)
    assert [a.action for a in audit] == ["push.create"] and audit[0].after["destination"] == "hubspot"
    assert runs[0].flow == "push" and runs[0].target == "hubspot" and runs[0].status == "completed"
    assert runs[0].counts["created"] == 250

    hubspot.reset_counters()
    second = push_destination(store, settings, spec)

    assert hubspot.write_calls == 0 and second.unchanged == 250 and second.delivered == 0


def test_changed_records_are_updated_by_remote_id(store, seed, spec, settings, hubspot):
    ids = seed([person(i) for i in range(3)])
    push_destination(store, settings, spec)
    seed([person(1, job_title="CTO", phones=["+14155550199"])], [ids[1]])
    hubspot.reset_counters()

    report = push_destination(store, settings, spec)

    assert (report.updated, report.unchanged, report.created) == (1, 2, 0)
    assert hubspot.calls["POST contacts/batch/update"] == 1 and hubspot.write_calls == 1
    contact = by_golden(hubspot)[ids[1]]
    assert contact["jobtitle"] == "CTO" and contact["phone"] == "+14155550199"


def test_a_refused_record_is_dead_lettered_with_hubspots_message_and_the_rest_go_through(
        store, seed, spec, settings, hubspot):
    records = [person(i) for i in range(150)]
    records[42] = person(42, emails=["not-an-email"])
    ids = seed(records)

    report = push_destination(store, settings, spec)

    assert report.created == 149 and report.dead_lettered == 1 and report.error is None
    assert len(hubspot.contacts()) == 149
    with store.session() as session:
        letters = load_dead_letters(session, "hubspot")
    assert list(letters) == [ids[42]]
    assert "Email address not-an-email is invalid" in letters[ids[42]].error
    assert letters[ids[42]].payload["email"] == "not-an-email"

    hubspot.reset_counters()
    again = push_destination(store, settings, spec)  # unchanged: not tried again
    assert again.dead_lettered == 0 and hubspot.write_calls == 0

    seed([person(42)], [ids[42]])  # fixed at its source
    fixed = push_destination(store, settings, spec)
    assert fixed.created == 1 and len(hubspot.contacts()) == 150
    with store.session() as session:
        assert load_dead_letters(session, "hubspot") == {}
        resolved = session.scalar(select(DeadLetter.resolved_at).where(DeadLetter.golden_id == ids[42]))
    assert resolved is not None


def test_a_batch_refused_as_a_whole_is_split_until_the_bad_record_is_alone(store, seed, spec, settings, hubspot):
    hubspot.settings.batch_mode = "whole_batch"
    records = [person(i) for i in range(100)]
    records[7] = person(7, emails=["broken@"])
    seed(records)

    report = push_destination(store, settings, spec)

    assert report.created == 99 and report.dead_lettered == 1
    assert "broken@ is invalid" in report.problems[0]


def test_records_without_email_are_looked_up_before_they_are_created(store, seed, spec, settings, hubspot):
    ids = seed([person(i, emails=[]) for i in range(5)])
    push_destination(store, settings, spec)
    assert len(hubspot.contacts()) == 5
    with store.session() as session:  # as if the process died after HubSpot wrote, before we recorded
        session.execute(delete(DestinationXref))

    report = push_destination(store, settings, spec)

    assert report.linked == 5 and report.created == 0
    assert sorted(by_golden(hubspot)) == sorted(ids)


def test_records_with_email_already_in_the_crm_are_linked_not_duplicated(store, seed, spec, settings, hubspot):
    import requests

    requests.post(f"{hubspot.url}/crm/v3/objects/contacts", headers={"Authorization": f"Bearer {TOKEN}"},
                  json={"properties": {"email": "p1@example.test", "firstname": "Typed by a sales rep"}}, timeout=5)
    seed([person(1), person(2)])

    report = push_destination(store, settings, spec)

    assert (report.linked, report.created) == (1, 1) and len(hubspot.contacts()) == 2


def test_golden_merge_becomes_a_hubspot_merge(store, seed, spec, settings, hubspot):
    survivor, absorbed = seed([person(1), person(2)])
    push_destination(store, settings, spec)
    link(store, survivor, "s-1", "a-1")
    set_provenance(store, absorbed, provenance_of("a-1"))
    retire(store, absorbed)
    seed([person(1, emails=["p1@example.test", "p2@example.test"])], [survivor])

    report = push_destination(store, settings, spec)

    assert report.merged == 1 and hubspot.calls["POST contacts/merge"] == 1
    (contact,) = hubspot.contacts()
    assert contact["crmsync_id"] == survivor and "p2@example.test" in contact["hs_additional_emails"]
    with store.session() as session:
        assert set(load_xrefs(session, "hubspot")) == {survivor}
        assert [a.action for a in read_audit(session, entity_id=absorbed)][-1] == "push.merge"
    hubspot.reset_counters()
    assert push_destination(store, settings, spec).merged == 0 and hubspot.write_calls == 0


def test_a_survivor_new_to_the_crm_takes_over_the_retired_records_contact(store, seed, spec, settings, hubspot):
    (old,) = seed([person(1)])
    push_destination(store, settings, spec)
    (new,) = seed([person(1, company="Renamed Ltd")])
    link(store, new, "r-1")
    set_provenance(store, old, provenance_of("r-1"))
    retire(store, old)

    report = push_destination(store, settings, spec)

    assert (report.repointed, report.updated, report.created) == (1, 1, 0)
    (contact,) = hubspot.contacts()
    assert contact["crmsync_id"] == new and contact["company"] == "Renamed Ltd"


def test_erasure_deletes_the_contact_for_good(store, seed, spec, settings, hubspot):
    erased, kept = seed([person(1), person(2)])
    push_destination(store, settings, spec)
    with store.session() as session:
        append_audit(session, actor="user:dpo", action=ERASE_ACTION, entity_type="golden_record", entity_id=erased)

    report = push_destination(store, settings, spec)

    assert report.erased == 1 and [c["crmsync_id"] for c in hubspot.contacts()] == [kept]
    assert hubspot.contacts(archived=True) == []
    with store.session() as session:
        assert set(load_xrefs(session, "hubspot")) == {kept}


def test_retired_without_sources_is_kept_or_archived(store, seed, spec, settings, hubspot):
    (orphan,) = seed([person(1)])
    push_destination(store, settings, spec)
    retire(store, orphan)
    assert push_destination(store, settings, spec).archived == 0 and len(hubspot.contacts()) == 1
    archiving = settings.model_copy(update={"on_retired": "archive"})
    assert push_destination(store, archiving, spec).archived == 1
    assert hubspot.contacts() == [] and len(hubspot.contacts(archived=True)) == 1


def test_a_contact_deleted_in_hubspot_is_created_again(store, seed, spec, settings, hubspot):
    ids = seed([person(1)])
    push_destination(store, settings, spec)
    with hubspot.data.lock:
        hubspot.data.objects["contacts"].clear()
    seed([person(1, job_title="Founder")], ids)

    report = push_destination(store, settings, spec)

    assert report.recreated == 1 and report.created == 1
    assert by_golden(hubspot)[ids[0]]["jobtitle"] == "Founder"


def test_expired_token_is_refreshed_once_and_secrets_stay_out_of_the_store(store, seed, spec, settings, hubspot):
    seed([person(1, emails=["x"])])
    hubspot.faults.expired_tokens = 1
    report = push_destination(store, settings, spec)
    assert report.error is None and report.dead_lettered == 1
    with store.session() as session:
        dumped = repr(read_audit(session)) + repr(load_dead_letters(session, "hubspot")) + repr(recent_runs(session))
    assert TOKEN not in dumped


def test_a_wrong_token_stops_the_run_with_a_clear_error(store, seed, spec, settings, hubspot):
    seed([person(1)])
    from pydantic import SecretStr

    report = push_destination(store, settings.model_copy(update={"token": SecretStr("wrong-token")}), spec)
    assert report.error and "check the HubSpot token" in report.error and "wrong-token" not in report.error
    with store.session() as session:
        run = recent_runs(session, 1)[0]
    assert run.status == "failed" and hubspot.contacts() == []


def test_daily_limit_stops_the_run_and_leaves_records_pending(store, seed, spec, settings, hubspot):
    seed([person(i) for i in range(300)])
    hubspot.settings.daily_limit = 4  # properties list, property create, 2 batches
    report = push_destination(store, settings, spec)
    assert report.error and "daily" in report.error
    assert len(hubspot.contacts()) == 200 and report.created == 200


def test_mapping_to_a_property_hubspot_lacks_is_a_clear_error(store, seed, spec, settings, hubspot):
    seed([person(1)])
    broken = OutboundSpec.model_validate({"fields": [{"from": "emails[0]", "to": "emial"}]})
    report = push_destination(store, settings, broken)
    assert report.error and "'emial' (did you mean 'email'?)" in report.error
    assert hubspot.write_calls == 0


def test_deletions_queued_by_an_erasure_are_carried_out_and_marked_done(store, seed, spec, settings, hubspot):
    from datetime import UTC, datetime

    from sync.store import destination_actions, queue_destination_action

    erased, kept = seed([person(1), person(2)])
    push_destination(store, settings, spec)
    now = datetime.now(UTC)
    with store.session() as session:  # what `crmsync erase` leaves: a retired record, a queued delete, an audit line
        remote = load_xrefs(session, "hubspot")[erased].remote_id
        session.execute(delete(DestinationXref).where(DestinationXref.golden_id == erased))
        queue_destination_action(session, destination="hubspot", action="delete", golden_id=erased,
                                 remote_id=remote, payload={"receipt": "r-1"}, reason="GDPR erasure",
                                 by="user:dpo", now=now)
        append_audit(session, actor="user:dpo", action=ERASE_ACTION, entity_type="golden_record", entity_id=erased)
    retire(store, erased)

    report = push_destination(store, settings, spec)

    assert report.erased == 1 and [c["crmsync_id"] for c in hubspot.contacts()] == [kept]
    with store.session() as session:
        assert destination_actions(session, status="pending") == []
        assert [a.status for a in destination_actions(session, status=None)] == ["done"]
    assert push_destination(store, settings, spec).erased == 0


def test_a_queued_merge_is_marked_done_when_the_crm_merge_happens(store, seed, spec, settings, hubspot):
    from datetime import UTC, datetime

    from sync.store import destination_actions, queue_destination_action

    survivor, loser = seed([person(1), person(2)])
    push_destination(store, settings, spec)
    link(store, survivor, "s-1", "l-1")
    set_provenance(store, loser, provenance_of("l-1"))
    retire(store, loser)
    with store.session() as session:
        xrefs = load_xrefs(session, "hubspot")
        queue_destination_action(session, destination="hubspot", action="merge", golden_id=loser,
                                 remote_id=xrefs[loser].remote_id, payload={"survivor": survivor, "loser": loser},
                                 reason="merged by a person", by="user:ann", now=datetime.now(UTC))

    assert push_destination(store, settings, spec).merged == 1
    with store.session() as session:
        assert [a.status for a in destination_actions(session, status=None)] == ["done"]
