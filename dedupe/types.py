"""Plain typed records the dedupe stage works on; no ORM rows cross this boundary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from mappings.canonical import Customer

__all__ = ["Cluster", "GoldenValues", "MatchRecord", "Matcher", "MemberDecision"]


@dataclass(frozen=True)
class MatchRecord:
    """One source record offered to matching: its store key, canonical form and recency."""

    key: int
    customer: Customer
    seen_at: datetime  # when the store first saw it; recency when the source gives no timestamp

    @property
    def recency(self) -> datetime:
        return self.customer.source_updated_at or self.seen_at


@dataclass(frozen=True)
class MemberDecision:
    """Why one record belongs to its cluster: method, score and a sentence a person can read."""

    key: int
    method: str
    score: float
    explanation: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Cluster:
    """Records judged to be one real customer."""

    members: tuple[MemberDecision, ...]

    @property
    def keys(self) -> tuple[int, ...]:
        return tuple(m.key for m in self.members)


@dataclass(frozen=True)
class GoldenValues:
    """The surviving values of a golden record and, per field, where each came from."""

    fields: dict[str, Any]
    provenance: dict[str, dict[str, Any]]


class Matcher(Protocol):
    """The seam the engine plugs into: records in, clusters out (every record in exactly one)."""

    def match(self, records: Sequence[MatchRecord]) -> list[Cluster]: ...
