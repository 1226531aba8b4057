"""``reviewtool init``: create a review."""

from __future__ import annotations

from pathlib import Path

import typer

from reviewtool.cli._common import (
    ActorOption,
    DbOption,
    actor_name,
    console,
    database_url,
    existing_file,
)
from reviewtool.errors import InvalidInput


def _parse_assignments(items: list[str]) -> dict[str, str]:
    settings: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--set expects KEY=VALUE, got {item!r}")
        settings[key.strip()] = value.strip()
    return settings


def register(app: typer.Typer) -> None:
    """Add ``init`` to the root app."""

    @app.command("init")
    def init(
        title: str = typer.Option(..., "--title", help="The review's title."),
        question: str = typer.Option("", "--question", help="The review question / PICO text."),
        question_file: Path | None = typer.Option(
            None,
            "--question-file",
            help="Read the question / PICO text from this file.",
            callback=existing_file,
        ),
        setting: list[str] = typer.Option(
            [], "--set", help="A setting as KEY=VALUE (repeatable); see `reviewtool settings show`."
        ),
        db: DbOption = None,
        actor: ActorOption = None,
    ) -> None:
        """Create a review database; whoever runs it becomes the first owner.

        Example: reviewtool init --title "MSCs in chronic liver disease" --as alice
        """
        from reviewtool.review.service import init_review

        if question_file is not None:
            try:
                question = question_file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InvalidInput(f"cannot read --question-file {question_file}: {exc}") from None
        owner = actor_name(actor)
        url = database_url(db)
        review = init_review(
            url, title=title, owner=owner, question=question, settings=_parse_assignments(setting)
        )
        review.close()
        console().print(f"Created review {title} in {url} with owner {owner}.")
