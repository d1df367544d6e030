from __future__ import annotations

from tests.hubspot_emulator import hubspot, hubspot_server  # noqa: F401  (fixtures)
