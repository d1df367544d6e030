"""Fixtures for the web app: a project with form webhooks and one real server for the session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_helpers import ROOT, SECRET, TOKEN, LiveServer, write_project

from crmsync.config import Project, load_project


@pytest.fixture
def forms_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The secrets the project file refers to."""
    monkeypatch.setenv("FORMS_SECRET", SECRET)
    monkeypatch.setenv("TILDA_TOKEN", TOKEN)
    monkeypatch.delenv("CRMSYNC_DATABASE_URL", raising=False)


@pytest.fixture
def project(tmp_path: Path, store_url: str, forms_env: None) -> Project:
    """The two-source forms project on a fresh store (SQLite, then PostgreSQL)."""
    return load_project(write_project(tmp_path / "project", store_url))


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server for the session, on an SQLite store of its own."""
    folder = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{folder / 'crmsync.db'}"
    project_file = write_project(folder, url)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRMSYNC_", "PREFECT_"))}
    env.update(FORMS_SECRET=SECRET, TILDA_TOKEN=TOKEN, PREFECT_HOME=str(folder / "prefect"),
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]))
    server = LiveServer(project_file, url, env)
    try:
        yield server
    finally:
        server.stop()

