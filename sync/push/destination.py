"""What the push engine needs from a CRM writer, and how it finds one (`connectors/<name>/destination.py`).

The engine knows golden records and no CRM; a writer knows its CRM and no golden records. They
meet in these types: an `OutboundItem` (a key, the remote id if known, the CRM fields to write)
goes out, an outcome per item comes back.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "Delivered",
    "Destination",
    "DestinationSettings",
    "Missing",
    "Outcome",
    "OutboundItem",
    "RateLimitSettings",
    "Rejected",
    "available_destinations",
    "load_destination",
]

_CONNECTORS = Path(__file__).resolve().parents[2] / "connectors"


class RateLimitSettings(BaseModel):
    """The account's limits as configured; the CRM's rate-limit headers refine them at run time."""

    model_config = ConfigDict(extra="forbid")

    max_requests: int = Field(100, ge=1, description="requests allowed per interval")
    interval_seconds: float = Field(10.0, gt=0)
    daily: int | None = Field(None, ge=1, description="requests allowed per day (None: unknown)")


class DestinationSettings(BaseModel):
    """One destination CRM account: where it is, how to authenticate, how to push to it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    connector: str
    enabled: bool = True
    base_url: str | None = Field(None, description="API root; the connector's public API when unset")
    token: SecretStr | None = Field(None, description='write "${ENV_VAR}"; never the token itself')
    object: str = "contacts"
    batch_size: int | None = Field(None, ge=1, description="inputs per call; the API's maximum when unset")
    workers: int = Field(2, ge=1, le=16, description="batches in flight at once (the rate budget still rules)")
    merge: Literal["api", "archive"] = Field(
        "api", description="'api': the CRM's merge call; 'archive': update the survivor, archive the other")
    on_retired: Literal["keep", "archive"] = Field(
        "keep", description="a golden record whose sources are all gone: keep its CRM record, or archive it")
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    account: str | None = Field(None, description="share one rate budget between entries naming the same account")
    timeout_seconds: float = Field(30.0, gt=0)
    options: dict[str, Any] = Field(default_factory=dict, description="connector-specific settings")


@dataclass(frozen=True)
class OutboundItem:
    """One record to write: `key` is the golden id (also the CRM's external id for it)."""

    key: str
    properties: dict[str, Any]
    remote_id: str | None = None


@dataclass(frozen=True)
class Delivered:
    key: str
    remote_id: str
    created: bool = False


@dataclass(frozen=True)
class Rejected:
    """The CRM refused this record for good (validation, conflict): it goes to dead letters."""

    key: str
    message: str
    category: str | None = None


@dataclass(frozen=True)
class Missing:
    """The remote record an update aimed at no longer exists (deleted or merged away in the CRM)."""

    key: str
    remote_id: str


Outcome = Delivered | Rejected | Missing


@dataclass
class WriterStats:
    """Requests a writer made, for the run's counts."""

    requests: int = 0
    rate_limited: int = 0
    retried: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


class Destination(Protocol):
    """A CRM writer. Calls raise sync.push.retries errors for what is not per-record.

    `create` must never make a second remote record for a key that already has one: it looks
    up (by e-mail, by external id) before it creates, so the engine may call it again after a
    crash or an AmbiguousWrite.

    Optional: `unique_fields` (CRM fields that must be unique per record, e.g. ("email",): the
    plan rejects two golden records claiming one value) and `create_lane(item) -> str` (creates
    are batched per lane when the writer creates different records different ways).
    """

    batch_size: int
    supports_merge: bool
    stats: WriterStats

    def prepare(self, fields: Sequence[str]) -> None:
        """Check the account and the fields the mapping writes; create what the writer needs."""

    def create(self, items: Sequence[OutboundItem]) -> list[Outcome]: ...

    def update(self, items: Sequence[OutboundItem]) -> list[Outcome]: ...

    def merge(self, primary_remote_id: str, other_remote_id: str) -> str:
        """Merge `other` into `primary` (idempotent); returns the surviving remote id."""

    def archive(self, remote_ids: Sequence[str]) -> None: ...

    def erase(self, remote_ids: Sequence[str]) -> None:
        """Delete for good (a GDPR erasure); an id that is already gone is not an error."""

    def close(self) -> None: ...


def available_destinations() -> list[str]:
    """Connector folders that have a destination writer."""
    return sorted(p.parent.name for p in _CONNECTORS.glob("*/destination.py"))


def load_destination(settings: DestinationSettings) -> Destination:
    """`connectors.<connector>.destination.open_destination(settings)`, with a clear error if there is none."""
    if settings.connector not in available_destinations():
        raise LookupError(f"destination {settings.name!r}: connector {settings.connector!r} has no destination "
                          f"writer; available: {', '.join(available_destinations()) or 'none'}")
    module = importlib.import_module(f"connectors.{settings.connector}.destination")
    destination: Destination = module.open_destination(settings)
    return destination
