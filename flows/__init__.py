"""Prefect flows that run the stages: ingest, match, push, the whole pipeline, reconcile.

Names load on first use, so `flows.server` can start a Prefect server before Prefect is imported.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["PipelineReport", "ingest_flow", "match_flow", "pipeline_flow", "progress_sink", "push_flow",
           "reconcile_flow"]

_WHERE = {"PipelineReport": "flows.pipeline", "ingest_flow": "flows.pipeline", "match_flow": "flows.pipeline",
          "pipeline_flow": "flows.pipeline", "progress_sink": "flows.pipeline", "push_flow": "flows.push",
          "reconcile_flow": "flows.reconcile"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'flows' has no attribute {name!r}")
