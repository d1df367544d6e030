"""Fixtures for the HubSpot emulator: one real server per test session, emptied before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.hubspot.emulator import EmulatorSettings, HubSpotEmulator

TOKEN = "test-token"


@pytest.fixture(scope="session")
def hubspot_server() -> Iterator[HubSpotEmulator]:
    """The emulator's HTTP server on 127.0.0.1, for the whole session."""
    with HubSpotEmulator(EmulatorSettings(tokens=frozenset({TOKEN}))) as server:
        yield server


@pytest.fixture
def hubspot(hubspot_server: HubSpotEmulator) -> HubSpotEmulator:
    """The session's emulator with no objects, counters, faults or spent rate limit."""
    hubspot_server.reset(EmulatorSettings(tokens=frozenset({TOKEN})))
    return hubspot_server
