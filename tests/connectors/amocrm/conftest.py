"""One amoCRM emulator per test session, emptied before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.amocrm.emulator import AmoEmulator

TOKEN = "amo-test-token-5f1c"


@pytest.fixture(scope="session")
def amo_server() -> Iterator[AmoEmulator]:
    with AmoEmulator(TOKEN) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def amo(amo_server: AmoEmulator) -> AmoEmulator:
    amo_server.reset(token=TOKEN)
    return amo_server
