"""``reviewtool settings``: show and change the review's settings."""

from __future__ import annotations

import json

import typer

from reviewtool.cli._common import (
    ActorOption,
    DbOption,
    FormatOption,
    OutputFormat,
    actor_name,
    console,
    group_options,
    reading,
    write_csv,
    writing,
)

app = typer.Typer(help="Show and change the review's settings.", no_args_is_help=True)
app.callback()(group_options)


@app.command("show")
def show(
    db: DbOption = None, actor: ActorOption = None, output: FormatOption = OutputFormat.TABLE
) -> None:
    """Show every setting with its value and what it does.

    Example: reviewtool settings show --format json
    """
    from reviewtool.domain import SETTINGS
    from reviewtool.review.service import get_settings

    with reading(db, actor) as session:
        values = get_settings(session)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(values, indent=2, ensure_ascii=False))
        return
    if output is OutputFormat.CSV:
        write_csv(({"key": k, "value": v} for k, v in values.items()), ["key", "value"])
        return
    from rich.table import Table

    table = Table("Setting", "Value", "Meaning")
    for key, value in values.items():
        shown = "; ".join(value) if isinstance(value, list) else json.dumps(value)
        table.add_row(key, shown, SETTINGS[key].help)
    console().print(table)


@app.command("set")
def set_(
    key: str = typer.Argument(..., help="Setting name, e.g. screening.reviewers_required."),
    value: str = typer.Argument(..., help="New value (lists: items separated by ';')."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Change a setting (owners only).

    Example: reviewtool settings set screening.reviewers_required 2 --as alice
    """
    from reviewtool.review.service import set_setting

    with writing(db) as session:
        parsed = set_setting(session, actor=actor_name(actor), key=key, value=value)
    console().print(f"{key} = {json.dumps(parsed, ensure_ascii=False)}")
