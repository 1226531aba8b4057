"""``reviewtool screen next / calibrate / stop-check / stop``: prioritised screening (issue 15):
the queue order, calibration rounds and stopping rules (docs/screening_queue.md)."""

from __future__ import annotations

import json
from typing import Any

import typer

from reviewtool.cli._common import (
    ActorOption,
    DbOption,
    FormatOption,
    OutputFormat,
    actor_name,
    console,
    counted,
    reading,
    write_csv,
    writing,
)

StageOption = typer.Option("tiab", "--stage", help="tiab (title/abstract) or fulltext.")


def next_references(
    stage: str = StageOption,
    count: int = typer.Option(10, "--count", min=1, help="How many references to list."),
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """List the next references in your queue, in the order in effect (screening.order).

    Says which order is in effect (random until you know screening.min_includes includes and
    min_excludes excludes, then relevance or mixed), and the relevance model's version. The model
    learns from your own votes only while the stage is blind (docs/screening_queue.md).

    Example: reviewtool screen next --count 5 --as alice
    """
    from reviewtool.screening.queue import ranked_queue, reference_titles

    who = actor_name(actor)
    with reading(db, actor) as session:
        queue = ranked_queue(session, actor=who, stage=stage)
        shown = list(queue.ids[:count])
        titles = reference_titles(session, shown)
    rows = [
        {"place": i + 1, "record_id": r, "title": titles.get(r, "")} for i, r in enumerate(shown)
    ]
    if output is OutputFormat.JSON:
        typer.echo(json.dumps({**queue.to_dict(), "ids": shown, "left": len(queue.ids)}, indent=2))
        return
    if output is OutputFormat.CSV:
        write_csv(rows, ["place", "record_id", "title"])
        return
    from rich.table import Table

    out = console()
    out.print(f"Order: {queue.describe()}; {len(queue.ids)} left for you.", highlight=False)
    table = Table("#", "record", "title")
    for row in rows:
        table.add_row(str(row["place"]), str(row["record_id"]), str(row["title"]))
    out.print(table)


def calibrate(
    sample: int | None = typer.Option(
        None, "--sample", help="Start a round: the pilot's size (references)."
    ),
    seed: int = typer.Option(0, "--seed", help="With --sample: the seed the pilot is drawn with."),
    override: bool = typer.Option(
        False, "--override", help="Open screening proper whatever kappa is (needs --reason)."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why the round is overridden."),
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Calibration round: start one (--sample N --seed S), check it, or override it (owners).

    Every reviewer screens the pilot first; without options an owner checks the round and screening
    proper opens when Cohen's kappa on the pilot reaches screening.calibration_kappa with everyone
    done. A reviewer sees their own progress on the pilot only while title/abstract is blind.

    Example: reviewtool screen calibrate --sample 50 --seed 7 --as olga
    """
    from reviewtool.access import roles_of, sight
    from reviewtool.domain import Role
    from reviewtool.screening import calibration

    who = actor_name(actor)
    if override and not (reason or "").strip():
        raise typer.BadParameter("--override needs --reason", param_hint="--reason")
    if sample is not None and override:
        raise typer.BadParameter("give --sample or --override, not both", param_hint="--sample")
    if sample is not None:
        with writing(db) as session:
            started = calibration.start_round(session, actor=who, size=sample, seed=seed)
        console().print(
            f"Calibration round {started.id}: {counted(started.size, 'reference')} drawn with seed "
            f"{started.seed}; every reviewer screens them first. Screening proper opens when "
            f"kappa reaches {started.threshold:g} (`reviewtool screen calibrate`).",
            highlight=False,
        )
        return
    if override:
        with writing(db) as session:
            status = calibration.override_round(session, actor=who, reason=reason or "")
    else:
        with reading(db, actor) as session:
            seen = sight(session, who)
            owner = seen.member is not None and Role.OWNER in roles_of(session, seen.member)
            owner = owner and calibration.open_round(session) is not None
        if owner:
            with writing(db) as session:
                status = calibration.check_round(session, actor=who)
        else:
            with reading(db, actor) as session:
                status = calibration.round_status(session, actor=who)
    _show_round(status.to_dict(), output)


def _show_round(status: dict[str, Any], output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(status, indent=2))
        return
    rows = [
        {"measure": k, "value": v}
        for k, v in status.items()
        if k not in ("done", "pairs") and v is not None
    ]
    rows += [{"measure": f"done: {r}", "value": n} for r, n in (status["done"] or {}).items()]
    if output is OutputFormat.CSV:
        write_csv(rows, ["measure", "value"])
        return
    from rich.table import Table

    if status["round"] is None:
        console().print(
            "No calibration round: screening is open (an owner starts one with "
            "`reviewtool screen calibrate --sample N --seed S`).",
            highlight=False,
        )
        return
    table = Table("calibration", "value", title=f"Calibration round {status['round']}")
    for row in rows:
        table.add_row(str(row["measure"]), str(row["value"]))
    out = console()
    out.print(table)
    if status["outcome"] is None:
        out.print(
            "open: screening proper starts when an owner finds kappa at or above the threshold "
            "with every reviewer done (`screen calibrate`), or overrides with a reason",
            style="dim",
            highlight=False,
        )


def stop_check(
    db: DbOption = None,
    actor: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """Show, for each stopping rule (settings screening.stop_*), whether it is met and why.

    Each rule is evaluated on each reviewer's own title/abstract decisions in the order they
    screened; it is met for the review when it is met for every reviewer. While title/abstract is
    blind to you, you see your own evidence only.

    Example: reviewtool screen stop-check --as olga
    """
    from reviewtool.screening.stop import stop_check as check

    who = actor_name(actor)
    with reading(db, actor) as session:
        checks = check(session, actor=who)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps([c.to_dict() for c in checks], indent=2))
        return
    rows = [
        {
            "rule": c.rule,
            "reviewer": reviewer,
            "met": e["met"],
            "heuristic": e["heuristic"],
            "evidence": e["numbers_text"],
        }
        for c in checks
        for reviewer, e in c.evidence.items()
    ]
    if output is OutputFormat.CSV:
        write_csv(rows, ["rule", "reviewer", "met", "heuristic", "evidence"])
        return
    from rich.table import Table

    table = Table("rule", "parameters", "met for the review", title="Stopping rules")
    for c in checks:
        met = "-" if c.met is None else "yes" if c.met else "no"
        table.add_row(c.rule, _numbers(c.parameters), met)
    out = console()
    out.print(table)
    if rows:
        detail = Table("rule", "reviewer", "met", "evidence", title="Evidence per reviewer")
        for row in rows:
            detail.add_row(row["rule"], row["reviewer"], "yes" if row["met"] else "no",
                           row["evidence"])  # fmt: skip
        out.print(detail)
    else:
        out.print("Nobody has screened yet.", highlight=False)


def _numbers(values: dict[str, Any]) -> str:
    """``name=value`` pairs in one cell; floats to 4 significant digits, None left out."""
    said = []
    for key, value in values.items():
        if value is None:
            continue
        said.append(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}")
    return ", ".join(said)


def stop(
    rule: str | None = typer.Option(
        None, "--rule", help="consecutive_exclusions, hypergeometric or safe."
    ),
    undo: bool = typer.Option(False, "--undo", help="Resume screening (needs --reason)."),
    reason: str | None = typer.Option(None, "--reason", help="With --undo: why screening resumes."),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """End title/abstract screening under a stopping rule that is met (owners; audited).

    The references nobody has voted on leave every queue and are counted in PRISMA as not screened
    because screening stopped; references with a vote are still screened by the others. Prints a
    methods paragraph. `--undo --reason R` brings them back.

    Example: reviewtool screen stop --rule hypergeometric --as olga
    """
    from reviewtool.screening.stop import resume_screening, stop_screening

    who = actor_name(actor)
    if undo == (rule is not None):
        raise typer.BadParameter("give --rule R, or --undo --reason R", param_hint="--rule")
    if undo:
        with writing(db) as session:
            back = resume_screening(session, actor=who, reason=reason or "")
        console().print(
            f"Screening resumed: {counted(len(back), 'reference')} {'is' if len(back) == 1 else 'are'} "
            "back in the queues.",
            highlight=False,
        )
        return
    assert rule is not None
    with writing(db) as session:
        result = stop_screening(session, actor=who, rule=rule)
    # Plain lines, never wrapped: the paragraph is for pasting.
    typer.echo(
        f"Screening stopped under {rule} (stop {result.stop_id}): "
        f"{counted(len(result.references), 'reference')} set aside, not screened. Methods paragraph:"
    )
    typer.echo("")
    typer.echo(result.methods)


def register(screen_app: typer.Typer) -> None:
    """Add ``next``, ``calibrate``, ``stop-check`` and ``stop`` to ``screen``."""
    screen_app.command("next")(next_references)
    screen_app.command("calibrate")(calibrate)
    screen_app.command("stop-check")(stop_check)
    screen_app.command("stop")(stop)
