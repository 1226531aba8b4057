"""Options and helpers every command group shares.

``--db`` and ``--as`` are defined once, here (``DbOption``, ``ActorOption``), and every command that
opens a review takes both (a test walks the command tree to keep it so). Every command acts as a
member: writes are checked by the library function they call, reads by ``reading(db, actor)``.
Every input file is checked by ``InputFile`` before the review is opened.

Nothing heavy is imported here: ``reviewtool --help`` must stay fast, so the storage layer (and with
it sqlmodel and SQLAlchemy) is imported inside the functions that need it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from reviewtool.errors import InvalidInput
from reviewtool.text import counted as counted  # re-exported: CLI modules import it from here

if TYPE_CHECKING:
    from rich.console import Console
    from sqlmodel import Session
    from textual.app import App

    from reviewtool.domain import Action
    from reviewtool.storage import Review

DEFAULT_DB = "review.db"


def _from_group(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
    """``--db`` / ``--as`` typed before a sub-command (``reviewtool screen --as bob decide ...``)
    hold for it, unless the sub-command is given its own; the command line beats the environment."""
    from typer._click.core import ParameterSource

    if ctx.get_parameter_source(param.name or "") is ParameterSource.COMMANDLINE:
        return value
    flag = param.opts[0]
    parent = ctx.parent
    while parent is not None:
        for outer in parent.command.params:
            if (
                flag in outer.opts
                and outer.name is not None
                and parent.get_parameter_source(outer.name) is ParameterSource.COMMANDLINE
            ):
                given: str | None = parent.params.get(outer.name)
                return given
        parent = parent.parent
    return value


# The one definition of --db and --as: every command that opens a review takes both.
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="REVIEWTOOL_DB",
        help="Review database: a file path or a SQLAlchemy URL. Default: ./review.db.",
        show_default=False,
        callback=_from_group,
    ),
]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        envvar="REVIEWTOOL_USER",
        help="Member to act as. Default: $REVIEWTOOL_USER, else the login name.",
        show_default=False,
        callback=_from_group,
    ),
]

OnBehalfOfOption = Annotated[
    str | None,
    typer.Option(
        "--on-behalf-of",
        metavar="NAME",
        help="Owners: the work is this member's (e.g. from a paper form); the ledger records "
        "both names: the owner entered it, the member did it.",
        show_default=False,
    ),
]
"""``screen import-decisions``, ``extract import``, ``rob import``: an owner enters another
member's work (``access.entering_for``)."""


def on_behalf_note(on_behalf_of: str | None, actor: str) -> str:
    """`` by bob (entered by olga)`` for an import entered on another's behalf, else ""."""
    return (
        f" by {on_behalf_of} (entered by {actor})" if on_behalf_of and on_behalf_of != actor else ""
    )


def group_options(db: DbOption = None, actor: ActorOption = None) -> None:
    """The callback of the root and of every command group: ``--db`` and ``--as`` typed before a
    sub-command (``reviewtool --as olga status``, ``reviewtool member --as olga list``) hold for
    it (``_from_group``); the sub-command's own beats them."""


class OutputFormat(StrEnum):
    """How a listing is printed."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]


def utc_time(value: str | None) -> str | None:
    """A ``--since``/``--until`` value checked while the command line is parsed: a date
    (``2026-01-31``) or an ISO-8601 time (``2026-01-31T09:30``, ``...Z``, ``...+02:00``), given back
    as text that compares with the ledger's UTC times (an offset converted to UTC); else
    typer.BadParameter, one line naming the option (exit 2), so nothing is listed for a typo."""
    from datetime import UTC, date, datetime

    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date or time (ISO-8601 in UTC, e.g. 2026-01-31 or "
            "2026-01-31T09:30:00)"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat()


def existing_file(value: Path | None) -> Path | None:
    """The path of an input file that exists and is a readable file, else InvalidInput naming it.

    Used as the typer callback of every input-file argument and option (``InputFile``), so a
    missing file is refused while the command line is parsed: before the review is opened or
    anything is written.
    """
    if value is None:
        return None
    if not value.exists():
        raise InvalidInput(f"{value}: no such file")
    if value.is_dir():
        raise InvalidInput(f"{value}: is a directory, not a file")
    if not os.access(value, os.R_OK):
        raise InvalidInput(f"{value}: cannot be read (permission denied)")
    return value


def existing_files(values: list[Path] | None) -> list[Path] | None:
    """``existing_file`` for an argument that takes several files."""
    for value in values or []:
        existing_file(value)
    return values


def database_url(db: str | None) -> str:
    """Turn the ``--db`` value into a SQLAlchemy URL (a bare path means an SQLite file)."""
    value = db or DEFAULT_DB
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def actor_name(actor: str | None) -> str:
    """The person a command acts as: ``--as``, else ``$REVIEWTOOL_USER``, else, on a PostgreSQL
    review in team mode, the member mapped to the database login (``login_member``), else the OS
    login name."""
    if actor:
        return actor
    mapped = login_member()
    if mapped:
        return mapped
    for var in ("REVIEWTOOL_USER", "USER", "LOGNAME", "USERNAME"):
        value = os.environ.get(var)
        if value:
            return value
    import getpass

    return getpass.getuser()


def login_member() -> str | None:
    """On a PostgreSQL review in team mode (docs/identity.md), the member mapped to the database
    login of the current command's ``--db``; None for SQLite or before team mode. An unmapped login
    is UnknownMember (one line). Reads ``--db`` from the command being run (click's context)."""
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    db = ctx.params.get("db") if ctx is not None else None
    if not isinstance(db, str) or not db.startswith("postgresql"):
        return None
    from reviewtool.errors import ReviewtoolError, UnknownMember
    from reviewtool.storage.postgres_roles import login

    try:
        review = open_review(db)
    except ReviewtoolError:
        return None  # no review there yet (``init``): the command says what is wrong, if anything
    try:
        with review.reading() as session:
            who = login(session)
    finally:
        review.close()
    if who is None or not who.enforced:
        return None
    if who.member is None:
        raise UnknownMember(
            f"your database login {who.role!r} is not mapped to a member of this review; "
            f"an owner maps it with `reviewtool member map NAME --db-role {who.role}`"
        )
    return who.member


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
def reading(db: str | None, actor: str | None) -> Iterator[Session]:
    """A read-only session on the review at ``db`` for the member ``actor`` (``--as``).

    Reading a review is an action like any other: the person must be an active member (any role);
    else UnknownMember (exit 3), and the refusal is recorded in the ledger.
    """
    from reviewtool.access import require
    from reviewtool.domain import Action

    review = open_review(db)
    try:
        with review.reading() as session:
            require(session, actor_name(actor), Action.READ)
            yield session
    finally:
        review.close()


def run_screen(
    db: str | None,
    actor: str | None,
    action: Action,
    build: Callable[[str, str], App[None]],
    *,
    doing: str | None = None,
) -> None:
    """Open a terminal screen for ``actor`` only once they may do ``action`` on the review at ``db``.

    The review is opened and the person checked before the screen takes over the terminal, so a
    missing review, a database that cannot be used, an unknown person or a missing role is one
    line on stderr and a non-zero exit (the refusal is recorded), never a screen. ``build(url,
    person)`` makes the app; a screen that stops on an unexpected error exits non-zero too.
    ``doing`` names the screen in a refusal ("open the adjudication screen").
    """
    from reviewtool.access import require

    person = actor_name(actor)
    review = open_review(db)
    try:
        with review.reading() as session:
            require(session, person, action, doing=doing)
    finally:
        review.close()
    app = build(database_url(db), person)
    app.run()
    if app.return_code:
        raise typer.Exit(app.return_code)


BROKEN_PIPE_EXIT = 141
"""Exit code when the reader of stdout went away (``reviewtool screen export | head``): 128 +
SIGPIPE, what a shell reports for a conventional tool killed by it."""


def closed_pipe() -> None:
    """The reader of stdout is gone: stop quietly with ``BROKEN_PIPE_EXIT``, nothing on stderr.

    stdout is pointed at /dev/null first, so the interpreter's own flush at exit does not raise
    (and print "Exception ignored") again: the Python documentation's recipe for SIGPIPE. Called
    by the root group (the one error boundary), by ``main`` and by the rich consoles below.
    """
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (a test runner's buffer)
        pass
    raise SystemExit(BROKEN_PIPE_EXIT)


def _console_class() -> type[Console]:
    from rich.console import Console

    class _Console(Console):
        """rich's Console, ending like the rest of reviewtool when stdout's reader is gone
        (rich's own handler exits 1), and printing no control characters: every string it
        renders (messages, table cells) passes through ``reviewtool.text.printable``."""

        def on_broken_pipe(self) -> None:
            self.quiet = True
            closed_pipe()

        def render_str(self, text: str, **kwargs: Any) -> Any:
            from reviewtool.text import printable

            return super().render_str(printable(text), **kwargs)

    return _Console


def console(*, markup: bool = False) -> Console:
    """A rich console on stdout (imported lazily: rich costs start-up time).

    Markup is off unless asked for: titles, names and notes from the data are printed as they
    are, so ``[link=…]`` or ``[/]`` in a title is text, never a hyperlink or a crash. A command
    that styles its own words asks for ``markup=True`` and escapes the data it interpolates
    (``rich.markup.escape``).
    """
    return _console_class()(markup=markup)


def err_console() -> Console:
    """A rich console on stderr for progress bars and notes (markup off, as :func:`console`)."""
    return _console_class()(stderr=True, markup=False)


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


def write_csv(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], fh: IO[str] | None = None
) -> None:
    """CSV on stdout (what ``--format csv`` prints), or into ``fh``: a header of ``columns``, one
    line per row, cells a spreadsheet would run as formulas neutralised (``csvfiles``).

    Every command that takes ``--format`` prints the format asked; nested results are flattened
    into rows by the command (e.g. ``stage,measure,value``) rather than printed as JSON.
    """
    import sys

    from reviewtool.csvfiles import safe_writer

    writer = safe_writer(sys.stdout if fh is None else fh)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])


class StudyFirstGroup(TyperGroup):
    """A command group whose first word, when it is not a sub-command, is the study:
    ``reviewtool extract "Suk 2016"`` and ``reviewtool rob "Suk 2016" --tool rob1`` open their
    screens (the word is passed on as ``--study``)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["--study", args[0], *args[1:]]
        return super().parse_args(ctx, args)


Progress = Callable[..., None]
"""What a long operation reports into: ``progress(done, total=None, label="")``: ``done`` units of
``total`` (None while the total is unknown), ``label`` naming the current part (a file, a
step). Stages take such a plain callable and never import rich."""


def _quiet(done: int, total: int | None = None, label: str = "") -> None:
    """The callback when no bar is shown: does nothing."""


def stderr_is_terminal() -> bool:
    """Is stderr a terminal (a person watching), not a file, a pipe or a test runner's buffer?"""
    import sys

    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


@contextmanager
def progress_bar(description: str, *, show: bool = True, unit: str = "") -> Iterator[Progress]:
    """A rich progress bar on stderr for a long operation; yields the callback the operation
    reports into (``progress(done, total=None, label="")``, see :data:`Progress`).

    The bar is drawn only when stderr is a terminal and ``show`` is true (commands pass
    ``show=output is OutputFormat.TABLE``, so ``-f json``/``-f csv`` print exactly what they
    printed before); otherwise the callback does nothing and nothing extra is written. The bar is
    transient: it is gone when the block ends, leaving the command's own output. ``unit`` names
    what is counted ("records", "plots") after the ``done/total`` figure.
    """
    if not show or not stderr_is_terminal():
        yield _quiet
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as RichProgress

    columns = [SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn()]
    columns.append(MofNCompleteColumn())
    if unit:
        columns.append(TextColumn(unit))
    columns.append(TimeElapsedColumn())
    with RichProgress(*columns, console=err_console(), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def report(done: int, total: int | None = None, label: str = "") -> None:
            from reviewtool.text import printable

            text = f"{description}: {printable(label)}" if label else description
            bar.update(task, completed=done, total=total, description=text)

        yield report
