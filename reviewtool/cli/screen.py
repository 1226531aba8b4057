"""``reviewtool screen`` and ``reviewtool adjudicate``: votes, conflicts, full texts, statistics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from reviewtool.cli._common import (
    ActorOption,
    DbOption,
    FormatOption,
    OnBehalfOfOption,
    OutputFormat,
    actor_name,
    console,
    counted,
    csv_cell,
    existing_file,
    on_behalf_note,
    reading,
    run_screen,
    write_csv,
    writing,
)

if TYPE_CHECKING:
    from reviewtool.screening.service import ConflictView

app = typer.Typer(
    help="Screen references (title/abstract, then full text); without a sub-command, open the screening screen.",
    invoke_without_command=True,
)

StageOption = typer.Option("tiab", "--stage", help="tiab (title/abstract) or fulltext.")


@app.callback()
def screen(
    ctx: typer.Context,
    stage: str = StageOption,
    keys: Path | None = typer.Option(
        None, "--keys", help="A TOML file of key bindings (see docs).", callback=existing_file
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Open the screening screen for one reviewer (one reference at a time, single-key decisions).

    Example: reviewtool screen --as alice --stage tiab
    """
    if ctx.invoked_subcommand is not None:
        return
    from reviewtool.domain import Action
    from reviewtool.screening.service import parse_stage
    from reviewtool.tui.screening import ScreeningApp

    parse_stage(stage)
    run_screen(
        db,
        actor,
        Action.SCREEN,
        lambda url, person: ScreeningApp(url, person, stage, keymap_path=keys),
        doing="open the screening screen",
    )


@app.command("decide")
def decide(
    record: int = typer.Argument(
        ..., help="Any record id of the reference (a duplicate names its group's reference)."
    ),
    decision: str = typer.Argument(..., help="include, exclude or maybe."),
    reason: str | None = typer.Option(
        None, "--reason", help="Exclusion reason (text or its number)."
    ),
    note: str | None = typer.Option(None, "--note", help="A note for the adjudicator."),
    stage: str = StageOption,
    report: int | None = typer.Option(
        None,
        "--report",
        help="At full text: the report assessed (default: the reference's only report).",
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Cast or change your vote on one reference (at full text: on one of its reports).

    Example: reviewtool screen decide 17 exclude --reason "animal study" --as alice
    """
    from reviewtool.screening.queue import vote_stamp
    from reviewtool.screening.service import cast_vote

    with writing(db) as session:
        cast = cast_vote(
            session,
            actor=actor_name(actor),
            record_id=record,
            stage=stage,
            decision=decision,
            reason=reason,
            note=note,
            report=report,
            # The queue order in effect for the reviewer, stored with the vote (issue 15).
            stamp=vote_stamp(session, actor=actor_name(actor), stage=stage, record_id=record),
        )
    vote, replaced = cast.vote, cast.replaced
    on = f" report {cast.report_id}" if cast.report_id is not None else ""
    said = (
        f"Record {record}{on} at {stage}: "
        f"{vote.decision}{f' ({vote.reason})' if vote.reason else ''}."
    )
    if replaced is not None:
        # A vote cast in the screen (or another terminal) is replaced knowingly, never silently.
        was = f"{replaced.decision}{f' ({replaced.reason})' if replaced.reason else ''}"
        said += f" It replaced your vote {was} of {replaced.decided_at[:16].replace('T', ' ')} UTC."
    console().print(said, markup=False)


@app.command("undo")
def undo(stage: str = StageOption, db: DbOption = None, actor: ActorOption = None) -> None:
    """Take back your most recent vote at a stage (the vote it replaced comes back).

    If that vote had reopened or contested an adjudicator's resolution and the votes are again the
    ones it answered, the resolution stands again (recorded with the undo).

    Example: reviewtool screen undo --as alice
    """
    from reviewtool.screening.service import undo_last

    with writing(db) as session:
        record = undo_last(session, actor=actor_name(actor), stage=stage)
    console().print(
        "Nothing to undo." if record is None else f"Undid your last vote, on record {record}."
    )


@app.command("import-decisions")
def import_decisions(
    path: Path = typer.Argument(
        ..., help="CSV with record_id,decision[,reason][,note].", callback=existing_file
    ),
    stage: str = StageOption,
    on_behalf_of: OnBehalfOfOption = None,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Cast many votes from a CSV in one transaction (all rows or none).

    Columns: record_id, decision, reason, note, report; any other is refused (the votes are the
    caller's own, or with --on-behalf-of the named member's, entered by an owner).

    Example: reviewtool screen import-decisions alice_tiab.csv --stage tiab --as alice
    """
    from reviewtool.screening.service import import_decisions as run

    who = actor_name(actor)
    with writing(db) as session:
        done = run(session, actor=who, path=str(path), stage=stage, on_behalf_of=on_behalf_of)
    by = on_behalf_note(on_behalf_of, who)
    console().print(
        f"Recorded {counted(done.written, 'vote')}{by} from {path} at {stage} "
        f"({done.unchanged} unchanged).",
        highlight=False,
    )


@app.command("conflicts")
def conflicts(
    stage: str = StageOption,
    resolved: bool = typer.Option(False, "--resolved", help="Include conflicts already resolved."),
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """List the conflicts with both votes, reasons and notes (adjudicators only).

    Example: reviewtool screen conflicts --stage fulltext --as carol
    """
    from reviewtool.screening.service import list_conflicts

    with reading(db, actor) as session:
        views = list_conflicts(
            session, actor=actor_name(actor), stage=stage, include_resolved=resolved
        )
    if output is OutputFormat.JSON:
        typer.echo(json.dumps([v.to_dict() for v in views], indent=2, ensure_ascii=False))
        return
    if output is OutputFormat.CSV:
        write_csv((_conflict_row(v) for v in views), CONFLICT_COLUMNS)
        return
    from rich.table import Table

    table = Table(
        "record", "report", "state", "title", "votes and notes", "resolution", "why it is here"
    )
    for v in views:
        row = _conflict_row(v)
        votes = "\n".join(
            f"{x.reviewer}: {_said(x.decision, x.reason)}{f' · note: {x.note}' if x.note else ''}"
            for x in v.votes
        )
        resolution = row["resolution"]
        if row["resolution_note"]:
            resolution += f" · note: {row['resolution_note']}"
        why = row["contested"] or (
            f"earlier: {row['earlier_resolution']}, reopened "
            f"{row['reopened_at'][:16].replace('T', ' ')}: "
            f"{row['reopened_because']}"
            if row["earlier_resolution"]
            else ""
        )
        table.add_row(
            str(v.record_id), row["report"], v.state, v.title or "", votes, resolution, why
        )
    console().print(table)


CONFLICT_COLUMNS = [
    "record_id",
    "report",
    "stage",
    "state",
    "title",
    "votes",
    "notes",
    "resolution",
    "resolution_note",
    "earlier_resolution",
    "reopened_at",
    "reopened_because",
    "contested",
]


def _said(decision: str, reason: str | None) -> str:
    return f"{decision} ({reason})" if reason else decision


def _conflict_row(view: ConflictView) -> dict[str, str]:
    """One conflict as a flat row: votes and notes as "who: what" joined with "; "."""
    res, earlier = view.resolution, view.earlier
    return {
        "record_id": str(view.record_id),
        "report": (
            f"{view.report['id']} ({view.report['kind']}, {view.report['status']})"
            if view.report
            else ""
        ),
        "stage": view.stage,
        "state": view.state,
        "title": view.title or "",
        "votes": "; ".join(f"{v.reviewer}: {_said(v.decision, v.reason)}" for v in view.votes),
        "notes": "; ".join(f"{v.reviewer}: {v.note}" for v in view.votes if v.note),
        "resolution": (
            f"{_said(res['decision'], res['reason'])} by {res['adjudicator']}" if res else ""
        ),
        "resolution_note": (res or {}).get("note") or "",
        "earlier_resolution": (
            f"{_said(earlier['decision'], earlier['reason'])} by {earlier['adjudicator']}"
            if earlier
            else ""
        ),
        "reopened_at": (earlier or {}).get("reopened_at") or "",
        "reopened_because": (earlier or {}).get("reopened_because") or "",
        "contested": view.contested or "",
    }


@app.command("resolve")
def resolve(
    record: int = typer.Argument(..., help="The record id in conflict."),
    decision: str = typer.Argument(..., help="include or exclude."),
    reason: str | None = typer.Option(None, "--reason", help="Exclusion reason."),
    note: str | None = typer.Option(None, "--note", help="Why."),
    stage: str = StageOption,
    report: int | None = typer.Option(
        None,
        "--report",
        help="At full text: the report in conflict (default: the reference's only report).",
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Resolve a conflict with a final decision (adjudicators only; at full text, on one report).

    Example: reviewtool screen resolve 17 include --note "RCT per methods" --as carol
    """
    from reviewtool.screening.service import resolve_conflict

    with writing(db) as session:
        outcome = resolve_conflict(
            session,
            actor=actor_name(actor),
            record_id=record,
            stage=stage,
            decision=decision,
            reason=reason,
            note=note,
            report=report,
        )
    on = f" report {report}" if report is not None else ""
    console().print(f"Record {record}{on} at {stage}: {outcome.status.value}.")


@app.command("unblind")
def unblind(
    stage: str = typer.Option(..., "--stage", help="tiab (title/abstract) or fulltext."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """End blinding at a stage (owners only, recorded): reviewers then see each other's votes,
    the outcomes, agreement and conflicts there. It is not turned back on.

    Example: reviewtool screen unblind --stage tiab --as alice
    """
    from reviewtool.screening.service import unblind_stage

    with writing(db) as session:
        changed = unblind_stage(session, actor=actor_name(actor), stage=stage)
    console().print(
        f"Blinding at {stage} ended: reviewers now see each other's votes there."
        if changed
        else f"{stage} was not blind; nothing changed.",
        highlight=False,
    )


@app.command("import-resolutions")
def import_resolutions(
    path: Path = typer.Argument(
        ..., help="CSV with record_id,decision[,reason][,note].", callback=existing_file
    ),
    stage: str = StageOption,
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Resolve many conflicts from a CSV in one transaction (adjudicators only).

    Example: reviewtool screen import-resolutions resolutions.csv --stage tiab --as carol
    """
    from reviewtool.screening.service import import_resolutions as run

    with writing(db) as session:
        done = run(session, actor=actor_name(actor), path=str(path), stage=stage)
    console().print(
        f"Resolved {counted(done.written, 'conflict')} from {path} at {stage} "
        f"({done.unchanged} unchanged).",
        highlight=False,
    )


@app.command("fulltext")
def fulltext(
    record: int = typer.Argument(..., help="The record id (included at title/abstract)."),
    file: Path | None = typer.Option(
        None, "--file", help="The full text's file (it must exist).", callback=existing_file
    ),
    url: str | None = typer.Option(None, "--url", help="The full text's web address."),
    not_retrieved: bool = typer.Option(
        False, "--not-retrieved", help="The full text could not be obtained."
    ),
    sought: bool = typer.Option(
        False, "--sought", help="The report is asked for, not in hand yet (no location)."
    ),
    report: int | None = typer.Option(
        None, "--report", help="Change this report of the reference (default: its latest)."
    ),
    note: str | None = typer.Option(None, "--note", help="E.g. how retrieval was attempted."),
    kind: str = typer.Option(
        "journal article",
        "--kind",
        help="journal article, conference abstract, registry entry, thesis, preprint or other.",
    ),
    reason: str | None = typer.Option(
        None, "--reason", help="Why it was not retrieved (with --not-retrieved)."
    ),
    add: bool = typer.Option(
        False,
        "--add",
        help="Record a further report of the reference instead of changing its latest.",
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Record a report (the full text) of a reference, or that it was not retrieved (PRISMA
    counts reports); --add records a further one (a registry entry beside the article).

    Example: reviewtool screen fulltext 17 --file pdfs/lin2017.pdf --as alice
    """
    from reviewtool.errors import InvalidInput
    from reviewtool.screening.service import set_fulltext

    if file is not None and url is not None:
        raise InvalidInput("give --file or --url, not both")
    location = url if file is None else str(file)
    with writing(db) as session:
        after = set_fulltext(
            session,
            actor=actor_name(actor),
            record_id=record,
            location=location,
            not_retrieved=not_retrieved,
            note=note,
            kind=kind,
            reason=reason,
            add=add,
            sought=sought,
            report=report,
        )
    console().print(
        f"Record {record}: report {after['id']} ({after['kind']}) "
        f"{after['status'].replace('_', ' ')}."
    )


@app.command("label")
def label(
    record: int = typer.Argument(
        ..., help="Any record id of the reference (a duplicate names its group's reference)."
    ),
    change: str = typer.Argument(..., help="add or remove."),
    text: str = typer.Argument(..., help='The label, e.g. "RCT?" (up to 40 characters, no ";").'),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Add or remove one of your labels on a reference (private to you while screening is blind).

    Example: reviewtool screen label 17 add "ask Bob" --as alice
    """
    from reviewtool.errors import InvalidInput
    from reviewtool.screening.labels import change_label

    if change not in ("add", "remove"):
        raise InvalidInput(f"say add or remove, not {change!r}")
    with writing(db) as session:
        now = change_label(
            session, actor=actor_name(actor), record_id=record, label=text, add=change == "add"
        )
    console().print(
        f"Record {record}: your labels are {'; '.join(now) if now else 'none'}.", highlight=False
    )


@app.command("flag-duplicate")
def flag_duplicate(
    record: int = typer.Argument(..., help="The record you are screening."),
    other: int = typer.Argument(..., help="The record it duplicates."),
    note: str | None = typer.Option(None, "--note", help="Why you think so."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Send two records you think are duplicates to the dedup review queue.

    Example: reviewtool screen flag-duplicate 17 230 --as alice
    """
    from reviewtool.dedup.service import flag_duplicate as flag

    with writing(db) as session:
        pair = flag(session, actor=actor_name(actor), record_a=record, record_b=other, note=note)
    console().print(
        f"Queued records {record} and {other} as pair {pair} for `reviewtool dedup review`."
    )


EXPORT_COLUMNS = [
    "record_id", "source_key", "stage", "decision", "reason", "via", "contested", "title", "labels",
    "orders",
]  # fmt: skip


@app.command("export")
def export(
    stage: str = StageOption,
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.CSV,
) -> None:
    """Write the final decisions (decided references only) with reasons and your labels.

    CSV by default (``--format csv``; also table and json). ``via`` says how a reference was
    decided (agreement or adjudication); ``contested`` says why, when the votes came to agree
    against the adjudicator's resolution that still decides it (empty otherwise); ``orders`` the
    queue order each vote was cast in (``alice: relevance model 1a2b...; bob: random``).
    Refused to reviewers while the stage is blind (docs/blinding.md).

    Example: reviewtool screen export --stage fulltext > fulltext.csv
    """
    from reviewtool.screening.labels import visible_labels
    from reviewtool.screening.queue import vote_orders
    from reviewtool.screening.service import final_decisions

    who = actor_name(actor)
    with reading(db, actor) as session:
        rows = final_decisions(session, actor=who, stage=stage)
        labels = visible_labels(session, actor=who, quiet=True)
        orders = vote_orders(session, stage)  # read after final_decisions refused a blind viewer
    full = [
        {
            **row,
            "labels": [v.shown(who) for v in labels.get(row["record_id"], [])],
            "orders": orders.get(row["record_id"], ""),
        }
        for row in rows
    ]
    if output is OutputFormat.JSON:
        typer.echo(json.dumps([{c: r[c] for c in EXPORT_COLUMNS} for r in full], indent=2))
        return
    if output is OutputFormat.CSV:
        write_csv(full, EXPORT_COLUMNS)
        return
    from rich.table import Table

    # The table is for reading: the contested reason is in csv and json.
    table = Table("#", "decision", "reason", "via", "contested", "title", "labels")
    table.title = f"Final decisions: {stage}"
    for row in full:
        table.add_row(
            str(row["record_id"]),
            row["decision"],
            row["reason"],
            row["via"],
            "yes" if row["contested"] else "",
            row["title"] or "",
            csv_cell(row["labels"]),
        )
    console().print(table)


@app.command("stats")
def stats(
    stage: str | None = typer.Option(None, "--stage", help="One stage only (default: both)."),
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Counts per stage and agreement per reviewer pair (kappa with 95% CI, PABAK, Gwet's AC1).

    While a stage is blind, a reviewer sees their own votes there only (docs/blinding.md).

    Example: reviewtool screen stats --format json
    """
    from reviewtool.screening.service import screening_stats

    stages = [stage] if stage else ["tiab", "fulltext"]
    viewer = actor_name(actor)
    with reading(db, actor) as session:
        results = [screening_stats(session, actor=viewer, stage=s) for s in stages]
    if output is OutputFormat.JSON:
        typer.echo(json.dumps({r.stage: r.to_dict() for r in results}, indent=2))
        return
    if output is OutputFormat.CSV:
        write_csv(
            (row for r in results for row in _stats_rows(r.to_dict())),
            ["stage", "measure", "value"],
        )
        return
    from rich.table import Table

    out = console()
    for r in results:
        table = Table("count", "n", title=f"Screening: {r.stage}")
        if r.blind_to_you or any(r.my_votes.values()):
            for decision, n in r.my_votes.items():
                table.add_row(f"your votes: {decision}", str(n))
        if r.blind_to_you:
            if r.references is not None:
                table.add_row("references", str(r.references))
            out.print(table)
            out.print(r.note, style="dim", highlight=False)
            continue
        for label, value in (
            ("references", r.references),
            ("screened (decided)", r.screened),
            ("included", r.included),
            ("excluded", r.excluded),
            *((f"  excluded: {k}", v) for k, v in (r.excluded_by_reason or {}).items()),
            ("still open", r.open),
            ("conflicts open", r.conflicts_open),
            ("conflicts resolved", r.conflicts_resolved),
            *((("full texts not retrieved", r.not_retrieved),) if r.stage == "fulltext" else ()),
        ):
            table.add_row(label, str(value))
        out.print(table)
        if r.agreement:
            agree = Table(
                "pair",
                "n",
                "agreement %",
                "kappa (95% CI)",
                "PABAK",
                "AC1",
                title=f"Agreement: {r.stage}",
            )
            for a in r.agreement:
                kappa = (
                    f"{a['kappa']:.3f} ({a['kappa_ci_lower']:.3f} to {a['kappa_ci_upper']:.3f})"
                    if a["kappa"] is not None
                    else "undefined"
                )
                agree.add_row(
                    f"{a['reviewer_a']} / {a['reviewer_b']}",
                    str(a["n"]),
                    f"{a['percent_agreement']:.1f}",
                    kappa,
                    f"{a['pabak']:.3f}",
                    f"{a['ac1']:.3f}",
                )
            out.print(agree)
        if r.blind:
            out.print(
                f"{r.stage} is blind to reviewers (their own votes only); as an owner or "
                "adjudicator you see everything",
                style="dim",
                highlight=False,
            )
        out.print(r.note, style="dim")


def _stats_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    """``screen stats --format csv``: one stage's JSON flattened to stage,measure,value rows
    (agreement measures named ``agreement reviewer_a/reviewer_b: measure``)."""
    stage = stats["stage"]
    rows = [
        {"stage": stage, "measure": f"your votes: {decision}", "value": n}
        for decision, n in stats["my_votes"].items()
    ]
    # None: hidden while the stage is blind to the viewer (docs/blinding.md), so left out.
    rows += [
        {"stage": stage, "measure": k, "value": v}
        for k, v in stats.items()
        if k not in ("stage", "excluded_by_reason", "agreement", "note", "my_votes")
        and v is not None
    ]
    rows += [
        {"stage": stage, "measure": f"excluded: {reason}", "value": n}
        for reason, n in (stats["excluded_by_reason"] or {}).items()
    ]
    for pair in stats["agreement"]:
        who = f"agreement {pair['reviewer_a']}/{pair['reviewer_b']}"
        rows += [
            {"stage": stage, "measure": f"{who}: {measure}", "value": v}
            for k, value in pair.items()
            if k not in ("reviewer_a", "reviewer_b")
            for measure, v in _flat(k, value)
        ]
    return rows


def _flat(name: str, value: Any) -> list[tuple[str, Any]]:
    """A nested value as (name, scalar) pairs, one per leaf, never a dict in a cell: the 2x2
    ``table`` of an agreement becomes ``table: include/exclude`` rows (the first reviewer's vote /
    the second's)."""
    if isinstance(value, dict):
        return [(f"{name}: {path}", leaf) for path, leaf in _paths(value)]
    return [(name, value)]


def _paths(value: dict[Any, Any]) -> list[tuple[str, Any]]:
    """(``key/inner key``, leaf) for every leaf of a nested dict, in order."""
    out: list[tuple[str, Any]] = []
    for key, inner in value.items():
        if isinstance(inner, dict):
            out += [(f"{key}/{path}", leaf) for path, leaf in _paths(inner)]
        else:
            out.append((str(key), inner))
    return out


def register(app_root: typer.Typer) -> None:
    """Add ``screen`` and ``adjudicate`` to the root app."""
    app_root.add_typer(app, name="screen")

    @app_root.command("adjudicate")
    def adjudicate(
        stage: str = StageOption, db: DbOption = None, actor: ActorOption = None
    ) -> None:
        """Open the conflicts queue: both votes side by side, keys to resolve (adjudicators only).

        Example: reviewtool adjudicate --as carol --stage tiab
        """
        from reviewtool.domain import Action
        from reviewtool.screening.service import parse_stage
        from reviewtool.tui.adjudication import AdjudicationApp

        parse_stage(stage)
        run_screen(
            db,
            actor,
            Action.RESOLVE_CONFLICT,
            lambda url, person: AdjudicationApp(url, person, stage),
            doing="open the adjudication screen",
        )
