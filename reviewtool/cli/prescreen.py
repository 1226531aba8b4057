"""``reviewtool screen remove`` / ``screen restore``: references removed before title/abstract
screening for other reasons than duplication (PRISMA 2020 "Records removed for other reasons")."""

from __future__ import annotations

from pathlib import Path

import typer

from reviewtool.cli._common import (
    ActorOption,
    DbOption,
    actor_name,
    console,
    counted,
    existing_file,
    reading,
    writing,
)

PublicationTypeOption = typer.Option(
    [],
    "--publication-type",
    help="Records whose publication type contains this text (any case); repeat for any of several.",
)
TitleWordOption = typer.Option(
    [],
    "--title-word",
    help="Records whose title holds this word or phrase (whole words, any case); repeatable.",
)
FileOption = typer.Option(
    None,
    "--file",
    help="CSV with a reference_id (or record_id) column: the references to take.",
    callback=existing_file,
)


def _shown(ids: list[int], limit: int = 8) -> str:
    return ", ".join(map(str, ids[:limit])) + (
        f" and {len(ids) - limit} more" if len(ids) > limit else ""
    )


def remove(
    reason: str = typer.Option(..., "--reason", help="Why they are removed (shown in PRISMA)."),
    publication_type: list[str] = PublicationTypeOption,
    title_word: list[str] = TitleWordOption,
    file: Path | None = FileOption,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Say what would be removed; change nothing."
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Remove references before title/abstract screening, by filter or list (owners; audited).

    They leave every reviewer's queue and are counted in PRISMA's "removed before screening" box
    with their reason. Filters given together must all match; `screen restore` undoes it.

    Example: reviewtool screen remove --reason "meeting abstract" --publication-type "Conference Abstract" --as jniu
    """
    from reviewtool.screening.prescreen import Selection, ids_from_file, remove_references

    references = ids_from_file(str(file)) if file is not None else None
    selection = Selection(
        publication_types=tuple(publication_type),
        title_words=tuple(title_word),
        references=references,
        source=str(file) if file is not None else "",
    )
    opener = reading(db, actor) if dry_run else writing(db)
    with opener as session:
        result = remove_references(
            session, actor=actor_name(actor), reason=reason, selection=selection, dry_run=dry_run
        )
    verb = "Would remove" if dry_run else "Removed"
    console().print(
        f"{verb} {counted(len(result.changed), 'reference')} before screening ({reason}): "
        f"{_shown(result.changed) or 'none'}.",
        highlight=False,
    )
    if result.already:
        console().print(
            f"{len(result.already)} matched references were removed already: "
            f"{_shown(result.already)}.",
            highlight=False,
        )


def restore(
    reason: str | None = typer.Option(
        None, "--reason", help="Restore every reference removed for it."
    ),
    reference: list[int] = typer.Option(
        [], "--reference", help="A reference to restore; repeatable."
    ),
    file: Path | None = FileOption,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Undo removals before screening: the references go back to the screening queues (owners).

    Example: reviewtool screen restore --reason "meeting abstract" --as jniu
    """
    from reviewtool.screening.prescreen import ids_from_file, restore_references

    listed: list[int] | None = None
    if reference or file is not None:
        listed = list(reference) + (list(ids_from_file(str(file))) if file is not None else [])
    with writing(db) as session:
        result = restore_references(
            session, actor=actor_name(actor), reason=reason, references=listed
        )
    console().print(
        f"Restored {counted(len(result.changed), 'reference')}: {_shown(result.changed) or 'none'}.",
        highlight=False,
    )
    if result.already:
        console().print(
            f"{len(result.already)} listed references were not removed: {_shown(result.already)}.",
            highlight=False,
        )


def register(screen_app: typer.Typer) -> None:
    """Add ``remove`` and ``restore`` to the ``screen`` group."""
    screen_app.command("remove")(remove)
    screen_app.command("restore")(restore)
