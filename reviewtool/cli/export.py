"""``reviewtool export``: references with their final decisions (RIS, BibTeX, CSV), the included
studies' reports as RIS for a reference manager, and the audit log as JSON Lines."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

import typer

from reviewtool.cli._common import (
    ActorOption,
    DbOption,
    actor_name,
    counted,
    err_console,
    group_options,
    progress_bar,
    reading,
    write_csv,
)

app = typer.Typer(
    help="Exports for the next program: decided references (RIS, BibTeX, CSV), the included "
    "studies' reports (RIS) and the audit log (JSON Lines).",
    no_args_is_help=True,
)
app.callback()(group_options)


class ReferenceFormat(StrEnum):
    """Formats of ``export references``."""

    RIS = "ris"
    BIBTEX = "bibtex"
    CSV = "csv"


OutOption = typer.Option(
    None,
    "--out",
    "-o",
    help="Write to this file (whole or not at all) instead of standard output.",
    dir_okay=False,
)


def _emit(chunks: Iterable[str], out: Path | None, what: str) -> None:
    """Print ``chunks``, or write them to ``out`` through ``outfolder.written_file`` (a temporary
    file renamed at the end), so an interrupted export never leaves a partial file."""
    if out is None:
        for chunk in chunks:
            sys.stdout.write(chunk)
        return
    from reviewtool.outfolder import written_file

    with written_file(out) as temp, temp.open("w", encoding="utf-8", newline="") as fh:
        for chunk in chunks:
            fh.write(chunk)
    err_console().print(f"Wrote {what} to {out}.")


@app.command("references")
def references(
    stage: str = typer.Option("tiab", "--stage", help="tiab or fulltext."),
    decision: str = typer.Option("all", "--decision", help="include, exclude or all."),
    fmt: ReferenceFormat = typer.Option(ReferenceFormat.RIS, "--format", "-f"),
    out: Path | None = OutOption,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """The references decided at a stage, with authors, year, journal, DOI, PMID, decision and
    reason (RIS ``N1``, BibTeX ``note``, CSV columns). Refused while the stage is blind to you.

    Example: reviewtool export references --stage fulltext --decision include -f ris -o included.ris
    """
    from reviewtool.report.exports import (
        REFERENCE_COLUMNS,
        decided_references,
        to_bibtex,
        to_ris,
    )

    with (
        reading(db, actor) as session,
        progress_bar("Reading the decided references", unit="references") as progress,
    ):
        refs = decided_references(
            session, actor=actor_name(actor), stage=stage, decision=decision, progress=progress
        )
    if fmt is ReferenceFormat.CSV:
        import io

        buffer = io.StringIO()
        write_csv((r.to_row() for r in refs), REFERENCE_COLUMNS, buffer)
        _emit([buffer.getvalue()], out, counted(len(refs), "reference"))
        return
    text = to_ris(refs) if fmt is ReferenceFormat.RIS else to_bibtex(refs)
    _emit([text], out, counted(len(refs), "reference"))


@app.command("reports")
def reports(
    out: Path | None = OutOption,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """The retrieved reports of every included study as RIS (file as ``L1``, URL as ``UR``, ``N1``
    naming study and report), for a reference manager. Refused while full text is blind to you.

    Example: reviewtool export reports -o included_reports.ris
    """
    from reviewtool.report.exports import included_reports, reports_to_ris

    with (
        reading(db, actor) as session,
        progress_bar("Reading the included studies' reports", unit="studies") as progress,
    ):
        found = included_reports(session, actor=actor_name(actor), progress=progress)
    _emit([reports_to_ris(found)], out, counted(len(found), "report"))


@app.command("audit")
def audit_log(
    out: Path | None = OutOption,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """The whole audit log as JSON Lines, oldest first, as you may see it (events at a stage still
    blind to you are left out, as in ``audit log``).

    Example: reviewtool export audit -o audit.jsonl
    """
    from reviewtool.report.exports import audit_lines

    with (
        reading(db, actor) as session,
        progress_bar("Exporting the audit log", unit="events") as progress,
    ):
        lines = [
            line + "\n" for line in audit_lines(session, actor=actor_name(actor), progress=progress)
        ]
    _emit(lines, out, counted(len(lines), "event"))
