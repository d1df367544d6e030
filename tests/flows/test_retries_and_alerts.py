"""Tasks retry transient errors only; a terminal failure ends Failed and alerts a local webhook."""

from __future__ import annotations

import pytest

import flows.pipeline
from flows import pipeline_flow
from flows.orchestration import is_transient
from sync.ingest import ingest_source
from sync.push.retries import ApiError, AuthError, RateLimited, TransportError
from tests.flows.helpers import write_project

pytestmark = pytest.mark.prefect


class FailingFirst:
    """The real ingest stage, failing its first `times` calls with `error`."""

    def __init__(self, error: BaseException, times: int) -> None:
        self.error, self.times, self.calls = error, times, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls <= self.times:
            raise self.error
        return ingest_source(*args, **kwargs)


@pytest.mark.parametrize(("error", "transient"), [
    (TransportError("reset", "connection reset by peer", sent=True), True),
    (TransportError("timeout", "read timed out", sent=False), True),
    (RateLimited(429, "slow down", retry_after=1.0), True),
    (ApiError(503, "unavailable"), True),
    (RateLimited(429, "daily limit reached", daily=True), False),
    (ApiError(400, "property 'emial' does not exist"), False),
    (AuthError(401, "expired"), False),
    (ValueError("a bug"), False),
    (ConnectionResetError("peer went away"), True),
])
def test_the_retry_condition_follows_the_push_engines_table(error, transient):
    assert is_transient(error) is transient


def test_a_task_failing_transiently_twice_then_succeeding_ends_completed(tmp_path, prefect_api, monkeypatch, receiver):
    config = write_project(tmp_path, f"retries: 3\nretry_delay_seconds: 0\nalerts: {{webhook: '{receiver.url}'}}")
    stage = FailingFirst(TransportError("reset", "connection reset by peer", sent=False), times=2)
    monkeypatch.setattr(flows.pipeline, "ingest_source", stage)

    state = pipeline_flow(str(config), return_state=True)

    assert state.is_completed(), state.message
    report = state.result()
    assert stage.calls == 3
    assert report.ingest[0].streams["web"].read == 4 and not report.failed
    assert receiver.bodies == []  # nothing failed, nobody alerted


def test_transient_errors_past_the_retries_fail_the_run(tmp_path, prefect_api, monkeypatch, receiver):
    config = write_project(tmp_path, f"retries: 1\nretry_delay_seconds: 0\nalerts: {{webhook: '{receiver.url}'}}")
    stage = FailingFirst(ApiError(503, "service unavailable"), times=5)
    monkeypatch.setattr(flows.pipeline, "ingest_source", stage)

    state = pipeline_flow(str(config), return_state=True)

    assert state.is_failed()
    assert stage.calls == 2  # the first try and one retry
    assert [b["state"] for b in receiver.bodies] == ["Failed"]


def test_a_terminal_failure_ends_failed_and_fires_the_alert(tmp_path, prefect_api, monkeypatch, receiver):
    monkeypatch.setenv("ALERT_KEY", "k3y-0f-the-alert-hook")
    config = write_project(tmp_path, "retries: 3\nretry_delay_seconds: 0\n"
                                     f"alerts: {{webhook: '{receiver.url}?key=${{ALERT_KEY}}'}}")
    secret_in_error = ApiError(400, "request with k3y-0f-the-alert-hook refused: property 'emial' does not exist")
    stage = FailingFirst(secret_in_error, times=1)
    monkeypatch.setattr(flows.pipeline, "ingest_source", stage)

    state = pipeline_flow(str(config), return_state=True)

    assert state.is_failed()
    assert stage.calls == 1  # terminal: never retried
    [body] = receiver.bodies
    assert receiver.paths == ["/alerts?key=k3y-0f-the-alert-hook"]
    assert body["event"] == "crmsync.run.failed" and body["flow"] == "crmsync-pipeline"
    assert body["state"] == "Failed" and body["project"] == "flows-test"
    assert body["flow_run_id"] and body["flow_run_name"]
    assert "property 'emial' does not exist" in body["message"]
    assert b"k3y-0f-the-alert-hook" not in receiver.raw[0]  # the hook's own secret is masked in the body


def test_a_source_that_fails_inside_a_completed_run_also_alerts(tmp_path, prefect_api, receiver):
    config = write_project(tmp_path, f"alerts: {{webhook: '{receiver.url}'}}", sources=("web", "gone"))
    (tmp_path / "gone.csv").unlink()

    state = pipeline_flow(str(config), return_state=True)

    report = state.result()
    assert report.failed and report.failures() == ["source gone"]
    [body] = receiver.bodies
    assert body["failed"] == ["source gone"] and body["flow_run_id"] == report.flow_run_id


def test_an_unreachable_webhook_does_not_hide_the_failure(tmp_path, prefect_api, monkeypatch):
    config = write_project(tmp_path, "retry_delay_seconds: 0\nalerts: {webhook: 'http://127.0.0.1:9/alerts', "
                                     "timeout_seconds: 2}")
    monkeypatch.setattr(flows.pipeline, "ingest_source", FailingFirst(ApiError(422, "bad"), times=1))
    state = pipeline_flow(str(config), return_state=True)
    assert state.is_failed()
    with pytest.raises(ApiError, match="bad"):
        state.result()
