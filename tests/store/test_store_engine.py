"""Engines, migrations and open_store on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect, make_url, text
from sqlalchemy.exc import IntegrityError, StatementError

import sync.store.engine as engine_module
from sync.store import (
    Store,
    StoreError,
    UpsertCounts,
    attach_interactions,
    current_revision,
    default_database_url,
    get_run,
    head_revision,
    make_engine,
    open_store,
    quarantine_rows,
    set_links,
    start_run,
    upgrade,
    upsert_interactions,
    upsert_source_records,
)
from sync.store.models import Base

TABLES = {"source_records", "source_record_versions", "golden_records", "links",
          "merge_suggestions", "cannot_links", "destination_xrefs", "connector_state",
          "sync_runs", "dead_letters", "audit_log", "quarantine", "interactions"}


def test_default_database_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CRMSYNC_DATABASE_URL", raising=False)
    assert default_database_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/crmsync.db"
    monkeypatch.setenv("CRMSYNC_DATABASE_URL", "postgresql://u@db/crm")
    assert default_database_url(tmp_path) == "postgresql://u@db/crm"


def test_make_engine_uses_psycopg_for_plain_postgresql_urls() -> None:
    engine = make_engine("postgresql://u:pw@db.example/crm")
    assert engine.url.drivername == "postgresql+psycopg"
    assert "pw" not in repr(engine)
    engine.dispose()


def test_migrations_apply_to_empty_database_and_are_a_noop_the_second_time(
        store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) >= TABLES

        statements: list[str] = []
        event.listen(engine, "before_cursor_execute",
                     lambda *args: statements.append(args[2]))
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert not [s for s in statements if s.lstrip().upper().startswith(("CREATE", "ALTER",
                                                                             "DROP"))]
    finally:
        engine.dispose()


def test_models_match_the_migration(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        with store.engine.connect() as conn:
            pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") == 30000
            assert pragma("synchronous") == 1  # NORMAL
        assert (tmp_path / "c.db-wal").exists()
    finally:
        store.dispose()


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(IntegrityError), store.session() as session:
        session.execute(text(
            "INSERT INTO links (source_record_pk, golden_id, score, method, decided_by, "
            "created_at, updated_at) VALUES (12345, 'nope', 1.0, 'exact:email', 'system', "
            ":t, :t)"), {"t": datetime(2025, 1, 1)})


def test_timestamps_come_back_timezone_aware_utc(store: Store) -> None:
    berlin = datetime(2025, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    with store.session() as session:
        run_id = start_run(session, "ingest", now=berlin)
    with store.session() as session:
        run = get_run(session, run_id)
    assert run is not None
    assert run.started_at == berlin
    assert run.started_at.tzinfo == UTC
    assert run.started_at.hour == 12


def test_naive_timestamps_are_refused(store: Store) -> None:
    with pytest.raises(StatementError, match="naive datetime"), store.session() as session:
        start_run(session, "ingest", now=datetime(2025, 6, 1, 12, 0))


def test_unreachable_postgres_names_the_url_without_its_password() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("postgresql://alice:s3cr3t-pw@127.0.0.1:1/crm")
    message = str(caught.value)
    assert "postgresql+psycopg://alice:***@127.0.0.1:1/crm" in message
    assert "s3cr3t-pw" not in message
    assert "PostgreSQL is running" in message and "CRMSYNC_DATABASE_URL" in message


def test_sqlite_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'crmsync.db'}"
    with pytest.raises(StoreError, match="does not exist"):
        open_store(url)


def test_sqlite_path_that_cannot_be_opened_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()  # a folder where the database file should be
    with pytest.raises(StoreError, match="cannot open the crmsync store") as caught:
        open_store(f"sqlite:///{tmp_path / 'taken'}")
    assert "CRMSYNC_DATABASE_URL" in str(caught.value)


def test_database_from_a_newer_crmsync_is_refused(store_url: str) -> None:
    open_store(store_url).dispose()
    engine = make_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer crmsync") as caught:
        open_store(store_url)
    assert "9999_future" in str(caught.value)


def test_opening_without_upgrade_needs_a_current_schema(store_url: str) -> None:
    with pytest.raises(StoreError, match="schema upgrades enabled"):
        open_store(store_url, upgrade_schema=False)
    open_store(store_url).dispose()
    open_store(store_url, upgrade_schema=False).dispose()


def test_store_session_commits_on_success_and_rolls_back_on_error(store: Store) -> None:
    with store.session() as session:
        start_run(session, "kept")
    with pytest.raises(RuntimeError), store.session() as session:
        start_run(session, "lost")
        raise RuntimeError("boom")
    with store.engine.connect() as conn:
        flows = conn.execute(text("SELECT flow FROM sync_runs")).scalars().all()
    assert flows == ["kept"]


@pytest.mark.postgres
def test_password_never_reaches_logs_or_repr(
        postgres_url: str, caplog: pytest.LogCaptureFixture) -> None:
    url = make_url(postgres_url)
    with_password = url.set(password="hunter2-secret").render_as_string(hide_password=False)
    caplog.set_level(logging.DEBUG)
    store = open_store(with_password)  # trust auth: the password is accepted and ignored
    try:
        assert "hunter2-secret" not in repr(store) + store.url
        assert "***" in store.url
    finally:
        store.dispose()
    assert f"upgraded from empty to {head_revision()}" in caplog.text
    assert "hunter2-secret" not in caplog.text


def test_concurrent_first_opens_migrate_once(store_url: str) -> None:
    # Separate processes, as with two flows starting at once; they all start at `go`.
    script = ("import sys, time; from sync.store import open_store; "
              "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); "
              "open_store(sys.argv[1]).dispose()")
    go = str(time.time() + 2.0)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    procs = [subprocess.Popen([sys.executable, "-c", script, store_url, go], cwd=root, env=env,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(proc.wait(timeout=60), proc.stderr.read() if proc.stderr else "")
               for proc in procs]
    assert [code for code, _ in results] == [0, 0, 0, 0], [err for _, err in results]
    engine = make_engine(store_url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_empty_batches_are_harmless(store: Store) -> None:
    with store.session() as session:
        assert upsert_source_records(session, [], seen_at=datetime.now(UTC),
                                     pass_id=None) == UpsertCounts()
        assert set_links(session, [], now=datetime.now(UTC)) == 0
        assert quarantine_rows(session, [], seen_at=datetime.now(UTC), pass_id=None) == 0
        upsert_interactions(session, [])
        assert attach_interactions(session, {}, {}) == 0


def test_a_migration_that_fails_half_way_leaves_nothing_behind(
        store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real_upgrade = engine_module.command.upgrade

    def upgrade_then_crash(config, revision):  # type: ignore[no-untyped-def]
        real_upgrade(config, revision)
        raise KeyboardInterrupt("killed after the DDL, before the commit")

    monkeypatch.setattr(engine_module.command, "upgrade", upgrade_then_crash)
    engine = make_engine(store_url)
    try:
        with pytest.raises(KeyboardInterrupt):
            upgrade(engine)
        assert current_revision(engine) is None
        assert not TABLES & set(inspect(engine).get_table_names())
        monkeypatch.undo()
        upgrade(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
