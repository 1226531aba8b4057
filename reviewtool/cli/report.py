"""``reviewtool report``: what a review hands in (``report prisma``: the PRISMA 2020 flow)."""

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
    group_options,
    progress_bar,
    reading,
    write_csv,
)

app = typer.Typer(
    help="The review's outputs: the PRISMA 2020 flow diagram and its counts; the report folder."
)
app.callback()(group_options)


@app.command("prisma")
def prisma(
    out: Path | None = typer.Option(
        None, "--out", help="Write prisma.svg, prisma.png and prisma_PRISMA2020.csv here."
    ),
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """The PRISMA 2020 counts (checked: a sum that does not add up is an error); with --out, the
    diagram as SVG and PNG and the PRISMA2020 R package / Shiny app CSV.

    Example: reviewtool report prisma --out report/ --as jniu
    """
    from reviewtool.report.prisma import prisma_report, table_rows, write_prisma

    with reading(db, actor) as session:
        report = prisma_report(session, actor=actor_name(actor))
    paths = write_prisma(report, out) if out is not None else []
    rows = table_rows(report)
    if output is OutputFormat.JSON:
        data = {
            **report.counts.to_dict(),
            "studies_in_meta_analysis": report.studies_in_meta_analysis,
            "files": [str(p) for p in paths],
        }
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if output is OutputFormat.CSV:
        flat, parent = [], ""
        for box, n in rows:
            if box.startswith(" "):  # a reason or source under the box before it
                flat.append({"box": f"{parent}: {box.strip()}", "n": n})
            else:
                parent = box
                flat.append({"box": box, "n": n})
        write_csv(flat, ["box", "n"])
        return
    from rich.table import Table

    table = Table("PRISMA 2020", "n", title="PRISMA 2020 flow")
    for box, n in rows:
        table.add_row(box, n)
    console().print(table)
    for note in report.notes:
        console().print(note, highlight=False)
    for path in paths:
        console().print(f"Wrote {path}", highlight=False)


@app.command("build")
def build(
    out: Path = typer.Argument(..., help="The report folder to write (made, or replaced whole)."),
    run: int | None = typer.Option(
        None, "--run", help="The analysis run to show (default: the newest)."
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Write the report folder: the PRISMA diagram, study characteristics, risk-of-bias figures,
    results per outcome and time point, forest and funnel plots, subgroup and leave-one-out
    tables, screening agreement, settings, tool version and audit head; tables as CSV, Markdown
    and XLSX, and one self-contained index.html showing it all.

    Example: reviewtool report build report/ --as jniu
    """
    from reviewtool.report.build import build_report

    with reading(db, actor) as session, progress_bar("Building the report", unit="parts") as bar:
        report = build_report(
            session, actor=actor_name(actor), out_dir=out, run_id=run, progress=bar
        )
    head = report.ledger_head
    console().print(
        f"Wrote {counted(len(report.files), 'file')} to {report.out_dir}/ (open "
        f"{report.out_dir / 'index.html'}); analysis run: {report.run_id or 'none'}; "
        f"audit ledger head: event {head['seq']} {head['hash']}.",
        highlight=False,
    )
