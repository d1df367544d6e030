"""Shared fixtures: a fresh store on SQLite and, when configured, on PostgreSQL.

PostgreSQL tests run when CRMSYNC_TEST_DATABASE_URL names a server (any database on it;
each test gets its own new database there). Without it they are skipped, except on CI
(CI=true), where a missing PostgreSQL is a failure rather than a silent skip.

The whole suite runs in a few pytest-xdist worker processes (`-n auto` in pyproject's addopts,
resolved below; `-n 0` runs it in one process). Everything a worker shares with the machine is its own: temporary
folders (pytest's), free ports (emulators and servers bind port 0), PostgreSQL databases
(a new one per test), tmux session names (by pid) and PREFECT_HOME (set below).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, Engine, create_engine, make_url
from sqlalchemy.exc import OperationalError

from sync.store import Store, open_store

PG_ENV = "CRMSYNC_TEST_DATABASE_URL"
START_POSTGRES = ("start it with `pg_ctlcluster --skip-systemctl-redirect "
                  "$(ls /etc/postgresql) main start` (or your service manager), "
                  f"or point {PG_ENV} at a running server")
SUITE_WORKERS = 3  # most slow tests wait on subprocesses and servers; the machine has 2 cores
_PREFECT_HOME = pytest.StashKey[tuple[str | None, str]]()  # (the caller's PREFECT_HOME, this process's)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Workers for `-n auto` (in addopts): three for the whole suite, none for chosen paths.

    A worker costs a few seconds and CPU to start, more than most single files take;
    PYTEST_XDIST_AUTO_NUM_WORKERS overrides, `-n N` on the command line too.
    """
    chosen = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS", "").strip()
    if chosen:
        return int(chosen)
    return SUITE_WORKERS if config.args_source == pytest.Config.ArgsSource.TESTPATHS else 0


def pytest_configure(config: pytest.Config) -> None:
    """Give this process (one per xdist worker) a PREFECT_HOME of its own, before Prefect is imported.

    In-process CLI runs start Prefect's temporary server on the SQLite database under PREFECT_HOME;
    workers sharing the user's ~/.prefect would migrate and write one database at the same time.
    """
    home = tempfile.mkdtemp(prefix=f"crmsync-prefect-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-")
    config.stash[_PREFECT_HOME] = (os.environ.get("PREFECT_HOME"), home)
    os.environ["PREFECT_HOME"] = home


def pytest_unconfigure(config: pytest.Config) -> None:
    previous, home = config.stash.get(_PREFECT_HOME, (None, None))
    if home is None:
        return
    if previous is None:
        os.environ.pop("PREFECT_HOME", None)
    else:
        os.environ["PREFECT_HOME"] = previous
    shutil.rmtree(home, ignore_errors=True)


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _admin_url() -> URL:
    raw = os.environ.get(PG_ENV, "").strip()
    if not raw:
        message = (f"PostgreSQL tests need {PG_ENV}, e.g. "
                   "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        if _on_ci():
            pytest.fail(f"{message}; on CI (CI=true) they must not be skipped", pytrace=False)
        pytest.skip(message)
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An AUTOCOMMIT engine on the test server, for creating and dropping test databases."""
    url = _admin_url()
    engine = create_engine(url, isolation_level="AUTOCOMMIT",
                           connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        pytest.fail(f"PostgreSQL at {url.render_as_string(hide_password=True)} ({PG_ENV}) is "
                    f"unreachable: {reason}. Tests never skip in this case: "
                    f"{START_POSTGRES}.", pytrace=False)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_admin: Engine) -> Iterator[str]:
    """The URL of a new, empty database on the test server, dropped after the test."""
    name = f"crmsync_t_{secrets.token_hex(6)}"
    with postgres_admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with postgres_admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for an empty store: an SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crmsync.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An opened, migrated store on each backend."""
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.dispose()


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[str]:
    """One real Prefect server (temporary database) per worker, for every in-process flow run; yields its API URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())
