"""The reconcile flow reads each source in full and compares its keys with the store: records the store
missed and records deleted at the source are counted and listed by id, never by content."""

from __future__ import annotations

import pytest

from flows import pipeline_flow, reconcile_flow
from tests.flows.helpers import ROWS, write_project

pytestmark = pytest.mark.prefect


def test_reconcile_finds_missed_and_deleted_records_and_alerts(tmp_path, prefect_api, receiver):
    config = write_project(tmp_path, f"alerts: {{webhook: '{receiver.url}'}}", sources=("web", "sheet"))
    pipeline_flow(str(config))
    state = reconcile_flow(str(config), return_state=True)
    assert state.is_completed()
    assert all(d.matches and d.in_source == d.in_store == 4 for d in state.result())
    assert receiver.bodies == []

    # behind the store's back: a row disappears, a new one and an unparseable one appear
    header, first, *rest = ROWS.strip().splitlines()
    (tmp_path / "web.csv").write_text("\n".join([header, *rest, "New Person,new@x.ru,+7 903 111 22 33",
                                                 "Bad Phone,bad@x.ru,call me maybe"]) + "\n")
    pipeline_rows_before = (tmp_path / "web.csv").read_text()
    state = reconcile_flow(str(config), return_state=True)

    diffs = {d.source: d for d in state.result()}
    assert diffs["sheet"].matches
    web = diffs["web"]
    assert (web.in_source, web.in_store, web.missing_in_store, web.gone_from_source) == (5, 4, 2, 1)
    assert len(web.missing_sample) == 2 and len(web.gone_sample) == 1
    [body] = receiver.bodies
    assert body["flow"] == "crmsync-reconcile" and body["failed"] == ["web/web"]
    assert "new@x.ru" not in str(body) and "Ivan" not in str(body)

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(
            any_=[state.state_details.flow_run_id])))
    assert "| web | web | 5 | 4 | 0 | 2 | 1 | differs |" in artifact.data
    assert "| sheet | sheet | 4 | 4 | 0 | 0 | 0 | ok |" in artifact.data
    assert (tmp_path / "web.csv").read_text() == pipeline_rows_before  # read-only

    pipeline_flow(str(config))  # ingest catches up: the bad row is quarantined, the gone one deleted
    diffs = {d.source: d for d in reconcile_flow(str(config))}
    web = diffs["web"]
    assert (web.missing_in_store, web.gone_from_source, web.quarantined) == (0, 0, 1)
