"""``reviewtool status``: where the review stands."""

from __future__ import annotations

import json
from typing import Any

import typer

from reviewtool.cli._common import (
    ActorOption,
    DbOption,
    FormatOption,
    OutputFormat,
    actor_name,
    console,
    counted,
    reading,
    write_csv,
)

QUESTION_LIMIT = 400


def question_summary(question: str, limit: int = QUESTION_LIMIT) -> str:
    r"""The question's first paragraph as one line (the terminal wraps it), whole when it fits in
    ``limit`` characters; else cut after the last full sentence that fits, or at a word with "…".

    >>> question_summary("Does X help\nadults with Y?\n\nP: adults")
    'Does X help adults with Y?'
    >>> question_summary("One. Two three four.", limit=12)
    'One. …'
    >>> question_summary("alpha beta gamma delta", limit=13)
    'alpha beta …'
    """
    paragraph = question.strip().split("\n\n")[0]
    text = " ".join(paragraph.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    sentence_end = max(head.rfind(". "), head.rfind("? "), head.rfind("! "))
    if sentence_end > 0:
        return head[: sentence_end + 1] + " …"
    return head.rsplit(" ", 1)[0] + " …"


def _status_rows(status: dict[str, Any]) -> list[dict[str, Any]]:
    """``status --format csv``: the JSON flattened to section,name,value rows."""
    rows: list[dict[str, Any]] = [
        {"section": "review", "name": key, "value": status[key]}
        for key in ("title", "question", "schema_revision")
    ]
    rows += [{"section": "member", "name": n, "value": r} for n, r in status["members"].items()]
    for stage, counts in status["stages"].items():
        rows += [{"section": stage, "name": k, "value": v} for k, v in counts.items()]
    rows += [{"section": "audit", "name": k, "value": v} for k, v in status["audit"].items()]
    return rows


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

        with reading(db, actor) as session:
            result = review_status(session, actor=actor_name(actor))
        if output is OutputFormat.JSON:
            typer.echo(json.dumps(result.to_dict(), indent=2))
            return
        if output is OutputFormat.CSV:
            write_csv(_status_rows(result.to_dict()), ["section", "name", "value"])
            return
        from rich.table import Table

        out = console()
        out.print(result.title, style="bold", end="")
        out.print(f"  (schema {result.schema_revision})")
        if result.question.strip():
            out.print(question_summary(result.question), highlight=False)
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
            out.print(
                f"Audit ledger: {counted(result.audit_events, 'event')}, head {result.audit_head}"
            )
