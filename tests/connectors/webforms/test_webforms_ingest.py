"""Webhook → inbox → webforms source → mapping templates → customers and form_submission interactions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from connectors.webforms import parse_submission
from connectors.webforms.source import iter_airbyte_messages
from mappings import load_mapping
from mappings.templates import TEMPLATES_DIR
from sync.ingest import ingest_source
from sync.store import InboxSubmissionIn, Store, add_submissions
from sync.store.models import Interaction, SourceRecord

MAPPINGS = {"submissions": load_mapping(TEMPLATES_DIR / "webforms_customers.yaml"),
            "interactions": load_mapping(TEMPLATES_DIR / "webforms_interactions.yaml")}


def post(store: Store, source: str, content_type: str, body: bytes) -> None:
    """What the webhook does once a post is verified."""
    parsed = parse_submission(content_type, body, {})
    with store.session() as session:
        add_submissions(session, [InboxSubmissionIn(source, parsed.submission_id, parsed.shape, content_type, body,
                                                    parsed.fields, datetime.now(UTC))])


def ingest(store: Store, source: str = "website"):
    config = {"source": source, "database_url": store.engine.url.render_as_string(hide_password=False)}
    return ingest_source(store, source=source, connector="webforms", config=config, mappings=MAPPINGS)


def test_submissions_become_customers_and_interactions_incrementally(store: Store) -> None:
    post(store, "website", "application/json", json.dumps(
        {"submission_id": "a", "name": "Ann Lee", "email": "Ann@Example.test", "message": "call me"}).encode())
    post(store, "website", "application/x-www-form-urlencoded",
         "Name=Борис Петров&Phone=8 912 345-67-89&tranid=77:1&formid=form9".encode())
    post(store, "website", "application/json", b'{"submission_id": "c", "comment": "no contact at all"}')
    post(store, "other", "application/json", b'{"submission_id": "z", "email": "z@example.test"}')

    report = ingest(store)
    assert not report.failed, report
    customers, interactions = report.streams["submissions"], report.streams["interactions"]
    assert (customers.read, customers.new, customers.quarantined) == (3, 2, 1)
    assert (interactions.read, interactions.new) == (3, 3)
    assert any("no name, e-mail or phone" in p for p in report.problems)

    with store.session() as session:
        rows = session.execute(select(SourceRecord.stream, SourceRecord.source_record_id, SourceRecord.canonical)
                               .where(SourceRecord.source == "website")).all()
        by_id = {(r.stream, r.source_record_id): r.canonical for r in rows}
        assert by_id[("submissions", "a")]["emails"] == ["ann@example.test"]
        assert by_id[("submissions", "77:1")]["full_name"] == "Борис Петров"
        assert by_id[("interactions", "a")]["body"] == "call me"
        assert by_id[("interactions", "a")]["kind"] == "form_submission"
        emails = set(session.scalars(select(Interaction.email)))
        assert "ann@example.test" in emails

    again = ingest(store)
    assert again.total("read") == 0

    post(store, "website", "application/json", b'{"submission_id": "d", "email": "dee@example.test"}')
    post(store, "website", "application/json", b'{"submission_id": "a", "email": "changed@example.test"}')  # dup
    third = ingest(store)
    assert third.streams["submissions"].read == 1 and third.streams["submissions"].new == 1


def test_a_read_resumes_after_the_saved_inbox_id(store: Store) -> None:
    for i in range(7):
        post(store, "website", "application/json", json.dumps({"submission_id": str(i), "name": f"P {i}"}).encode())
    config = {"source": "website", "database_url": store.engine.url.render_as_string(hide_password=False),
              "batch_size": 3}
    messages = list(iter_airbyte_messages(config, ["submissions"], None))
    records = [m.record.data for m in messages if m.record]
    states = [m.state.stream.stream_state.cursor for m in messages if m.state]
    assert [r["_record_id"] for r in records] == [str(i) for i in range(7)]
    assert states[-1] == records[-1]["inbox.id"]
    resumed = list(iter_airbyte_messages(config, ["submissions"], {"submissions": {"cursor": records[3]["inbox.id"]}}))
    assert [m.record.data["_record_id"] for m in resumed if m.record] == ["4", "5", "6"]
