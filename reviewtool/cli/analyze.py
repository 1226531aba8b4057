"""``reviewtool analyze``: pooled analyses (meta-analysis) of study-level data.

Only light imports at module level: numpy, scipy, matplotlib and rich are imported inside the
command so that ``reviewtool --help`` stays fast.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reviewtool.cli._common import OutputFormat, console

if TYPE_CHECKING:
    from reviewtool.analysis.results import FileAnalysis

app = typer.Typer(
    help="Meta-analysis: pool study results (fixed/random effects, subgroups, bias tests, plots).",
    no_args_is_help=True,
)


@app.callback()
def _analyze() -> None:
    """Meta-analysis: pool study results (fixed/random effects, subgroups, bias tests, plots)."""


class MeasureChoice(StrEnum):
    """Effect measure."""

    SMD = "SMD"
    MD = "MD"
    OR = "OR"
    RR = "RR"
    RD = "RD"
    GEN = "GEN"


class ModelChoice(StrEnum):
    """Fixed or random effects, or the seed rule (random when Q p < 0.1 or I² > 50%)."""

    FIXED = "fixed"
    RANDOM = "random"
    AUTO = "auto"


class Tau2Choice(StrEnum):
    """Between-study variance estimator."""

    DL = "DL"
    REML = "REML"
    PM = "PM"


@app.command("file")
def file_command(
    data: Annotated[Path, typer.Argument(help="CSV with one row per study.", show_default=False)],
    measure: Annotated[
        MeasureChoice, typer.Option("--measure", "-m", help="Effect measure.", case_sensitive=False)
    ] = MeasureChoice.SMD,
    model: Annotated[
        ModelChoice,
        typer.Option(
            "--model",
            help="fixed, random, or auto (random when Q p < 0.1 or I² > 50%).",
            case_sensitive=False,
        ),
    ] = ModelChoice.AUTO,
    tau2: Annotated[
        Tau2Choice, typer.Option("--tau2", help="tau² estimator.", case_sensitive=False)
    ] = Tau2Choice.REML,
    mh: Annotated[
        bool, typer.Option("--mh", help="Mantel-Haenszel pooling (OR/RR/RD, fixed effect).")
    ] = False,
    peto: Annotated[bool, typer.Option("--peto", help="Peto odds ratio (fixed effect).")] = False,
    hksj: Annotated[
        bool, typer.Option("--hksj", help="Hartung-Knapp-Sidik-Jonkman CI (random effects).")
    ] = False,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Subgroup column: pooled per subgroup + test for differences."),
    ] = None,
    loo: Annotated[bool, typer.Option("--loo", help="Leave-one-out sensitivity table.")] = False,
    bias: Annotated[
        bool, typer.Option("--bias", help="Egger and Begg tests, trim-and-fill.")
    ] = False,
    level: Annotated[float, typer.Option("--level", help="Confidence level.")] = 0.95,
    add: Annotated[
        float, typer.Option("--add", help="Continuity correction for zero cells (0 = none).")
    ] = 0.5,
    keep_double_zero: Annotated[
        bool,
        typer.Option("--keep-double-zero", help="Keep OR/RR studies with no events in either arm."),
    ] = False,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
    ] = OutputFormat.TABLE,
    forest: Annotated[
        Path | None, typer.Option("--forest", help="Write a forest plot (.png or .svg).")
    ] = None,
    funnel: Annotated[
        Path | None, typer.Option("--funnel", help="Write a funnel plot (.png or .svg).")
    ] = None,
) -> None:
    """Run a standalone meta-analysis on DATA (one row per study).

    Columns: `study`, then events_exp,total_exp,events_con,total_con (binary) or
    mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con (continuous) or yi,vi / yi,sei; optional `year`
    and subgroup columns.

    Example: reviewtool analyze file trials.csv --measure OR --model auto --by route --bias
    """
    from reviewtool.analysis.meta import Settings
    from reviewtool.analysis.study_table import analyse_file
    from reviewtool.errors import InvalidInput

    if mh and peto:
        raise InvalidInput("choose one of --mh and --peto")
    settings = Settings(
        model=model.value,
        tau2_method=tau2.value,
        method="MH" if mh else "Peto" if peto else "IV",
        hksj=hksj,
        level=level,
    )
    result = analyse_file(
        data,
        measure=measure.value,
        settings=settings,
        by=by,
        loo=loo,
        bias=bias,
        add=add,
        drop_double_zero=not keep_double_zero,
    )
    if forest is not None or funnel is not None:
        from reviewtool.analysis import plots

        if forest is not None:
            plots.forest_plot(result.main, forest, subgroups=result.subgroups)
        if funnel is not None and result.funnel is not None:
            plots.funnel_plot(result.funnel, funnel, measure=result.main.measure)
    if fmt is OutputFormat.JSON:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif fmt is OutputFormat.CSV:
        _print_csv(result)
    else:
        _print_tables(result)


def _fmt(x: float | None, digits: int = 4) -> str:
    if x is None:
        return ""
    if x != x:  # NaN
        return "NA"
    return f"{x:.{digits}f}"


def _p(x: float | None) -> str:
    if x is None or x != x:
        return "NA"
    return "<0.0001" if x < 1e-4 else f"{x:.4f}"


def _pe(x: float | None) -> str:
    """``p`` with its relation sign, for inline text."""
    text = _p(x)
    return text.replace("<", "< ") if text.startswith("<") else f"= {text}"


def _csv_rows(result: FileAnalysis) -> list[dict[str, Any]]:
    main = result.main
    rows: list[dict[str, Any]] = []
    for s in main.studies:
        rows.append(
            {
                "row": "study",
                "label": s.study,
                "estimate": s.yi,
                "se": s.se,
                "ci_low": s.ci_low,
                "ci_high": s.ci_high,
                "weight": s.weight,
                "p": None,
            }
        )
    p = main.pooled
    rows.append(
        {
            "row": f"pooled ({main.model})",
            "label": "overall",
            "estimate": p.estimate,
            "se": p.se,
            "ci_low": p.ci_low,
            "ci_high": p.ci_high,
            "weight": 100.0,
            "p": p.p,
        }
    )
    if result.subgroups is not None:
        for name, r in result.subgroups.groups:
            q = r.pooled
            rows.append(
                {
                    "row": f"subgroup {result.subgroups.variable}",
                    "label": name,
                    "estimate": q.estimate,
                    "se": q.se,
                    "ci_low": q.ci_low,
                    "ci_high": q.ci_high,
                    "weight": None,
                    "p": q.p,
                }
            )
    for lo in result.leave_one_out or ():
        rows.append(
            {
                "row": "leave-one-out",
                "label": f"without {lo.omitted}",
                "estimate": lo.estimate,
                "se": lo.se,
                "ci_low": lo.ci_low,
                "ci_high": lo.ci_high,
                "weight": None,
                "p": lo.p,
            }
        )
    return rows


def _print_csv(result: FileAnalysis) -> None:
    import csv
    import sys

    rows = _csv_rows(result)
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def _print_tables(result: FileAnalysis) -> None:
    from rich.table import Table

    out = console()
    main = result.main
    ratio = main.pooled.exp_estimate is not None
    scale = f"log {main.measure}" if ratio else main.measure
    table = Table(title=f"{main.measure}: {main.k} studies ({Path(result.source).name})")
    table.add_column("Study")
    table.add_column(scale, justify="right")
    table.add_column(f"{main.level:.0%} CI", justify="right")
    if ratio:
        table.add_column(main.measure, justify="right")
        table.add_column(f"{main.measure} CI", justify="right")
    table.add_column("Weight %", justify="right")
    import math

    for s in main.studies:
        cells = [s.study, _fmt(s.yi), f"{_fmt(s.ci_low)} to {_fmt(s.ci_high)}"]
        if ratio:
            cells += [
                _fmt(math.exp(s.yi), 3),
                f"{_fmt(math.exp(s.ci_low), 3)} to {_fmt(math.exp(s.ci_high), 3)}",
            ]
        table.add_row(*cells, _fmt(s.weight, 1))
    p = main.pooled
    cells = [
        f"Pooled ({main.model}, {main.method})",
        _fmt(p.estimate),
        f"{_fmt(p.ci_low)} to {_fmt(p.ci_high)}",
    ]
    if ratio:
        cells += [_fmt(p.exp_estimate, 3), f"{_fmt(p.exp_ci_low, 3)} to {_fmt(p.exp_ci_high, 3)}"]
    table.add_row(*cells, "100.0", style="bold")
    out.print(table)
    stat = f"{p.statistic_name} = {_fmt(p.statistic, 2)}" + (
        f" (df = {p.df:g})" if p.df is not None else ""
    )
    out.print(f"Model: {main.model} — {main.model_reason}")
    out.print(f"Test for overall effect: {stat}, p {_pe(p.p)}; SE = {_fmt(p.se)}")
    if p.pi_low is not None:
        pi = f"{_fmt(p.pi_low)} to {_fmt(p.pi_high)}"
        if ratio:
            pi += f" ({main.measure} {_fmt(p.exp_pi_low, 3)} to {_fmt(p.exp_pi_high, 3)})"
        out.print(f"Prediction interval: {pi}")
    h = main.heterogeneity
    out.print(
        f"Heterogeneity: Q = {_fmt(h.q, 2)}, df = {h.df}, p {_pe(h.p)}; I² = {_fmt(h.i2, 1)}%, "
        f"H² = {_fmt(h.h2, 2)}, tau² = {_fmt(h.tau2)} ({h.tau2_method}); I²/H² {h.i2_form}"
    )
    for note in main.notes:
        out.print(f"Note: {note}")
    if result.subgroups is not None:
        sg = result.subgroups
        t = Table(title=f"Subgroups by {sg.variable}")
        for col in ("Subgroup", "k", "Estimate", "CI", "p", "I² %", "tau²"):
            t.add_column(col, justify="left" if col == "Subgroup" else "right")
        for name, r in sg.groups:
            q = r.pooled
            t.add_row(
                name,
                str(r.k),
                _fmt(q.estimate),
                f"{_fmt(q.ci_low)} to {_fmt(q.ci_high)}",
                _p(q.p),
                _fmt(r.heterogeneity.i2, 1),
                _fmt(r.heterogeneity.tau2),
            )
        out.print(t)
        out.print(
            f"Test for subgroup differences: Q = {_fmt(sg.q_between, 2)}, df = {sg.df}, "
            f"p {_pe(sg.p)} ({sg.method_note})"
        )
    if result.leave_one_out is not None:
        t = Table(title="Leave-one-out")
        for col in ("Omitted", "Estimate", "CI", "p", "I² %", "tau²"):
            t.add_column(col, justify="left" if col == "Omitted" else "right")
        for lo in result.leave_one_out:
            t.add_row(
                lo.omitted,
                _fmt(lo.estimate),
                f"{_fmt(lo.ci_low)} to {_fmt(lo.ci_high)}",
                _p(lo.p),
                _fmt(lo.i2, 1),
                _fmt(lo.tau2),
            )
        out.print(t)
    if result.egger is not None:
        e = result.egger
        out.print(
            f"Egger's test ({e.model}, predictor {e.predictor}): bias = {_fmt(e.bias)}, "
            f"{e.statistic_name} = {_fmt(e.statistic, 3)}"
            + (f" (df = {e.df})" if e.df is not None else "")
            + f", p {_pe(e.p)}; limit estimate {_fmt(e.limit_estimate)}"
        )
    if result.begg is not None:
        b = result.begg
        out.print(f"Begg's rank correlation: Kendall's tau = {_fmt(b.tau)}, p {_pe(b.p)}")
    if result.trim_fill is not None:
        tf = result.trim_fill
        out.print(
            f"Trim-and-fill ({tf.estimator}): {tf.k0} studies imputed on the {tf.side}; adjusted "
            f"estimate {_fmt(tf.adjusted.estimate)} ({_fmt(tf.adjusted.ci_low)} to "
            f"{_fmt(tf.adjusted.ci_high)})"
        )
    for w in result.warnings:
        out.print(f"Warning: {w}")
