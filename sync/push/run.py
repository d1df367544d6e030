"""The push stage as the CLI and the flows call it: plan only, or plan and apply inside a recorded run."""

from __future__ import annotations

import logging
from dataclasses import asdict

from mappings.outbound import OutboundSpec
from sync.push.apply import PushReport, apply_plan
from sync.push.budgets import BudgetExhausted
from sync.push.destination import Destination, DestinationSettings, load_destination
from sync.push.plan import Plan, plan_push
from sync.push.retries import ApiError, TransportError
from sync.redaction import redact
from sync.runs import recorded_run
from sync.store import Store

__all__ = ["plan_destination", "push_destination"]

log = logging.getLogger(__name__)


def _plan(store: Store, settings: DestinationSettings, spec: OutboundSpec, destination: Destination) -> Plan:
    return plan_push(store, settings.name, spec, merge_mode=settings.merge if destination.supports_merge
                     else "archive", on_retired=settings.on_retired,
                     unique_fields=getattr(destination, "unique_fields", ()))


def plan_destination(store: Store, settings: DestinationSettings, spec: OutboundSpec) -> Plan:
    """What a push would do, from the store alone: no CRM call, no write anywhere."""
    destination = load_destination(settings)
    try:
        return _plan(store, settings, spec, destination)
    finally:
        destination.close()


def push_destination(store: Store, settings: DestinationSettings, spec: OutboundSpec, *,
                     orchestrator_run_id: str | None = None, destination: Destination | None = None) -> PushReport:
    """Plan and apply one destination in a recorded sync run ('push', destination name)."""
    with recorded_run(store, "push", settings.name, orchestrator_run_id) as run:
        writer = destination or load_destination(settings)
        try:
            writer.prepare(spec.targets)
        except (ValueError, ApiError, TransportError, BudgetExhausted) as exc:
            report = PushReport(settings.name, error=redact(f"destination {settings.name!r} is not ready: {exc}"))
        else:
            plan = _plan(store, settings, spec, writer)
            report = apply_plan(store, writer, plan, run_id=run.run_id, workers=settings.workers)
        finally:
            if destination is None:
                writer.close()
        run.counts = {k: v for k, v in asdict(report).items() if k not in ("problems", "destination")}
        run.error = report.error
    log.info("push %s: %d created, %d linked, %d updated, %d merged, %d dead-lettered, %d unchanged in %.1fs "
             "(%d requests, %d answered 429)", settings.name, report.created, report.linked, report.updated,
             report.merged, report.dead_lettered, report.unchanged, report.seconds, report.requests,
             report.rate_limited)
    return report
