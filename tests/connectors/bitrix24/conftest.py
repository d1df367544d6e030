"""One Bitrix24 emulator per session, emptied before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.bitrix24.emulator import BitrixEmulator, BitrixSettings


@pytest.fixture(scope="session")
def bitrix_server() -> Iterator[BitrixEmulator]:
    with BitrixEmulator() as server:
        yield server


@pytest.fixture
def bitrix(bitrix_server: BitrixEmulator) -> BitrixEmulator:
    bitrix_server.reset(BitrixSettings(bucket_size=10_000, drain_per_second=1_000))
    return bitrix_server
