"""Stopping title/abstract screening early under a stopping rule (issue 15).

The rules themselves are the pure kernel ``screening.stopping``; this module gives them each
reviewer's screening history and records an owner's decision to stop.

A reviewer's history (``histories``) is their current votes at title/abstract in the order they
first voted on each reference (the order they screened in), each with whether it was an include
(include or maybe) and the queue order it was drawn in (``screening_decision.queue_order``:
``mixed-random`` votes are the random sample the statistical rule tests on). Blinding: a reviewer
sees only their own history while title/abstract is blind to them; owners and adjudicators every
reviewer's.

``stop_check`` evaluates every rule of ``RULES`` (parameters from the settings) for each reviewer;
a rule is met for the review when it is met for every reviewer who has voted. ``stop_screening``
(an owner, ``screen stop --rule R``) refuses unless the rule is met, then sets aside the references
nobody has voted on at title/abstract: they leave every queue and count in PRISMA as "records not
screened because screening stopped". References with at least one vote stay in the queues of the
reviewers who have not voted on them, so every reference screened is screened in duplicate. One
``screening-stopped`` event carries the rule, its evidence per reviewer and the methods paragraph.

Undo: ``resume_screening`` (an owner, ``screen stop --undo --reason R``) brings the references set
aside back into the queues, with a ``screening-stopped`` event (``resume``); the stop's row stays
(marked resumed), so the ledger still shows that screening once stopped and why it resumed. A stop
is only possible while no calibration round is open and no other stop is in force.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import require, sight
from reviewtool.audit.events import ScreeningStopped
from reviewtool.domain import Action, Decision, Stage
from reviewtool.errors import InvalidInput
from reviewtool.storage.models import Member, ScreeningDecision, ScreeningStop
from reviewtool.storage.snapshots import member_names

STAGE = Stage.TITLE_ABSTRACT.value


def _in_force(session: Session) -> ScreeningStop | None:
    return session.exec(
        select(ScreeningStop)
        .where(col(ScreeningStop.resumed_at).is_(None))
        .order_by(col(ScreeningStop.id).desc())
    ).first()


def set_aside(session: Session) -> set[int]:
    """The references set aside by the stop in force (empty when screening is not stopped)."""
    row = _in_force(session)
    return set(json.loads(row.references)) if row is not None else set()


def stop_snapshot(row: ScreeningStop, names: dict[int, str]) -> dict[str, Any]:
    """What the ledger records of a stop (``queue_ledger`` reads the same from the table)."""
    return {
        "stage": row.stage,
        "rule": row.rule,
        "evidence": json.loads(row.evidence),
        "references": json.loads(row.references),
        "methods": row.methods,
        "by": names.get(row.stopped_by_id, f"#{row.stopped_by_id}"),
        "resumed_at": row.resumed_at,
        "resumed_by": None
        if row.resumed_by_id is None
        else names.get(row.resumed_by_id, f"#{row.resumed_by_id}"),
        "resume_reason": row.resume_reason,
    }


@dataclass(frozen=True)
class History:
    """One reviewer's title/abstract screening in the order they screened.

    :ivar references: reference ids, first voted first.
    :ivar included: True where their current vote is include or maybe.
    :ivar orders: the queue order each was drawn in (None: cast before schema 0017 or imported).
    """

    reviewer: str
    references: tuple[int, ...]
    included: tuple[bool, ...]
    orders: tuple[str | None, ...]


def histories(session: Session, *, actor: str) -> list[History]:
    """Every reviewer's history ``actor`` may see (only their own while title/abstract is blind to
    them), by reviewer name."""
    seen = sight(session, actor)
    names = dict(session.exec(select(Member.id, Member.name)).all())
    d = ScreeningDecision
    columns: list[Any] = [d.member_id, d.reference_id, d.decision, d.queue_order, d.superseded_at]
    rows = session.exec(select(*columns).where(d.stage == STAGE).order_by(col(d.id))).all()
    first: dict[int, dict[int, str | None]] = {}
    current: dict[int, dict[int, bool]] = {}
    for member_id, ref, decision, order, superseded in rows:
        if not seen.sees_others(STAGE) and names.get(member_id) != actor:
            continue
        first.setdefault(member_id, {}).setdefault(ref, order)
        if superseded is None:
            current.setdefault(member_id, {})[ref] = decision != Decision.EXCLUDE
    out = []
    for member_id, refs in first.items():
        now = current.get(member_id, {})
        kept = [r for r in refs if r in now]  # a vote taken back is not a screening
        out.append(
            History(
                names[member_id],
                tuple(kept),
                tuple(now[r] for r in kept),
                tuple(refs[r] for r in kept),
            )
        )
    return sorted(out, key=lambda h: h.reviewer)


def not_voted(session: Session) -> list[int]:
    """References at title/abstract that nobody has voted on (what a stop would set aside)."""
    from reviewtool.screening.service import eligible

    voted = set(
        session.exec(
            select(ScreeningDecision.reference_id).where(
                ScreeningDecision.stage == STAGE,
                col(ScreeningDecision.superseded_at).is_(None),
            )
        ).all()
    )
    return [r for r in eligible(session, Stage.TITLE_ABSTRACT) if r not in voted]


def not_screened(session: Session) -> int:
    """PRISMA: references set aside by the stop in force that still have no vote (a reference
    voted on after all, from the CLI, counts as screened)."""
    aside = set_aside(session)
    if not aside:
        return 0
    return len(aside & set(not_voted(session)))


def _record(session: Session, actor: str, row: ScreeningStop, change: str) -> None:
    session.add(row)
    session.flush()
    assert row.id is not None
    names = member_names(session)
    audit.record(
        session,
        actor,
        ScreeningStopped(stop_id=row.id, change=change, after=stop_snapshot(row, names)),
    )


def record_stop(
    session: Session, *, actor: str, rule: str, evidence: dict[str, Any], methods: str
) -> tuple[int, list[int]]:
    """Set aside the references nobody has voted on (an owner) under ``rule``; (stop id, the
    references). The caller (``stop_screening`` in ``stop_rules``) has checked the rule is met.
    InvalidInput when a stop is in force already, a calibration round is open, or nothing is
    left to set aside."""
    from reviewtool.screening.calibration import open_round

    member = require(session, actor, Action.CHANGE_SETTINGS, doing="stop screening")
    assert member.id is not None
    if _in_force(session) is not None:
        raise InvalidInput(
            "screening is stopped already (`screen stop --undo --reason R` undoes it)"
        )
    if open_round(session) is not None:
        raise InvalidInput("a calibration round is open: close it first (`screen calibrate`)")
    aside = not_voted(session)
    if not aside:
        raise InvalidInput("every reference has been screened: there is nothing left to stop")
    row = ScreeningStop(
        stage=STAGE,
        rule=rule,
        evidence=json.dumps(evidence, sort_keys=True, separators=(",", ":")),
        references=json.dumps(aside),
        methods=methods,
        stopped_at=audit.log.utc_now(),
        stopped_by_id=member.id,
    )
    _record(session, actor, row, "stop")
    assert row.id is not None
    return row.id, aside


def resume_screening(session: Session, *, actor: str, reason: str) -> list[int]:
    """Undo the stop in force (an owner), with ``reason``: the references it set aside go back to
    the queues. Returns them. InvalidInput without a reason or when screening is not stopped."""
    member = require(session, actor, Action.CHANGE_SETTINGS, doing="resume screening")
    assert member.id is not None
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("say why screening resumes: --reason")
    row = _in_force(session)
    if row is None:
        raise InvalidInput("screening is not stopped")
    row.resumed_at = audit.log.utc_now()
    row.resumed_by_id = member.id
    row.resume_reason = reason
    _record(session, actor, row, "resume")
    return list(json.loads(row.references))
