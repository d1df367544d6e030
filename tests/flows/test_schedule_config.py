"""Schedules, overlap and alerts in crmsync.yaml: validated on load, errors name the file, the key and the fix."""

from __future__ import annotations

import pytest

from crmsync.config import ConfigError, load_project
from flows.deployments import planned_deployments
from tests.flows.helpers import write_project


@pytest.mark.parametrize(("orchestration", "expected"), [
    ("pipeline: {schedule: {cron: '61 * * * *'}}",
     "orchestration.pipeline.schedule.cron: '61 * * * *' is not a cron expression"),
    ("pipeline: {schedule: {interval: soon}}",
     "orchestration.pipeline.schedule.interval: 'soon' is not a duration; write seconds (300) or 90s, 15m"),
    ("pipeline: {schedule: {interval: 0}}", "interval must be positive"),
    ("pipeline: {schedule: {interval: 60, cron: '* * * * *'}}", "give exactly one of `cron`"),
    ("pipeline: {schedule: {timezone: UTC}}", "give exactly one of `cron`"),
    ("pipeline: {schedule: {interval: 60, timezone: Mars/Olympus}}",
     "orchestration.pipeline.schedule.timezone: unknown time zone 'Mars/Olympus'; use an IANA name"),
    ("pipeline: {overlap: queue}", "orchestration.pipeline.overlap: Input should be 'wait' or 'skip'"),
    ("pipeline: {schedule: {every: 60}}", "orchestration.pipeline.schedule.every: unknown key"),
    ("alerts: {webhook: 'ftp://example.org/x'}", "orchestration.alerts.webhook: the webhook must be an http"),
    ("retries: -1", "orchestration.retries: Input should be greater than or equal to 0"),
])
def test_bad_orchestration_settings_fail_with_the_key_and_the_fix(tmp_path, orchestration, expected):
    path = write_project(tmp_path, orchestration)
    with pytest.raises(ConfigError) as caught:
        load_project(path)
    assert str(caught.value).startswith("crmsync.yaml: ")
    assert expected in str(caught.value)


def test_a_source_schedule_error_names_the_source_entry(tmp_path):
    path = write_project(tmp_path)
    text = path.read_text().replace("    streams: {web: customers.yaml}",
                                    "    streams: {web: customers.yaml}\n    schedule: {cron: 'every day'}")
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"sources\.0\.schedule\.cron: 'every day' is not a cron expression"):
        load_project(path)


def test_valid_schedules_become_one_deployment_each(tmp_path):
    path = write_project(tmp_path, """
pipeline: {schedule: {interval: 15m, timezone: Europe/Moscow}, overlap: wait}
reconcile: {schedule: {cron: '0 3 * * *'}}
""", sources=("web", "sheet"))
    path.write_text(path.read_text().replace(
        "    streams: {sheet: customers.yaml}", "    streams: {sheet: customers.yaml}\n    schedule: {interval: 90s}"))
    project = load_project(path)
    planned = {(p.flow, p.name): p for p in planned_deployments(project, path)}
    assert set(planned) == {("pipeline", "flows-test"), ("reconcile", "flows-test"), ("ingest", "flows-test-sheet")}
    pipeline = planned["pipeline", "flows-test"]
    assert (pipeline.schedule.interval, pipeline.schedule.timezone, pipeline.overlap) == (900, "Europe/Moscow", "wait")
    assert pipeline.parameters == {"config_path": str(path.resolve())}
    assert planned["reconcile", "flows-test"].schedule.cron == "0 3 * * *"
    assert planned["ingest", "flows-test-sheet"].parameters["source_name"] == "sheet"
    assert planned["ingest", "flows-test-sheet"].schedule.interval == 90
    assert project.orchestration.pipeline.overlap == "wait"


def test_no_orchestration_section_means_no_schedules_and_safe_defaults(tmp_path):
    path = write_project(tmp_path)
    project = load_project(path)
    assert planned_deployments(project, path) == []
    assert project.orchestration.pipeline.overlap == "skip"
    assert project.orchestration.retries >= 1 and project.orchestration.task_timeout_seconds > 0
