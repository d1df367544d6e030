"""Alembic environment: runs on the connection crmsync hands over, never from an ini file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from sync.store.engine import make_engine
from sync.store.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; later migrations rebuild tables in batch mode.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("crmsync migrations run online only, through sync.store.upgrade(engine)")
connection = context.config.attributes.get("connection")
if isinstance(connection, Connection):
    _run(connection)
else:
    # A developer's own Config (e.g. to autogenerate a revision) may give a URL instead.
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("pass a connection in config.attributes['connection'] "
                           "(sync.store.upgrade does) or set sqlalchemy.url")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()
