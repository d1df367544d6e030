"""Plain typed records that go in and out of the store; no ORM rows leave the package."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

import orjson

__all__ = [
    "AuditEntry",
    "EncodedSourceRecordIn",
    "Entity",
    "GoldenRow",
    "InteractionIndexIn",
    "LinkIn",
    "QuarantineIn",
    "QuarantineRow",
    "RunRow",
    "RunStatus",
    "SaveResult",
    "SourceKey",
    "SourceRecordIn",
    "StoredCustomer",
    "UpsertCounts",
]

Entity = Literal["customer", "interaction"]
RunStatus = Literal["running", "completed", "failed", "crashed"]
SaveResult = Literal["new", "changed", "unchanged"]
SourceKey = tuple[str, str, str]
"""(source, stream, source_record_id): the natural key of a source record."""


@dataclass(frozen=True)
class SourceRecordIn:
    """One record read from a source, mapped and hashed, ready to be stored."""

    source: str
    stream: str
    source_record_id: str
    entity: Entity
    raw: dict[str, Any]
    canonical: dict[str, Any]
    content_hash: str
    source_updated_at: datetime | None = None

    @property
    def key(self) -> SourceKey:
        return (self.source, self.stream, self.source_record_id)


@dataclass(frozen=True, slots=True)
class EncodedSourceRecordIn:
    """A SourceRecordIn whose raw and canonical are JSON text already: what a mapping process sends.

    New records are written with the text as it is; ``raw`` and ``canonical`` decode it for
    the rest (updates, PostgreSQL, the interaction index).
    """

    source: str
    stream: str
    source_record_id: str
    entity: Entity
    raw_json: str
    canonical_json: str
    content_hash: str
    source_updated_at: datetime | None = None

    @property
    def key(self) -> SourceKey:
        return (self.source, self.stream, self.source_record_id)

    @property
    def raw(self) -> dict[str, Any]:
        return cast(dict[str, Any], orjson.loads(self.raw_json))

    @property
    def canonical(self) -> dict[str, Any]:
        return cast(dict[str, Any], orjson.loads(self.canonical_json))


@dataclass(frozen=True)
class UpsertCounts:
    """What one upsert batch did; every distinct record is counted exactly once.

    `restored` counts deleted records that came back (whether or not their content
    changed). `pks` maps each key of the batch to its source record id.
    """

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    restored: int = 0
    pks: Mapping[SourceKey, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def total(self) -> int:
        return self.new + self.changed + self.unchanged + self.restored


@dataclass(frozen=True)
class QuarantineIn:
    """A source row that could not be mapped, with the reason a person can act on."""

    source: str
    stream: str
    row_key: str
    row_number: int | None
    file: str | None
    field: str | None
    reason: str
    raw: dict[str, Any]


@dataclass(frozen=True)
class QuarantineRow:
    """An unresolved quarantined row as stored."""

    id: int
    source: str
    stream: str
    row_key: str
    row_number: int | None
    file: str | None
    field: str | None
    reason: str
    raw: dict[str, Any]
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class InteractionIndexIn:
    """The searchable part of an interaction source record (a call, a form submission)."""

    source_record_pk: int
    kind: str
    occurred_at: datetime | None
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    reason: str | None
    run_id: str | None


@dataclass(frozen=True)
class RunRow:
    """One sync run: what ran, how it ended and what it counted."""

    id: str
    flow: str
    target: str | None
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, Any]
    error: str | None
    orchestrator_run_id: str | None

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class StoredCustomer:
    """A live customer source record as matching sees it."""

    pk: int
    source: str
    stream: str
    source_record_id: str
    canonical: dict[str, Any]
    source_updated_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class GoldenRow:
    """A golden record as stored."""

    id: str
    status: Literal["active", "retired"]
    fields: dict[str, Any]
    provenance: dict[str, Any]
    content_hash: str
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class LinkIn:
    """The decision that a source record belongs to a golden record."""

    source_record_pk: int
    golden_id: str
    score: float
    method: str
    explanation: Any = None
    decided_by: str = "system"
