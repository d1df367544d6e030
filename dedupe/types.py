"""Plain typed records the dedupe stage works on; no ORM rows cross this boundary."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from mappings.canonical import Customer

__all__ = ["Cluster", "GoldenValues", "MatchRecord", "Matcher", "MemberDecision", "Resolution", "Suggestion"]


@dataclass(frozen=True)
class MatchRecord:
    """One source record offered to matching: its store key, canonical form and recency."""

    key: int
    customer: Customer
    seen_at: datetime  # when the store first saw it; recency when the source gives no timestamp

    @property
    def recency(self) -> datetime:
        return self.customer.source_updated_at or self.seen_at


@dataclass(frozen=True, slots=True)  # one per record: slots keep a million of them small
class MemberDecision:
    """Why one record belongs to its cluster: method, score and a sentence a person can read."""

    key: int
    method: str
    score: float
    explanation: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True)
class Suggestion:
    """Two clusters that may be one customer: for a person to decide, with the evidence."""

    cluster_a: int  # indexes into Resolution.clusters
    cluster_b: int
    record_a: int  # the strongest pair of records between them (store keys)
    record_b: int
    probability: float
    reason: str  # 'uncertain' (between the thresholds), 'size cap', 'weak bridge'
    explanation: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Resolution:
    """What matching decided: clusters (every record in exactly one) and merge suggestions."""

    clusters: list[Cluster]
    suggestions: list[Suggestion] = field(default_factory=list)


class Matcher(Protocol):
    """The seam the engine plugs into: records in, clusters and suggestions out."""

    def resolve(self, records: Sequence[MatchRecord],
                cannot_link: Iterable[tuple[int, int]] = ()) -> Resolution: ...
