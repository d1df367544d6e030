"""Push tests: a store per backend, the HubSpot emulator, and golden records seeded straight into the store."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pydantic import SecretStr

from mappings.outbound import OutboundSpec, load_outbound, template
from sync.push.budgets import forget_budgets
from sync.push.destination import DestinationSettings, RateLimitSettings
from sync.store import Store
from tests.connectors.hubspot.emulator_fixtures import TOKEN, hubspot, hubspot_server  # noqa: F401  (fixtures)
from tests.push.helpers import seed_golden

Seeder = Callable[..., list[str]]


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
