"""The push plan, computed from the store alone, on SQLite and PostgreSQL; planning writes nothing."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

from mappings import content_hash
from sync.push.plan import plan_push
from sync.store import ERASE_ACTION, PushedRecord, append_audit, dead_letter, record_pushes
from tests.push.helpers import link, person, provenance_of, retire, set_provenance, table_counts

NOW = datetime(2024, 5, 1, tzinfo=UTC)


def pushed(store, spec, golden_id, fields, remote_id, *, stale=False):
    """Record that `golden_id` was pushed as `remote_id` (with its current payload, or a stale one)."""
    payload = spec.render(golden_id, fields)
    digest = "stale" if stale else content_hash(payload)
    with store.session() as session:
        record_pushes(session, "hubspot", [PushedRecord(golden_id, remote_id, digest, "create", payload)],
                      now=NOW, run_id=None)


def actions(plan):
    return {row.golden_id: (row.action, row.how) for row in plan.rows}


def test_create_update_noop_against_the_last_pushed_hash(store, seed, spec):
    fields = [person(1), person(2), person(3)]
    new, changed, same = seed(fields)
    pushed(store, spec, changed, fields[1], "701", stale=True)
    pushed(store, spec, same, fields[2], "702")

    plan = plan_push(store, "hubspot", spec, unique_fields=("email",))

    assert actions(plan) == {new: ("create", ""), changed: ("update", ""), same: ("noop", "")}
    row = next(r for r in plan.rows if r.golden_id == changed)
    assert row.remote_id == "701" and row.payload["email"] == "p2@example.test"
    assert plan.counts() == {"create": 1, "update": 1, "merge": 0, "delete": 0, "noop": 1, "reject": 0}
    assert plan.writes == 2
    assert [r.action for r in plan.rows] == ["update", "create", "noop"]  # the order they are applied in


def test_retired_records_merge_into_their_survivor(store, seed, spec):
    survivor, absorbed, keeper, taken_over, orphan = seed([person(i) for i in range(5)])
    for golden_id, remote in ((survivor, "801"), (absorbed, "802"), (taken_over, "803"), (orphan, "804")):
        pushed(store, spec, golden_id, person(0), remote)
    # absorbed's source record now belongs to survivor; taken_over's to keeper (not in the CRM yet)
    link(store, survivor, "s-1", "a-1")
    link(store, keeper, "t-1")
    set_provenance(store, absorbed, provenance_of("a-1"))
    set_provenance(store, taken_over, provenance_of("t-1"))
    set_provenance(store, orphan, provenance_of("gone-1"))
    for golden_id in (absorbed, taken_over, orphan):
        retire(store, golden_id)

    plan = plan_push(store, "hubspot", spec)
    by_id = {r.golden_id: r for r in plan.rows}

    assert (by_id[absorbed].action, by_id[absorbed].how) == ("merge", "api")
    assert (by_id[absorbed].into_golden, by_id[absorbed].into_remote) == (survivor, "801")
    assert (by_id[taken_over].action, by_id[taken_over].how, by_id[taken_over].into_golden) == (
        "merge", "repoint", keeper)
    assert (by_id[keeper].action, by_id[keeper].how, by_id[keeper].remote_id) == ("update", "adopt", "803")
    assert by_id[orphan].action == "noop" and "kept in the CRM" in by_id[orphan].reason

    archive = plan_push(store, "hubspot", spec, on_retired="archive", merge_mode="archive")
    by_id = {r.golden_id: r for r in archive.rows}
    assert (by_id[orphan].action, by_id[orphan].how) == ("delete", "archive")
    assert (by_id[absorbed].action, by_id[absorbed].how) == ("merge", "archive")


def test_erased_records_are_deleted_and_not_written(store, seed, spec):
    erased, never_pushed = seed([person(1), person(2)])
    pushed(store, spec, erased, person(1), "901")
    with store.session() as session:
        for golden_id in (erased, never_pushed):
            append_audit(session, actor="user:dpo", action=ERASE_ACTION, entity_type="golden_record",
                         entity_id=golden_id)

    plan = plan_push(store, "hubspot", spec)

    assert actions(plan) == {erased: ("delete", "erase")}


def test_two_records_claiming_one_email_are_rejected_not_pushed(store, seed, spec):
    holder, newcomer, other = seed([person(1), person(2, emails=["p1@example.test"]), person(3)])
    pushed(store, spec, holder, person(1), "1001", stale=True)

    plan = plan_push(store, "hubspot", spec, unique_fields=("email",))

    row = next(r for r in plan.rows if r.golden_id == newcomer)
    assert (row.action, row.how) == ("reject", "conflict")
    assert holder in row.reason and "p1@example.test" in row.reason
    assert actions(plan)[holder] == ("update", "") and actions(plan)[other] == ("create", "")


def test_dead_lettered_records_wait_until_they_change(store, seed, spec):
    (golden_id,) = seed([person(1, emails=["bad@@example"])])
    payload = spec.render(golden_id, person(1, emails=["bad@@example"]))
    with store.session() as session:
        dead_letter(session, "hubspot", golden_id, record_hash=content_hash(payload), payload=payload,
                    error="VALIDATION_ERROR: Email address bad@@example is invalid", now=NOW)

    row = plan_push(store, "hubspot", spec).rows[0]
    assert (row.action, row.how) == ("noop", "dead-lettered") and "is invalid" in row.reason

    seed([person(1, emails=["good@example.test"])], [golden_id])
    assert plan_push(store, "hubspot", spec).rows[0].action == "create"


def test_plan_writes_nothing_but_its_file(store, seed, spec, settings, hubspot, tmp_path):
    from sync.push.run import plan_destination

    seed([person(i) for i in range(3)])
    before = table_counts(store)

    plan = plan_destination(store, settings, spec)

    assert table_counts(store) == before and sum(hubspot.calls.values()) == 0
    with plan.write(tmp_path / "plan.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["action"] for r in rows] == ["create"] * 3
    assert json.loads(rows[0]["fields"])["email"].endswith("@example.test")
    document = json.loads(plan.write(tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert document["counts"]["create"] == 3 and document["destination"] == "hubspot"
    assert plan.summary()[0].startswith("push plan for hubspot: 3 create")
