"""Options and helpers every command group shares.

Nothing heavy is imported here: ``reviewtool --help`` must stay fast, so the storage layer (and with
it sqlmodel and SQLAlchemy) is imported inside the functions that need it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from sqlmodel import Session

    from reviewtool.storage import Review

DEFAULT_DB = "review.db"

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="REVIEWTOOL_DB",
        help="Review database: a file path or a SQLAlchemy URL. Default: ./review.db.",
        show_default=False,
    ),
]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        envvar="REVIEWTOOL_USER",
        help="Member to act as. Default: $REVIEWTOOL_USER, else the login name.",
        show_default=False,
    ),
]


class OutputFormat(StrEnum):
    """How a listing is printed."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]


def database_url(db: str | None) -> str:
    """Turn the ``--db`` value into a SQLAlchemy URL (a bare path means an SQLite file)."""
    value = db or DEFAULT_DB
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def actor_name(actor: str | None) -> str:
    """The person a command acts as: ``--as``, else ``$REVIEWTOOL_USER``, else the login name."""
    if actor:
        return actor
    for var in ("REVIEWTOOL_USER", "USER", "LOGNAME", "USERNAME"):
        value = os.environ.get(var)
        if value:
            return value
    import getpass

    return getpass.getuser()


def open_review(db: str | None) -> Review:
    """Open an existing review (upgrading its schema when it is behind); errors are ReviewtoolError."""
    from reviewtool.review.service import open_existing

    return open_existing(database_url(db))


@contextmanager
def writing(db: str | None) -> Iterator[Session]:
    """One write transaction on the review at ``db``: all of it is committed, or none."""
    review = open_review(db)
    try:
        with review.transaction() as session:
            yield session
    finally:
        review.close()


@contextmanager
def reading(db: str | None) -> Iterator[Session]:
    """A read-only session on the review at ``db``."""
    review = open_review(db)
    try:
        with review.reading() as session:
            yield session
    finally:
        review.close()


def console() -> Console:
    """A rich console on stdout (imported lazily: rich costs start-up time)."""
    from rich.console import Console

    return Console()


def err_console() -> Console:
    """A rich console on stderr for progress bars and notes."""
    from rich.console import Console

    return Console(stderr=True)


def csv_cell(value: Any) -> str:
    """One CSV cell: None empty, lists joined with "; ", whole floats as integers, else str."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return "; ".join(csv_cell(v) for v in value)
    return str(value)


def write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """CSV on stdout (what ``--format csv`` prints): a header of ``columns``, one line per row.

    Every command that takes ``--format`` prints the format asked; nested results are flattened
    into rows by the command (e.g. ``stage,measure,value``) rather than printed as JSON.
    """
    import csv
    import sys

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])
