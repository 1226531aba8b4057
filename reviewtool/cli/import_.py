"""``reviewtool import`` and ``reviewtool records``: bring search exports in, list what arrived."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from reviewtool.cli._common import (
    ActorOption,
    DbOption,
    FormatOption,
    OutputFormat,
    actor_name,
    console,
    counted,
    existing_files,
    group_options,
    progress_bar,
    reading,
    write_csv,
    writing,
)
from reviewtool.errors import InvalidInput

records_app = typer.Typer(help="List the imported records.", no_args_is_help=True)
records_app.callback()(group_options)

# Files above this size get a progress bar; small ones parse faster than a bar can draw.
PROGRESS_BYTES = 1_000_000
# How many parser warnings the table output lists per file (JSON output carries all of them).
WARNINGS_SHOWN = 20


def _column_map(items: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in items:
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise InvalidInput(
                f"--map expects FIELD=COLUMN (e.g. title=Article Title), got {item!r}"
            )
        mapping[field.strip()] = column.strip()
    return mapping


def register(app: typer.Typer) -> None:
    """Add ``import`` to the root app and the ``records`` group."""

    @app.command("import")
    def import_(
        files: list[Path] = typer.Argument(
            ...,
            help="Export files (RIS, nbib, Ovid, BibTeX, EndNote XML/tagged, WoS, CSV).",
            callback=existing_files,
        ),
        source: str = typer.Option(
            ..., "--source", help='Database searched, e.g. "MEDLINE (PubMed)".'
        ),
        searched: str | None = typer.Option(
            None, "--searched", help="Date of the search, YYYY-MM-DD."
        ),
        query: str | None = typer.Option(None, "--query", help="The search strategy as run."),
        input_format: str | None = typer.Option(
            None,
            "--input-format",
            help="Read the files as this format instead of detecting it: ris, nbib, ovid, bibtex, "
            "endnote_xml, endnote_tagged, wos, wos_tab, csv (any case). (--format sets the output.)",
        ),
        encoding: str | None = typer.Option(
            None,
            "--encoding",
            help="Read the files in this text encoding (e.g. cp1252, gbk, shift_jis) instead of "
            "detecting it; a guessed legacy encoding is reported as a warning.",
        ),
        skip_bad: bool = typer.Option(
            False, "--skip-bad", help="Import the good records; list the bad ones."
        ),
        force: bool = typer.Option(
            False, "--force", help="Import a file again that was imported before."
        ),
        mapping: list[str] = typer.Option(
            [], "--map", help="CSV column mapping FIELD=COLUMN (repeatable)."
        ),
        db: DbOption = None,
        actor: ActorOption = None,
        output: FormatOption = OutputFormat.TABLE,
    ) -> None:
        """Import search export files, one batch per file, all in one transaction.

        Example: reviewtool import pubmed.nbib --source "MEDLINE (PubMed)" --searched 2021-09-15
        """
        from reviewtool.importing.service import import_files

        column_map = _column_map(mapping)
        big = sum(f.stat().st_size for f in files if f.exists()) > PROGRESS_BYTES
        show = big and output is OutputFormat.TABLE
        with writing(db) as session, progress_bar("Parsing", show=show, unit="records") as bar:
            reports = import_files(
                session, actor=actor_name(actor), paths=files, source=source, searched_on=searched,
                query=query, format=input_format, encoding=encoding, skip_bad=skip_bad, force=force, column_map=column_map,
                progress=lambda name, n: bar(n, None, name),
            )  # fmt: skip
        if output is OutputFormat.JSON:
            typer.echo(json.dumps([r.to_dict() for r in reports], indent=2, ensure_ascii=False))
            return
        if output is OutputFormat.CSV:
            columns = ["batch_id", "file_name", "format", "encoding", "source", "records"]
            write_csv(
                ({**r.to_dict(), "bad": len(r.bad), "warnings": len(r.warnings)} for r in reports),
                [*columns, "bad", "warnings"],
            )
            return
        out = console()
        for r in reports:
            found = f"{counted(r.records + len(r.bad), 'record')} found, " if r.bad else ""
            out.print(
                f"Imported {counted(r.records, 'record')} from {r.file_name} ({r.format}, {r.encoding}) "
                f"as batch {r.batch_id}, source {r.source}.",
                highlight=False,
            )
            if r.replaced_at:
                out.print(
                    f"  bytes that are not UTF-8 replaced with U+FFFD at {r.replaced_at}; each "
                    "record's raw text keeps its original bytes (base64)",
                    highlight=False,
                    markup=False,
                )
            if r.bad:
                out.print(
                    f"  {found}{r.records} imported, {len(r.bad)} skipped as bad:",
                    highlight=False,
                )
            for bad in r.bad:
                key = f", record {bad['source_key']!r}" if bad.get("source_key") else ""
                out.print(
                    f"  skipped line {bad['line']}{key}: {bad['reason']}",
                    highlight=False,
                    markup=False,
                )
            if r.warnings:
                out.print(f"  {counted(len(r.warnings), 'warning')}:", highlight=False)
                for warning in r.warnings[:WARNINGS_SHOWN]:
                    out.print(f"  warning: {warning}", highlight=False, markup=False)
                if len(r.warnings) > WARNINGS_SHOWN:
                    out.print(
                        f"  ... {len(r.warnings) - WARNINGS_SHOWN} more "
                        "(all are kept with the batch; see --format json)",
                        highlight=False,
                    )

    app.add_typer(records_app, name="records")


@records_app.command("list")
def list_(
    batch: int | None = typer.Option(None, "--batch", help="Only records of this import batch."),
    status: str | None = typer.Option(
        None, "--status", help="Only unique, primary or duplicate records."
    ),
    label: str | None = typer.Option(
        None, "--label", help="Only records carrying this label (among the labels you may see)."
    ),
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """List records: record_id (the id other commands take), source ids, title, first author, year, status, labels.

    Example: reviewtool records list --status duplicate --format csv
    """
    from reviewtool.importing.service import list_records
    from reviewtool.screening.labels import records_labelled, visible_labels

    if status is not None and status not in ("unique", "primary", "duplicate"):
        raise InvalidInput(f"--status must be unique, primary or duplicate, not {status!r}")
    who = actor_name(actor)
    with reading(db, actor) as session:
        views = list_records(session, batch_id=batch, status=status)
        # Labels are the acting member's to see (private while screening is blind); a person
        # who is not a member lists records without labels, but cannot filter by one.
        labels = visible_labels(session, actor=who, quiet=label is None)
    if label is not None:
        wanted = records_labelled(labels, label)
        views = [v for v in views if v.reference_id in wanted]
    # Labels are on references: every record of a duplicate group shows its reference's labels.
    by_ref = {r: [v.shown(who) for v in views_] for r, views_ in labels.items()}
    shown = {v.record_id: by_ref.get(v.reference_id, []) for v in views}
    if output is OutputFormat.JSON:
        typer.echo(
            json.dumps(
                [{**v.to_dict(), "labels": shown.get(v.record_id, [])} for v in views],
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if output is OutputFormat.CSV:
        columns = [
            "record_id",
            "batch_id",
            "source",
            "source_key",
            "doi",
            "pmid",
            "title",
            "first_author",
            "year",
            "status",
            "group_id",
            "labels",
        ]
        write_csv(({**v.to_dict(), "labels": shown.get(v.record_id, [])} for v in views), columns)
        return
    from rich.table import Table

    any_labels = any(shown.get(v.record_id) for v in views)
    table = Table("id", "source", "key", "first author", "year", "title", "status")
    if any_labels:
        table.add_column("labels")
    for v in views:
        table.add_row(
            str(v.record_id), v.source, v.source_key or "", v.first_author or "", str(v.year or ""),
            v.title or "", v.status, *(["; ".join(shown.get(v.record_id, []))] if any_labels else []),
        )  # fmt: skip
    console().print(table)


@records_app.command("show")
def show(
    record: int = typer.Argument(..., help="The record id (see `reviewtool records list`)."),
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Show one record whole: title, authors, abstract, every field, its group, your labels, the raw text.

    Votes are not shown (blind screening: see `reviewtool screen`).

    Example: reviewtool records show 17
    """
    from reviewtool.access import sight
    from reviewtool.errors import ReviewtoolError
    from reviewtool.importing.service import record_detail
    from reviewtool.screening.labels import visible_labels
    from reviewtool.screening.service import fulltext_reports
    from reviewtool.studies.service import study_of

    who = actor_name(actor)
    with reading(db, actor) as session:
        detail = record_detail(session, record)
        ref = detail["reference_id"]
        labels = visible_labels(session, actor=who, quiet=True, record_ids={ref})
        # Which references reached full text shows title/abstract outcomes: not while that is
        # blind to the viewer (docs/blinding.md).
        opened = sight(session, who).stage_open("fulltext")
        detail["reports"] = fulltext_reports(session, ref) if opened else []
        try:
            found = study_of(session, actor=who, record_id=record)
            detail["study"] = found.study_id if found is not None else None
        except ReviewtoolError:  # full text blind to them, or not a member: no study shown
            detail["study"] = None
    detail["labels"] = [v.shown(who) for v in labels.get(ref, [])]
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(detail, indent=2, ensure_ascii=False))
        return
    if output is OutputFormat.CSV:
        write_csv(({"field": k, "value": v} for k, v in detail.items()), ["field", "value"])
        return
    from rich.markup import escape

    out = console(markup=True)
    out.print(f"[bold]{escape(detail['title'] or '(no title)')}[/bold]", highlight=False)
    authors = "; ".join(detail["authors"]) or "(no authors)"
    out.print(escape(authors), style="italic", highlight=False)
    for key in (
        "journal", "year", "volume", "issue", "pages", "doi", "pmid", "publication_type",
        "language",
    ):  # fmt: skip
        if detail[key] not in (None, ""):
            out.print(f"[bold]{key}:[/bold] {escape(str(detail[key]))}", highlight=False)
    if detail["keywords"]:
        out.print(
            f"[bold]keywords:[/bold] {escape('; '.join(detail['keywords']))}", highlight=False
        )
    for key, value in detail["extra"].items():
        out.print(f"[bold]{escape(key)}:[/bold] {escape(str(value))}", highlight=False)
    if detail["labels"]:
        out.print(f"[bold]labels:[/bold] {escape(' · '.join(detail['labels']))}", highlight=False)
    where = (
        f"batch {detail['batch_id']} ({detail['source']}, {detail['file_name']} line "
        f"{detail['line']}, imported by {detail['imported_by']})"
    )
    # The key the file gave the record (RIS ID, PMID ...), said only when there is one.
    key = f" · key {escape(detail['source_key'])}" if detail["source_key"] else ""
    out.print(f"[bold]record:[/bold] {record} · {escape(where)}{key}", highlight=False)
    line = f"[bold]reference:[/bold] {detail['reference_id']}"
    if detail["study"] is not None:
        line += f" · study {detail['study']}"
    for report in detail["reports"]:
        where = report["location"] or report["note"] or ""
        line += f" · full text {escape(report['status'])}{' ' + escape(where) if where else ''}"
    out.print(line, highlight=False)
    if detail["same_group"]:
        role = (
            f"duplicate of {detail['duplicate_of']}"
            if detail["duplicate_of"]
            else "primary of its group"
        )
        others = ", ".join(map(str, detail["same_group"]))
        out.print(
            f"[bold]group:[/bold] {detail['group_id']} ({role}; with {others})", highlight=False
        )
    out.print()
    out.print(escape(detail["abstract"] or "(no abstract)"), highlight=False)
    out.print()
    out.print("[bold]raw text, as in the file:[/bold]", highlight=False)
    out.print(escape(detail["raw"] or "(none kept)"), highlight=False, soft_wrap=True)
