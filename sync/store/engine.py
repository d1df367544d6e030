"""Engines, schema migrations and sessions: how the rest of crmsync opens the store."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "DATABASE_URL_ENV",
    "NotFoundError",
    "Store",
    "StoreError",
    "current_revision",
    "default_database_url",
    "dialect_insert",
    "head_revision",
    "make_engine",
    "open_store",
    "safe_url",
    "upgrade",
]

log = logging.getLogger(__name__)

DATABASE_URL_ENV = "CRMSYNC_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout=30000",  # first, so the WAL switch waits for other writers
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)
# Any constant works; it only has to be the same for every crmsync process.
_PG_MIGRATION_LOCK = 0x63726D73796E63
# Alembic's `context` and `op` are module-level proxies: one migration per process at a time.
_UPGRADE_LOCK = threading.Lock()


class StoreError(RuntimeError):
    """The store cannot be used as asked; the message names the database and the fix."""


class NotFoundError(StoreError, LookupError):
    """A row the caller named (a run, a golden record) does not exist."""


def default_database_url(project_dir: Path) -> str:
    """`CRMSYNC_DATABASE_URL` if set, else an SQLite file `crmsync.db` in the project folder."""
    configured = os.environ.get(DATABASE_URL_ENV, "").strip()
    if configured:
        return configured
    return f"sqlite:///{(Path(project_dir) / 'crmsync.db').resolve()}"


def _parse_url(url: str | URL) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"cannot parse database URL {_describe_raw(url)}: expected e.g. "
                         "sqlite:///path/to/crmsync.db or postgresql://user@host/db; "
                         f"fix {DATABASE_URL_ENV}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _describe_raw(url: str | URL) -> str:
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    # Unparseable, so we cannot find the password reliably: show the scheme only.
    return repr(url.split("://", 1)[0] + "://…") if "://" in url else "(not a URL)"


def safe_url(url: str | URL) -> str:
    """The URL as text with its password hidden, for messages and logs."""
    return _parse_url(url).render_as_string(hide_password=True)


def make_engine(url: str | URL) -> Engine:
    """An engine for a store URL: SQLite gets WAL and foreign keys, PostgreSQL uses psycopg 3."""
    parsed = _parse_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
        if "connect_timeout" not in parsed.query:
            kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ArgumentError) as exc:
        raise StoreError(f"unsupported database URL {safe_url(parsed)}: crmsync supports "
                         "sqlite:///… and postgresql://…; fix " + DATABASE_URL_ENV) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def dialect_insert(session: Session | Connection, table: Any) -> Any:
    """An INSERT with ON CONFLICT support for the session's database (the one dialect branch)."""
    bind = session.get_bind() if isinstance(session, Session) else session
    name = bind.dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise StoreError(f"unsupported database dialect {name!r}: use SQLite or PostgreSQL")


# ---------------------------------------------------------------- migrations


def _alembic_config() -> Config:
    config = Config()
    # ConfigParser interpolates '%', which may appear in an install path.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


def head_revision() -> str:
    """The schema revision this version of crmsync expects."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "crmsync ships at least one migration"
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision of the database, or None if it has never been migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def _migration_transaction(conn: Connection) -> Iterator[None]:
    """One transaction around the whole upgrade, held exclusively against other crmsyncs.

    pysqlite does not put DDL in a transaction by default, so a crash mid-migration could
    leave half a schema; we take over transaction control on this one connection and
    BEGIN IMMEDIATE, which also makes a second process wait rather than migrate twice.
    """
    if conn.dialect.name != "sqlite":
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                             {"key": _PG_MIGRATION_LOCK})
            yield
        return
    dbapi = conn.connection.driver_connection
    previous = dbapi.isolation_level  # type: ignore[union-attr]
    dbapi.isolation_level = None  # type: ignore[union-attr]
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
    finally:
        dbapi.isolation_level = previous  # type: ignore[union-attr]


def _check_not_newer(conn: Connection, script: ScriptDirectory, url: str) -> None:
    known = {rev.revision for rev in script.walk_revisions()}
    for head in MigrationContext.configure(conn).get_current_heads():
        if head not in known:
            raise StoreError(
                f"the database at {url} has schema revision {head!r}, which this crmsync "
                f"does not know (it expects {script.get_current_head()!r}): it was written "
                "by a newer crmsync. Upgrade crmsync, or point "
                f"{DATABASE_URL_ENV} at another database.")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations up to `revision` in one transaction."""
    config = _alembic_config()
    script = ScriptDirectory.from_config(config)
    url = engine.url.render_as_string(hide_password=True)
    with _UPGRADE_LOCK, engine.connect() as conn, _migration_transaction(conn):
        _check_not_newer(conn, script, url)
        before = MigrationContext.configure(conn).get_current_revision()
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        after = MigrationContext.configure(conn).get_current_revision()
    if before != after:
        log.info("store schema at %s upgraded from %s to %s", url, before or "empty", after)


def _check_current(engine: Engine, url: str) -> None:
    script = ScriptDirectory.from_config(_alembic_config())
    with engine.connect() as conn:
        _check_not_newer(conn, script, url)
        revision = MigrationContext.configure(conn).get_current_revision()
    if revision != script.get_current_head():
        raise StoreError(f"the database at {url} has schema revision {revision or 'none'}, "
                         f"but this crmsync needs {script.get_current_head()}: open it with "
                         "schema upgrades enabled to migrate it.")


# ---------------------------------------------------------------- the store


class Store:
    """An engine and its session factory: the handle the other stages hold."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        """The database URL with its password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessionmaker.begin() as session:
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store({self.url})"


def _reason(url: URL, exc: DBAPIError) -> str:
    """The driver's first line of explanation, with the password scrubbed just in case."""
    lines = str(exc.orig if exc.orig is not None else exc).strip().splitlines()
    reason = lines[0].rstrip(".") if lines else type(exc).__name__
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return reason


def _connect_error(url: URL, exc: DBAPIError) -> StoreError:
    shown = url.render_as_string(hide_password=True)
    reason = _reason(url, exc)
    if url.get_backend_name() == "sqlite":
        fix = ("check that the folder exists and that this user may write the file and the "
               f"folder (SQLite adds -wal and -shm files next to it), or set {DATABASE_URL_ENV}")
    else:
        fix = ("check that PostgreSQL is running and reachable at "
               f"{url.host or 'localhost'}:{url.port or 5432}, that the database exists and "
               f"the user and password are right, or set {DATABASE_URL_ENV}")
    return StoreError(f"cannot open the crmsync store at {shown}: {reason}. Fix: {fix}.")


def _check_sqlite_path(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    folder = Path(database).expanduser().resolve().parent
    if not folder.is_dir():
        raise StoreError(f"cannot open the crmsync store at {safe_url(url)}: folder {folder} "
                         f"does not exist. Fix: create it, or set {DATABASE_URL_ENV}.")


def open_store(url: str | URL, *, upgrade_schema: bool = True) -> Store:
    """Open the store at `url`, migrating its schema to this crmsync's version by default."""
    parsed = _parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_path(parsed)
    engine = make_engine(parsed)
    shown = parsed.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        if upgrade_schema:
            upgrade(engine)
        else:
            _check_current(engine, shown)
    except OperationalError as exc:  # cannot connect, cannot write, locked
        engine.dispose()
        raise _connect_error(parsed, exc) from exc
    except DBAPIError as exc:
        engine.dispose()
        raise StoreError(f"cannot migrate the crmsync store at {shown}: {_reason(parsed, exc)}. "
                         "Fix: let this database user create tables, indexes, triggers and "
                         f"functions, or set {DATABASE_URL_ENV} to a database it owns.") from exc
    except StoreError:
        engine.dispose()
        raise
    return Store(engine)
