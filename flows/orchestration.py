"""What Prefect adds around the stages: retries of transient errors only, timeouts, one concurrency
limit per CRM account, a pipeline that never overlaps itself, and alerts when a run fails.

Limits are Prefect *global concurrency limits* (server side, with leases that expire when the holder
dies), so they hold across processes and machines as long as they share one Prefect API.
Their names carry a digest of the account, never a credential.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from crmsync.config import AlertsConfig, ConfigError, DestinationConfig, Project, SourceConfig, load_project
from sync.push.budgets import account_key
from sync.push.retries import Action, ApiError, TransportError, decide
from sync.redaction import redact

__all__ = [
    "FAILURE_HOOKS",
    "account_limit",
    "account_slot",
    "destination_limit",
    "source_limit",
    "alert_payload",
    "alert_text",
    "alert_title",
    "is_transient",
    "notify_failure",
    "on_flow_failure",
    "pipeline_limit",
    "pipeline_slot",
    "retry_on_transient",
    "send_alert",
    "stage_options",
]

log = logging.getLogger(__name__)

SKIP_WAIT_SECONDS = 2.0  # `overlap: skip` still waits this long, so a run just finishing is not skipped
LEASE_SECONDS = 60.0  # a holder that dies (kill -9) frees its slot within this
_LOCAL_CONNECTORS = frozenset({"files", "webforms", "asterisk"})  # no remote account, no rate limit
_CREDENTIAL_KEYS = ("token", "api_key", "auth_token", "access_token", "secret", "webhook_url")
_ensured: set[tuple[str, str, int]] = set()


def is_transient(error: BaseException) -> bool:
    """The push engine's table, applied to an error that escaped a stage: only WAIT and BACK_OFF retry."""
    if isinstance(error, ApiError | TransportError):
        return decide(error) in (Action.WAIT, Action.BACK_OFF)
    if isinstance(error, DBAPIError):  # the store's connection dropped (PostgreSQL restart, network)
        return bool(error.connection_invalidated)
    return isinstance(error, PoolTimeout | ConnectionError)


def retry_on_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect `retry_condition_fn`: retry the task only when it failed with a transient error."""
    try:
        state.result()
    except Exception as error:  # noqa: BLE001 - the state re-raises whatever the task raised
        transient = is_transient(error)
        log.info("task run %s failed with %s: %s", task_run.id, type(error).__name__,
                 "transient, retrying" if transient else "terminal, not retrying")
        return transient
    return False


def stage_options(project: Project) -> dict[str, Any]:
    """Task options from `orchestration:`: retries of transient errors, their delay, the timeout."""
    settings = project.orchestration
    return dict(retries=settings.retries, retry_delay_seconds=settings.retry_delay_seconds,
                retry_condition_fn=retry_on_transient, timeout_seconds=settings.task_timeout_seconds)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def account_limit(connector: str, base_url: str | None, credential: str | None, account: str | None) -> str:
    """The global concurrency limit's name for one CRM account (connector, URL, credential digest)."""
    key = account_key(connector, base_url or "default", credential, account)
    return f"crmsync-account-{connector}-{_digest(key)}"


def destination_limit(destination: DestinationConfig) -> str:
    token = destination.token.get_secret_value() if destination.token else None
    return account_limit(destination.connector, destination.base_url, token, destination.account)


def source_limit(source: SourceConfig) -> str | None:
    """The account limit a source reads under; None for local files and webhooks."""
    if source.connector in _LOCAL_CONNECTORS:
        return None
    credential = next((str(source.config[k]) for k in _CREDENTIAL_KEYS if source.config.get(k)), None)
    return account_limit(source.connector, source.config.get("base_url"), credential,
                         source.config.get("account"))


def pipeline_limit(project: Project) -> str:
    """One pipeline at a time per project and store (the digest hides the store URL's password)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", project.name.lower()).strip("-") or "project"
    return f"crmsync-pipeline-{slug}-{_digest(project.name + '|' + project.database_url())}"


def _ensure_limit(name: str, limit: int) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    key = (str(PREFECT_API_URL.value()), name, limit)
    if key in _ensured:
        return
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(name, limit)
    _ensured.add(key)


def _slot(name: str, limit: int, timeout: float | None) -> ExitStack | None:
    from prefect.concurrency.sync import concurrency

    _ensure_limit(name, limit)
    stack = ExitStack()
    try:
        stack.enter_context(concurrency(name, occupy=1, timeout_seconds=timeout, strict=True,
                                        lease_duration=LEASE_SECONDS))
    except TimeoutError:
        return None
    return stack


HEAL_CHECK_SECONDS = 30.0  # `overlap: wait` looks this often whether the holder is still alive


def pipeline_slot(project: Project, holder_alive: Callable[[], bool] | None = None) -> ExitStack | None:
    """Hold the project's pipeline slot (`with slot:`); None when `overlap: skip` and another run holds it.

    A run killed while it held the slot on a temporary Prefect server leaves the slot taken (its lease
    died with that server). `holder_alive` says whether any run of this pipeline is really going; when
    none is, the slot is freed and taken again.
    """
    name = pipeline_limit(project)
    wait = project.orchestration.pipeline.overlap == "wait"
    while True:
        slot = _slot(name, 1, HEAL_CHECK_SECONDS if wait else SKIP_WAIT_SECONDS)
        if slot is not None:
            return slot
        if holder_alive is not None and not holder_alive():
            log.warning("pipeline slot %s was held by no live run (a run killed with its temporary Prefect "
                        "server); freeing it", name)
            _free_slots(name)
            continue
        if not wait:
            return None


def _free_slots(name: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    with get_client(sync_client=True) as client:
        client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(active_slots=0))


def account_slot(name: str | None, project: Project) -> ExitStack:
    """Wait for a slot of a CRM account's limit (an empty context for local sources)."""
    if name is None:
        return ExitStack()
    stack = _slot(name, project.orchestration.account_concurrency, None)
    assert stack is not None  # no timeout: it waits
    return stack


def alert_payload(project: str, flow_name: str, flow_run_id: str | None, flow_run_name: str | None,
                  state: str, message: str, failed: list[str] | None = None) -> dict[str, Any]:
    """The JSON an alert carries: what failed and where to look, never records or secrets."""
    return {"event": "crmsync.run.failed", "project": project, "flow": flow_name, "flow_run_id": flow_run_id,
            "flow_run_name": flow_run_name, "state": state, "message": redact(message)[:2000],
            "failed": failed or [], "at": datetime.now(UTC).isoformat()}


def alert_title(payload: dict[str, Any]) -> str:
    return f"crmsync: {payload['flow']} {str(payload['state']).lower()} ({payload['project']})"


def alert_text(payload: dict[str, Any]) -> str:
    """The alert as plain text, for e-mail and chat: what failed and which flow run to look at."""
    lines = [payload["message"] or alert_title(payload), "",
             f"project: {payload['project']}", f"flow: {payload['flow']}",
             f"flow run: {payload.get('flow_run_name') or '?'} ({payload.get('flow_run_id') or 'no id'})",
             f"state: {payload['state']}", f"at: {payload['at']}"]
    if payload.get("failed"):
        lines.append("failed: " + ", ".join(payload["failed"]))
    return "\n".join(lines)


def send_alert(alerts: AlertsConfig, payload: dict[str, Any]) -> bool:
    """POST the payload to the webhook and notify apprise URLs; True when every channel took it."""
    delivered = True
    if alerts.webhook:
        try:
            response = requests.post(alerts.webhook, json=payload, timeout=alerts.timeout_seconds)
            response.raise_for_status()
        except requests.RequestException as exc:
            delivered = False
            log.warning("alert webhook did not take the alert for flow run %s: %s", payload.get("flow_run_id"),
                        redact(f"{type(exc).__name__}: {exc}").replace(alerts.webhook, "<webhook>"))
    if alerts.apprise:
        import apprise

        notifier = apprise.Apprise()
        for url in alerts.apprise:
            notifier.add(url)
        if not notifier.notify(title=alert_title(payload), body=alert_text(payload),
                               notify_type=apprise.NotifyType.FAILURE):
            delivered = False
            log.warning("apprise could not deliver the alert for flow run %s", payload.get("flow_run_id"))
    return delivered


def notify_failure(project: Project, flow_name: str, state: str, message: str,
                   failed: list[str] | None = None) -> bool:
    """Alert about the current flow run (a run that ended with failed sources or destinations)."""
    from prefect.runtime import flow_run

    alerts = project.orchestration.alerts
    if not alerts.webhook and not alerts.apprise:
        return False
    run_id = flow_run.get_id()
    return send_alert(alerts, alert_payload(project.name, flow_name, str(run_id) if run_id else None,
                                            flow_run.get_name(), state, message, failed))


def on_flow_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect on_failure/on_crashed hook: alert with the state's message (redacted)."""
    config_path = (flow_run.parameters or {}).get("config_path")
    if not config_path:
        return
    try:
        project = load_project(Path(config_path))
    except ConfigError as exc:
        log.warning("flow run %s failed and its project could not be read for the alert: %s", flow_run.id, exc)
        return
    alerts = project.orchestration.alerts
    if alerts.webhook or alerts.apprise:
        send_alert(alerts, alert_payload(project.name, flow.name, str(flow_run.id), flow_run.name,
                                         state.name, state.message or ""))


FAILURE_HOOKS: list[Callable[..., None]] = [on_flow_failure]
