"""The ``reviewtool`` command line: a thin layer over the library.

Each command group lives in its own module and exposes ``app``. Commands parse options, call one
library function and render its result. Every ``ReviewtoolError`` is turned into one line on stderr
and a non-zero exit code here, in one place; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup
from typer.core import _click as click  # typer vendors click; its Context is the base class

from reviewtool.errors import ReviewtoolError


class _ReviewtoolGroup(TyperGroup):
    """Root group that maps library errors to one stderr line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReviewtoolError as exc:
            if _debug_enabled(ctx):
                raise
            typer.echo(f"reviewtool: error: {exc}", err=True)
            ctx.exit(exc.exit_code)


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
) -> None:
    """Systematic reviews and meta-analyses from the terminal: one database, every PRISMA stage."""


def _register() -> None:
    # Imported here, not at the top, so each group module stays independent of the others.
    from reviewtool.cli import (
        analyze,
        audit,
        dedup,
        import_,
        init,
        member,
        screen,
        settings,
        status,
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


_register()


def main() -> None:
    """Console-script entry point."""
    app(prog_name="reviewtool")
    sys.exit(0)
