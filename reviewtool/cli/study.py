"""``reviewtool study``: the studies (units of synthesis) made of the references included at full
text, and ``reviewtool prisma``: the PRISMA 2020 counts read from records, references, reports and
studies."""

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

app = typer.Typer(
    help="Studies: each reference included at full text is one, until linked into another's "
    "(a trial and its follow-up). STUDY and REPORT take any record id of the reference.",
    no_args_is_help=True,
)
app.callback()(group_options)


def _print_studies(views: list[object], output: OutputFormat) -> None:
    rows = [v.to_dict() for v in views]  # type: ignore[attr-defined]
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    flat = [{**r, "references": ";".join(map(str, r["references"]))} for r in rows]
    if output is OutputFormat.CSV:
        write_csv(flat, ["study_id", "references", "title"])
        return
    from rich.table import Table

    table = Table("study", "references (reports)", "title")
    for r in flat:
        table.add_row(str(r["study_id"]), r["references"], r["title"] or "")
    console().print(table)


@app.command("list")
def list_(
    db: DbOption = None, actor: ActorOption = None, output: FormatOption = OutputFormat.TABLE
) -> None:
    """List the studies: id, the references (reports) in each, title.

    Example: reviewtool study list --format csv
    """
    from reviewtool.studies.service import list_studies

    with reading(db, actor) as session:
        views = list_studies(session, actor=actor_name(actor))
    _print_studies(list(views), output)


@app.command("show")
def show(
    study: int = typer.Argument(
        ..., help="The study id, or any record id of one of its references."
    ),
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Show one study and its references.

    Example: reviewtool study show 25
    """
    from reviewtool.errors import NotFound
    from reviewtool.studies.service import study_of

    with reading(db, actor) as session:
        view = study_of(session, actor=actor_name(actor), record_id=study)
    if view is None:
        raise NotFound(f"record {study} is not in any study (not included at full text)")
    _print_studies([view], output)


@app.command("link")
def link(
    report: int = typer.Argument(
        ..., help="The reference (report) to move: any of its record ids."
    ),
    study: int = typer.Argument(..., help="The study to put it in: its id or a record of it."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Put a report into an existing study (a trial's follow-up into the trial).

    Example: reviewtool study link 31 25 --as alice
    """
    from reviewtool.studies.service import link as do_link

    with writing(db) as session:
        view = do_link(session, actor=actor_name(actor), report=report, study=study)
    console().print(
        f"Study {view.study_id} now holds references {', '.join(map(str, view.references))}."
    )


@app.command("unlink")
def unlink(
    report: int = typer.Argument(..., help="The reference (report) to take out: any record id."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Take a report out of its study: it becomes a study by itself.

    Example: reviewtool study unlink 31 --as alice
    """
    from reviewtool.studies.service import unlink as do_unlink

    with writing(db) as session:
        (moved,) = do_unlink(session, actor=actor_name(actor), report=report)
    console().print(f"Reference {moved} is a study by itself now.")


@app.command("merge")
def merge(
    study: int = typer.Argument(..., help="The study that stays: its id or a record of it."),
    other: int = typer.Argument(..., help="The study merged into it."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Merge two studies into one (the first keeps its id).

    Example: reviewtool study merge 25 31 --as alice
    """
    from reviewtool.studies.service import merge as do_merge

    with writing(db) as session:
        view = do_merge(session, actor=actor_name(actor), study=study, other=other)
    console().print(
        f"Study {view.study_id} now holds references {', '.join(map(str, view.references))}."
    )


@app.command("split")
def split(
    study: int = typer.Argument(..., help="The study to split: its id or a record of it."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Split a study back into one study per reference.

    Example: reviewtool study split 25 --as alice
    """
    from reviewtool.studies.service import split as do_split

    with writing(db) as session:
        members = do_split(session, actor=actor_name(actor), study=study)
    console().print(f"Split into studies {', '.join(map(str, members))}.")


def register(root: typer.Typer) -> None:
    """Add ``study`` and ``prisma`` to the root app."""
    root.add_typer(app, name="study")

    @root.command("prisma")
    def prisma(
        db: DbOption = None, actor: ActorOption = None, output: FormatOption = OutputFormat.TABLE
    ) -> None:
        """The PRISMA 2020 flow counts: records, references, reports, studies (owners and
        adjudicators; reviewers once screening is not blind).

        Example: reviewtool prisma --format json
        """
        from reviewtool.screening.prisma import prisma_counts

        with reading(db, actor) as session:
            counts = prisma_counts(session, actor=actor_name(actor))
        data = counts.to_dict()
        if output is OutputFormat.JSON:
            typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
            return
        rows = [
            *(
                {"box": f"records identified: {s}", "n": n}
                for s, n in data["identified_by_source"].items()
            ),
            {"box": "records identified", "n": data["identified"]},
            {"box": "duplicate records removed", "n": data["duplicates_removed"]},
            {
                "box": "records marked as ineligible by automation tools "
                "(not screened: screening stopped)",
                "n": data["not_screened_stopped"],
            },
            {"box": "records removed for other reasons", "n": data["removed_other"]},
            *(
                {"box": f"records removed for other reasons: {r}", "n": n}
                for r, n in data["removed_by_reason"].items()
            ),
            {"box": "records screened", "n": data["records_screened"]},
            {"box": "records excluded", "n": data["records_excluded"]},
            {"box": "records awaiting title/abstract", "n": data["awaiting_title_abstract"]},
            {"box": "reports sought for retrieval", "n": data["reports_sought"]},
            {"box": "reports not retrieved", "n": data["reports_not_retrieved"]},
            {"box": "reports assessed for eligibility", "n": data["reports_assessed"]},
            {"box": "reports excluded", "n": data["reports_excluded"]},
            *(
                {"box": f"reports excluded: {r}", "n": n}
                for r, n in data["excluded_by_reason"].items()
            ),
            {"box": "reports awaiting full text", "n": data["awaiting_full_text"]},
            {"box": "studies included in review", "n": data["studies_included"]},
            {"box": "reports of included studies", "n": data["reports_of_included_studies"]},
        ]
        if output is OutputFormat.CSV:
            write_csv(rows, ["box", "n"])
            return
        from rich.table import Table

        table = Table("PRISMA 2020", "n")
        for row in rows:
            table.add_row(row["box"], str(row["n"]))
        console().print(table)
        for note in counts.notes:
            console().print(note)
