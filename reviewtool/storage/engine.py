"""Engine creation: the one place that knows about database dialects.

SQLite is the embedded default. Two reviewers may work on one file at once, so every connection
runs with WAL journalling and a busy timeout, and write transactions start with ``BEGIN IMMEDIATE``:
a deferred transaction that reads first and writes later can fail at once with "database is locked"
when another writer got in between (SQLite cannot upgrade its snapshot), whatever the busy timeout.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool

BUSY_TIMEOUT_MS = 30_000
# Execution option read by the "begin" hook; read-only sessions ask for a deferred transaction so
# that `status` or `audit log` never wait for the write lock.
BEGIN_MODE = "reviewtool_sqlite_begin"


def is_sqlite(url: str) -> bool:
    """True for ``sqlite://`` URLs (file or memory)."""
    return url.startswith("sqlite")


def make_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the connection settings reviewtool relies on."""
    if not is_sqlite(url):
        return create_engine(url, pool_pre_ping=True)
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    kwargs: dict[str, Any] = {"connect_args": {"timeout": BUSY_TIMEOUT_MS / 1000}}
    if in_memory:
        # One shared connection, or every session would see its own empty database.
        kwargs["poolclass"] = StaticPool
        kwargs["connect_args"]["check_same_thread"] = False
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" hook below instead of pysqlite's own.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(BEGIN_MODE, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def reading_engine(engine: Engine) -> Engine:
    """The same engine and pool, but transactions that take no write lock on SQLite."""
    return engine.execution_options(**{BEGIN_MODE: "DEFERRED"})
