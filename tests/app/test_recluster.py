"""`crmsync recluster`: a full re-cluster that keeps golden ids where clusters persist.

Real probabilistic engine, on SQLite and PostgreSQL (the `store` fixture).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_incremental_match import ingest, links_by_rid, population  # same folder: shared test data
from typer.testing import CliRunner

from crmsync.cli import app
from dedupe.engine import MatchSettings, ProbabilisticMatcher
from sync.match import match_store
from sync.store import Store, add_cannot_link, load_customer_records, load_golden, read_audit, set_pin

NO_EMAIL = ["given_name", "family_name", "phone", "city"]  # a settings change: e-mails no longer count
TWINS = [f"web:p{i}-web" for i in range(0, 400, 10)]  # share only name and e-mail with crm:p<i>


@pytest.fixture
def matched(store: Store) -> Store:
    ingest(store, population())
    match_store(store, ProbabilisticMatcher())
    return store


def _moves(store: Store) -> list:
    with store.session() as session:
        return [e for e in read_audit(session) if e.action == "link.move"]


def test_dry_run_counts_the_changes_and_writes_nothing(matched: Store) -> None:
    before = links_by_rid(matched)
    assert all(before[t] == before[t.replace("web:", "crm:").removesuffix("-web")] for t in TWINS)
    report = match_store(matched, ProbabilisticMatcher(MatchSettings(comparisons=NO_EMAIL)), full=True,
                         dry_run=True)
    assert report.dry_run and report.records_moved == len(TWINS) and report.golden_new == len(TWINS)
    assert links_by_rid(matched) == before and _moves(matched) == []


def test_recluster_keeps_ids_of_persisting_clusters_and_audits_every_move(matched: Store) -> None:
    before = links_by_rid(matched)
    report = match_store(matched, ProbabilisticMatcher(MatchSettings(comparisons=NO_EMAIL)), full=True)
    after = links_by_rid(matched)
    assert report.mode == "full" and report.records_moved == len(TWINS)
    assert {k: v for k, v in after.items() if k not in TWINS} == {k: v for k, v in before.items() if k not in TWINS}
    assert all(after[t] != before[t] for t in TWINS)  # each twin split off into a golden record of its own
    moves = _moves(matched)
    assert len(moves) == len(TWINS)
    assert {m.before["golden_id"] for m in moves} == {before[t] for t in TWINS}
    # the next ordinary run goes on incrementally with the new settings
    assert match_store(matched, ProbabilisticMatcher(MatchSettings(comparisons=NO_EMAIL))).mode == "incremental"


def test_recluster_respects_cannot_links_and_pins(matched: Store) -> None:
    before = links_by_rid(matched)
    with matched.session() as session:
        pk = {f"{r.source}:{r.source_record_id}": r.pk for r in load_customer_records(session)}
        add_cannot_link(session, pk["crm:p50"], pk["web:p50-web"], reason="different people", created_by="user:ann",
                        now=datetime.now(UTC))
        set_pin(session, before["crm:p60"], "company", "Pinned Ltd", by="user:ann", now=datetime.now(UTC))
    match_store(matched, ProbabilisticMatcher(), full=True)
    after = links_by_rid(matched)
    assert after["crm:p50"] == before["crm:p50"] and after["web:p50-web"] != before["crm:p50"]
    assert after["crm:p60"] == after["web:p60-web"] == before["crm:p60"]
    with matched.session() as session:
        assert load_golden(session, [before["crm:p60"]])[before["crm:p60"]].fields["company"] == "Pinned Ltd"


def test_recluster_verb(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRMSYNC_DATABASE_URL", raising=False)
    config = tmp_path / "crmsync.yaml"
    config.write_text(f"name: t\nstore: {{url: '{store_url}'}}\nmatch: {{comparisons: {NO_EMAIL}}}\n",
                      encoding="utf-8")
    from sync.store import open_store

    store = open_store(store_url)
    try:
        ingest(store, population())
        match_store(store, ProbabilisticMatcher())
        before = links_by_rid(store)
        runner = CliRunner()
        dry = runner.invoke(app, ["recluster", "--dry-run", "-c", str(config)])
        assert dry.exit_code == 0, dry.output
        assert f"move {len(TWINS)} source records; nothing was written" in dry.output
        assert links_by_rid(store) == before
        done = runner.invoke(app, ["recluster", "-c", str(config)])
        assert done.exit_code == 0, done.output
        assert f"{len(TWINS)} source records moved" in done.output
        assert sum(links_by_rid(store)[t] != before[t] for t in TWINS) == len(TWINS)
    finally:
        store.dispose()
