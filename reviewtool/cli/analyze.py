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

from reviewtool.cli._common import (
    ActorOption,
    DbOption,
    FormatOption,
    OutputFormat,
    actor_name,
    console,
    counted,
    err_console,
    existing_file,
    progress_bar,
    reading,
    writing,
)
from reviewtool.cli.analyze_check import check_command, print_table

if TYPE_CHECKING:
    from reviewtool.analysis.results import FileAnalysis, MetaAnalysisResult
    from reviewtool.analysis.service import ExportReport, RunView

app = typer.Typer(
    help="Meta-analysis: pool study results (fixed/random effects, subgroups, bias tests, plots).",
    no_args_is_help=True,
)


@app.callback()
def _analyze(db: DbOption = None, actor: ActorOption = None) -> None:
    """Meta-analysis: pool study results (fixed/random effects, subgroups, bias tests, plots)."""


app.command("check")(check_command)


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


class RobLevel(StrEnum):
    """An RoB 1 risk level (the consensus overall rating as a risk)."""

    LOW = "low"
    UNCLEAR = "unclear"
    HIGH = "high"


class Tau2Choice(StrEnum):
    """Between-study variance estimator."""

    DL = "DL"
    REML = "REML"
    PM = "PM"


@app.command("file")
def file_command(
    data: Annotated[
        Path,
        typer.Argument(
            help="CSV with one row per study.", show_default=False, callback=existing_file
        ),
    ],
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
    import math

    from reviewtool.analysis.effect_sizes import MAX_ADD
    from reviewtool.analysis.meta import Settings
    from reviewtool.analysis.study_table import analyse_file
    from reviewtool.analysis.table_input import level_option_error
    from reviewtool.errors import InvalidInput

    if mh and peto:
        raise InvalidInput("choose one of --mh and --peto")
    why = level_option_error(level)
    if why is not None:
        raise InvalidInput(why)
    if not (math.isfinite(add) and 0 <= add <= MAX_ADD):
        raise InvalidInput(f"--add must be between 0 and {MAX_ADD:g} (e.g. 0.5), not {add:g}")
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
            plots.forest_plot(
                result.main,
                forest,
                subgroups=result.subgroups,
                arms=result.arms,
                labels=plots.ForestLabels.from_mapping(_file_labels(result)),
            )
        if funnel is not None and result.funnel is not None and result.main.k >= 2:
            plots.funnel_plot(
                result.funnel,
                funnel,
                measure=result.main.measure,
                egger=result.egger,
                begg=result.begg,
            )
    if funnel is not None and result.main.k < 2:
        # One point and a "pooled estimate" that is that point: a funnel shows nothing (the
        # run export skips it too). Said on stderr so JSON and CSV output stay clean.
        err_console().print(
            f"Note: funnel plot not drawn ({funnel}): it needs at least 2 studies, there is "
            f"{result.main.k}"
        )
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
    for study, why in main.dropped:  # a study without an estimate keeps its row
        rows.append(
            {
                "row": "study",
                "label": f"{study} (not estimable: {why})",
                **dict.fromkeys(("estimate", "se", "ci_low", "ci_high", "weight", "p")),
            }
        )
    p = main.pooled
    rows.append(
        {
            # k = 1: nothing is pooled; the row repeats the study's own estimate with its p
            "row": "single study (not pooled)" if main.k == 1 else f"pooled ({main.model})",
            "label": main.studies[0].study if main.k == 1 else "overall",
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
        for name, why in result.subgroups.undefined:
            rows.append(
                {
                    "row": f"subgroup {result.subgroups.variable}",
                    "label": f"{name} (not estimable: {why})",
                    "estimate": None,
                    "se": None,
                    "ci_low": None,
                    "ci_high": None,
                    "weight": None,
                    "p": None,
                }
            )
    for lo in result.leave_one_out or ():
        rows.append(
            {
                "row": "leave-one-out",
                "label": f"without {lo.omitted}"
                + (f" (not estimable: {lo.note})" if lo.note else ""),
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
    import sys

    from reviewtool.csvfiles import safe_writer

    rows = _csv_rows(result)
    writer = safe_writer(sys.stdout)
    writer.writerow(list(rows[0]))
    writer.writerows(r.values() for r in rows)


def _heterogeneity_line(main: MetaAnalysisResult) -> str:
    """One I² (Q-based, the one the model rule uses); τ² with its estimator."""
    h = main.heterogeneity
    descriptive = ", descriptive only" if main.model == "fixed" else ""
    return (
        f"Heterogeneity: Q = {_fmt(h.q, 2)}, df = {h.df}, p {_pe(h.p)}; "
        f"I² = {_fmt(h.i2, 1)}% (Q-based), H² = {_fmt(h.h2, 2)}; "
        f"tau² = {_fmt(h.tau2)} ({h.tau2_method}{descriptive})"
    )


def _print_tables(result: FileAnalysis) -> None:
    from rich.table import Table

    from reviewtool.analysis.estimators import exp_ratio

    out = console()
    main = result.main
    ratio = main.pooled.exp_estimate is not None
    scale = f"log {main.measure}" if ratio else main.measure
    studies = "1 study" if main.k == 1 else f"{main.k} studies"
    table = Table(title=f"{main.measure}: {studies} ({Path(result.source).name})")
    table.add_column("Study")
    table.add_column(scale, justify="right")
    table.add_column(f"{main.level:.0%} CI", justify="right")
    if ratio:
        table.add_column(main.measure, justify="right")
        table.add_column(f"{main.measure} CI", justify="right")
    table.add_column("Weight %", justify="right")

    for s in main.studies:
        cells = [s.study, _fmt(s.yi), f"{_fmt(s.ci_low)} to {_fmt(s.ci_high)}"]
        if ratio:
            cells += [
                _fmt(exp_ratio(s.yi), 3),
                f"{_fmt(exp_ratio(s.ci_low), 3)} to {_fmt(exp_ratio(s.ci_high), 3)}",
            ]
        table.add_row(*cells, _fmt(s.weight, 1))
    for study, reason in main.dropped:  # never a study that silently disappears
        table.add_row(study, "not estimable", reason, *([""] * (3 if ratio else 1)))
    p = main.pooled
    single = main.k == 1
    if not single:
        cells = [
            f"Pooled ({main.model}, {main.method})",
            _fmt(p.estimate),
            f"{_fmt(p.ci_low)} to {_fmt(p.ci_high)}",
        ]
        if ratio:
            cells += [
                _fmt(p.exp_estimate, 3),
                f"{_fmt(p.exp_ci_low, 3)} to {_fmt(p.exp_ci_high, 3)}",
            ]
        table.add_row(*cells, "100.0", style="bold")
    print_table(out, table)
    stat = f"{p.statistic_name} = {_fmt(p.statistic, 2)}" + (
        f" (df = {p.df:g})" if p.df is not None else ""
    )
    if single:
        out.print(f"Single study, not pooled: {main.studies[0].study}'s own estimate is shown.")
        out.print(f"Test of the study's effect: {stat}, p {_pe(p.p)}; SE = {_fmt(p.se)}")
    else:
        out.print(f"Model: {main.model} — {main.model_reason}")
        out.print(f"Test for overall effect: {stat}, p {_pe(p.p)}; SE = {_fmt(p.se)}")
    if p.pi_low is not None:
        pi = f"{_fmt(p.pi_low)} to {_fmt(p.pi_high)}"
        if ratio:
            pi += f" ({main.measure} {_fmt(p.exp_pi_low, 3)} to {_fmt(p.exp_pi_high, 3)})"
        out.print(f"Prediction interval: {pi}")
    if not single:
        out.print(_heterogeneity_line(main))
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
                "—" if r.k == 1 else _fmt(r.heterogeneity.i2, 1),
                "—" if r.k == 1 else _fmt(r.heterogeneity.tau2),
            )
        for name, _ in sg.undefined:
            t.add_row(name, "", "NA", "not estimable", "NA", "", "")
        print_table(out, t)
        for name, why in sg.undefined:
            out.print(f"Subgroup {name} not estimable: {why}")
        out.print(
            f"Test for subgroup differences: Q = {_fmt(sg.q_between, 2)}, df = {sg.df}, "
            f"p {_pe(sg.p)} ({sg.method_note})"
        )
    if result.leave_one_out is not None:
        t = Table(title="Leave-one-out")
        for col in ("Omitted", "Estimate", "CI", "p", "I² %", "tau²"):
            t.add_column(col, justify="left" if col == "Omitted" else "right")
        for lo in result.leave_one_out:
            if lo.note:  # the rest cannot be pooled (metafor: an NA row)
                t.add_row(lo.omitted, "NA", "not estimable", "NA", "NA", "NA")
                continue
            t.add_row(
                lo.omitted,
                _fmt(lo.estimate),
                f"{_fmt(lo.ci_low)} to {_fmt(lo.ci_high)}",
                _p(lo.p),
                _fmt(lo.i2, 1),
                _fmt(lo.tau2),
            )
        print_table(out, t)
        for lo in result.leave_one_out:
            if lo.note:
                out.print(f"Without {lo.omitted} not estimable: {lo.note}")
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
            f"Trim-and-fill ({tf.estimator}): {counted(tf.k0, 'study')} imputed on the {tf.side}; adjusted "
            f"estimate {_fmt(tf.adjusted.estimate)} ({_fmt(tf.adjusted.ci_low)} to "
            f"{_fmt(tf.adjusted.ci_high)})"
        )
    for w in result.warnings:
        out.print(f"Warning: {w}")


ExportFormatOption = Annotated[
    list[str] | None,
    typer.Option(
        "--export-format",
        "-e",
        help="Table formats to export: csv, md, xlsx (repeatable). "
        "Default: csv and md, plus xlsx when openpyxl is installed.",
        show_default=False,
    ),
]
PlotsOption = Annotated[
    bool, typer.Option("--plots/--no-plots", help="Write forest and funnel plots (PNG and SVG).")
]
SubgroupWeightsOption = Annotated[
    str,
    typer.Option(
        "--subgroup-weights",
        help="Study weights on subgroup forest plots: 'overall' (adding to 100% over all "
        "subgroups, as RevMan) or 'within' (100% within each subgroup).",
    ),
]
SubgroupPlotsOption = Annotated[
    bool,
    typer.Option(
        "--subgroup-plots", help="Also a forest plot with subgroup sections per --by column."
    ),
]


@app.command("run")
def run_command(
    name: Annotated[str, typer.Option("--name", "-n", help="A name for the stored run.")],
    data: Annotated[
        Path | None,
        typer.Argument(
            help="Outcomes CSV (the same as --from-csv): one row per study × outcome × time "
            "point (docs/analysis.md).",
            show_default=False,
            callback=existing_file,
        ),
    ] = None,
    from_csv: Annotated[
        Path | None,
        typer.Option(
            "--from-csv",
            help="Pool this outcomes CSV instead of the extraction's consensus values.",
            show_default=False,
            callback=existing_file,
        ),
    ] = None,
    from_extraction: Annotated[
        bool,
        typer.Option(
            "--from-extraction",
            help="Pool the extraction's consensus values (the default when no CSV is given).",
        ),
    ] = False,
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help="Subgroup column (repeatable): pooled per subgroup + test."),
    ] = None,
    loo: Annotated[bool, typer.Option("--loo", help="Leave-one-out sensitivity tables.")] = False,
    bias: Annotated[
        bool, typer.Option("--bias", help="Egger and Begg tests, trim-and-fill.")
    ] = False,
    exclude_rob: Annotated[
        RobLevel | None,
        typer.Option(
            "--exclude-rob",
            help="Sensitivity analysis: leave out the studies whose consensus overall risk of "
            "bias is this (e.g. high).",
            case_sensitive=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Also export tables and plots to this folder."),
    ] = None,
    export_format: ExportFormatOption = None,
    plots: PlotsOption = True,
    subgroup_plots: SubgroupPlotsOption = False,
    subgroup_weights: SubgroupWeightsOption = "overall",
    shared_control: Annotated[
        str | None,
        typer.Option(
            "--shared-control",
            help="A control arm shared by several experimental arms (from extraction): "
            "'split' (default; its n, or events and total, divided between the comparisons: "
            "Cochrane Handbook 23.3.4) or 'twice' (each comparison takes all of it).",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Pool every outcome × time point with the review's settings and store the run.

    By default (`--from-extraction`) the data are the extraction's consensus values: one
    comparison per experimental arm against the arm named `control` (docs/extraction.md); `--by`
    then names form fields (study fields, or arm fields of the experimental arm). With a CSV
    (`--from-csv FILE`, or FILE as the argument) its rows are pooled, checked the same way.
    The model and tau² estimator are the review's settings `analysis.model` and `analysis.tau2`.
    Continuous outcomes are pooled as SMD (Hedges' g), binary ones as odds ratios. When an
    outcome's baseline comparison is significant (p < 0.05), its time points are flagged
    "baseline differs". The run (settings, the form version, a SHA-256 of the input, all
    results) is stored and recorded in the audit ledger; a re-run says whether the input changed
    since the previous run from the same source. Run again with the same name, settings and input,
    it stores nothing new and says which run holds it (with --out, that run is exported again).
    The --out folder is written whole: into a temporary folder beside it, renamed into place when
    complete. `--exclude-rob high` leaves out the studies whose consensus overall risk of bias is
    High; `--by rob_overall` makes subgroups by that rating ("Suk 2016 (one injection)" is study
    "Suk 2016": the label before " (").

    Example: reviewtool analyze run --name "main analysis" --by liver_disease --loo --bias --out analysis
    """
    from reviewtool.analysis.service import check_export, export_run, list_runs, run_analysis
    from reviewtool.errors import InvalidInput

    if data is not None and from_csv is not None and data != from_csv:
        raise InvalidInput("give the outcomes CSV once: as the argument or as --from-csv")
    csv_path = from_csv or data
    if csv_path is not None and from_extraction:
        raise InvalidInput("choose one of --from-extraction and --from-csv")
    if out is not None:  # refuse a bad export before anything is stored
        check_export(out, export_format)
    with writing(db) as session:
        from reviewtool.access import require
        from reviewtool.domain import Action

        who = actor_name(actor)
        require(session, who, Action.ANALYSE, doing="run an analysis")  # before reading any stage
        if csv_path is None:
            source, text, details = _extraction_input(session, who, shared_control or "split")
            named = details.get("named_time_points", [])
        else:
            if shared_control is not None:
                raise InvalidInput(
                    "--shared-control applies to --from-extraction: a CSV's rows are pooled as "
                    "they are (split a shared control arm's n_con in the file)"
                )
            source, text, details = str(csv_path), None, {"from": "csv"}
            named = []
        wants_rob = "rob_overall" in {c.strip().lower() for c in by or ()}
        if exclude_rob is not None or wants_rob:
            text = _with_rob(session, csv_path, text, details, exclude_rob, wants_rob)
        earlier = list_runs(session)
        with progress_bar("Pooling", unit="outcome × time points") as bar:
            run = run_analysis(
                session,
                actor=who,
                data_path=source,
                name=name,
                by=by or (),
                loo=loo,
                bias=bias,
                data_text=text,
                input_details=details,
                time_points=named,
                progress=bar,
            )
    if run.already_stored:
        console().print(
            f"Run {run.id} already holds this analysis (same name, settings and input); its "
            "results are unchanged.",
            highlight=False,
        )
    else:
        _print_run(run)
        _print_input_change(run, earlier)
    if out is not None:
        # A read session of its own: drawing the plots must not hold the review's write lock.
        with reading(db, actor) as session, progress_bar("Drawing", unit="plots") as bar:
            report = export_run(
                session,
                run.id,
                out,
                export_format,
                plots=plots,
                subgroup_plots=subgroup_plots,
                subgroup_weights=subgroup_weights,
                progress=bar,
            )
        _print_export(report)


EXTRACTION_SOURCE = "extraction consensus"


def _with_rob(
    session: Any,
    csv_path: Path | None,
    text: str | None,
    details: dict[str, Any],
    exclude: RobLevel | None,
    add_column: bool,
) -> str | None:
    """The outcomes table with the risk-of-bias composition applied (rob gives plain
    ``{study: level}``, :func:`reviewtool.analysis.arm_table.with_risk_of_bias` applies it);
    ``details`` gets what was done. None leaves a CSV that is not UTF-8 to the normal refusal."""
    from reviewtool.analysis.arm_table import comparison_csv, parse_outcomes_csv, with_risk_of_bias
    from reviewtool.rob.service import overall_risk_by_study

    if text is None:
        assert csv_path is not None
        from reviewtool.csvfiles import check_lines

        check_lines(csv_path, what="analysis")
        try:
            text = csv_path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
    columns, rows = parse_outcomes_csv(text)
    if "study" not in columns:
        return text  # read_outcomes names the missing column
    overall = overall_risk_by_study(session)
    level = exclude.value.capitalize() if exclude is not None else None
    columns, rows, dropped, unrated = with_risk_of_bias(
        columns, rows, overall, exclude=level, add_column=add_column
    )
    if level is not None:
        details["exclude_rob"] = level
        details["excluded"] = dropped
        console().print(
            f"Left out (consensus overall risk of bias {level}): {', '.join(dropped) or 'none'}",
            highlight=False,
        )
    if unrated:
        details["no_rob_rating"] = unrated
        err_console().print(
            f"Note: no consensus overall risk of bias for {', '.join(unrated)} (kept"
            + (f"; subgroup {'not assessed'!r})" if add_column else ")"),
            highlight=False,
        )
    return comparison_csv(columns, rows)


def _extraction_input(
    session: Any, actor: str, shared_control: str = "split"
) -> tuple[str, str, dict[str, Any]]:
    """(source, CSV text, details) of the comparisons made from the extraction's consensus values:
    extraction gives plain per-arm rows, :mod:`reviewtool.analysis.arm_table` turns them into the
    outcomes table (the CLI composes the two stages). A control arm shared by several comparisons
    is split (``shared_control``; Cochrane Handbook 23.3.4): the details record each split, and a
    warning names them."""
    import hashlib

    from reviewtool.analysis.arm_table import (
        SharedControlSplit,
        comparison_csv,
        comparison_rows,
    )
    from reviewtool.analysis.outcomes import named_time_points
    from reviewtool.extraction import service as extraction

    version, form = extraction.current_form(session)
    arm_rows = [r.to_dict() for r in extraction.analysis_rows(session, actor=actor)]
    outcomes = {
        o.key: {
            "title": o.label,
            "unit": o.unit,
            "better": "higher" if o.direction == "higher_is_better" else "lower",
        }
        for o in form.outcomes
    }
    study_values: dict[str, dict[str, str]] = {}
    arm_values: dict[tuple[str, str], dict[str, str]] = {}
    for v in extraction.values(session, actor=actor, extractor="consensus"):
        if v.outcome:
            continue
        if v.arm:
            if v.field != "name":
                arm_values.setdefault((v.study, v.arm), {})[v.field] = v.value
        else:
            study_values.setdefault(v.study, {})[v.field] = v.value
    splits: list[SharedControlSplit] = []
    columns, rows = comparison_rows(
        arm_rows,
        outcomes,
        study_values,
        arm_values,
        shared_control=shared_control,
        splits=splits,
    )
    text = comparison_csv(columns, rows)
    details: dict[str, Any] = {
        "from": "extraction",
        "form_version": version,
        "form_sha256": form.sha256,
        "comparisons_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
    }
    used = {r["time_point"] for r in rows}
    named = [tp for tp in named_time_points(o.time_points for o in form.outcomes) if tp in used]
    if named:  # "end of treatment" ...: pooled, after every time, in the form's order
        details["named_time_points"] = named
    details["shared_control"] = shared_control
    if splits:
        details["shared_control_splits"] = [split.to_dict() for split in splits]
        for split in splits:
            console().print(
                f"Note: {split.outcome} at {split.time_point}: {split.line()}",
                highlight=False,
                soft_wrap=True,
            )
    return f"{EXTRACTION_SOURCE} (form version {version})", text, details


def _print_input_change(run: RunView, earlier: list[RunView]) -> None:
    """Say whether the input differs from the newest earlier run from the same source (the
    extraction, or the same CSV file)."""
    source = run.settings.get("input", {}).get("from")

    def same_source(r: RunView) -> bool:
        if source == "extraction":
            return r.input_source.startswith(EXTRACTION_SOURCE)
        return r.input_source == run.input_source

    previous = next((r for r in reversed(earlier) if same_source(r)), None)
    if previous is None:
        return
    if previous.input_sha256 == run.input_sha256:
        console().print(f"Input unchanged since run {previous.id}.")
    else:
        console().print(
            f"Input changed since run {previous.id}: sha256 {previous.input_sha256[:16]}… → "
            f"{run.input_sha256[:16]}… ({previous.input_source} → {run.input_source})"
        )


@app.command("runs")
def runs_command(
    db: DbOption = None, actor: ActorOption = None, output: FormatOption = OutputFormat.TABLE
) -> None:
    """List the stored analysis runs.

    Example: reviewtool analyze runs --format json
    """
    from reviewtool.analysis.service import list_runs

    with reading(db, actor) as session:
        runs = list_runs(session)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps([r.to_dict() for r in runs], indent=2, ensure_ascii=False))
    elif output is OutputFormat.CSV:
        import sys

        from reviewtool.csvfiles import safe_writer

        writer = safe_writer(sys.stdout)
        writer.writerow(["id", "name", "run_by", "run_at", "input_source", "input_sha256"])
        for r in runs:
            writer.writerow([r.id, r.name, r.run_by, r.run_at, r.input_source, r.input_sha256])
    else:
        from rich.table import Table

        table = Table("Run", "Name", "By", "At", "Input", "SHA-256", "Analyses", "Model")
        for r in runs:
            table.add_row(
                str(r.id),
                r.name,
                r.run_by,
                r.run_at[:19],
                Path(r.input_source).name,
                r.input_sha256[:12],
                str(len(r.results.get("analyses", []))),
                f"{r.settings['model']}/{r.settings['tau2_method']}",
            )
        print_table(console(), table)


@app.command("export")
def export_command(
    run_id: Annotated[int, typer.Argument(help="The run's number (see `analyze runs`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write (created if missing).")],
    export_format: ExportFormatOption = None,
    plots: PlotsOption = True,
    subgroup_plots: SubgroupPlotsOption = False,
    subgroup_weights: SubgroupWeightsOption = "overall",
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Write a stored run's tables (CSV, Markdown, XLSX) and forest/funnel plots to a folder.

    Example: reviewtool analyze export 1 --out analysis --export-format csv --export-format md
    """
    from reviewtool.analysis.service import export_run

    with reading(db, actor) as session, progress_bar("Drawing", unit="plots") as bar:
        report = export_run(
            session,
            run_id,
            out,
            export_format,
            plots=plots,
            subgroup_plots=subgroup_plots,
            subgroup_weights=subgroup_weights,
            progress=bar,
        )
    _print_export(report)


def _file_labels(result: FileAnalysis) -> dict[str, str]:
    """The plot labels an ``analyze file`` CSV gives in optional columns (``arm_exp, arm_con,
    better, unit, outcome_title``): the first study's values."""
    groups = result.arms[0].groups if result.arms else {}
    keys = ("arm_exp", "arm_con", "better", "unit", "outcome_title")
    return {k: groups[k] for k in keys if groups.get(k)}


def _print_export(report: ExportReport) -> None:
    out = console()
    out.print(f"Wrote {counted(len(report.files), 'file')} to {report.out_dir}")
    for note in report.notes:
        out.print(f"Note: {note}")


def _print_run(run: RunView) -> None:
    from rich import box
    from rich.table import Table

    out = console()
    s = run.settings
    table = Table(title=f"Analysis run {run.id}: {run.name}", box=box.SIMPLE_HEAD)
    for col in ("Outcome", "Time point", "k", "Model", "Effect", "95% CI", "p", "I² %", "Flag"):
        table.add_column(
            col,
            justify="right" if col in ("k", "Effect", "p", "I² %") else "left",
            min_width={"Effect": 9, "95% CI": 14, "p": 6}.get(col),
        )
    for row in run.summary_rows():
        ratio = row["exp_estimate"] is not None
        est, lo, hi = (
            (row["exp_estimate"], row["exp_ci_low"], row["exp_ci_high"])
            if ratio
            else (row["estimate"], row["ci_low"], row["ci_high"])
        )
        table.add_row(
            row["outcome"],
            row["time_point"],
            str(row["k"]),
            row["model"],
            f"{row['measure']} {_fmt(est, 2)}",
            f"{_fmt(lo, 2)} to {_fmt(hi, 2)}",
            "<0.001" if row["p"] is not None and row["p"] < 0.001 else _fmt(row["p"], 3),
            "—" if row["k"] == 1 else _fmt(row["I2"], 0),  # a single study has no I²
            row["flag"],
        )
    print_table(out, table)
    out.print(
        f"Settings: model {s['model']}, tau² {s['tau2_method']}; subgroups by "
        f"{', '.join(s['by']) or 'none'}; leave-one-out {'yes' if s['leave_one_out'] else 'no'}; "
        f"Egger/Begg {'yes' if s['bias'] else 'no'}"
    )
    out.print(f"Stored as run {run.id} (input {run.input_source}, sha256 {run.input_sha256[:16]}…)")
