"""Dedupe: match keys, clustering and survivorship of golden records, on plain typed records."""

from __future__ import annotations

from dedupe.baseline import DEFAULT_RULES, BaselineMatcher, name_key
from dedupe.golden import assign_golden_ids, survive
from dedupe.types import Cluster, GoldenValues, Matcher, MatchRecord, MemberDecision, Resolution, Suggestion

__all__ = [
    "DEFAULT_RULES",
    "BaselineMatcher",
    "Cluster",
    "GoldenValues",
    "MatchRecord",
    "Matcher",
    "MemberDecision",
    "Resolution",
    "Suggestion",
    "assign_golden_ids",
    "name_key",
    "survive",
]
