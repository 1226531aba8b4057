"""``reviewtool rob``: risk of bias (RoB 1 per study, RoB 2 per result), blind dual assessment,
consensus, robvis exports and figures; ``reviewtool rob STUDY`` opens the assessment screen."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from reviewtool.cli._common import (
    ActorOption,
    DbOption,
    FormatOption,
    OnBehalfOfOption,
    OutputFormat,
    StudyFirstGroup,
    actor_name,
    console,
    counted,
    existing_file,
    on_behalf_note,
    reading,
    run_screen,
    write_csv,
    writing,
)

app = typer.Typer(
    cls=StudyFirstGroup,
    help="Risk of bias: RoB 1 per study, RoB 2 per result, two assessors blind, consensus, "
    "robvis exports and figures. `reviewtool rob STUDY` opens the assessment screen.",
    invoke_without_command=True,
)

ToolOption = typer.Option("rob1", "--tool", help="rob1 (per study) or rob2 (per result).")
ResultOption = typer.Option(None, "--result", help="RoB 2: the result assessed, OUTCOME@TIME.")


@app.callback()
def rob(
    ctx: typer.Context,
    study: str | None = typer.Option(
        None, "--study", help="The study to assess (also the first word: `rob 'Suk 2016'`)."
    ),
    tool: str = ToolOption,
    result: str | None = ResultOption,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Open the risk-of-bias screen for one study (RoB 1) or one result (RoB 2): domains in
    order, signalling questions with guidance, single-key answers, the judgement as you answer.

    Example: reviewtool rob "Suk 2016" --tool rob2 --result "MELD@24 weeks" --as yliu
    """
    if ctx.invoked_subcommand is not None:
        return
    from reviewtool.domain import Action

    if study is None:
        from reviewtool.access import require
        from reviewtool.cli._common import open_review
        from reviewtool.errors import InvalidInput

        # A missing review, an unknown person or a missing role is said first, as by every screen.
        review = open_review(db)
        try:
            with review.reading() as session:
                require(
                    session,
                    actor_name(actor),
                    Action.ASSESS_RISK_OF_BIAS,
                    doing="open the risk-of-bias screen",
                )
        finally:
            review.close()
        raise InvalidInput(
            "name the study to assess: `reviewtool rob STUDY` (its id or label, e.g. 'Suk 2016'); "
            "`reviewtool rob --help` lists the risk-of-bias commands"
        )
    from reviewtool.rob.service import parse_result, parse_tool
    from reviewtool.tui.rob import RobApp

    tool = parse_tool(tool)
    res = parse_result(result) if tool == "rob2" else None
    run_screen(
        db,
        actor,
        Action.ASSESS_RISK_OF_BIAS,
        lambda url, person: RobApp(url, person, study, tool=tool, result=res),
        doing="open the risk-of-bias screen",
    )


@app.command("set")
def set_(
    study: str = typer.Argument(..., help="Study id or label ('Suk 2016')."),
    domain: str = typer.Argument(..., help="RoB 1: A-G or a domain name; RoB 2: D1-D5, overall."),
    judgement: str = typer.Argument(..., help="Low, Unclear, High (RoB 2: Some concerns)."),
    support: str | None = typer.Option(None, "--support", help="Support for judgement."),
    tool: str = ToolOption,
    result: str | None = ResultOption,
    group: str | None = typer.Option(
        None, "--group", help="RoB 1 C, D, E: the outcome group judged (default: whole study)."
    ),
    justification: str | None = typer.Option(
        None, "--justification", help="RoB 2: why you override the algorithm's judgement."
    ),
    direction: str | None = typer.Option(
        None, "--direction", help="RoB 2: predicted direction of bias."
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Record your judgement of one domain.

    Example: reviewtool rob set "Suk 2016" E High --support "Comment: 8 of 30 lost" --as yliu
    """
    from reviewtool.rob.service import set_judgement

    with writing(db) as session:
        view = set_judgement(
            session,
            actor=actor_name(actor),
            study=study,
            domain=domain,
            judgement=judgement,
            support=support,
            tool=tool,
            result=result,
            outcome_group=group,
            justification=justification,
            direction=direction,
        )
    what = f"{view.label}{f' {view.result}' if view.result else ''} {view.domain}"
    what += f" ({view.outcome_group})" if view.outcome_group else ""
    said = f"{what}: {view.judgement}"
    if view.justification:
        said += f" (algorithm: {view.algorithm}; overridden: {view.justification})"
    console().print(said + ".", markup=False)


def _pairs(items: list[str], what: str) -> dict[str, str]:
    from reviewtool.errors import InvalidInput

    found: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"{what} {item!r}: write KEY=VALUE (e.g. 1.1=PY)")
        found[key.strip()] = value.strip()
    return found


@app.command("answer")
def answer(
    study: str = typer.Argument(..., help="Study id or label."),
    answers: list[str] = typer.Argument(
        ..., help="QUESTION=ANSWER pairs (1.1=Y 1.2=PY ...; effect_of_interest=adhering ...)."
    ),
    result: str = typer.Option(..., "--result", help="The result assessed, OUTCOME@TIME."),
    support: list[str] | None = typer.Option(None, "--support", help="DOMAIN=TEXT (D1=...)."),
    direction: list[str] | None = typer.Option(
        None, "--direction", help="DOMAIN=DIRECTION (D1='Towards null')."
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Record RoB 2 signalling answers for one result; prints each domain's judgement.

    Example: reviewtool rob answer "Suk 2016" 1.1=Y 1.2=PY 1.3=N --result "MELD@24 weeks" --as yliu
    """
    from reviewtool.access import require
    from reviewtool.domain import Action
    from reviewtool.rob.service import answer as record

    with writing(db) as session:
        # The person first (a refusal is recorded), then their KEY=VALUE pairs.
        require(session, actor_name(actor), Action.ASSESS_RISK_OF_BIAS)
        views = record(
            session,
            actor=actor_name(actor),
            study=study,
            result=result,
            answers=_pairs(answers, "answer"),
            support=_pairs(support or [], "--support"),
            direction=_pairs(direction or [], "--direction"),
        )
    for view in views:
        if view.domain == "preliminary":
            continue
        shown = view.judgement or view.algorithm or "incomplete"
        extra = f" (algorithm: {view.algorithm})" if view.justification else ""
        console().print(f"{view.domain}: {shown}{extra}", markup=False)


@app.command("import")
def import_(
    path: Path = typer.Argument(..., help="A CSV file (docs/rob.md).", callback=existing_file),
    on_behalf_of: OnBehalfOfOption = None,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Import your judgements (robvis RoB 1 layout) or RoB 2 answers (Study,Result,1.1,...);
    all or nothing. Owners enter another assessor's with --on-behalf-of NAME.

    Example: reviewtool rob import rob/assessor_yliu.csv --as yliu
    """
    from reviewtool.rob.exchange import import_file

    who = actor_name(actor)
    with writing(db) as session:
        report = import_file(session, actor=who, path=str(path), on_behalf_of=on_behalf_of)
    rob1 = "rob1" in report.layout
    value, unit = ("judgement", "study") if rob1 else ("answer", "result")
    console().print(
        f"Imported {counted(report.values, value)}{on_behalf_note(on_behalf_of, who)} for "
        f"{counted(report.written_rows, unit)} from {path.name} ({report.layout}); "
        f"{report.unchanged} unchanged.",
        markup=False,
    )


@app.command("show")
def show(
    study: str | None = typer.Argument(None, help="Study id or label (default: every study)."),
    tool: str | None = typer.Option(None, "--tool", help="rob1 or rob2 (default: both)."),
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """List the judgements you may see (your own while risk of bias is blind) and the consensus.

    Example: reviewtool rob show "Suk 2016" --as yliu
    """
    from reviewtool.rob.service import consensus, judgements

    person = actor_name(actor)
    with reading(db, actor) as session:
        rows = [v.to_dict() for v in judgements(session, actor=person, tool=tool, study=study)]
        agreed = consensus(session, actor=person, tool=tool, study=study)
    rows += [
        {**c.to_dict(), "assessor": f"consensus ({c.how}, {c.status})", "algorithm": None}
        for c in agreed
    ]
    columns = ["tool", "label", "result", "domain", "outcome_group", "assessor", "judgement"]
    columns += ["algorithm", "support"]
    _print(rows, columns, output)


def _print(rows: list[dict[str, Any]], columns: list[str], output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if output is OutputFormat.CSV:
        write_csv(rows, columns)
        return
    from rich.table import Table

    table = Table(*columns)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    console().print(table)


@app.command("compare")
def compare(
    study: str | None = typer.Argument(None, help="Study id or label (default: every study)."),
    tool: str | None = typer.Option(None, "--tool", help="rob1 or rob2 (default: both)."),
    all_: bool = typer.Option(False, "--all", help="Also list disagreements already resolved."),
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """List the disagreements between assessors, domain by domain (owners, adjudicators, or
    anyone once risk of bias is unblinded).

    Example: reviewtool rob compare "Salama 2014" --as jniu
    """
    from reviewtool.rob.service import compare as differences

    with reading(db, actor) as session:
        found = differences(
            session, actor=actor_name(actor), study=study, tool=tool, include_resolved=all_
        )
    rows = []
    for d in found:
        row = d.to_dict()
        row["judgements"] = "; ".join(f"{k}: {v or '-'}" for k, v in d.judgements.items())
        rows.append(row)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps([d.to_dict() for d in found], indent=2, ensure_ascii=False))
        return
    columns = ["tool", "label", "result", "domain", "outcome_group", "judgements"]
    _print(rows, [*columns, "consensus", "status"], output)
    if output is OutputFormat.TABLE:
        console().print(f"{len(found)} disagreement{'s' if len(found) != 1 else ''}.")


@app.command("agree")
def agree(
    study: str | None = typer.Argument(None, help="Study id or label (default: every study)."),
    tool: str | None = typer.Option(None, "--tool", help="rob1 or rob2 (default: both)."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Record the consensus of every domain the assessors judged alike (owners, adjudicators).

    Example: reviewtool rob agree --as jniu
    """
    from reviewtool.rob.service import agree as record

    with writing(db) as session:
        written = record(session, actor=actor_name(actor), study=study, tool=tool)
    console().print(f"Consensus by agreement on {counted(len(written), 'domain')}.", markup=False)


@app.command("resolve")
def resolve(
    study: str = typer.Argument(..., help="Study id or label."),
    domain: str = typer.Argument(..., help="RoB 1: A-G; RoB 2: D1-D5 or overall."),
    judgement: str = typer.Argument(..., help="The consensus judgement."),
    support: str | None = typer.Option(None, "--support", help="Support for the judgement."),
    tool: str = ToolOption,
    result: str | None = ResultOption,
    group: str | None = typer.Option(None, "--group", help="RoB 1 C, D, E: outcome group."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Decide a disagreement: the adjudicator's consensus judgement of one domain.

    Example: reviewtool rob resolve "Salama 2014" A Unclear --as jniu
    """
    from reviewtool.rob.service import resolve as record

    with writing(db) as session:
        view = record(
            session,
            actor=actor_name(actor),
            study=study,
            domain=domain,
            judgement=judgement,
            support=support,
            tool=tool,
            result=result,
            outcome_group=group,
        )
    console().print(f"{view.label} {view.domain}: consensus {view.judgement}.", markup=False)


@app.command("unblind")
def unblind(db: DbOption = None, actor: ActorOption = None) -> None:
    """End blinding of risk of bias (owners): assessors then see each other's judgements.

    Example: reviewtool rob unblind --as jniu
    """
    from reviewtool.rob.service import unblind as end

    with writing(db) as session:
        changed = end(session, actor=actor_name(actor))
    console().print(
        "Risk of bias is no longer blind." if changed else "Risk of bias was not blind.",
        markup=False,
    )


@app.command("rule")
def rule(
    name: str | None = typer.Argument(
        None, help="worst_domain, key_domains, count_unmet or count_low; none: keep the rule."
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Set the RoB 1 overall rule (setting rob1.overall_rule) and rate every study's overall
    again by it (owners; audited). Without a rule, rates again by the rule in force (after
    upgrading a review made before overall ratings were stored).

    Example: reviewtool rob rule count_unmet --as yliu
    """
    from reviewtool.rob.service import overall_rule, set_overall_rule

    with writing(db) as session:
        changed = set_overall_rule(session, actor=actor_name(actor), rule=name)
        now = overall_rule(session)
    console().print(f"rob1.overall_rule = {now}", markup=False)
    print_rerated(changed)


def print_rerated(changed: list[Any]) -> None:
    if not changed:
        console().print("No study's RoB 1 overall rating changed.", markup=False)
        return
    for o in changed:
        console().print(f"{o.study}: {o.rating or 'incomplete'} (rule {o.rule})", markup=False)
    console().print(f"{counted(len(changed), 'RoB 1 overall rating')} changed.", markup=False)


@app.command("status")
def status(
    tool: str = ToolOption,
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Progress per assessor, consensus, agreement per domain (kappa) and the overall ratings.

    Example: reviewtool rob status --as jniu
    """
    from reviewtool.rob.service import agreement, blind_to
    from reviewtool.rob.service import status as read_status

    person = actor_name(actor)
    with reading(db, actor) as session:
        found = read_status(session, actor=person, tool=tool)
        kappas = [] if blind_to(session, person) else agreement(session, actor=person, tool=tool)
    data = found.to_dict()
    data["agreement"] = [k.to_dict() for k in kappas]
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    unit = "studies" if found.tool == "rob1" else "results"
    labels = {
        "tool": "tool",
        "blind": "blind (risk of bias)",
        "blind_to_you": "blind to you",
        "studies": "studies in the review",
        "consensus": "domains with consensus in force",
        "reopened": "domains reopened (a judgement changed after consensus)",
        "disagreements": "domains in disagreement (`rob compare`, `rob resolve`)",
        "agreeable": "domains judged alike, no consensus yet (`rob agree` records them)",
        "rule": "RoB 1 overall rule (`rob rule`)",
    }
    rows: list[dict[str, Any]] = [
        {"measure": labels.get(k, k), "value": "hidden while blind" if v is None else v}
        for k, v in data.items()
        if not isinstance(v, dict | list) and not (k == "rule" and v is None)
    ]
    rows += [
        {"measure": f"{unit} fully assessed by {k}", "value": v} for k, v in found.assessed.items()
    ]
    rows += [{"measure": f"overall {k} (studies)", "value": v} for k, v in found.overall.items()]
    rows += [{"measure": "attrition high", "value": s} for s in found.attrition_high]
    for k in kappas:
        kappa = k.agreement.kappa
        rows.append(
            {
                "measure": f"kappa {k.domain} ({k.assessor_a}/{k.assessor_b})",
                "value": "undefined" if kappa is None else f"{kappa:.3f}",
            }
        )
    if output is OutputFormat.CSV:
        write_csv(rows, ["measure", "value"])
        return
    _print(rows, ["measure", "value"], output)


@app.command("export")
def export(
    out: Path = typer.Option(..., "--out", "-o", help="The file to write."),
    fmt: str = typer.Option("csv", "--format", "-f", help="csv or xlsx."),
    tool: str = ToolOption,
    source: str = typer.Option(
        "consensus", "--source", help="consensus, or an assessor's name (yours while blind)."
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Write the judgements in robvis's input layout (CSV or XLSX) for R's robvis.

    Example: reviewtool rob export -f csv --out rob_consensus.csv --as jniu
    """
    from reviewtool.errors import InvalidInput
    from reviewtool.rob.exchange import robvis_export
    from reviewtool.rob.robvis import write_robvis

    if fmt not in ("csv", "xlsx"):
        raise InvalidInput(f"--format must be csv or xlsx, not {fmt!r}")
    with reading(db, actor) as session:
        table = robvis_export(session, actor=actor_name(actor), tool=tool, source=source)
    from reviewtool.outfolder import written_file

    text = write_robvis(table)
    with written_file(out) as temp:  # renamed to OUT when complete
        if fmt == "csv":
            temp.write_bytes(text.encode("utf-8"))
        else:
            import csv
            import io

            from openpyxl import Workbook

            book = Workbook()
            sheet = book.active
            assert sheet is not None
            sheet.title = "robvis"
            for line in csv.reader(io.StringIO(text, newline="")):
                sheet.append(line)
            book.save(temp)
    console().print(f"Wrote {counted(len(table.rows), 'row')} to {out}.", markup=False)


@app.command("plot")
def plot(
    out: Path = typer.Option(..., "--out", "-o", help="Directory for the figures."),
    tool: str = ToolOption,
    source: str = typer.Option(
        "consensus", "--source", help="consensus, or an assessor's name (yours while blind)."
    ),
    weighted_by: str | None = typer.Option(
        None,
        "--weighted-by",
        help="Weight the summary bars by this analysis run's study weights (run id or name); "
        "with --analysis.",
    ),
    analysis: str | None = typer.Option(
        None, "--analysis", help="With --weighted-by: the pooled result, OUTCOME@TIME."
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Draw the traffic-light and summary plots (robvis conventions), PNG and SVG. The summary
    counts each study once, or (`--weighted-by RUN --analysis OUTCOME@TIME`) by its weight in
    that pooled result, as robvis's weighted=TRUE and Handbook 5.1 section 8.6 suggest; studies
    not in that result are left out of the weighted bars (named on the terminal).

    Example: reviewtool rob plot --out rob --weighted-by main --analysis "ALB@12 weeks" --as jniu
    """
    from reviewtool.errors import InvalidInput
    from reviewtool.rob import figures
    from reviewtool.rob.exchange import robvis_export

    if (weighted_by is None) != (analysis is None):
        raise InvalidInput("--weighted-by and --analysis go together")
    weights: list[float] | None = None
    with reading(db, actor) as session:
        table = robvis_export(session, actor=actor_name(actor), tool=tool, source=source)
        if weighted_by is not None and analysis is not None:
            from reviewtool.analysis.service import find_run, study_weights

            outcome, _, time_point = analysis.rpartition("@")
            if not outcome or not time_point:
                raise InvalidInput(f"--analysis {analysis!r}: give OUTCOME@TIME")
            by_study = study_weights(find_run(session, weighted_by).results, outcome, time_point)
    if not table.rows:
        raise InvalidInput(f"nothing to draw: no {source} judgements yet")
    if weighted_by is not None:
        # RoB 1 rows are study labels; RoB 2 rows "label (OUTCOME@TIME)" of that result only.
        suffix = f" ({analysis})"
        keys = [
            r.study.removesuffix(suffix) if r.study.endswith(suffix) or tool == "rob1" else ""
            for r in table.rows
        ]
        # A study's weight is the sum over its comparisons ("Suk 2016 (one injection)", ...).
        from reviewtool.analysis.arm_table import study_of_comparison

        by_fold = {k.casefold(): k for k in keys if k}
        summed: dict[str, float] = {}
        for comparison, weight in by_study.items():
            study = study_of_comparison(comparison.casefold(), by_fold)
            if study is not None:
                summed[study] = summed.get(study, 0.0) + weight
        weights = [summed.get(k.casefold(), 0.0) if k else 0.0 for k in keys]
        left_out = [r.study for r, w in zip(table.rows, weights, strict=True) if w == 0.0]
        if len(left_out) == len(weights):
            raise InvalidInput(
                f"no study of the {source} judgements is in {analysis} of run {weighted_by}"
            )
        if left_out:
            console().print(
                f"Not in {analysis} (left out of the weighted summary): {', '.join(left_out)}",
                markup=False,
            )
    from reviewtool.outfolder import written_whole

    written: list[Path] = []
    caption = (
        None
        if weights is None
        else f"Share of the weight in {analysis} (analysis run {weighted_by})"
    )
    with written_whole(out, kind="rob plot") as temp:  # renamed into place when complete
        # Each figure is built once and saved as PNG and SVG.
        written += figures.traffic_light(
            table, [temp / f"traffic_light.{s}" for s in ("png", "svg")]
        )
        written += figures.summary_plot(
            table, [temp / f"summary.{s}" for s in ("png", "svg")], weights=weights, caption=caption
        )
    console().print(f"Wrote {', '.join(p.name for p in written)} to {out}.", markup=False)


def register(root: typer.Typer) -> None:
    """Add ``rob`` to the root app."""
    root.add_typer(app, name="rob")
