"""Prefect flows that run the stages: ingest, match, push, the whole pipeline, reconcile."""

from __future__ import annotations

from flows.pipeline import PipelineReport, ingest_flow, match_flow, pipeline_flow, progress_sink
from flows.push import push_flow
from flows.reconcile import reconcile_flow

__all__ = ["PipelineReport", "ingest_flow", "match_flow", "pipeline_flow", "progress_sink", "push_flow",
           "reconcile_flow"]
