"""Storage: the only package that knows about engines, sessions and SQL.

``open_review(url)`` returns a :class:`Review`: an engine plus transaction helpers. Every operation
that changes state runs inside one ``Review.transaction()``: it commits whole or not at all.
A database that cannot be used (server down, file locked, damaged, not a database) is reported as
one ``ReviewtoolError`` from here, never as a driver exception (``engine.database_error``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from reviewtool.errors import AlreadyExists, DatabaseUnavailable, NotFound, SchemaError
from reviewtool.storage import schema
from reviewtool.storage.engine import (
    database_error,
    display_name,
    is_sqlite,
    make_engine,
    reading_engine,
)

SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


@dataclass
class Review:
    """An open review database."""

    url: str
    engine: Engine
    upgraded_from: str | None = None
    backup_path: Path | None = None
    _reader: Engine | None = field(default=None, repr=False)

    @property
    def where(self) -> str:
        """The database as messages name it: its file, or its URL without the password."""
        return display_name(self.url)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on any exception.

        A database that cannot be used (connection lost, locked past the busy timeout, read-only,
        disk full) raises ``DatabaseUnavailable`` naming it, the driver's exception as its cause.
        """
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException as error:
                _rollback(session)
                translated = database_error(error, self.where)
                if translated is not None:
                    raise translated from error
                raise

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session that takes no write lock; anything written is rolled back.

        Closing (not rolling back) ends the transaction without expiring the objects read, so they
        can still be used after the block.
        """
        if self._reader is None:
            self._reader = reading_engine(self.engine)
        with Session(self._reader, expire_on_commit=False) as session:
            try:
                yield session
            except BaseException as error:
                translated = database_error(error, self.where)
                if translated is not None:
                    raise translated from error
                raise

    @property
    def sqlite_path(self) -> Path | None:
        """The database file for SQLite files, else None (memory or a server)."""
        return sqlite_file(self.url)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()


def _rollback(session: Session) -> None:
    # A connection that died cannot roll back either; the error that killed it is the one to report.
    try:
        session.rollback()
    except Exception as error:
        if database_error(error, "") is None:
            raise


def sqlite_file(url: str) -> Path | None:
    """The file behind an SQLite URL, or None for memory databases and servers."""
    if not is_sqlite(url):
        return None
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database)


def _check_sqlite_file(path: Path) -> None:
    """Refuse, before any connection, a file that cannot be a review: a directory, an empty file
    (SQLite would silently make it a new database) or a file that is not SQLite at all."""
    if path.is_dir():
        raise SchemaError(f"{path} is a directory, not a reviewtool review database")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise DatabaseUnavailable(
            f"cannot use the database {path}: {error.strerror or error}"
        ) from None
    if not header:
        raise SchemaError(
            f"{path} is not a reviewtool review database: the file is empty "
            f"(`reviewtool init --db {path}` creates a review in it)"
        )
    if header != SQLITE_HEADER:
        raise SchemaError(f"{path} is not a reviewtool review database: it is not an SQLite file")


def open_review(url: str) -> Review:
    """Open an existing review, upgrading an older schema (after a backup) and refusing a newer one.

    Errors (all ``ReviewtoolError``, nothing written): NotFound for a missing SQLite file;
    SchemaError for a file or database that is not a review; SchemaTooNew; DatabaseUnavailable
    for a server that cannot be reached or a file that cannot be read; InvalidInput for a URL
    SQLAlchemy cannot use.
    """
    path = sqlite_file(url)
    where = display_name(url)
    if path is not None:
        if not path.exists():
            raise NotFound(
                f"no review at {path} (run `reviewtool init` to create one, or pass --db)"
            )
        _check_sqlite_file(path)
    engine = make_engine(url)
    try:
        revision = schema.current_revision(engine)
        review = Review(url=url, engine=engine)
        if schema.check_revision(revision, where):
            if path is not None:
                review.backup_path = schema.backup_sqlite(str(path))
            schema.upgrade(engine)
            review.upgraded_from = revision
        return review
    except BaseException as error:
        engine.dispose()
        translated = database_error(error, where)
        if translated is not None:
            raise translated from error
        raise


def create_review_database(url: str, *, option: str = "--db") -> Review:
    """Create the schema of a new review at ``url``; refuse when a review is already there.

    An SQLite file may be missing or empty (zero bytes: SQLite's empty database); anything else
    there is refused. ``option`` is the option the user gave ``url`` with, named in a refusal
    (``--db`` for ``init``, ``--to`` for ``audit replay``). Errors: AlreadyExists,
    DatabaseUnavailable, InvalidInput (a bad URL).
    """
    path = sqlite_file(url)
    where = display_name(url)
    if path is not None:
        if path.is_dir():
            raise AlreadyExists(f"{path} is a directory; choose a file path for {option}")
        if path.exists() and path.stat().st_size > 0:
            raise AlreadyExists(f"{path} exists already; choose another {option} path")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DatabaseUnavailable(
                f"cannot create the database {path}: {error.strerror or error}"
            ) from None
    engine = make_engine(url, option=option)
    try:
        if schema.current_revision(engine) is not None:
            raise AlreadyExists(f"{where} holds a review already")
        schema.upgrade(engine)
        return Review(url=url, engine=engine)
    except BaseException as error:
        engine.dispose()
        translated = database_error(error, where)
        if translated is not None:
            raise translated from error
        raise


__all__ = ["Review", "create_review_database", "open_review", "sqlite_file"]
