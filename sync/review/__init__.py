"""The review API: what admins do to golden records, for the CLI now and the web app later.

List and decide merge suggestions, merge and unmerge by hand, pin values, read a golden
record's story, export the audit log. Every change is audited; decisions are safe to race.
"""

from __future__ import annotations

from sync.review.common import ReviewError, user_actor
from sync.review.decisions import (
    BulkPreview,
    BulkResult,
    RejectOutcome,
    accept,
    assign,
    bulk_accept,
    defer,
    preview_bulk_accept,
    reject,
)
from sync.review.erasure import ErasurePreview, ErasureResult, erase, preview_erasure
from sync.review.golden import GoldenView, merge, parse_record_ref, pin, show_golden, split, unmerge, unpin
from sync.review.merging import MergeOutcome, SplitOutcome, UnmergeOutcome
from sync.review.queue import EvidenceRow, FieldRow, QueueItem, SuggestionDetail, get_suggestion, list_suggestions
from sync.store import ConflictError, NotFoundError

__all__ = [
    "BulkPreview",
    "BulkResult",
    "ConflictError",
    "ErasurePreview",
    "ErasureResult",
    "EvidenceRow",
    "FieldRow",
    "GoldenView",
    "MergeOutcome",
    "NotFoundError",
    "QueueItem",
    "RejectOutcome",
    "ReviewError",
    "SplitOutcome",
    "SuggestionDetail",
    "UnmergeOutcome",
    "accept",
    "assign",
    "bulk_accept",
    "defer",
    "erase",
    "get_suggestion",
    "list_suggestions",
    "merge",
    "parse_record_ref",
    "pin",
    "preview_bulk_accept",
    "preview_erasure",
    "reject",
    "show_golden",
    "split",
    "unmerge",
    "unpin",
    "user_actor",
]
