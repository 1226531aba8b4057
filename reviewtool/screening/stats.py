"""Screening: what a stage adds up to: final decisions and counts with agreement.

``final_decisions`` (``screen export``): one row per decided reference, refused while the stage is
blind to the reader; ``screening_stats`` (``screen stats``): counts, exclusion reasons and pairwise
agreement (``screening.agreement``), with every count that depends on another reviewer's vote
left out while the stage is blind to the viewer (``StageStats``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from reviewtool.access import Sight, sight, stage_blind
from reviewtool.domain import Decision, ScreeningStatus, Stage
from reviewtool.errors import PermissionDenied
from reviewtool.screening.agreement import pairwise_screening_agreement
from reviewtool.screening.rules import _reference, parse_stage
from reviewtool.screening.worklist import eligible
from reviewtool.storage.models import ScreeningDecision
from reviewtool.storage.queries import (
    current_resolutions,
    current_votes,
    stage_outcomes,
    unobtainable,
)


def final_decisions(session: Session, *, actor: str, stage: str) -> list[dict[str, Any]]:
    """One row per decided reference at ``stage``: final decision, reason, how it was reached.

    Keys: ``record_id``, ``source_key``, ``title``, ``stage``, ``decision``, ``reason`` ("" for
    none), ``via`` (``agreement`` or ``adjudication``) and ``contested`` ("" unless the votes came to
    agree against the adjudicator's resolution that still decides it: then why, as the conflicts
    list says it, until the adjudicator resolves again).

    Only decided references appear, so an export never shows a vote on an open reference. While
    the stage is blind to ``actor`` a decision would show how the others voted (an agreed exclusion
    carries their reason), so PermissionDenied (one fixed line) is raised instead.
    """
    parsed = parse_stage(stage)
    seen = sight(session, actor)
    if not seen.sees_others(parsed.value):
        raise PermissionDenied(
            f"the final decisions at {parsed.value} are hidden while the stage is blind; an owner "
            f"ends blinding with `reviewtool screen unblind --stage {parsed.value}`"
        )
    rows = []
    # At full text resolutions decide reports; a reference's decision is derived from them.
    standing = current_resolutions(session, parsed.value) if parsed is Stage.TITLE_ABSTRACT else {}
    for record_id, outcome in sorted(stage_outcomes(session, parsed.value).items()):
        if not outcome.final:
            continue
        record = _reference(session, record_id)
        resolution = standing.get(record_id)
        via = "adjudication" if outcome.status.value.startswith("resolved") else "agreement"
        rows.append(
            {
                "record_id": record_id,
                "source_key": record.source_key if record else None,
                "title": record.title if record else None,
                "stage": parsed.value,
                "decision": outcome.decision,
                "reason": outcome.reason or "",
                "via": via,
                "contested": (resolution.contested_because or "contested")
                if via == "adjudication"
                and resolution is not None
                and resolution.contested_at is not None
                else "",
            }
        )
    return rows


AGREEMENT_NOTE = "maybe counts as include for agreement (as Covidence counts it)"


BLIND_NOTE = (
    "blind: you see your own votes only; counts that depend on another reviewer's vote are shown "
    "once an owner ends blinding (`reviewtool screen unblind --stage {stage}`)"
)


FULLTEXT_CLOSED_NOTE = (
    "closed: the references at full text are the ones included at title/abstract, shown once "
    "an owner ends blinding there (`reviewtool screen unblind --stage tiab`)"
)


@dataclass(frozen=True)
class StageStats:
    """`screen stats` for one stage.

    ``blind`` says whether the stage is blind (reviewers see their own votes only there, until an
    owner ends it); ``blind_to_you`` whether that holds for the viewer (an owner or adjudicator
    sees everything at a blind stage: ``blind`` true, ``blind_to_you`` false).
    While the stage is blind to the viewer (``blind_to_you``) every count that depends on another
    reviewer's vote is None and ``agreement`` is empty; ``my_votes`` (the viewer's own current
    votes by decision) is always given. At full text while title/abstract is blind to the viewer
    even ``references`` and ``not_retrieved`` are None (they say what was included there).
    """

    stage: str
    references: int | None
    screened: int | None
    included: int | None
    excluded: int | None
    excluded_by_reason: dict[str, int] | None
    open: int | None
    conflicts_open: int | None
    conflicts_resolved: int | None
    not_retrieved: int | None
    agreement: list[dict[str, Any]] = field(default_factory=list)
    note: str = AGREEMENT_NOTE
    blind: bool = False
    my_votes: dict[str, int] = field(default_factory=dict)
    blind_to_you: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def _my_votes(session: Session, seen: Sight, stage: Stage, refs: set[int]) -> dict[str, int]:
    """The viewer's own current votes at ``stage`` on references in ``refs``, by decision."""
    if seen.member is None:
        return {d.value: 0 for d in Decision}
    rows = session.exec(
        select(ScreeningDecision.reference_id, ScreeningDecision.decision).where(
            ScreeningDecision.member_id == seen.member.id,
            ScreeningDecision.stage == stage.value,
            col(ScreeningDecision.superseded_at).is_(None),
        )
    ).all()
    counts = Counter(decision for record_id, decision in rows if record_id in refs)
    return {d.value: counts[d.value] for d in Decision}


def screening_stats(session: Session, *, actor: str, stage: str) -> StageStats:
    """Counts and agreement (per reviewer pair) at one stage, as ``actor`` may see them
    (a stage blind to them: their own votes only; see ``StageStats``)."""
    parsed = parse_stage(stage)
    seen = sight(session, actor)
    if not seen.stage_open(parsed.value):
        return _blind_stats(
            parsed, None, None, FULLTEXT_CLOSED_NOTE, _my_votes(session, seen, parsed, set())
        )
    refs = eligible(session, parsed)
    mine = _my_votes(session, seen, parsed, set(refs))
    if not seen.sees_others(parsed.value):
        note = BLIND_NOTE.format(stage=parsed.value)
        return _blind_stats(parsed, len(refs), _not_retrieved(session, parsed), note, mine)
    outcomes = stage_outcomes(session, parsed.value)
    counts: Counter[ScreeningStatus] = Counter(outcomes[r].status for r in refs if r in outcomes)
    reasons: Counter[str] = Counter(
        outcomes[r].reason or "(no reason)"
        for r in refs
        if r in outcomes and outcomes[r].final and not outcomes[r].goes_on
    )
    included = counts[ScreeningStatus.INCLUDED] + counts[ScreeningStatus.RESOLVED_INCLUDED]
    excluded = counts[ScreeningStatus.EXCLUDED] + counts[ScreeningStatus.RESOLVED_EXCLUDED]
    resolved = counts[ScreeningStatus.RESOLVED_INCLUDED] + counts[ScreeningStatus.RESOLVED_EXCLUDED]
    votes = current_votes(session, parsed.value)
    pairs = (
        pairwise_screening_agreement(
            {(v.reviewer, record_id): v.decision for record_id, vs in votes.items() for v in vs}
        )
        if votes
        else ()
    )
    return StageStats(
        stage=parsed.value,
        references=len(refs),
        screened=included + excluded,
        included=included,
        excluded=excluded,
        excluded_by_reason=dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        open=len(refs) - sum(counts.values()) + counts[ScreeningStatus.OPEN],
        conflicts_open=counts[ScreeningStatus.CONFLICT],
        conflicts_resolved=resolved,
        not_retrieved=_not_retrieved(session, parsed),
        agreement=[p.to_dict() for p in pairs],
        blind=stage_blind(session, parsed.value),
        my_votes=mine,
        blind_to_you=False,
    )


def _blind_stats(
    stage: Stage, references: int | None, not_retrieved: int | None, note: str, mine: dict[str, int]
) -> StageStats:
    """StageStats with every count that depends on another reviewer's vote left out."""
    return StageStats(
        stage=stage.value,
        references=references,
        screened=None,
        included=None,
        excluded=None,
        excluded_by_reason=None,
        open=None,
        conflicts_open=None,
        conflicts_resolved=None,
        not_retrieved=not_retrieved,
        note=note,
        blind=True,
        my_votes=mine,
        blind_to_you=True,
    )


def _not_retrieved(session: Session, stage: Stage) -> int:
    """References whose full text could not be had (0 at title/abstract)."""
    if stage is not Stage.FULL_TEXT:
        return 0
    return len(unobtainable(session))
