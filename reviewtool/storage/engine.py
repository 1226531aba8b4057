"""Engine creation: the one place that knows about database dialects.

SQLite is the embedded default. Two reviewers may work on one file at once, so every connection
runs with WAL journalling and a busy timeout, and write transactions start with ``BEGIN IMMEDIATE``:
a deferred transaction that reads first and writes later can fail at once with "database is locked"
when another writer got in between (SQLite cannot upgrade its snapshot), whatever the busy timeout.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from reviewtool.errors import ConcurrentChange, DatabaseUnavailable, InvalidInput

BUSY_TIMEOUT_MS = 30_000
PAGE_SIZE = 16_384
"""Bytes per page of a new SQLite review file (SQLite's default is 4,096). The ledger stores
each event's payload as one text, and a bulk extraction import writes events of 50-75 kB (a
study's hundreds of values): with 16 kB pages a payload spans a quarter of the overflow pages,
and the value tables' B-trees are shallower. ``benchmarks/bench_extraction.py``: about 4 % less
CPU for the imports and exports. Set on every connection, it takes effect only when the file is
created (an existing review keeps its page size: a WAL database cannot change it)."""
# Execution option read by the "begin" hook; read-only sessions ask for a deferred transaction so
# that `status` or `audit log` never wait for the write lock.
BEGIN_MODE = "reviewtool_sqlite_begin"


def is_sqlite(url: str) -> bool:
    """True for ``sqlite://`` URLs (file or memory)."""
    return url.startswith("sqlite")


def display_name(url: str) -> str:
    """How a database is named in messages: the file of an SQLite URL, else the URL without its
    password. A URL that cannot be parsed is shown as given."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        return url
    if is_sqlite(url) and parsed.database and parsed.database != ":memory:":
        return parsed.database
    return parsed.render_as_string(hide_password=True)


#: What a concurrent change that won the race means, by the unique constraint the loser hit
#: (prefix of its name); told to the person whose change was refused.
CONCURRENT_WORDS: tuple[tuple[str, str], ...] = (
    ("uq_screening_resolution", "this conflict was just resolved by someone else"),
    ("uq_screening_decision", "a vote of yours on this was just recorded in another window"),
    ("uq_member_name", "a member of that name was just added by someone else"),
    ("uq_dedup_pair", "this pair was just recorded by another run or person"),
)
_SERIALIZATION = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def concurrent_change(error: BaseException, where: str = "") -> ConcurrentChange | None:
    """The one-line error for a write that lost a race with another person's, or None.

    A unique violation (IntegrityError: SQLite "UNIQUE constraint failed", PostgreSQL 23505) on a
    row the tool writes after checking it is absent can only mean someone else wrote it in
    between; a PostgreSQL serialization failure (40001) or deadlock (40P01) likewise. The message
    says what happened in the field's words where the constraint is known, and that nothing of
    this command was written (the transaction was rolled back).
    """
    if not isinstance(error, exc.DBAPIError):
        return None
    orig = error.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    detail = str(orig if orig is not None else error)
    unique = isinstance(error, exc.IntegrityError) and (
        code == "23505" or "UNIQUE constraint failed" in detail
    )
    if not unique and code not in _SERIALIZATION:
        return None
    said = "someone else changed the same thing at the same moment"
    diag = getattr(orig, "diag", None)
    constraint = str(getattr(diag, "constraint_name", "") or "")
    for prefix, words in CONCURRENT_WORDS:
        if constraint.startswith(prefix) or prefix.removeprefix("uq_") in detail.replace(".", "_"):
            said = words
            break
    named = f" in {where}" if where else ""
    return ConcurrentChange(
        f"{said}{named}; nothing of this command was written: look again and retry if still needed"
    )


def database_error(
    error: BaseException, where: str = ""
) -> DatabaseUnavailable | ConcurrentChange | None:
    """The one-line error for a database that cannot be used, or None when ``error`` is not that.

    "Cannot be used" is what the DB-API calls an OperationalError or InterfaceError (server down or
    refusing, connection lost, file locked past the busy timeout, read-only, disk full) or a plain
    DatabaseError (SQLite: "file is not a database", "database disk image is malformed").
    A write that lost a race with another person's is a ``ConcurrentChange`` (``concurrent_change``).
    Other IntegrityErrors, ProgrammingError and the like are faults in reviewtool, not in the
    database, so they are left alone. The driver's first line is kept (psycopg adds hints on later lines).
    """
    if not isinstance(error, exc.DBAPIError):
        return None
    lost_race = concurrent_change(error, where)
    if lost_race is not None:
        return lost_race
    if not isinstance(error, exc.OperationalError | exc.InterfaceError) and (
        type(error) is not exc.DatabaseError
    ):
        return None
    detail = str(error.orig if error.orig is not None else error).strip()
    first = detail.splitlines()[0].strip() if detail else type(error).__name__
    named = f" {where}" if where else ""
    return DatabaseUnavailable(f"cannot use the database{named}: {first}")


def make_engine(url: str, *, option: str = "--db") -> Engine:
    """Create an engine for ``url`` with the connection settings reviewtool relies on.

    Raises InvalidInput when ``url`` is not a database URL SQLAlchemy can use (malformed, an
    unknown dialect, or a driver that is not installed), naming ``option``, the option the user
    gave it with (``--to`` for ``audit replay``). No connection is made here.
    """
    try:
        return _make_engine(url)
    except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as error:
        raise InvalidInput(
            f"{option} {display_name(url)}: not a database URL reviewtool can use ({error})"
        ) from None


def _make_engine(url: str) -> Engine:
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
            cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")  # before WAL: a new file only
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
