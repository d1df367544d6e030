"""Factories for the store tests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from sync.store import SourceRecordIn

RecordFactory = Callable[..., SourceRecordIn]


def make_record(record_id: str | int, *, source: str = "sheet", stream: str = "contacts",
                entity: str = "customer", updated: datetime | None = None,
                **fields: Any) -> SourceRecordIn:
    """A source record whose content hash follows its fields."""
    raw = {"id": str(record_id), **fields}
    canonical = {"full_name": fields.get("name"), "emails": fields.get("emails", [])}
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()
    return SourceRecordIn(source=source, stream=stream, source_record_id=str(record_id),
                          entity=entity, raw=raw, canonical=canonical, content_hash=digest,
                          source_updated_at=updated)  # type: ignore[arg-type]


@pytest.fixture
def rec() -> RecordFactory:
    """Build SourceRecordIn values: rec(1, name='Ann')."""
    return make_record
