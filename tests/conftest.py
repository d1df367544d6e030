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
# `crmsync ingest|match|push` start Prefect's ephemeral server, which must answer within 20 s by default;
# at the load average of 8-10 this machine sees while tests and benchmarks share it, starting took longer.
EPHEMERAL_STARTUP_SECONDS = "120"
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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Modules with `slow` tests first (otherwise in collection order), so that under `--dist loadscope`
    the long modules start at once on their workers instead of being handed out last and running alone."""
    slow_modules = {item.module.__name__ for item in items
                    if item.get_closest_marker("slow") and getattr(item, "module", None) is not None}
    items.sort(key=lambda item: getattr(item, "module", None) is None
               or item.module.__name__ not in slow_modules)


def pytest_configure(config: pytest.Config) -> None:
    """Give this process (one per xdist worker) a PREFECT_HOME of its own, before Prefect is imported.

    In-process CLI runs start Prefect's temporary server on the SQLite database under PREFECT_HOME;
    workers sharing the user's ~/.prefect would migrate and write one database at the same time.
    """
    home = tempfile.mkdtemp(prefix=f"crmsync-prefect-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-")
    config.stash[_PREFECT_HOME] = (os.environ.get("PREFECT_HOME"), home)
    os.environ["PREFECT_HOME"] = home
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", EPHEMERAL_STARTUP_SECONDS)


def pytest_unconfigure(config: pytest.Config) -> None:
    previous, home = config.stash.get(_PREFECT_HOME, (None, None))
    if home is None:
        return
    if previous is None:
        os.environ.pop("PREFECT_HOME", None)
    else:
        os.environ["PREFECT_HOME"] = previous
    _stop_local_api(Path(home))  # one an in-process CLI run (CliRunner) may have started
    shutil.rmtree(home, ignore_errors=True)


def _stop_local_api(home: Path) -> None:
    """Stop the local Prefect API that `crmsync` runs started under this PREFECT_HOME, if any.

    It outlives the commands on purpose (idle timeout 30 min); tests must not leave it behind.
    """
    from flows.local_api import stop_local_api

    stop_local_api(home)


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
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment for `crmsync` subprocesses, isolated from the user's.

    One PREFECT_HOME per worker session: the first pipeline run starts the local Prefect API there
    and later runs reuse it, as a user's runs do; it is stopped when the session ends.
    """
    home = tmp_path_factory.mktemp("prefect-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRMSYNC_", "PREFECT_"))}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", COLUMNS="220",
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=EPHEMERAL_STARTUP_SECONDS,
               PYTHONPATH=os.pathsep.join([os.getcwd(), env.get("PYTHONPATH", "")]))
    yield env
    _stop_local_api(home)


@pytest.fixture
def cli_env_own_prefect(cli_env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, str]]:
    """cli_env with a PREFECT_HOME (so a Prefect database) of this test's own; its local API stopped after."""
    home = tmp_path / "prefect-home"
    home.mkdir()
    yield {**cli_env, "PREFECT_HOME": str(home)}
    _stop_local_api(home)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[str]:
    """One real Prefect server (temporary database) per worker, for every in-process flow run; yields its API URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())
