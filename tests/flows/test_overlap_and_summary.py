"""A pipeline never overlaps itself (a second trigger waits or is skipped, as configured); every run
leaves a markdown artifact and a 'pipeline' row in sync_runs; runs that died are marked crashed."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

import flows.pipeline
from flows import pipeline_flow
from sync.ingest import ingest_source
from sync.store import open_store, recent_runs, start_run
from sync.store.models import utcnow
from tests.flows.helpers import write_project

pytestmark = pytest.mark.prefect


class HeldIngest:
    """The real ingest stage; the first call waits (inside the first run) until the test releases it."""

    def __init__(self) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            assert self.release.wait(90), "the test never released the first run"
        return ingest_source(*args, **kwargs)


def run_in_thread(config) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def target() -> None:
        out["state"] = pipeline_flow(str(config), return_state=True)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, out


def pipeline_rows(config):
    from crmsync.config import load_project

    store = open_store(load_project(config).database_url())
    try:
        with store.session() as session:
            return sorted((r for r in recent_runs(session, 100) if r.flow == "pipeline"), key=lambda r: r.started_at)
    finally:
        store.dispose()


def test_overlap_skip_a_second_trigger_is_skipped_while_the_first_runs(tmp_path, prefect_api, monkeypatch):
    config = write_project(tmp_path, "pipeline: {overlap: skip}")
    held = HeldIngest()
    monkeypatch.setattr(flows.pipeline, "ingest_source", held)
    first, out = run_in_thread(config)
    assert held.entered.wait(60)

    second = pipeline_flow(str(config), return_state=True)

    assert second.is_completed()
    report = second.result()
    assert report.skipped and "in progress" in report.skipped and report.ingest == []
    assert held.calls == 1 and first.is_alive()
    held.release.set()
    first.join(60)
    assert out["state"].is_completed() and not out["state"].result().skipped
    assert [r.status for r in pipeline_rows(config)] == ["completed"]  # the skipped trigger did no work
    third = pipeline_flow(str(config), return_state=True).result()  # the slot is free again
    assert not third.skipped and held.calls == 2


def test_overlap_wait_a_second_trigger_runs_after_the_first(tmp_path, prefect_api, monkeypatch):
    config = write_project(tmp_path, "pipeline: {overlap: wait}")
    held = HeldIngest()
    monkeypatch.setattr(flows.pipeline, "ingest_source", held)
    first, first_out = run_in_thread(config)
    assert held.entered.wait(60)
    second, second_out = run_in_thread(config)
    time.sleep(4)
    assert second.is_alive() and held.calls == 1  # waiting for the slot, not running a stage

    held.release.set()
    first.join(60)
    second.join(60)

    assert first_out["state"].is_completed() and second_out["state"].is_completed()
    assert not second_out["state"].result().skipped and held.calls == 2
    rows = pipeline_rows(config)
    assert [r.status for r in rows] == ["completed", "completed"]
    assert rows[1].started_at >= rows[0].finished_at  # never overlapping


def artifacts_of(flow_run_id: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        return client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(
            any_=[flow_run_id])))


def test_each_run_publishes_a_markdown_table_and_a_sync_run_row(tmp_path, prefect_api):
    config = write_project(tmp_path, sources=("web", "sheet"))
    report = pipeline_flow(str(config))
    [artifact] = artifacts_of(report.flow_run_id)
    assert artifact.type == "markdown" and artifact.key == "crmsync-flows-test-pipeline"
    lines = artifact.data.splitlines()
    assert "| | name | read | new | changed | merged | suggested | pushed | failed | status |" in lines
    assert "| source | web | 4 | 4 | 0 | 0 | 0 | 0 | 0 | ok |" in lines
    assert "| source | sheet | 4 | 4 | 0 | 0 | 0 | 0 | 0 | ok |" in lines
    match = report.match
    assert (f"| match | golden records | 8 | {match.golden_new} | 0 | {match.merged_records} | "
            f"{match.suggestions_new} | 0 | 0 | ok |") in lines
    assert match.merged_records >= 2  # the same Ivan in both files (and twice in each)
    assert "ivan@mail.ru" not in artifact.data.lower()  # counts only, never record contents

    [row] = pipeline_rows(config)
    assert row.status == "completed" and row.orchestrator_run_id == report.flow_run_id
    assert row.id == report.sync_run_id and row.id in artifact.data
    by_name = {entry["name"]: entry for entry in row.counts["summary"]}
    assert by_name["web"]["read"] == 4 and by_name["golden records"]["merged"] == match.merged_records

    again = pipeline_flow(str(config))  # unchanged input: nothing new, the table says so
    [second] = artifacts_of(again.flow_run_id)
    assert "| source | web | 4 | 0 | 0 | 0 | 0 | 0 | 0 | ok |" in second.data.splitlines()


def test_runs_that_died_are_marked_crashed_by_the_next_run(tmp_path, prefect_api, store_url):
    config = write_project(tmp_path, "stale_run_minutes: 120", store_url=store_url)
    finished = pipeline_flow(str(config))  # a flow run that has ended, as after kill -9 of its process
    store = open_store(store_url)
    try:
        with store.session() as session:
            orphan = start_run(session, "ingest", "web", finished.flow_run_id)  # row left 'running'
            ancient = start_run(session, "push", "hubspot", None, now=utcnow() - timedelta(hours=3))
            unknown = start_run(session, "match", None, "not-a-prefect-id", now=utcnow() - timedelta(minutes=5))
    finally:
        store.dispose()

    pipeline_flow(str(config))

    store = open_store(store_url)
    try:
        with store.session() as session:
            status = {r.id: (r.status, r.error or "") for r in recent_runs(session, 100)}
    finally:
        store.dispose()
    assert status[orphan][0] == "crashed" and finished.flow_run_id in status[orphan][1]
    assert status[ancient][0] == "crashed" and "still 'running'" in status[ancient][1]
    assert status[unknown][0] == "running"  # young, and its flow run cannot be looked up: left alone


def test_a_slot_left_taken_by_a_killed_run_is_freed_by_the_next_run(tmp_path, prefect_api):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    from crmsync.config import load_project
    from flows.orchestration import pipeline_limit

    config = write_project(tmp_path, "stale_run_minutes: 120\npipeline: {overlap: skip}")
    pipeline_flow(str(config))
    name = pipeline_limit(load_project(config))
    # as after kill -9 of a run on its own temporary server: the slot stays taken, its lease is gone,
    # and its pipeline row says 'running'
    with get_client(sync_client=True) as client:
        client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(active_slots=1))
    store = open_store(load_project(config).database_url())
    try:
        with store.session() as session:
            killed = start_run(session, "pipeline", "flows-test", None, now=utcnow() - timedelta(hours=3))
    finally:
        store.dispose()

    report = pipeline_flow(str(config))

    assert not report.skipped and report.ingest
    statuses = {r.id: r.status for r in pipeline_rows(config)}
    assert statuses[killed] == "crashed" and statuses[report.sync_run_id] == "completed"
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name(name).active_slots == 0  # released after the run
