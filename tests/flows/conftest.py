"""Fixtures for the Prefect flows: the suite's Prefect server, a webhook receiver and an SMTP inbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.flows.helpers import Receiver, SmtpInbox


@pytest.fixture(scope="session")
def prefect_api(prefect_harness: str) -> str:
    """The suite's one real Prefect server (tests/conftest.py), by the name these tests use."""
    return prefect_harness


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def smtp() -> Iterator[SmtpInbox]:
    inbox = SmtpInbox()
    yield inbox
    inbox.close()
