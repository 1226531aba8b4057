"""``reviewtool analyze check``: do a paper's estimate, CI and p-value agree with each other?

Registered on the ``analyze`` group by :mod:`reviewtool.cli.analyze`. Light imports only: scipy
and rich are imported inside the command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from reviewtool.cli._common import FormatOption, OutputFormat, console, counted, existing_file

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from reviewtool.analysis.checker import ReportedFileCheck


def print_table(out: Console, table: Table) -> None:
    """Print ``table`` on ``out`` whole: on a terminal rich fits it to the screen; piped or
    redirected (no terminal, 80 columns by default) it is printed at its natural width, so no
    key cell (a time point, a date) is cut to ``baseli…``."""
    if out.is_terminal:
        out.print(table)
        return
    natural = out.measure(table, options=out.options.update_width(10_000)).maximum
    before = out.width
    out.width = max(before, natural)  # Console.print(width=) cannot exceed the console's width
    try:
        out.print(table, crop=False)
    finally:
        out.width = before


def check_command(
    data: Annotated[
        Path,
        typer.Argument(
            help="CSV of reported results: estimate, ci_low, ci_high, [p], [measure], [label].",
            show_default=False,
            callback=existing_file,
        ),
    ],
    ratio: Annotated[
        bool | None,
        typer.Option(
            "--ratio/--no-ratio",
            help="Treat every row as a ratio (OR, RR, HR; checked on the log scale) or as a "
            "difference. Default: from the `measure` column.",
            show_default=False,
        ),
    ] = None,
    level: Annotated[
        float, typer.Option("--level", help="Confidence level of the CIs (a `level` column wins).")
    ] = 0.95,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Check that each reported estimate, confidence interval and p-value agree.

    For a Wald-type result the CI fixes the estimate (its midpoint, on the log scale for
    ratios) and the p-value; every comparison allows for rounding to the printed decimals
    (Altman & Bland 2011, BMJ 343:d2304). Rows with no estimate, CI or p are skipped.

    Example: reviewtool analyze check reported.csv --format csv
    """
    from reviewtool.analysis.checker import check_reported_file
    from reviewtool.analysis.table_input import level_option_error
    from reviewtool.errors import InvalidInput

    why = level_option_error(level)
    if why is not None:
        raise InvalidInput(why)
    report = check_reported_file(data, ratio=ratio, level=level)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    elif output is OutputFormat.CSV:
        _print_csv(report)
    else:
        _print_table(report)


def _num(x: float | None, digits: int = 3) -> str:
    return "" if x is None else f"{x:.{digits}g}"


def _print_csv(report: ReportedFileCheck) -> None:
    import sys

    from reviewtool.csvfiles import safe_writer

    writer = safe_writer(sys.stdout)
    writer.writerow(
        [
            *("line", "label", "estimate", "ci_low", "ci_high", "p", "ratio", "consistent"),
            *("implied_p", "implied_estimate", "problems"),
        ]
    )
    for r in report.rows:
        res = r.result
        writer.writerow(
            [
                *(r.line, r.label, r.estimate, r.ci_low, r.ci_high, r.p, r.ratio, res.consistent),
                *(res.implied_p, res.implied_estimate, "; ".join(res.problems)),
            ]
        )


def _print_table(report: ReportedFileCheck) -> None:
    from rich.table import Table

    out = console()
    table = Table(title=f"Reported results ({Path(report.path).name})")
    for col in ("Line", "Result", "Estimate", "CI", "p", "Implied p", "Adds up"):
        table.add_column(col, justify="left" if col == "Result" else "right")
    for r in report.rows:
        res = r.result
        table.add_row(
            str(r.line),
            r.label + (" (ratio)" if r.ratio else ""),
            r.estimate,
            f"{r.ci_low} to {r.ci_high}",
            r.p,
            _num(res.implied_p, 2),
            "yes" if res.consistent else "NO",
            style=None if res.consistent else "bold",
        )
    print_table(out, table)
    for r in report.inconsistent:
        out.print(f"Line {r.line} ({r.label}): " + "; ".join(r.result.problems))
    bad = len(report.inconsistent)
    out.print(
        f"{bad} of {counted(len(report.rows), 'result')} {'does' if bad == 1 else 'do'} not add up as printed"
        if bad
        else (
            f"All {len(report.rows)} results add up as printed"
            if len(report.rows) != 1
            else "The one result adds up as printed"
        )
    )
    if report.skipped:
        lines = ", ".join(str(line) for line, _ in report.skipped)
        out.print(f"Not checked (no estimate, CI or p): line {lines}")
