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
    counted,
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
    db_role: str | None = typer.Option(
        None,
        "--db-role",
        help="PostgreSQL only: the database login that is this person (team mode, see README).",
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Add a person to the review (owners only).

    Example: reviewtool member add bob --role reviewer --as alice
    """
    from reviewtool.members.identity import map_login
    from reviewtool.members.service import add_member, parse_roles

    roles = parse_roles(role)
    person = actor_name(actor)
    with writing(db) as session:
        view = add_member(session, actor=person, name=name, roles=roles)
        mapped = map_login(session, actor=person, name=name, db_role=db_role) if db_role else []
    console().print(f"Added {view.name} as {', '.join(view.roles)}.")
    for member, login in mapped:
        console().print(f"{member} is the database login {login}.")


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
    from reviewtool.members.identity import logins
    from reviewtool.members.service import list_members

    with reading(db, actor) as session:
        members = list_members(session, include_removed=include_removed)
        db_roles = logins(session)
    if output is OutputFormat.JSON:
        typer.echo(
            json.dumps(
                [{**m.to_dict(), "db_role": db_roles.get(m.name)} for m in members], indent=2
            )
        )
    elif output is OutputFormat.CSV:
        typer.echo("name,roles,active,added_at,db_role")
        for m in members:
            typer.echo(
                f"{m.name},{';'.join(m.roles)},{str(m.active).lower()},{m.added_at},"
                f"{db_roles.get(m.name, '')}"
            )
    else:
        from rich.table import Table

        table = Table("Name", "Roles", "Active", "Added", *(["Database login"] if db_roles else []))
        for m in members:
            login = [db_roles.get(m.name, "")] if db_roles else []
            table.add_row(
                m.name, ", ".join(m.roles), "yes" if m.active else "no", m.added_at, *login
            )
        console().print(table)


@app.command("map")
def map_(
    name: str = typer.Argument(..., help="The member's name."),
    db_role: str = typer.Option(..., "--db-role", help="The PostgreSQL login that is this person."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Map a member to a PostgreSQL login (owners only; PostgreSQL reviews). The first mapping
    turns team mode on: the person is then the login, and --as naming anyone else is refused.

    Example: reviewtool member map alice --db-role alice --db postgresql+psycopg://alice@db/msc
    """
    from reviewtool.members.identity import map_login

    with writing(db) as session:
        mapped = map_login(session, actor=actor_name(actor), name=name, db_role=db_role)
    for member, login in mapped:
        console().print(f"{member} is the database login {login}.")


@app.command("db-setup")
def db_setup(
    create_roles: bool = typer.Option(
        True, "--create-roles/--no-create-roles", help="Create mapped logins that do not exist."
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Grant the mapped logins what reviewtool needs and install row-level security (owners only,
    with the login that owns the tables; run again after mapping members or an upgrade).

    Example: reviewtool member db-setup --db postgresql+psycopg://alice@db/msc
    """
    from reviewtool.members.identity import set_up_server

    with writing(db) as session:
        done = set_up_server(session, actor=actor_name(actor), create_roles=create_roles)
    console().print(
        f"Granted {', '.join(done.roles)}; row-level security on {counted(len(done.policies), 'table')}"
        + (f"; created {', '.join(done.created)}." if done.created else ".")
    )
