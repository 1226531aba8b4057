"""``reviewtool member``: the people of the review and their roles."""

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
    writing,
)

app = typer.Typer(help="Add members, change their roles, list them.", no_args_is_help=True)
app.callback()(group_options)

RoleOption = typer.Option(..., "--role", "-r", help="owner, reviewer or adjudicator (repeatable).")


@app.command("add")
def add(
    name: str = typer.Argument(..., help="The person's name, one word (e.g. bob)."),
    role: list[str] = RoleOption,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Add a person to the review (owners only).

    Example: reviewtool member add bob --role reviewer --as alice
    """
    from reviewtool.members.service import add_member, parse_roles

    roles = parse_roles(role)
    with writing(db) as session:
        view = add_member(session, actor=actor_name(actor), name=name, roles=roles)
    console().print(f"Added {view.name} as {', '.join(view.roles)}.")


@app.command("grant")
def grant(
    name: str = typer.Argument(..., help="The member's name."),
    role: str = typer.Option(..., "--role", "-r", help="owner, reviewer or adjudicator."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Give a member another role (owners only).

    Example: reviewtool member grant carol --role adjudicator --as alice
    """
    from reviewtool.members.service import grant_role, parse_roles

    (parsed,) = parse_roles([role])
    with writing(db) as session:
        view = grant_role(session, actor=actor_name(actor), name=name, role=parsed)
    console().print(f"{view.name} now holds: {', '.join(view.roles)}.")


@app.command("revoke")
def revoke(
    name: str = typer.Argument(..., help="The member's name."),
    role: str = typer.Option(..., "--role", "-r", help="owner, reviewer or adjudicator."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Take a role from a member (owners only; the last owner keeps theirs).

    Example: reviewtool member revoke bob --role adjudicator --as alice
    """
    from reviewtool.members.service import parse_roles, revoke_role

    (parsed,) = parse_roles([role])
    with writing(db) as session:
        view = revoke_role(session, actor=actor_name(actor), name=name, role=parsed)
    console().print(f"{view.name} now holds: {', '.join(view.roles) or 'no role'}.")


@app.command("remove")
def remove(
    name: str = typer.Argument(..., help="The member's name."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Remove a member: they can no longer act; what they did stays attributed to them.

    Example: reviewtool member remove bob --as alice
    """
    from reviewtool.members.service import remove_member

    with writing(db) as session:
        view = remove_member(session, actor=actor_name(actor), name=name)
    console().print(f"Removed {view.name}.")


@app.command("list")
def list_(
    include_removed: bool = typer.Option(False, "--all", help="Include removed members."),
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """List the members and their roles.

    Example: reviewtool member list --format json
    """
    from reviewtool.members.service import list_members

    with reading(db, actor) as session:
        members = list_members(session, include_removed=include_removed)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps([m.to_dict() for m in members], indent=2))
    elif output is OutputFormat.CSV:
        typer.echo("name,roles,active,added_at")
        for m in members:
            typer.echo(f"{m.name},{';'.join(m.roles)},{str(m.active).lower()},{m.added_at}")
    else:
        from rich.table import Table

        table = Table("Name", "Roles", "Active", "Added")
        for m in members:
            table.add_row(m.name, ", ".join(m.roles), "yes" if m.active else "no", m.added_at)
        console().print(table)
