"""``reviewtool backup`` and ``reviewtool restore``: a consistent copy of the whole review while
others work, and a restore that verifies the ledger before it is accepted."""

from __future__ import annotations

from pathlib import Path

import typer

from reviewtool.cli._common import (
    ActorOption,
    DbOption,
    actor_name,
    console,
    counted,
    database_url,
    existing_file,
    open_review,
)


def register(app: typer.Typer) -> None:
    """Add ``backup`` and ``restore`` to the root app."""

    @app.command("backup")
    def backup(
        out: Path = typer.Argument(..., help="The backup file to write (must not exist yet)."),
        db: DbOption = None,
        actor: ActorOption = None,
    ) -> None:
        """Copy the whole review to OUT while others keep working (owners): SQLite's online
        backup, or pg_dump for PostgreSQL. The copy's ledger is verified before it is kept.

        Example: reviewtool backup ~/backups/review-2026-11-29.db
        """
        from reviewtool.review.backup import backup_review

        review = open_review(db)
        try:
            report = backup_review(review, actor=actor_name(actor), out=out)
        finally:
            review.close()
        console().print(
            f"Backed up {review.where} to {report.path} ({report.kind}, {report.size:,} bytes): "
            f"{counted(report.events, 'event')}, head {report.head}.",
            highlight=False,
        )

    @app.command("restore")
    def restore(
        backup_file: Path = typer.Argument(
            ..., help="A file `reviewtool backup` wrote.", callback=existing_file
        ),
        db: DbOption = None,
        actor: ActorOption = None,
    ) -> None:
        """Restore a backup into --db: a new SQLite file, or an empty PostgreSQL database (owners
        of the review in the backup). The restored ledger is verified in full before it is kept.

        Example: reviewtool restore ~/backups/review-2026-11-29.db --db restored.db --as alice
        """
        from reviewtool.review.backup import restore_review
        from reviewtool.storage import display_name

        url = database_url(db)
        report = restore_review(backup_file, url, actor=actor_name(actor))
        console().print(
            f"Restored {backup_file} into {display_name(url)}: audit ledger verified, "
            f"{counted(report.events, 'event')}, head {report.head}.",
            highlight=False,
        )
