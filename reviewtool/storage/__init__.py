"""Storage: the only package that knows about engines, sessions and SQL.

``open_review(url)`` returns a :class:`Review`: an engine plus transaction helpers. Every operation
that changes state runs inside one ``Review.transaction()``: it commits whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from reviewtool.errors import AlreadyExists, NotFound
from reviewtool.storage import schema
from reviewtool.storage.engine import is_sqlite, make_engine, reading_engine


@dataclass
class Review:
    """An open review database."""

    url: str
    engine: Engine
    upgraded_from: str | None = None
    backup_path: Path | None = None
    _reader: Engine | None = field(default=None, repr=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on any exception."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
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
            yield session

    @property
    def sqlite_path(self) -> Path | None:
        """The database file for SQLite files, else None (memory or a server)."""
        return sqlite_file(self.url)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()


def sqlite_file(url: str) -> Path | None:
    """The file behind an SQLite URL, or None for memory databases and servers."""
    if not is_sqlite(url):
        return None
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database)


def open_review(url: str) -> Review:
    """Open an existing review, upgrading an older schema (after a backup) and refusing a newer one."""
    path = sqlite_file(url)
    where = str(path) if path else make_url(url).render_as_string(hide_password=True)
    if path is not None and not path.exists():
        raise NotFound(f"no review at {path} (run `reviewtool init` to create one, or pass --db)")
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
    except BaseException:
        engine.dispose()
        raise


def create_review_database(url: str) -> Review:
    """Create the schema of a new review at ``url``; refuse when a review is already there."""
    path = sqlite_file(url)
    if path is not None:
        if path.exists() and path.stat().st_size > 0:
            raise AlreadyExists(f"{path} exists already; choose another --db path")
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        if schema.current_revision(engine) is not None:
            raise AlreadyExists(f"{url} holds a review already")
        schema.upgrade(engine)
        return Review(url=url, engine=engine)
    except BaseException:
        engine.dispose()
        raise


__all__ = ["Review", "create_review_database", "open_review", "sqlite_file"]
