"""Prefect flows that run the stages: ingest, match, export, the whole pipeline."""

from __future__ import annotations

from flows.pipeline import PipelineReport, ingest_flow, match_flow, pipeline_flow, progress_sink

__all__ = ["PipelineReport", "ingest_flow", "match_flow", "pipeline_flow", "progress_sink"]
