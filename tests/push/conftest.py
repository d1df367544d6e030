"""Push tests: a store per backend, the HubSpot emulator, and golden records seeded straight into the store."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from mappings import content_hash
from mappings.outbound import OutboundSpec, load_outbound, template
from sync.push.budgets import forget_budgets
from sync.push.destination import DestinationSettings, RateLimitSettings
from sync.store import Store, save_golden
from tests.hubspot_emulator import TOKEN, hubspot, hubspot_server  # noqa: F401  (fixtures)

Seeder = Callable[..., list[str]]


def person(i: int, **overrides: Any) -> dict[str, Any]:
    """Golden record fields for person number i."""
    fields: dict[str, Any] = {
        "full_name": f"Person{i} Example", "given_name": f"Person{i}", "family_name": "Example",
        "emails": [f"p{i}@example.test"], "phones": [f"+1415555{i:04d}"], "company": f"Firm {i % 7}",
        "job_title": None, "address": {"city": "Springfield"}, "consent": {}, "custom": {}, "tags": [],
        "birth_date": None, "locale": None, "patronymic": None, "sources": ["sheet"]}
    fields.update(overrides)
    return fields


def seed_golden(store: Store, records: list[dict[str, Any]], ids: list[str] | None = None) -> list[str]:
    """Write golden records as the match stage would; returns their ids."""
    ids = ids or [str(uuid.uuid4()) for _ in records]
    now = datetime.now(UTC)
    with store.session() as session:
        for golden_id, fields in zip(ids, records, strict=True):
            save_golden(session, golden_id, fields=fields, provenance={}, content_hash=content_hash(fields), now=now)
    return ids


@pytest.fixture
def seed(store: Store) -> Seeder:
    return lambda records, ids=None: seed_golden(store, records, ids)


@pytest.fixture
def spec() -> OutboundSpec:
    return load_outbound(template("hubspot_contacts_out"))


@pytest.fixture
def settings(hubspot) -> Iterator[DestinationSettings]:  # noqa: F811
    forget_budgets()
    yield DestinationSettings(
        name="hubspot", connector="hubspot", base_url=hubspot.url, token=SecretStr(TOKEN), workers=2,
        rate_limit=RateLimitSettings(max_requests=100, interval_seconds=10),
        timeout_seconds=2.0, options={"retry": {"attempts": 12, "backoff_base": 0.02, "backoff_cap": 0.3}})
    forget_budgets()
