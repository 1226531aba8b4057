"""Screening: what a reviewer has left at a stage (the queue), progress, and search.

``eligible``: the references that can be screened at a stage; ``screening_queue``: those the
reviewer has not voted on, in their own shuffled order (``screening.order_seed``; the ranked
order is ``screening.queue``); ``screening_progress``: the status bar's totals, the decided count
only where the reviewer may see others' votes; ``search_references``: title/abstract words.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import cast

from sqlmodel import Session, col, select

from reviewtool.access import require, sight
from reviewtool.domain import Action, Stage
from reviewtool.screening.labels import records_labelled, visible_labels
from reviewtool.screening.prescreen import removed_references
from reviewtool.screening.rules import _maybe_reference, parse_stage
from reviewtool.storage.models import Record, Reference, ScreeningDecision
from reviewtool.storage.queries import assessable_reports, setting, stage_outcomes, unobtainable


def _done_by(session: Session, member_id: int | None, stage: Stage) -> set[int]:
    """The references ``member_id`` has voted on at ``stage``: at full text, those with at least
    one report and a current vote of theirs on every report that can be assessed."""
    rows = session.exec(
        select(ScreeningDecision.reference_id, ScreeningDecision.report_id).where(
            ScreeningDecision.member_id == member_id,
            ScreeningDecision.stage == stage.value,
            col(ScreeningDecision.superseded_at).is_(None),
        )
    ).all()
    if stage is Stage.TITLE_ABSTRACT:
        return {ref for ref, _report in rows}
    voted = {report for _ref, report in rows}
    return {
        ref
        for ref, reports in assessable_reports(session).items()
        if reports and all(r in voted for r in reports)
    }


def _order_key(actor: str, stage: Stage, record_id: int, seed: int = 0) -> str:
    # A per-reviewer shuffle that needs no stored state and keeps its order as records are added;
    # ``screening.order_seed`` (0 by default: the order every review had before it) reseeds it.
    prefix = f"{seed}:" if seed else ""
    return hashlib.sha256(f"{prefix}{actor}:{stage.value}:{record_id}".encode()).hexdigest()


def eligible(session: Session, stage: Stage) -> list[int]:
    """Reference ids that can be screened at ``stage`` (at title/abstract: every reference not
    removed before screening, ``prescreen``)."""
    references = list(session.exec(select(Reference.id).order_by(col(Reference.id))).all())
    if stage is Stage.TITLE_ABSTRACT:
        removed = removed_references(session)
        return [r for r in references if r is not None and r not in removed]
    tiab = stage_outcomes(session, Stage.TITLE_ABSTRACT.value)
    missing = unobtainable(session)
    return [
        r
        for r in references
        if r is not None and r in tiab and tiab[r].goes_on and r not in missing
    ]


@dataclass(frozen=True)
class Progress:
    """How far a reviewer is at one stage.

    :ivar total: references at the stage.
    :ivar mine: the reviewer's current votes there; ``left`` = total - mine.
    :ivar decided: references decided there, or None while the stage is blind to the reviewer
        (how many are decided depends on the other reviewers' votes).
    """

    total: int
    mine: int
    left: int
    decided: int | None

    def to_dict(self) -> dict[str, int]:
        """A JSON-ready dict."""
        return asdict(self)


def screening_queue(
    session: Session, *, actor: str, stage: str, label: str | None = None
) -> list[int]:
    """The references ``actor`` has not voted on at ``stage``, in the reviewer's own shuffled order
    (seeded by ``screening.order_seed``); with ``label``, only those carrying that label (among the
    labels ``actor`` may see). ``screening.queue.ranked_queue`` orders it by relevance."""
    member = require(session, actor, Action.SCREEN, doing="see the screening queue")
    parsed = parse_stage(stage)
    sight(session, actor).check_stage_open(parsed.value)
    wanted = (
        records_labelled(visible_labels(session, actor=actor), label) if label is not None else None
    )
    mine = _done_by(session, member.id, parsed)
    todo = [
        r for r in eligible(session, parsed) if r not in mine and (wanted is None or r in wanted)
    ]
    seed = int(cast(int, setting(session, "screening.order_seed")))
    return sorted(todo, key=lambda r: _order_key(actor, parsed, r, seed))


def screening_progress(session: Session, *, actor: str, stage: str) -> Progress:
    """Totals for the status bar: references at this stage, my votes, left for me, decided (None
    while the stage is blind to ``actor``); StageOrderError when the stage is closed to them."""
    parsed = parse_stage(stage)
    seen = sight(session, actor)
    seen.check_stage_open(parsed.value)
    ids = set(eligible(session, parsed))
    member_id = seen.member.id if seen.member is not None else None
    mine = len(_done_by(session, member_id, parsed) & ids)
    decided: int | None = None
    if seen.sees_others(parsed.value):
        outcomes = stage_outcomes(session, parsed.value)
        decided = sum(1 for r, o in outcomes.items() if r in ids and o.final)
    return Progress(total=len(ids), mine=mine, left=len(ids) - mine, decided=decided)


def search_references(
    session: Session, *, actor: str, stage: str, text: str, limit: int = 50
) -> list[int]:
    """References at ``stage`` (``eligible``) whose title or abstract holds every word of ``text``
    (any case), or the reference whose id ``text`` is."""
    require(session, actor, Action.READ, doing="search references")
    parsed = parse_stage(stage)
    sight(session, actor).check_stage_open(parsed.value)
    words = text.split()
    if not words:
        return []
    if len(words) == 1 and words[0].isdigit():
        found = _maybe_reference(session, int(words[0]))
        return [] if found is None else [found]
    query = select(Record.reference_id).where(col(Record.duplicate_of).is_(None))
    for word in words:
        # % and _ are what the reviewer typed, not wildcards: "5%" finds "5% albumin" only.
        literal = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{literal}%"
        query = query.where(
            col(Record.title).ilike(pattern, escape="\\")
            | col(Record.abstract).ilike(pattern, escape="\\")
        )
    hits = [r for r in session.exec(query.order_by(col(Record.id))).all() if r is not None]
    allowed = set(eligible(session, parsed))  # not removed before screening; at full text, included
    hits = [h for h in hits if h in allowed]
    return hits[:limit]
