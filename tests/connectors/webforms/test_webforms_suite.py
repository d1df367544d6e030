"""The web-form inbox source passes the shared connector suite (its "credentials" are the store URL)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.testing.suite import ConnectorSuite, Harness
from connectors.webforms.source import WebformsSource
from sync.store import InboxSubmissionIn, add_submissions, open_durable_store


class TestWebformsSuite(ConnectorSuite):
    @pytest.fixture
    def harness(self, tmp_path: Path) -> Iterator[Harness]:
        url = f"sqlite:///{tmp_path / 'crmsync.db'}"
        store = open_durable_store(url)
        numbers = itertools.count(1)

        def add(count: int) -> list[str]:
            ids = [f"sub-{next(numbers)}" for _ in range(count)]
            with store.session() as session:
                add_submissions(session, [
                    InboxSubmissionIn("website", i, "json", "application/json", b"{}", {"name": i},
                                      datetime.now(UTC)) for i in ids])
                # another source's submissions never show up in this one's stream
                add_submissions(session, [InboxSubmissionIn("other", i, "json", "application/json", b"{}", {},
                                                            datetime.now(UTC)) for i in ids])
            return ids

        config = {"source": "website", "database_url": url, "batch_size": 5}
        missing = f"sqlite:///{tmp_path / 'no-such-folder' / 'crmsync.db'}"
        try:
            yield Harness(source=WebformsSource(), module="connectors.webforms", stream="submissions", config=config,
                          add_records=add, bad_config={**config, "database_url": missing},
                          credential_words=("does not exist",), secret_fields=["database_url", "secret"])
        finally:
            store.dispose()
