"""Fixtures for the Prefect flows: one real Prefect server per session and a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.flows.helpers import Receiver, SmtpInbox


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One real Prefect server (temporary database) for every in-process flow run of the session."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())


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
