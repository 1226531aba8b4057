"""``reviewtool extract``: data extraction on a versioned form, by two extractors, to consensus.

Every command calls one function of ``reviewtool.extraction.service`` and prints what it returns.
STUDY is a study id or its label "<first author surname> <year>" ("Suk 2016").
``reviewtool extract STUDY`` opens the extraction form screen (``tui/extraction.py``).
"""

from __future__ import annotations

import json
from enum import StrEnum
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
    group_options,
    progress_bar,
    reading,
    run_screen,
    write_csv,
    writing,
)
from reviewtool.errors import InvalidInput

# Files above this size get a progress bar (studies written); small ones are done before a bar
# could draw.
PROGRESS_BYTES = 1_000_000

app = typer.Typer(
    cls=StudyFirstGroup,
    help="Data extraction: a versioned form (TOML), values with provenance from two blind "
    'extractors, consensus. STUDY is a study id or its label ("Suk 2016"). '
    "`reviewtool extract STUDY` opens the form screen.",
    invoke_without_command=True,
)


@app.callback()
def extract(
    ctx: typer.Context,
    study: str | None = typer.Option(
        None, "--study", help="The study to extract (also the first word: `extract 'Suk 2016'`)."
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Open the extraction form of one study: fields in the form's order, arm × time-point grids
    for outcomes, Tab / Shift-Tab between cells, the study's reports, provenance with each value.

    Example: reviewtool extract "Suk 2016" --as bob
    """
    if ctx.invoked_subcommand is not None:
        return
    from reviewtool.domain import Action

    if study is None:
        from reviewtool.access import require
        from reviewtool.cli._common import open_review

        # A missing review, an unknown person or a missing role is said first, as by every screen.
        review = open_review(db)
        try:
            with review.reading() as session:
                require(
                    session, actor_name(actor), Action.EXTRACT, doing="open the extraction form"
                )
        finally:
            review.close()
        raise InvalidInput(
            "name the study to extract: `reviewtool extract STUDY` (its id or label, e.g. "
            "'Suk 2016'); `reviewtool extract --help` lists the extraction commands"
        )
    from reviewtool.tui.extraction import ExtractionApp

    run_screen(
        db,
        actor,
        Action.EXTRACT,
        lambda url, person: ExtractionApp(url, person, study),
        doing="open the extraction form",
    )


form_app = typer.Typer(
    help="The extraction form (a TOML file; docs/extraction.md).", no_args_is_help=True
)
form_app.callback()(group_options)
app.add_typer(form_app, name="form")

ArmOption = typer.Option("", "--arm", help="The arm (arm fields and outcome values).")
OutcomeOption = typer.Option("", "--outcome", help="The outcome's key (outcome values).")
TimeOption = typer.Option("", "--time", help="The time point (outcome values).")
SourceKindOption = typer.Option(
    "reported", "--source-kind", help="reported, converted or digitised."
)
SourceOption = typer.Option(
    None, "--source", help='Where it came from: "report 12, Table 2", a formula, a figure.'
)


class ExportFormat(StrEnum):
    """File formats of ``extract export``."""

    CSV = "csv"
    XLSX = "xlsx"


def _table(rows: list[dict[str, Any]], columns: list[str], output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if output is OutputFormat.CSV:
        write_csv(rows, columns)
        return
    from rich.table import Table

    table = Table(*columns)
    for row in rows:  # values to 6 significant digits on screen; JSON and CSV keep them in full
        table.add_row(
            *(
                "" if row.get(c) is None else shown(str(row[c])) if c == "value" else str(row[c])
                for c in columns
            )
        )
    console().print(table)


@form_app.command("add")
def form_add(
    path: Path = typer.Argument(..., help="The form: a TOML file.", callback=existing_file),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Add the extraction form, or a changed version of it (owners only). A version that would
    orphan entered values is refused, listing the fields.

    Example: reviewtool extract form add form.toml --as olga
    """
    from reviewtool.csvfiles import check_lines
    from reviewtool.extraction.service import add_form

    check_lines(path, what="extraction form")
    text = path.read_text(encoding="utf-8")
    with writing(db) as session:
        view = add_form(session, actor=actor_name(actor), text=text, file_name=path.name)
    console().print(
        f"Form {view.name!r} version {view.version} added."
        if view.added
        else f"Form unchanged: still version {view.version}.",
        highlight=False,
    )


@form_app.command("show")
def form_show(
    version: int | None = typer.Option(None, "--version", help="A version (default: newest)."),
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Show the form (its TOML text), and every version in the form's history.

    Example: reviewtool extract form show --version 1
    """
    from reviewtool.extraction.service import form_versions, show_form

    name = actor_name(actor)
    with reading(db, actor) as session:
        view = show_form(session, actor=name, version=version)
        history = form_versions(session, actor=name)
    rows = [{k: v for k, v in h.to_dict().items() if k not in ("text", "added")} for h in history]
    if output is OutputFormat.JSON:
        typer.echo(json.dumps({**view.to_dict(), "versions": rows}, indent=2, ensure_ascii=False))
        return
    if output is OutputFormat.CSV:
        write_csv(rows, ["version", "name", "sha256", "added_by", "added_at"])
        return
    console().print(
        f"Form {view.name!r}, version {view.version} of {len(history)} "
        f"(sha256 {view.sha256[:12]}, added by {view.added_by} at {view.added_at})",
        highlight=False,
    )
    typer.echo(view.text, nl=not view.text.endswith("\n"))


# A value may be negative (a mean change, "-5"): not an option, so unknown options are arguments.
@app.command("set", context_settings={"ignore_unknown_options": True})
def set_(
    study: str = typer.Argument(..., help='Study id or label ("Suk 2016").'),
    field: str = typer.Argument(..., help="A study or arm field key, or mean/sd/n/events/total."),
    value: str | None = typer.Argument(
        None, help="The value (none with --from-*: the conversion computes it)."
    ),
    arm: str = ArmOption,
    outcome: str = OutcomeOption,
    time: str = TimeOption,
    source_kind: str = SourceKindOption,
    source: str | None = SourceOption,
    from_se: float | None = typer.Option(
        None, "--from-se", metavar="SE", help="Convert: SD = SE·√n (Handbook 6.5.2.2)."
    ),
    from_ci: tuple[float, float] | None = typer.Option(
        None,
        "--from-ci",
        metavar="LOW HIGH",
        help="Convert: SD from the CI of the group mean (t below n = 60; Handbook 6.5.2.2).",
    ),
    from_median_iqr: tuple[float, float, float] | None = typer.Option(
        None,
        "--from-median-iqr",
        metavar="MEDIAN Q1 Q3",
        help="Convert: mean (Luo 2018) and SD (Wan 2014); FIELD mean, sd or mean,sd.",
    ),
    from_median_range: tuple[float, float, float] | None = typer.Option(
        None,
        "--from-median-range",
        metavar="MEDIAN MIN MAX",
        help="Convert: mean (Luo 2018) and SD (Wan 2014); FIELD mean, sd or mean,sd.",
    ),
    from_change: tuple[float, float] | None = typer.Option(
        None,
        "--from-change",
        metavar="SD_BASELINE SD_FINAL",
        help="Convert: SD of the change from baseline with the setting "
        "extraction.change_correlation (Handbook 6.5.2.8).",
    ),
    n: int | None = typer.Option(
        None, "--n", help="The group's n for a conversion (default: your n at this place)."
    ),
    level: float | None = typer.Option(
        None, "--level", help="The CI's level for --from-ci (default 0.95)."
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Set one of your values for a study, with where it came from; or (--from-*) a converted
    value, stored with its inputs, formula and citation.

    Example: reviewtool extract set "Suk 2016" mean 12.5 --arm MSC --outcome meld --time "4 weeks" --source "report 3, Table 2" --as alice
    Example: reviewtool extract set "Suk 2016" sd --from-se 1.2 --arm MSC --outcome meld --time "4 weeks" --as alice
    Example: reviewtool extract set "Suk 2016" mean,sd --from-median-iqr 12 9 15 --arm MSC --outcome meld --time "4 weeks" --as alice
    """
    from reviewtool.extraction.service import set_value

    conversion = _conversion_text(
        se=from_se,
        ci=from_ci,
        median_iqr=from_median_iqr,
        median_range=from_median_range,
        change=from_change,
        n=n,
        level=level,
    )
    if conversion is not None:
        _set_converted(db, actor, study, field, conversion, value, arm, outcome, time)
        return
    with writing(db) as session:
        if value is None:  # said after a missing review, person or role
            _may_extract(session, actor)
            raise InvalidInput("give the VALUE, or a --from-* conversion to compute it")
        view = set_value(
            session,
            actor=actor_name(actor),
            study=study,
            field=field,
            value=value,
            arm=arm,
            outcome=outcome,
            time_point=time,
            source_kind=source_kind,
            source=source,
        )
    console().print(
        f"{view.study}: {view.key.describe()} = {shown(view.value)} ({view.source_kind}"
        f"{', ' + view.source if view.source else ''}; form version {view.form_version}).",
        highlight=False,
    )
    _print_followed(view.recomputed)


def shown(text: str) -> str:
    """A value for people: 6 significant digits (``recompute.shown``); stored in full."""
    from reviewtool.extraction.recompute import shown as six_digits

    return six_digits(text)


def _print_followed(recomputed: Any, warnings: Any = ()) -> None:
    """One line per warning, then per converted value that followed an n
    (``recompute.Recomputed.line``: ``sd followed n: 5.19615 → 5 (from se 1, n 27 → 25)``)."""
    for warning in warnings:
        console().print(warning, highlight=False, soft_wrap=True)
    for done in recomputed:
        console().print(done.line(), highlight=False, soft_wrap=True)


def _conversion_text(
    *,
    se: float | None,
    ci: tuple[float, float] | None,
    median_iqr: tuple[float, float, float] | None,
    median_range: tuple[float, float, float] | None,
    change: tuple[float, float] | None,
    n: int | None,
    level: float | None,
) -> str | None:
    """The ``--from-*`` options as the conversion text of ``extraction.provenance`` (the import's
    ``convert_from`` syntax), or None when none is given; more than one is refused."""
    given = {
        "se": None if se is None else (se,),
        "ci": ci,
        "median_iqr": median_iqr,
        "median_range": median_range,
        "change": change,
    }
    chosen = {k: v for k, v in given.items() if v is not None and None not in v}
    if len(chosen) > 1:
        raise InvalidInput(
            "give one conversion: " + ", ".join(f"--from-{k.replace('_', '-')}" for k in chosen)
        )
    if not chosen:
        if n is not None or level is not None:
            raise InvalidInput("--n and --level go with a --from-* conversion")
        return None
    ((name, numbers),) = chosen.items()
    words = [name, *(repr(float(x)) for x in numbers)]
    if n is not None:
        words.append(f"n={n}")
    if level is not None:
        words.append(f"level={level!r}")
    return " ".join(words)


def _may_extract(session: Any, actor: Any) -> None:
    """Refuse an unknown person or one without the extractor's role (said before a usage
    error, as by every command)."""
    from reviewtool.access import require
    from reviewtool.domain import Action

    require(session, actor_name(actor), Action.EXTRACT, doing="extract data")


def _set_converted(
    db: Any,
    actor: Any,
    study: str,
    field: str,
    conversion: str,
    value: str | None,
    arm: str,
    outcome: str,
    time: str,
) -> None:
    from reviewtool.extraction.provenance import describe
    from reviewtool.extraction.service import set_converted

    with writing(db) as session:
        if value is not None:
            _may_extract(session, actor)
            raise InvalidInput(
                f"give either VALUE ({value}) or a --from-* conversion, not both: the "
                "conversion computes the value"
            )
        views = set_converted(
            session,
            actor=actor_name(actor),
            study=study,
            fields=[f for f in field.split(",") if f.strip()],
            conversion=conversion,
            arm=arm,
            outcome=outcome,
            time_point=time,
        )
    for view in views:
        console().print(
            f"{view.study}: {view.key.describe()} = {shown(view.value)} "
            f"({describe(view.source_kind, view.source)}; form version {view.form_version}).",
            highlight=False,
            soft_wrap=True,
        )
    _print_followed(views[0].recomputed, views[0].warnings)


@app.command("import")
def import_(
    path: Path = typer.Argument(
        ..., help="Long layout CSV or XLSX (docs/extraction.md).", callback=existing_file
    ),
    on_behalf_of: OnBehalfOfOption = None,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Import your values (or, for owners, --on-behalf-of NAME's) from a long-layout CSV or XLSX
    file, all or nothing.

    Example: reviewtool extract import alice_values.csv --as alice
    """
    from reviewtool.extraction.service import import_values

    who = actor_name(actor)
    show = path.stat().st_size > PROGRESS_BYTES
    with writing(db) as session, progress_bar("Writing", show=show, unit="studies") as bar:
        summary = import_values(
            session, actor=who, path=str(path), on_behalf_of=on_behalf_of, progress=bar
        )
    entered_by = who if on_behalf_of else None  # naming oneself is refused (entering_for)
    console().print(
        summary.describe(by=on_behalf_of, entered_by=entered_by), highlight=False, soft_wrap=True
    )


@app.command("digitised")
def digitised_(
    study: str = typer.Argument(..., help='Study id or label ("Suk 2016").'),
    path: Path = typer.Argument(
        ..., help="Engauge Digitizer's CSV export of the figure's points.", callback=existing_file
    ),
    report: int = typer.Option(..., "--report", help="The study's report the figure is in."),
    figure: str = typer.Option(..., "--figure", help='The figure ("Figure 2").'),
    outcome: str = typer.Option(..., "--outcome", help="The outcome's key."),
    field: str = typer.Option("mean", "--field", help="What y is: mean (default), sd, n ..."),
    arm: list[str] | None = typer.Option(
        None, "--arm", help="CURVE=ARM (repeatable); a curve not named is the arm of its name."
    ),
    time: list[str] | None = typer.Option(
        None,
        "--time",
        help="X=TIME (repeatable): the x of a time point; default the outcome's time points "
        "read as weeks (baseline 0, '4 weeks' 4).",
    ),
    tolerance: float | None = typer.Option(
        None,
        "--tolerance",
        help="Largest distance of a point's x from its time point's (default: a quarter of the "
        "smallest gap between the time points).",
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Import the points of a figure digitised with Engauge Digitizer (File > Export, CSV) as
    your digitised values: each curve an arm, each point's x a time point; all or nothing.

    Example: reviewtool extract digitised "Suk 2016" fig2.csv --report 1 --figure "Figure 2" --outcome meld --arm "MSC 1=MSC one injection" --as alice
    """
    from reviewtool.extraction.digitised import parse_pairs, parse_times
    from reviewtool.extraction.service import import_digitised

    arms = dict(parse_pairs(arm or [], "arm"))
    times = parse_times(time or []) or None
    with writing(db) as session:
        summary = import_digitised(
            session,
            actor=actor_name(actor),
            study=study,
            path=str(path),
            report=report,
            figure=figure,
            outcome=outcome,
            field=field,
            arms=arms,
            times=times,
            tolerance=tolerance,
        )
    console().print(
        summary.describe(kind="digitised", origin=f"{path.name}, {figure}, report {report}"),
        highlight=False,
        soft_wrap=True,
    )


@app.command("values")
def values_(
    study: str | None = typer.Argument(None, help="One study (default: all)."),
    extractor: str | None = typer.Option(
        None, "--extractor", help='Whose values: a member, or "consensus" (default: your own).'
    ),
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """List values: your own, another extractor's (once not blind), or the consensus values.

    Example: reviewtool extract values "Suk 2016" --extractor consensus
    """
    from reviewtool.extraction.service import LONG_COLUMNS, values

    with reading(db, actor) as session:
        found = values(session, actor=actor_name(actor), extractor=extractor, study=study)
    rows = [{**v.to_dict(), "study": v.study} for v in found]
    _table(rows, [*LONG_COLUMNS[:-1], "form_version"], output)


@app.command("compare")
def compare_(
    study: str | None = typer.Argument(None, help="One study (default: all)."),
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """List every disagreement between the extractors, field by field (not while blind).

    Example: reviewtool extract compare "Suk 2016" --as carol
    """
    from reviewtool.extraction.service import compare

    with reading(db, actor) as session:
        found = compare(session, actor=actor_name(actor), study=study)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps([d.to_dict() for d in found], indent=2, ensure_ascii=False))
        return
    rows = [
        {
            **{k: v for k, v in d.to_dict().items() if k != "values"},
            "values": "; ".join(f"{who}: {'—' if v is None else v}" for who, v in d.values.items()),
        }
        for d in found
    ]
    columns = ["study", "arm", "outcome", "time_point", "field", "values", "reopened_because"]
    _table(rows, columns, output)
    if output is OutputFormat.TABLE:
        console().print(f"{counted(len(found), 'disagreement')}.", highlight=False)


@app.command("agree")
def agree_(
    study: str = typer.Argument(..., help="Study id or label."),
    field: str = typer.Argument(..., help="The field (or mean/sd/n/events/total)."),
    take: str = typer.Option(..., "--take", help="The extractor whose value was agreed on."),
    arm: str = ArmOption,
    outcome: str = OutcomeOption,
    time: str = TimeOption,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Record consensus by agreement on one extractor's value (identical values agree at once).

    Example: reviewtool extract agree "Suk 2016" country --take alice --as bob
    """
    from reviewtool.extraction.service import agree

    with writing(db) as session:
        view = agree(
            session,
            actor=actor_name(actor),
            study=study,
            field=field,
            take=take,
            arm=arm,
            outcome=outcome,
            time_point=time,
        )
    console().print(
        f"{view.study}: {view.key.describe()} = {shown(view.value)} by agreement.",
        highlight=False,
    )
    _print_followed(view.recomputed)


@app.command("resolve")
def resolve_(
    study: str = typer.Argument(..., help="Study id or label."),
    field: str | None = typer.Argument(
        None, help="The field (or mean/sd/n/events/total); none with --all."
    ),
    value: str | None = typer.Argument(None, help="The consensus value (none with --from)."),
    arm: str = ArmOption,
    outcome: str = OutcomeOption,
    time: str = TimeOption,
    source_kind: str = SourceKindOption,
    source: str | None = SourceOption,
    take: str | None = typer.Option(
        None, "--from", help="Take this extractor's value, with its provenance."
    ),
    every: bool = typer.Option(
        False, "--all", help="With --from: every open disagreement of the study."
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Record the adjudicator's consensus value for a field (adjudicators only): a value, or one
    extractor's value with its provenance (--from NAME), or theirs at every open disagreement
    of the study (--all --from NAME).

    Example: reviewtool extract resolve "Suk 2016" country Korea --source "report 3, p. 2" --as carol
    """
    from reviewtool.access import require
    from reviewtool.domain import Action
    from reviewtool.extraction.forms import ValueKey
    from reviewtool.extraction.service import resolve, resolve_all_from, resolve_from

    person = actor_name(actor)
    with writing(db) as session:  # the review and the person first, then the arguments
        require(session, person, Action.RESOLVE_CONFLICT, doing="resolve an extraction value")
        if take is not None and (value is not None or source is not None):
            raise InvalidInput("give either VALUE (with --source) or --from NAME, not both")
        if every and (take is None or field is not None):
            raise InvalidInput(
                "--all resolves every open disagreement of a study from one extractor: "
                "STUDY --all --from NAME"
            )
        if not every and field is None:
            raise InvalidInput(
                "name the FIELD to resolve (or --all --from NAME for every open disagreement)"
            )
        if every:
            assert take is not None
            done = resolve_all_from(session, actor=person, study=study, take=take)
        elif take is not None:
            assert field is not None
            view = resolve_from(
                session,
                actor=person,
                study=study,
                field=field,
                take=take,
                arm=arm,
                outcome=outcome,
                time_point=time,
            )
        else:
            if value is None:
                raise InvalidInput(
                    "give the consensus VALUE, or --from NAME to take an extractor's"
                )
            assert field is not None
            view = resolve(
                session,
                actor=person,
                study=study,
                field=field,
                value=value,
                arm=arm,
                outcome=outcome,
                time_point=time,
                source_kind=source_kind,
                source=source,
            )
    if every:
        for view in done.resolved:
            console().print(
                f"{view.study}: {view.key.describe()} = {shown(view.value)} "
                f"(adjudicated, from {take}).",
                highlight=False,
            )
            _print_followed(view.recomputed)
        for left in done.left_open:
            place = ValueKey(left.field, left.arm, left.outcome, left.time_point)
            console().print(
                f"{left.study}: {place.describe()} left open ({take} has no value there).",
                highlight=False,
            )
        console().print(
            f"{counted(len(done.resolved), 'disagreement')} resolved from {take}, "
            f"{len(done.left_open)} left open.",
            highlight=False,
        )
        return
    origin = f", from {take}" if take is not None else ""
    console().print(
        f"{view.study}: {view.key.describe()} = {shown(view.value)} (adjudicated{origin}).",
        highlight=False,
    )
    _print_followed(view.recomputed)


@app.command("status")
def status_(
    db: DbOption = None, actor: ActorOption = None, output: FormatOption = OutputFormat.TABLE
) -> None:
    """Per study and extractor: values filled, disagreements open, consensus values.

    Example: reviewtool extract status --format csv
    """
    from reviewtool.extraction.service import status

    with reading(db, actor) as session:
        rows = [r.to_dict() for r in status(session, actor=actor_name(actor))]
    _table(rows, ["study", "extractor", "filled", "disagreements", "consensus"], output)


@app.command("export")
def export(
    long: bool = typer.Option(False, "--long", help="One row per value (the import layout)."),
    wide: bool = typer.Option(
        False, "--wide", help="One row per study × arm × outcome × time point."
    ),
    characteristics: bool = typer.Option(
        False, "--characteristics", help="The study-characteristics table (Table 1 layout)."
    ),
    file_format: ExportFormat = typer.Option(
        ExportFormat.CSV, "--format", "-f", help="csv or xlsx.", case_sensitive=False
    ),
    out: Path | None = typer.Option(None, "--out", help="File to write (default: stdout; csv)."),
    extractor: str | None = typer.Option(
        None, "--extractor", help="A member's values instead of the consensus values."
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Export the consensus values (or one extractor's) for pandas and R, with provenance.

    Example: reviewtool extract export --wide -f xlsx --out extraction.xlsx
    """
    from reviewtool.extraction.service import export_table

    if long + wide + characteristics > 1:
        raise InvalidInput("give one of --long, --wide, --characteristics")
    if file_format is ExportFormat.XLSX and out is None:
        raise InvalidInput("-f xlsx needs --out FILE")
    layout = "wide" if wide else "characteristics" if characteristics else "long"
    with reading(db, actor) as session:
        table = export_table(session, actor=actor_name(actor), layout=layout, extractor=extractor)
    columns = list(table.columns)
    if out is None:
        write_csv(table.rows, columns)
        return
    from reviewtool.outfolder import written_file

    with written_file(out) as temp:  # renamed to OUT when complete
        if file_format is ExportFormat.XLSX:
            import pandas as pd

            frame = pd.DataFrame(table.rows, columns=columns)
            frame.to_excel(temp, index=False, sheet_name=layout)
        else:
            import csv

            from reviewtool.cli._common import csv_cell

            with temp.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(columns)
                writer.writerows([csv_cell(r.get(c)) for c in columns] for r in table.rows)
    console().print(f"{counted(len(table.rows), 'row')} written to {out}.", highlight=False)


@app.command("unblind")
def unblind_(db: DbOption = None, actor: ActorOption = None) -> None:
    """End blinding of extraction (owners only, recorded): extractors then see each other's
    values and the disagreements. It is not turned back on.

    Example: reviewtool extract unblind --as olga
    """
    from reviewtool.extraction.service import unblind

    with writing(db) as session:
        changed = unblind(session, actor=actor_name(actor))
    console().print(
        "Blinding of extraction ended: extractors now see each other's values."
        if changed
        else "Extraction was not blind; nothing changed.",
        highlight=False,
    )
