"""The push stage: plan per destination, apply in batches under a shared rate budget, retry, dead-letter.

`budgets`, `retries` and `destination` are light (connectors import them to talk to their CRM);
the planner and the applier, which need the store, load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync.push.apply import PushReport, apply_plan
    from sync.push.plan import Plan, PlanRow, plan_push
    from sync.push.run import plan_destination, push_destination

__all__ = ["Plan", "PlanRow", "PushReport", "apply_plan", "plan_destination", "plan_push", "push_destination"]

_HOMES = {"PushReport": "apply", "apply_plan": "apply", "Plan": "plan", "PlanRow": "plan", "plan_push": "plan",
          "plan_destination": "run", "push_destination": "run"}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f"sync.push.{_HOMES[name]}"), name)
    raise AttributeError(f"module 'sync.push' has no attribute {name!r}")
