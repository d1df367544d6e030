from __future__ import annotations

from tests.connectors.hubspot.emulator_fixtures import hubspot, hubspot_server  # noqa: F401  (fixtures)
