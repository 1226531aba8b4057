"""``reviewtool audit``: read and verify the tamper-evident ledger."""

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
    reading,
    utc_time,
)
from reviewtool.csvfiles import safe_writer

if TYPE_CHECKING:
    from rich.table import Table

    from reviewtool.audit import EventView

app = typer.Typer(help="List and verify the audit ledger.", no_args_is_help=True)
app.callback()(group_options)


def _short(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def change_summary(payload: dict[str, object]) -> str:
    """One line saying what an event changed: before -> after per field, else its fields."""
    before, after = payload.get("before"), payload.get("after")
    if isinstance(before, dict) and isinstance(after, dict):
        changed = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
        return "; ".join(f"{k}: {_short(before.get(k))} -> {_short(after.get(k))}" for k in changed)
    if "before" in payload and not isinstance(after, dict):
        return f"{_short(before)} -> {_short(after)}"
    shown = after if isinstance(after, dict) else payload
    return "; ".join(f"{k}={_short(v)}" for k, v in shown.items() if k not in ("before", "after"))


CHANGE_LIMIT = 120
"""The most characters of an event's change the ``audit log`` table shows (``table_change``)."""


def table_change(payload: dict[str, object], limit: int = CHANGE_LIMIT) -> tuple[str, bool]:
    """The change column of the ``audit log`` table: ``change_summary`` cut to ``limit``
    characters (the last one an ellipsis, "…") and whether it was cut. An analysis run's summary
    (its settings, hashes and results) runs to thousands of characters; the JSON and CSV formats
    keep every event whole."""
    text = change_summary(payload)
    if len(text) <= limit:
        return text, False
    return text[: limit - 1].rstrip() + "…", True


WIDE_TABLE = 120
"""From this console width on, ``audit log``'s table has a column each for the actor, the action
and the entity; below it they share one (``events_table``), so the change keeps room."""

WHO_WHAT_WIDTH = 20
"""The widest the shared who/action/entity column of a narrow ``audit log`` table gets."""


def events_table(events: list[EventView], width: int) -> tuple[Table, bool]:
    """The ``audit log`` table of ``events`` for a console ``width`` characters wide, and whether
    any change was cut (``table_change``).

    From ``WIDE_TABLE`` columns on: ``# | When (UTC) | Actor | Action | Entity | Change``. Below
    it (80 columns: a pipe, a small terminal) the actor, action and entity are stacked in one
    column of at most ``WHO_WHAT_WIDTH`` characters (an entity longer than that folds) and the
    time sits under the date, so the change keeps half the width instead of a few characters.
    """
    from rich.table import Table

    narrow = width < WIDE_TABLE
    if narrow:
        table = Table("#", "When (UTC)", "Who, action, entity", "Change")
        table.columns[1].no_wrap = True
        table.columns[2].overflow = "fold"
        table.columns[2].max_width = WHO_WHAT_WIDTH
    else:
        table = Table("#", "When (UTC)", "Actor", "Action", "Entity", "Change")
        table.columns[1].no_wrap = table.columns[3].no_wrap = True
    table.columns[-1].overflow = "fold"
    cut = False
    for e in events:
        change, shortened = table_change(e.payload)
        cut = cut or shortened
        seq = "" if e.seq is None else str(e.seq)
        when = e.occurred_at[:19].replace("T", " ")
        # A vote an owner entered for a member: both names (screen import-decisions).
        behalf = e.payload.get("on_behalf_of")
        who = f"{e.actor} (for {behalf})" if behalf else e.actor
        entity = f"{e.entity_type}:{e.entity_id}"
        if narrow:
            table.add_row(seq, when.replace(" ", "\n"), f"{who}\n{e.action}\n{entity}", change)
        else:
            table.add_row(seq, when, who, e.action, entity, change)
    return table, cut


@app.command("log")
def log(
    actor: str | None = typer.Option(
        None,
        "--actor",
        help="Only this person's events: those they wrote and those an owner entered on their "
        "behalf (--on-behalf-of imports, shown as `olga (for bob)`).",
    ),
    action: str | None = typer.Option(
        None, "--action", help="Only this event kind, e.g. member-added."
    ),
    entity: str | None = typer.Option(
        None, "--entity", help="Only this entity: TYPE or TYPE:ID (e.g. member:2)."
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        help="From this UTC time (ISO-8601; a date works).",
        callback=utc_time,
    ),
    until: str | None = typer.Option(
        None, "--until", help="Up to this UTC time (ISO-8601).", callback=utc_time
    ),
    limit: int | None = typer.Option(
        None, "--limit", "-n", min=1, help="Only the newest N events."
    ),
    db: DbOption = None,
    viewer: ActorOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """List audit events, oldest first, filtered by actor, action, entity and time.

    At a stage still blind to you, other reviewers' votes and the resolutions there are left out
    (docs/blinding.md).

    --actor NAME shows NAME's events: the ones they wrote and the ones an owner entered on their
    behalf (`olga (for bob)`).

    Example: reviewtool audit log --actor alice --action member-added
    """
    from reviewtool.access import own_event, require, visible_events
    from reviewtool.audit import list_events
    from reviewtool.domain import Action

    entity_type, _, entity_id = (entity or "").partition(":")
    with reading(db, viewer) as session:
        member = require(session, actor_name(viewer), Action.READ, doing="read the audit log")
        events = list_events(
            session,
            action=action,
            entity_type=entity_type or None,
            entity_id=entity_id or None,
            since=since,
            until=until,
        )
        # The newest N of what the viewer may see: limiting first would let hidden events
        # crowd visible ones out, so how many show would count the hidden ones.
        events = visible_events(session, member, events)
        if actor is not None:
            # --actor NAME: NAME's own events, written by them or entered for them (payload
            # ``on_behalf_of``). Matched on what the viewer may see, after the blinding above, so
            # the filter tells nothing of events hidden from them.
            events = [e for e in events if own_event(actor, e)]
        if limit is not None:
            events = events[-limit:]
    if output is OutputFormat.JSON:
        typer.echo(json.dumps([e.to_dict() for e in events], indent=2, ensure_ascii=False))
        return
    if output is OutputFormat.CSV:
        writer = safe_writer(sys.stdout)
        writer.writerow(
            [
                "seq",
                "occurred_at",
                "actor",
                "action",
                "entity_type",
                "entity_id",
                "payload",
                "hash",
                "salt",
            ]
        )
        for e in events:
            writer.writerow(
                [
                    e.seq,
                    e.occurred_at,
                    e.actor,
                    e.action,
                    e.entity_type,
                    e.entity_id,
                    json.dumps(e.payload),
                    e.hash,
                    e.salt,
                ]
            )
        return
    out = console()
    table, cut = events_table(events, out.width)
    out.print(table)
    if cut:
        out.print(
            "Changes cut short (…) are shown whole by `-f json`.",
            style="dim",
            highlight=False,
        )
    if events and events[0].seq is None:
        console().print(
            "Ledger numbers and hashes are not shown while a stage is blind to you: "
            "they count every member's events.",
            style="dim",
            highlight=False,
        )


def _head_hash(value: str) -> str:
    """A head hash as ``--expect-head`` takes it: 64 hexadecimal digits (lower-cased), else
    InvalidInput naming the option."""
    from reviewtool.errors import InvalidInput

    text = value.strip().lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise InvalidInput(
            f"--expect-head: {value!r} is not a ledger head (64 hexadecimal digits, as "
            "`audit verify` prints it)"
        )
    return text


@app.command("verify")
def verify(
    expect_head: str | None = typer.Option(
        None, "--expect-head", help="Also require this head hash (one you noted down earlier)."
    ),
    since_checkpoint: bool = typer.Option(
        False,
        "--since-checkpoint",
        help="Check only what was added since the last verified checkpoint (fast); "
        "a full verify (the default) checks every event and every table.",
    ),
    checkpoint: bool = typer.Option(
        True,
        "--checkpoint/--no-checkpoint",
        help="Record a checkpoint when the ledger verifies (not an event: the head stays).",
    ),
    anchors: Path | None = typer.Option(
        None,
        "--anchors",
        help="Also check every head anchored in this file (`audit anchor --out FILE`): each "
        "anchored event must still be in the ledger with the same hash.",
        callback=existing_file,
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Check the hash chain and the current state against it; non-zero exit when broken.

    By default every event is re-hashed and every audited table compared with the ledger. With
    --since-checkpoint only the events after the newest checkpoint are checked, with the state of
    what they touched; an edit to anything older is found by the next full verify.

    A reviewer at a stage still blind to them is not shown the number of events or the head.

    Example: reviewtool audit verify
    """
    from reviewtool.access import check_whole_ledger, sight, verify_problems
    from reviewtool.audit import verify as verify_ledger
    from reviewtool.audit import write_checkpoint
    from reviewtool.cli._common import writing
    from reviewtool.errors import AuditChainBroken, DatabaseUnavailable, InvalidInput

    if expect_head is not None and since_checkpoint:
        raise InvalidInput(
            "--expect-head needs a full verify: drop --since-checkpoint "
            "(an incremental check does not re-hash the events before the checkpoint)"
        )
    if expect_head is not None:
        expect_head = _head_hash(expect_head)
    from reviewtool.audit.anchors import anchor_problems, read_anchors

    anchored = read_anchors(anchors) if anchors is not None else []
    with reading(db, actor) as session:
        check_whole_ledger(session, actor_name(actor))  # team mode: docs/identity.md
        report = verify_ledger(session, since_checkpoint=since_checkpoint)
        seen = sight(session, actor_name(actor))
        broken_anchors = anchor_problems(session, anchored) if anchored else []
    blind = bool(seen.blind)
    for problem in broken_anchors:
        # Anchors name event numbers: a viewer at a blind stage is told only that one failed.
        report._fail(None, "an anchored head does not hold" if blind else problem)
    if expect_head is not None and report.ok and report.head_hash != expect_head:
        shown = "" if blind else f" ({report.head_hash})"
        report._fail(
            None,
            f"the ledger's head{shown} is not the expected {expect_head}: the ledger is not the "
            "one whose head you noted (events were added since, or it was rewritten)",
        )
    if not report.ok:
        # A viewer at a blind stage reads no event number and nothing of entities they may not
        # see (docs/blinding.md): access.verify_problems words the problems for them.
        lines = verify_problems(seen, report)
        for problem in lines[1:]:
            typer.echo(f"  {problem}", err=True)
        first = (
            f"first bad event #{report.first_bad_seq}: "
            if report.first_bad_seq and not blind
            else ""
        )
        raise AuditChainBroken(
            f"audit ledger does not verify ({counted(len(report.problems), 'problem')}); {first}{lines[0]}"
        )
    if checkpoint and report.last_seq > 0:
        try:
            with writing(db) as session:
                write_checkpoint(session, actor=actor_name(actor), report=report)
        except DatabaseUnavailable as error:  # a read-only copy still verifies
            typer.echo(f"note: no checkpoint recorded ({error})", err=True)
    scope = "" if report.full else " since the last checkpoint"
    if report.full and since_checkpoint:
        typer.echo("No checkpoint yet: verified in full.", err=True)
    # The number of events and the head (which changes with every event) would count or time
    # the other reviewers' votes at a stage blind to the viewer.
    if blind:
        console().print(
            f"Audit ledger verified{scope} (its length and head are not shown while a stage is "
            "blind to you)."
        )
        return
    held = (
        f"; {counted(len(anchored), 'anchor')} hold{'s' if len(anchored) == 1 else ''}"
        if anchored
        else ""
    )
    if report.full:
        console().print(
            f"Audit ledger verified: {counted(report.events, 'event')}, head {report.head_hash}"
            f"{held}"
        )
        return
    console().print(
        f"Audit ledger verified since the checkpoint at event #{report.since_seq} "
        f"({report.since_verified_at}): {counted(report.events, 'new event')}, "
        f"head {report.head_hash}. "
        "Older entities are checked by a full `reviewtool audit verify`."
    )


@app.command("anchor")
def anchor(
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Append the anchor to this file (kept outside the database) as well as printing it.",
        dir_okay=False,
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Write down the ledger's head (event number, hash, UTC time) outside the database, so that
    `audit verify --anchors FILE` later proves no event up to it was cut off or rewritten.

    Print it for a lab notebook, or append it to a file kept elsewhere. Not shown to a reviewer
    while a stage is blind to them (the head changes with every vote).

    Example: reviewtool audit anchor --out ~/notebook/review-anchors.jsonl
    """
    from reviewtool.access import require, sight
    from reviewtool.audit.anchors import current_anchor
    from reviewtool.domain import Action
    from reviewtool.errors import InvalidInput, PermissionDenied

    with reading(db, actor) as session:
        require(session, actor_name(actor), Action.READ, doing="anchor the audit ledger")
        if sight(session, actor_name(actor)).blind:
            raise PermissionDenied(
                "the ledger's head is hidden while a stage is blind to you (it changes with "
                "every vote); an owner or adjudicator anchors it"
            )
        found = current_anchor(session)
    line = found.to_line()
    if out is not None:
        if not out.parent.is_dir():
            raise InvalidInput(f"--out: the folder {out.parent} does not exist")
        with out.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    typer.echo(line)


@app.command("replay")
def replay(
    to: str = typer.Option(
        ...,
        "--to",
        help="The new review database to build: a file path or a SQLAlchemy URL, as --db takes "
        "(a file that does not exist yet, or an empty PostgreSQL database).",
    ),
    map_owner: str | None = typer.Option(
        None,
        "--map-owner",
        help="Into PostgreSQL, for a review whose members have database logins: map this owner "
        "to the login running the replay (one audited member-login-mapped event after the "
        "replayed ones), so someone can act as an owner of the rebuilt review.",
    ),
    db: DbOption = None,
    actor: ActorOption = None,
) -> None:
    """Rebuild the review from its audit ledger alone into a new database (owners).

    The ledger is verified first; then every event is applied in order and copied, so the new
    review holds the same records, groups, votes (superseded ones too), resolutions, reports,
    studies, extraction, risk of bias, runs, settings and members, and the same ledger with the
    same head. The new review is verified before the command succeeds; if anything cannot be
    replayed (an event written by a version before events carried everything, named in the
    message), nothing is left at --to.

    Into PostgreSQL, a review whose members have database logins (team mode) is refused up front
    unless the login running the replay is mapped to an owner: map it first (`member map OWNER
    --db-role LOGIN`) or give --map-owner OWNER.

    Example: reviewtool audit replay --to rebuilt.db
    """
    from reviewtool.access import require
    from reviewtool.audit.replay import replay_into
    from reviewtool.cli._common import database_url
    from reviewtool.domain import Action

    target = database_url(to)
    with reading(db, actor) as session:
        owner = require(
            session, actor_name(actor), Action.MANAGE_MEMBERS, doing="replay the ledger"
        )
        report = replay_into(session, target, actor=owner.name, map_owner=map_owner)
    console().print(
        f"Replayed {counted(report.events, 'event')} into {to}: the rebuilt review verifies, "
        f"head {report.head_hash}"
    )
    if report.owner_mapped is not None:
        member, login = report.owner_mapped
        console().print(
            f"Mapped {member} to the database login {login} (event #{report.last_seq}); "
            "run `reviewtool member db-setup` there next"
        )
