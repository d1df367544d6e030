"""Alerts through apprise: a JSON notification to a local HTTP receiver and an e-mail to a local SMTP
server, both from a real failing flow run; an unreachable channel is reported, never raised."""

from __future__ import annotations

import email
import logging
from email.policy import default as email_policy

import pytest

import flows.pipeline
from crmsync.config import AlertsConfig
from flows import pipeline_flow
from flows.orchestration import alert_payload, send_alert
from sync.push.retries import ApiError
from tests.flows.helpers import write_project
from tests.flows.test_retries_and_alerts import FailingFirst

pytestmark = pytest.mark.prefect


def _body(message: bytes) -> str:
    parsed = email.message_from_bytes(message, policy=email_policy)
    return parsed["Subject"] + "\n" + parsed.get_body(preferencelist=("plain",)).get_content()


def test_a_terminal_failure_alerts_by_apprise_json_and_by_email(tmp_path, prefect_api, monkeypatch, receiver, smtp):
    json_url = receiver.url.replace("http://", "json://")
    config = write_project(tmp_path, "retries: 2\nretry_delay_seconds: 0\n"
                                     f"alerts: {{apprise: ['{json_url}', '{smtp.url()}']}}")
    monkeypatch.setattr(flows.pipeline, "ingest_source",
                        FailingFirst(ApiError(400, "property 'emial' does not exist"), times=1))

    state = pipeline_flow(str(config), return_state=True)

    assert state.is_failed()
    [notification] = receiver.bodies
    assert notification["title"] == "crmsync: crmsync-pipeline failed (flows-test)"
    assert notification["type"] == "failure"
    assert "property 'emial' does not exist" in notification["message"]
    assert f"({state.state_details.flow_run_id})" in notification["message"]  # which run to look at
    [(sender, recipients, message)] = smtp.messages
    assert (sender, recipients) == ("crmsync@example.com", ["ops@example.com"])
    text = _body(message)
    assert text.startswith("crmsync: crmsync-pipeline failed (flows-test)\n")
    assert "property 'emial' does not exist" in text and str(state.state_details.flow_run_id) in text
    for sent in (str(notification), text):  # ids and counts, never the records
        assert "ivan@mail.ru" not in sent.lower() and "Ivanov" not in sent


def test_a_completed_run_sends_no_email(tmp_path, prefect_api, smtp):
    config = write_project(tmp_path, f"alerts: {{apprise: ['{smtp.url()}']}}")
    assert pipeline_flow(str(config), return_state=True).is_completed()
    assert smtp.messages == []


def test_an_unreachable_channel_is_logged_and_reported_not_raised(caplog, receiver, smtp):
    payload = alert_payload("p", "crmsync-pipeline", "run-id", "run-name", "Failed", "source web failed", ["source web"])
    dead_smtp = "mailto://127.0.0.1:9?from=crmsync@example.com&to=ops@example.com"
    with caplog.at_level(logging.WARNING, logger="flows.orchestration"):
        assert send_alert(AlertsConfig(apprise=[dead_smtp], timeout_seconds=2), payload) is False
    assert "apprise could not deliver the alert for flow run run-id" in caplog.text
    # the channels that work still get it when one does not
    assert send_alert(AlertsConfig(webhook=receiver.url, apprise=[smtp.url(), dead_smtp]), payload) is False
    assert len(receiver.bodies) == 1 and len(smtp.messages) == 1
