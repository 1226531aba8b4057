"""``reviewtool dedup``: find duplicates, decide the uncertain pairs, undo, report, export."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from reviewtool.cli._common import (
    ActorOption,
    DbOption,
    FormatOption,
    OutputFormat,
    actor_name,
    console,
    counted,
    existing_file,
    group_options,
    progress_bar,
    reading,
    run_screen,
    write_csv,
    writing,
)
from reviewtool.csvfiles import safe_writer

if TYPE_CHECKING:
    from reviewtool.dedup.service import QueuedPair

app = typer.Typer(
    help="Deduplicate records: run, review the queue, confirm, reject, undo.", no_args_is_help=True
)
app.callback()(group_options)


@app.command("run")
def run(
    db: DbOption = None, actor: ActorOption = None, output: FormatOption = OutputFormat.TABLE
) -> None:
    """Find duplicate groups: identifiers first, then fuzzy matching; merge the certain, queue the rest.

    Example: reviewtool dedup run --as alice
    """
    from reviewtool.dedup.service import run_dedup

    show = output is OutputFormat.TABLE
    with writing(db) as session, progress_bar("Scoring", show=show, unit="pairs") as bar:
        report = run_dedup(session, actor=actor_name(actor), progress=bar)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    if output is OutputFormat.CSV:
        write_csv([report.to_dict()], list(report.to_dict()))
        return
    console().print(
        f"Scored {counted(report.candidate_pairs, 'candidate pair')} among {counted(report.records, 'record')}: "
        f"{counted(report.groups, 'duplicate group')}, {counted(report.duplicates, 'duplicate')}; "
        f"{counted(report.queued, 'pair')} {'waits' if report.queued == 1 else 'wait'} for a person "
        "(`reviewtool dedup review`).",
        highlight=False,
    )


@app.command("queue")
def queue(
    db: DbOption = None, actor: ActorOption = None, output: FormatOption = OutputFormat.TABLE
) -> None:
    """List the uncertain pairs waiting for a person, strongest first.

    Example: reviewtool dedup queue --format json
    """
    from reviewtool.dedup.service import review_queue

    with reading(db, actor) as session:
        pairs = review_queue(session)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps([p.to_dict() for p in pairs], indent=2, ensure_ascii=False))
        return
    if output is OutputFormat.CSV:
        writer = safe_writer(sys.stdout)
        writer.writerow(
            ["pair_id", "score", "record_a", "record_b", "title_a", "title_b", "reasons"]
        )
        for p in pairs:
            writer.writerow(
                [
                    p.pair_id,
                    p.score,
                    p.a["record_id"],
                    p.b["record_id"],
                    p.a["title"],
                    p.b["title"],
                    "; ".join(p.reasons),
                ]
            )
        return
    from rich.table import Table
    from rich.text import Text

    from reviewtool.dedup.compare import word_diff

    def title(mine: str | None, theirs: str | None) -> Text:
        # Whole titles (wrapped), the words the other lacks underlined: never cut to look alike.
        text = Text()
        for chunk, differs in word_diff(mine or "", theirs or ""):
            text.append((" " if text else "") + chunk, style="bold underline" if differs else "")
        return text

    def records(p: QueuedPair) -> str:
        grouped = [
            f"{s['record_id']} is in group {s['group_id']}"
            for s in (p.a, p.b)
            if s["group_records"]
        ]
        return f"{p.a['record_id']} / {p.b['record_id']}" + "".join(f"\n({g})" for g in grouped)

    table = Table(show_lines=True)
    table.add_column("pair", no_wrap=True)
    table.add_column("score", no_wrap=True)
    table.add_column("records", min_width=7)
    for name in ("title A", "title B"):
        table.add_column(name, ratio=2, overflow="fold")
    table.add_column("why", ratio=1, overflow="fold")
    for p in pairs:
        table.add_row(
            str(p.pair_id), f"{p.score:.2f}", records(p), title(p.a["title"], p.b["title"]),
            title(p.b["title"], p.a["title"]), "; ".join(p.reasons),
        )  # fmt: skip
    console().print(table)


def _decide(
    decision: str,
    pair: int | None,
    records: list[int],
    note: str | None,
    db: str | None,
    actor: str | None,
) -> None:
    from reviewtool.dedup.service import decide_pair
    from reviewtool.errors import InvalidInput

    if (pair is None) == (not records):
        raise InvalidInput("give either a pair id (--pair) or two record ids")
    if records and len(records) != 2:
        raise InvalidInput("give exactly two record ids")
    with writing(db) as session:
        changes = decide_pair(
            session,
            actor=actor_name(actor),
            decision=decision,
            pair_id=pair,
            records=(records[0], records[1]) if records else None,
            note=note,
        )
    verb = "Confirmed" if decision == "confirm" else "Rejected"
    console().print(f"{verb}; {counted(len(changes), 'record')} changed group.")


@app.command("confirm")
def confirm(
    records: list[int] = typer.Argument(None, help="Two record ids (instead of --pair)."),
    pair: int | None = typer.Option(None, "--pair", help="The pair id from `dedup queue`."),
    note: str | None = typer.Option(None, "--note", help="Why."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Confirm that two records are duplicates (a queued pair, or two records you spotted).

    Example: reviewtool dedup confirm --pair 12 --as alice
    """
    _decide("confirm", pair, records or [], note, db, actor)


@app.command("reject")
def reject(
    records: list[int] = typer.Argument(None, help="Two record ids (instead of --pair)."),
    pair: int | None = typer.Option(None, "--pair", help="The pair id from `dedup queue`."),
    note: str | None = typer.Option(None, "--note", help="Why."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Reject a candidate pair: the two records stay apart, in this and later runs.

    Example: reviewtool dedup reject --pair 12 --note "abstract vs article" --as alice
    """
    _decide("reject", pair, records or [], note, db, actor)


@app.command("import-decisions")
def import_decisions(
    path: Path = typer.Argument(
        ...,
        help="CSV: pair_id or record_a,record_b; decision (confirm|reject); note.",
        callback=existing_file,
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Apply a file of dedup decisions in one transaction (all rows or none).

    Example: reviewtool dedup import-decisions decisions.csv --as alice
    """
    from reviewtool.dedup.service import decide_from_file

    with writing(db) as session:
        done = decide_from_file(session, actor=actor_name(actor), path=str(path))
    console().print(
        f"Applied {counted(done.written, 'dedup decision')} from {path} ({done.unchanged} unchanged).",
        highlight=False,
    )


@app.command("undo")
def undo(
    group: int = typer.Argument(..., help="The group id (its primary record id)."),
    note: str | None = typer.Option(None, "--note", help="Why."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Split a duplicate group back into its records (they stay apart in later runs).

    Example: reviewtool dedup undo 17 --note "different trials" --as alice
    """
    from reviewtool.dedup.service import undo_group

    with writing(db) as session:
        members = undo_group(session, actor=actor_name(actor), group_id=group, note=note)
    console().print(f"Split group {group} into records {', '.join(map(str, members))}.")


@app.command("report")
def report(
    db: DbOption = None, actor: ActorOption = None, output: FormatOption = OutputFormat.TABLE
) -> None:
    """Counts per source and the PRISMA "duplicate records removed" number.

    Example: reviewtool dedup report --format json
    """
    from reviewtool.dedup.service import dedup_report

    with reading(db, actor) as session:
        result = dedup_report(session)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    if output is OutputFormat.CSV:
        rows = [
            {"source": s.source, "identified": s.identified,
             "duplicates_removed": s.duplicates_removed, "kept": s.kept}
            for s in result.by_source
        ]  # fmt: skip
        rows.append(
            {"source": "all", "identified": result.identified,
             "duplicates_removed": result.duplicates_removed, "kept": result.remaining}
        )  # fmt: skip
        write_csv(rows, ["source", "identified", "duplicates_removed", "kept"])
        return
    from rich.table import Table

    table = Table("Source", "Identified", "Duplicates removed", "Kept", title="Deduplication")
    for s in result.by_source:
        table.add_row(s.source, str(s.identified), str(s.duplicates_removed), str(s.kept))
    from rich.text import Text

    table.add_row(
        Text("all", style="bold"),
        str(result.identified),
        str(result.duplicates_removed),
        str(result.remaining),
    )
    out = console()
    out.print(table)
    out.print(
        f"{counted(result.identified, 'record')} identified -> "
        f"{counted(result.duplicates_removed, 'duplicate')} removed -> "
        f"{counted(result.remaining, 'record')} ({counted(result.groups, 'duplicate group')}; "
        f"{counted(result.queued, 'pair')} still queued)",
        highlight=False,
    )


@app.command("export")
def export(
    fmt: str = typer.Option("csv", "--format", help="csv (the only format so far)."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Write one row per record: source_id,batch,group_id,is_primary (to score against labels).

    Example: reviewtool dedup export --format csv > groups.csv
    """
    from reviewtool.dedup.service import export_groups
    from reviewtool.errors import InvalidInput

    if fmt != "csv":
        raise InvalidInput(f"--format must be csv, not {fmt!r}")
    with reading(db, actor) as session:
        columns = ["source_id", "batch", "group_id", "is_primary", "record_id"]
        writer = safe_writer(sys.stdout)
        writer.writerow(columns)
        for row in export_groups(session):
            row = {**row, "is_primary": str(row["is_primary"]).lower()}
            writer.writerow(row.get(c) for c in columns)


@app.command("review")
def review(db: DbOption = None, actor: ActorOption = None) -> None:
    """Open the review screen: two records side by side, differences highlighted; y/n/s to decide.

    Example: reviewtool dedup review --as alice
    """
    from reviewtool.domain import Action
    from reviewtool.tui.dedup_review import DedupReviewApp

    run_screen(
        db, actor, Action.DEDUPLICATE, DedupReviewApp, doing="open the duplicate review screen"
    )
