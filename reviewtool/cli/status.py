"""``reviewtool status``: where the review stands."""

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
    reading,
)


def register(app: typer.Typer) -> None:
    """Add ``status`` to the root app."""

    @app.command("status")
    def status(
        db: DbOption = None, actor: ActorOption = None, output: FormatOption = OutputFormat.TABLE
    ) -> None:
        """Show the review's title, members, stage counts and audit ledger head.

        At a screening stage that is still blind, a reviewer sees the references and their own
        votes only (docs/blinding.md).

        Example: reviewtool status --db sample_project/review.db
        """
        from reviewtool.review.service import review_status

        with reading(db) as session:
            result = review_status(session, actor=actor_name(actor))
        if output is not OutputFormat.TABLE:
            typer.echo(json.dumps(result.to_dict(), indent=2))
            return
        from rich.table import Table

        out = console()
        out.print(f"[bold]{result.title}[/bold]  (schema {result.schema_revision})")
        if result.question.strip():
            out.print(result.question.strip().splitlines()[0], highlight=False)
        table = Table("Member", "Roles", title="Team")
        for name, roles in result.members.items():
            table.add_row(name, ", ".join(roles))
        out.print(table)
        if result.stages:
            stages = Table("Stage", "Count", "Value", title="Stages")
            for stage, counts in result.stages.items():
                for label, value in counts.items():
                    stages.add_row(stage, label, str(value))
            out.print(stages)
        if result.audit_events is None:
            out.print("Audit ledger: length and head not shown while a stage is blind to you")
        else:
            out.print(f"Audit ledger: {result.audit_events} events, head {result.audit_head}")
