"""The admin pages over a real store (SQLite and PostgreSQL): queue filters, decisions, undo, bulk accept,
golden record actions, dashboard and dead-letter retry."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from admin_helpers import log_in, open_seeded
from fastapi.testclient import TestClient
from sqlalchemy import text

from crmsync.web import create_app
from crmsync.web.review import PAGE_SIZE
from sync.review import accept, list_suggestions, show_golden
from sync.review.audit import audit_entries
from sync.store import Store, list_suggestion_rows, load_golden
from sync.store.dashboard import RETRY_MARK, dead_letters
from tests.review.conftest import golden_of


@pytest.fixture
def admin(tmp_path: Path, store_url: str) -> Iterator[tuple[TestClient, Store, str]]:
    """Logged in as the admin on a seeded store; yields the client, the store and the CSRF token."""
    project, store = open_seeded(store_url, tmp_path, xss=True)
    with TestClient(create_app(project)) as client:
        yield client, store, log_in(client, "ada")
    store.dispose()


def queue_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<a href="/suggestions/(\d+)', html)]


def flash_text(page: str) -> str:
    found = re.search(r'class="flash[^"]*"[^>]*>\s*<span>(.*?)</span>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def status_of(store: Store, sid: int) -> str:
    with store.session() as session:
        return {r.id: r.status for r in list_suggestion_rows(session, None)}[sid]


def test_queue_order_and_filters(admin: tuple[TestClient, Store, str]) -> None:
    client, store, token = admin
    everything = [i.id for i in list_suggestions(store)]
    assert queue_ids(client.get("/queue").text) == everything  # the API's order: most uncertain first
    assert len(everything) == 3
    web_only = queue_ids(client.get("/queue", params={"source": "web"}).text)
    assert web_only == [i.id for i in list_suggestions(store, source="web")] and len(web_only) == 2
    band = queue_ids(client.get("/queue", params={"min_score": "0.7", "max_score": "0.85"}).text)
    assert band == [i.id for i in list_suggestions(store, min_score=0.7, max_score=0.85)] and len(band) == 1
    first = list_suggestions(store)[0]
    client.post(f"/suggestions/{first.id}/assign", data={"to": "rex", "version": str(first.version),
                                                         "csrf_token": token})
    assert queue_ids(client.get("/queue", params={"assignee": "rex"}).text) == [first.id]
    assert first.id not in queue_ids(client.get("/queue", params={"assignee": "-"}).text)
    bad = client.get("/queue", params={"min_score": "high"})
    assert bad.status_code == 422 and "min_score 'high'" in bad.text
    api = client.get("/api/queue").json()
    assert api["total"] == 3 and [i["id"] for i in api["items"]] == everything and api["page_size"] == PAGE_SIZE


def test_accept_reject_defer_skip_go_on_to_the_next_suggestion(admin: tuple[TestClient, Store, str]) -> None:
    client, store, token = admin
    items = list_suggestions(store)
    a, b, c = items
    page = client.post(f"/suggestions/{a.id}/decide", data={"action": "skip", "version": str(a.version),
                                                            "csrf_token": token})
    assert page.url.path == f"/suggestions/{b.id}" and status_of(store, a.id) == "pending"
    page = client.post(f"/suggestions/{b.id}/decide", data={"action": "reject", "version": str(b.version),
                                                            "csrf_token": token})
    assert status_of(store, b.id) == "rejected" and "kept apart" in flash_text(page.text)
    page = client.post(f"/suggestions/{c.id}/decide", data={"action": "defer", "version": str(c.version),
                                                            "csrf_token": token})
    assert status_of(store, c.id) == "deferred"
    assert c.id in queue_ids(client.get("/queue", params={"status": "deferred"}).text)
    page = client.post(f"/suggestions/{a.id}/decide", data={"action": "accept", "version": str(a.version),
                                                            "csrf_token": token})
    assert status_of(store, a.id) == "accepted" and "accepted" in flash_text(page.text)
    assert page.url.path == "/queue"  # nothing left pending


def test_a_stale_decision_is_a_conflict_and_changes_nothing(admin: tuple[TestClient, Store, str]) -> None:
    client, store, token = admin
    item = list_suggestions(store)[0]
    accept(store, item.id, actor="user:other")  # someone else got there first
    page = client.post(f"/suggestions/{item.id}/decide", data={"action": "reject", "version": str(item.version),
                                                               "csrf_token": token})
    assert "Conflict" in flash_text(page.text) and "already accepted by user:other" in flash_text(page.text)
    assert status_of(store, item.id) == "accepted"


def test_undo_the_last_accept_restores_both_golden_records(admin: tuple[TestClient, Store, str]) -> None:
    client, store, token = admin
    item = list_suggestions(store)[0]
    with store.session() as session:
        before = {g: r.fields for g, r in load_golden(session, [item.golden_a, item.golden_b]).items()}
    client.post(f"/suggestions/{item.id}/decide", data={"action": "accept", "version": str(item.version),
                                                        "csrf_token": token})
    with store.session() as session:
        assert len(load_golden(session, [item.golden_a, item.golden_b])) == 1
    page = client.post("/undo", data={"csrf_token": token})
    assert flash_text(page.text).startswith("Undone: merge #")
    with store.session() as session:
        after = {g: r.fields for g, r in load_golden(session, [item.golden_a, item.golden_b]).items()}
    assert after == before
    again = client.post("/undo", data={"csrf_token": token})
    assert "Nothing to undo" in flash_text(again.text)


def test_bulk_accept_previews_then_accepts_what_it_showed(admin: tuple[TestClient, Store, str]) -> None:
    client, store, token = admin
    preview = client.get("/bulk", params={"min_score": "0.75"})
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", preview.text))
    assert "2 suggestion(s) would be accepted: 2 golden record(s) change and 2 are merged into them" in text
    stale = client.post("/bulk", data={"min_score": "0.75", "expected": "5", "csrf_token": token})
    assert "queue changed since your preview" in flash_text(stale.text)
    assert len(list_suggestions(store)) == 3
    done = client.post("/bulk", data={"min_score": "0.75", "expected": "2", "csrf_token": token})
    assert "2 accepted" in flash_text(done.text)
    assert [i.score for i in list_suggestions(store)] == [0.55]


def test_golden_page_pin_unpin_unmerge_and_erase(admin: tuple[TestClient, Store, str]) -> None:
    client, store, token = admin
    ann = golden_of(store, "crm", "1")
    page = client.get(f"/golden/{ann}")
    assert "crm/contacts/1" in page.text and "pbx/calls/c1" in page.text  # provenance and the call
    assert "golden.create" in page.text
    client.post(f"/golden/{ann}/pin", data={"field": "company", "value": "Acme Holdings", "csrf_token": token})
    assert show_golden(store, ann).golden.fields["company"] == "Acme Holdings"
    page = client.get(f"/golden/{ann}")
    assert "pinned by user:ada" in page.text and "golden.pin" in page.text
    bad = client.post(f"/golden/{ann}/pin", data={"field": "sources", "value": "x", "csrf_token": token})
    assert "cannot pin 'sources'" in flash_text(bad.text)
    client.post(f"/golden/{ann}/unpin", data={"field": "company", "csrf_token": token})
    assert show_golden(store, ann).golden.fields["company"] != "Acme Holdings"

    item = next(i for i in list_suggestions(store) if ann in (i.golden_a, i.golden_b))
    client.post(f"/suggestions/{item.id}/decide", data={"action": "accept", "version": str(item.version),
                                                        "csrf_token": token})
    survivor = golden_of(store, "crm", "1")
    page = client.get(f"/golden/{survivor}")
    change = re.search(r'name="change_id" value="(\d+)"', page.text)
    assert change, "the latest merge is offered for unmerge"
    done = client.post(f"/golden/{survivor}/unmerge", data={"change_id": change.group(1), "csrf_token": token})
    assert "undone" in flash_text(done.text)
    assert golden_of(store, "sheet", "3") != golden_of(store, "crm", "1")

    cy = golden_of(store, "crm", "6")
    confirm = client.get(f"/golden/{cy}/erase")
    assert "cannot be undone" in confirm.text
    refused = client.post(f"/golden/{cy}/erase", data={"confirm": "yes", "csrf_token": token})
    assert "nothing was erased" in flash_text(refused.text)
    with store.session() as session:
        assert cy in load_golden(session)
    erased = client.post(f"/golden/{cy}/erase", data={"confirm": cy, "reason": "ticket 42", "csrf_token": token})
    assert "Erased everywhere: receipt" in flash_text(erased.text)
    with store.session() as session:
        assert cy not in load_golden(session)
    assert client.get("/golden/no-such-id").status_code == 404


def test_dashboard_runs_charts_and_dead_letter_retry(admin: tuple[TestClient, Store, str]) -> None:
    client, store, token = admin
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert page.text.count("<svg") == 3
    assert "review 0.70" in page.text and "auto-merge 0.95" in page.text  # both thresholds drawn
    assert "HTTP 401 from the API" in page.text and "2.5 s" in page.text and "30.0 s" in page.text
    assert "400 INVALID_EMAIL" in page.text and "cy@x.com" not in page.text  # the CRM's error, not the payload
    with store.session() as session:
        letter = dead_letters(session)[0]
    client.post(f"/dead-letters/{letter.id}/retry", data={"csrf_token": token})
    with store.session() as session:
        assert dead_letters(session)[0].retry_requested
        hashes = session.execute(text("SELECT record_hash FROM dead_letters")).scalars()
        assert list(hashes) == [RETRY_MARK]
    assert "retry queued" in client.get("/dashboard").text
    again = client.post("/dead-letters/999/retry", data={"csrf_token": token})
    assert "no unresolved dead letter #999" in flash_text(again.text)


def test_queue_pages_through_many_suggestions(admin: tuple[TestClient, Store, str]) -> None:
    client, store, _ = admin
    page = client.get("/queue", params={"page": "5"})  # past the end: the last page
    assert "page 1 of 1" in page.text


def test_the_queue_page_ranks_and_filters_exactly_like_list_suggestions(admin: tuple[TestClient, Store, str]
                                                                        ) -> None:
    client, store, _ = admin
    with store.session() as session:  # a deleted record no longer counts, nor gives its source
        session.execute(text(
            "UPDATE source_records SET deleted = true WHERE source = 'crm' AND source_record_id = '1'"))
    cases = [{}, {"source": "crm"}, {"source": "web"}, {"min_score": 0.6}, {"max_score": 0.85},
             {"assignee": "-"}, {"status": "deferred"}]
    for params in cases:
        api = client.get("/api/queue", params=params).json()["items"]
        expected = list_suggestions(
            store, statuses=(params.get("status", "pending"),), source=params.get("source"),
            min_score=params.get("min_score"), max_score=params.get("max_score"),
            unassigned=params.get("assignee") == "-")
        assert [(i["id"], i["records"], tuple(i["sources"]), i["priority"]) for i in api] == [
            (i.id, i.records, i.sources, i.priority) for i in expected], params
    assert [i["records"] for i in client.get("/api/queue", params={"source": "sheet"}).json()["items"]] == [2]


def test_retry_makes_the_next_push_plan_send_an_unchanged_dead_letter(admin: tuple[TestClient, Store, str]) -> None:
    from datetime import UTC, datetime

    from mappings import content_hash
    from mappings.outbound import load_outbound, template
    from sync.push.plan import plan_push
    from sync.store import dead_letter

    client, store, token = admin
    spec = load_outbound(template("hubspot_contacts_out"))
    cy = golden_of(store, "crm", "6")
    with store.session() as session:  # refused before, unchanged since: the plan leaves it alone
        payload = spec.render(cy, load_golden(session, [cy])[cy].fields)
        dead_letter(session, "crm-x", cy, record_hash=content_hash(payload), payload=payload,
                    error="400 INVALID_EMAIL", now=datetime.now(UTC))
    row = next(r for r in plan_push(store, "crm-x", spec).rows if r.golden_id == cy)
    assert (row.action, row.how) == ("noop", "dead-lettered")
    with store.session() as session:
        letter = next(d for d in dead_letters(session) if d.destination == "crm-x")
    client.post(f"/dead-letters/{letter.id}/retry", data={"csrf_token": token})
    row = next(r for r in plan_push(store, "crm-x", spec).rows if r.golden_id == cy)
    assert row.action == "create"  # sent again on the next run
    assert "dead_letter.retry" in {e.action for e in audit_entries(store)}
