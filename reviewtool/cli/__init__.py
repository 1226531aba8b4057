"""The ``reviewtool`` command line: a thin layer over the library.

Each command group lives in its own module and exposes ``app``. Commands parse options, call one
library function and render its result. Every error a user can meet ends here, in one place, as
one line on stderr and a non-zero exit code: a ``ReviewtoolError`` with its class's code, a
database that cannot be used (a driver exception that escaped the storage layer) with code 9, a
command line click cannot parse with code 2, and anything else, a fault in reviewtool, as an
"internal error" line with code 1. A reader of stdout that went away (``| head``) ends the command
quietly with code 141 (128 + SIGPIPE). ``--debug`` (or ``$REVIEWTOOL_DEBUG``) shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer.core import TyperGroup
from typer.core import _click as click  # typer vendors click; its Context is the base class

from reviewtool.cli._common import ActorOption, DbOption
from reviewtool.cli._common import closed_pipe as _closed_pipe
from reviewtool.errors import ReviewtoolError

INTERNAL_ERROR_EXIT = 1


class _ReviewtoolGroup(TyperGroup):
    """Root group: the one error boundary of every command (see the module docstring)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        # Options of the root itself (`reviewtool --bogus`) are parsed here, before invoke().
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.exceptions.UsageError as exc:
            if isinstance(exc, click.exceptions.NoArgsIsHelpError) or _debug_in(args):
                raise
            _usage_line(exc)
            raise typer.Exit(exc.exit_code) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):
            raise
        except click.exceptions.UsageError as exc:
            if isinstance(exc, click.exceptions.NoArgsIsHelpError) or _debug_enabled(ctx):
                raise
            _usage_line(exc)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            _closed_pipe()
        except click.exceptions.ClickException as exc:
            if _debug_enabled(ctx):
                raise
            typer.echo(f"reviewtool: error: {_one_line(exc.format_message())}", err=True)
            ctx.exit(exc.exit_code)
        except Exception as exc:
            if _debug_enabled(ctx):
                raise
            known = _as_reviewtool_error(exc)
            if known is not None:
                typer.echo(f"reviewtool: error: {_one_line(str(known))}", err=True)
                ctx.exit(known.exit_code)
            typer.echo(
                f"reviewtool: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
                "(a fault in reviewtool: run again with --debug and report the traceback)",
                err=True,
            )
            ctx.exit(INTERNAL_ERROR_EXIT)


def _as_reviewtool_error(exc: Exception) -> ReviewtoolError | None:
    """The error as the user should read it, or None when it is a fault in reviewtool."""
    if isinstance(exc, ReviewtoolError):
        return exc
    if "sqlalchemy" in sys.modules:  # a driver error can only come from a command that loaded it
        from reviewtool.storage.engine import database_error

        return database_error(exc, "")
    return None


def _one_line(text: str) -> str:
    # Lines joined, spaces within a line kept (a message may quote "ER  -" from a RIS file).
    return " ".join(line.strip() for line in text.splitlines() if line.strip()) or "(no message)"


def _usage_line(exc: click.exceptions.UsageError) -> None:
    where = exc.ctx.command_path if exc.ctx is not None else "reviewtool"
    typer.echo(
        f"reviewtool: error: {_one_line(exc.format_message()).rstrip('.')} (see `{where} --help`)",
        err=True,
    )


def _debug_in(args: list[str]) -> bool:
    return "--debug" in args or bool(os.environ.get("REVIEWTOOL_DEBUG"))


def _debug_enabled(ctx: click.Context) -> bool:
    if os.environ.get("REVIEWTOOL_DEBUG"):
        return True
    root = ctx.find_root()
    return bool(root.params.get("debug"))


app = typer.Typer(
    cls=_ReviewtoolGroup,
    name="reviewtool",
    help="Systematic reviews and meta-analyses from the terminal: one database, every PRISMA stage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show the full traceback on errors."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Systematic reviews and meta-analyses from the terminal: one database, every PRISMA stage.

    ``--db`` and ``--as`` may come before a sub-command or after it (``_common.group_options``).
    """


def _register() -> None:
    # Imported here, not at the top, so each group module stays independent of the others.
    from reviewtool.cli import (
        analyze,
        audit,
        backup,
        dedup,
        export,
        extract,
        import_,
        init,
        member,
        prescreen,
        queue,
        report,
        rob,
        screen,
        settings,
        status,
        study,
    )

    init.register(app)
    status.register(app)
    import_.register(app)
    app.add_typer(dedup.app, name="dedup")
    screen.register(app)
    app.add_typer(member.app, name="member")
    app.add_typer(settings.app, name="settings")
    app.add_typer(audit.app, name="audit")
    app.add_typer(analyze.app, name="analyze")
    study.register(app)
    app.add_typer(export.app, name="export")
    backup.register(app)
    prescreen.register(screen.app)
    app.add_typer(report.app, name="report")
    rob.register(app)
    app.add_typer(extract.app, name="extract")
    queue.register(screen.app)
    __import__("reviewtool.cli.simulate", fromlist=["register"]).register(app)  # simulate


_register()


def main() -> None:
    """Console-script entry point."""
    try:
        with _only_the_command_invoked(sys.argv[1:]):
            app(prog_name="reviewtool")
        sys.stdout.flush()  # here, not at exit, so a reader gone away is handled like above
    except BrokenPipeError:
        _closed_pipe()
    sys.exit(0)


_ROOT_OPTIONS_WITH_VALUE = ("--db", "--as")


def _invoked_word(args: list[str]) -> str | None:
    """The command word of a command line (``status`` in ``--as olga status -f json``): the first
    word after the root's own options; None when an other option (``--help``) comes first."""
    at = 0
    while at < len(args):
        word = args[at]
        if word in _ROOT_OPTIONS_WITH_VALUE:
            at += 2
        elif word == "--debug" or word.startswith(tuple(f"{o}=" for o in _ROOT_OPTIONS_WITH_VALUE)):
            at += 1
        elif word.startswith("-"):
            return None
        else:
            return word
    return None


@contextmanager
def _only_the_command_invoked(args: list[str]) -> Iterator[None]:
    """While the block runs, the root app holds only the command or group named on the command
    line, when it is one of them: typer turns every registered command into a click command
    (reading each function's signature) before parsing, about a tenth of a second of every
    start-up for the ~100 commands, of which one runs. Anything else (``--help``, an unknown
    word, a name typer derives) leaves the app whole, so every message is what it was."""
    word = _invoked_word(args)
    commands, groups = app.registered_commands, app.registered_groups
    chosen_commands = [c for c in commands if c.name == word]
    chosen_groups = [g for g in groups if g.name == word]
    named = all(c.name for c in commands) and all(g.name for g in groups)
    if word is None or not named or len(chosen_commands) + len(chosen_groups) != 1:
        yield
        return
    app.registered_commands, app.registered_groups = chosen_commands, chosen_groups
    try:
        yield
    finally:
        app.registered_commands, app.registered_groups = commands, groups
