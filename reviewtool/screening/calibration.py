"""Calibration rounds: every reviewer screens the same pilot sample before screening proper
(issue 15).

An owner starts a round (``screen calibrate --sample N --seed S``): the pilot is the N references at
title/abstract that come first in the seeded random order of ``ranking.random_order`` (SHA-256 of
``"<seed>:<id>"``), so the same seed over the same references gives the same pilot. While a round is
open every reviewer's queue is the pilot only (``screening.queue``). Screening proper opens when an
owner checks the round (``screen calibrate``) and Cohen's kappa on the pilot (``agreement.py``,
maybe counting as include; over every pair of reviewers who voted on the pilot, the lowest pair
counts) reaches ``screening.calibration_kappa`` with every reviewer done (``passed``), or when the
owner overrides with a reason (``screen calibrate --override --reason ...``, ``overridden``). A new
round started while one is open replaces it (``replaced``). Every change is one
``screening-calibration`` event; the pilot votes stay (stamped ``calibration``) and count as
ordinary votes.

Why an owner's check and not an automatic opening: kappa depends on every reviewer's votes, so an
opening that followed it by itself would tell a blind reviewer how the others voted on the pilot;
the owner sees all, and the event dates the moment screening proper began.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import require, sight
from reviewtool.audit.events import CalibrationChanged
from reviewtool.domain import Action, Stage
from reviewtool.errors import InvalidInput
from reviewtool.screening.agreement import pairwise_screening_agreement
from reviewtool.screening.owner_rows import loaded, named, record_row
from reviewtool.storage.models import Member, ScreeningCalibration, ScreeningDecision
from reviewtool.storage.queries import setting

PASSED = "passed"
OVERRIDDEN = "overridden"
REPLACED = "replaced"
STAGE = Stage.TITLE_ABSTRACT.value


@dataclass(frozen=True)
class Round:
    """A calibration round as stored: its pilot ``sample`` (reference ids, in draw order)."""

    id: int
    seed: int
    size: int
    sample: tuple[int, ...]
    threshold: float
    outcome: str | None
    kappa: float | None


def _round(row: ScreeningCalibration) -> Round:
    assert row.id is not None
    return Round(
        row.id,
        row.seed,
        row.size,
        tuple(json.loads(row.sample)),
        row.threshold,
        row.outcome,
        row.kappa,
    )


def open_round(session: Session) -> Round | None:
    """The calibration round in progress, or None (no round, or the last one closed)."""
    row = session.exec(
        select(ScreeningCalibration)
        .where(col(ScreeningCalibration.closed_at).is_(None))
        .order_by(col(ScreeningCalibration.id).desc())
    ).first()
    return _round(row) if row is not None else None


def round_snapshot(row: ScreeningCalibration, names: dict[int, str]) -> dict[str, Any]:
    """What the ledger records of a round (``queue_ledger`` reads the same from the table)."""
    return {
        "stage": row.stage,
        "seed": row.seed,
        "size": row.size,
        "sample": loaded(row.sample),
        "threshold": row.threshold,
        "by": named(names, row.started_by_id),
        "closed_at": row.closed_at,
        "closed_by": named(names, row.closed_by_id),
        "outcome": row.outcome,
        "kappa": row.kappa,
        "reason": row.reason,
    }


def draw_pilot(references: list[int], size: int, seed: int) -> list[int]:
    """The ``size`` references first in the seeded random order (``ranking.random_order``).

    InvalidInput when ``size`` is below 2 or above the number of references."""
    from reviewtool.screening.ranking import random_order

    if size < 2:
        raise InvalidInput(f"--sample must be at least 2 references, not {size}")
    if size > len(references):
        raise InvalidInput(
            f"--sample {size} is more than the {len(references)} references to screen"
        )
    return random_order(references, seed=seed)[:size]


@dataclass(frozen=True)
class RoundStatus:
    """Where a calibration round stands, as the viewer may see it.

    :ivar mine: the viewer's votes on the pilot; ``size`` the pilot's references.
    :ivar done: reviewer -> their votes on the pilot (None while the stage is blind to the viewer).
    :ivar kappa: the lowest pairwise Cohen's kappa on the pilot (None: blind to the viewer, fewer
        than two reviewers on it, or undefined because everyone chose one category).
    :ivar complete: every reviewer who voted on the pilot voted on all of it, and they are at least
        two (None while blind to the viewer).
    """

    round_id: int | None
    size: int
    threshold: float
    mine: int
    done: dict[str, int] | None = None
    kappa: float | None = None
    complete: bool | None = None
    outcome: str | None = None
    pairs: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "round": self.round_id,
            "size": self.size,
            "threshold": self.threshold,
            "mine": self.mine,
            "done": self.done,
            "kappa": self.kappa,
            "complete": self.complete,
            "outcome": self.outcome,
            "pairs": self.pairs,
        }


def _pilot_votes(session: Session, sample: tuple[int, ...]) -> dict[tuple[str, int], str]:
    names = dict(session.exec(select(Member.id, Member.name)).all())
    rows = session.exec(
        select(
            ScreeningDecision.member_id,
            ScreeningDecision.reference_id,
            ScreeningDecision.decision,
        ).where(
            ScreeningDecision.stage == STAGE,
            col(ScreeningDecision.superseded_at).is_(None),
            col(ScreeningDecision.reference_id).in_(list(sample)),
        )
    ).all()
    return {(names[m], ref): decision for m, ref, decision in rows}


def _measure(
    votes: dict[tuple[str, int], str], size: int
) -> tuple[dict[str, int], float | None, bool, list[dict[str, Any]]]:
    done: dict[str, int] = {}
    for reviewer, _ref in votes:
        done[reviewer] = done.get(reviewer, 0) + 1
    pairs = pairwise_screening_agreement(votes) if len(done) >= 2 else ()
    kappas = [p.agreement.kappa for p in pairs]
    kappa = None if not kappas or any(k is None for k in kappas) else min(cast(list[float], kappas))
    complete = len(done) >= 2 and all(n == size for n in done.values())
    shown = [
        {
            "reviewer_a": p.reviewer_a,
            "reviewer_b": p.reviewer_b,
            "n": p.agreement.n,
            "kappa": p.agreement.kappa,
        }
        for p in pairs
    ]
    return dict(sorted(done.items())), kappa, complete, shown


def round_status(session: Session, *, actor: str) -> RoundStatus:
    """The open round (else the last one) as ``actor`` may see it: a reviewer at a blind stage sees
    their own progress on the pilot only. ``round_id`` None when no round was ever started."""
    require(session, actor, Action.READ, doing="read the calibration round")
    row = session.exec(
        select(ScreeningCalibration).order_by(col(ScreeningCalibration.id).desc())
    ).first()
    if row is None:  # none was ever started: screening proper is open
        threshold = float(cast(float, setting(session, "screening.calibration_kappa")))
        return RoundStatus(None, 0, threshold, 0)
    pilot = _round(row)
    votes = _pilot_votes(session, pilot.sample)
    seen = sight(session, actor)
    mine = sum(1 for (reviewer, _ref) in votes if reviewer == actor)
    status = RoundStatus(pilot.id, pilot.size, pilot.threshold, mine, outcome=pilot.outcome)
    if not seen.sees_others(STAGE):
        return status
    done, kappa, complete, pairs = _measure(votes, pilot.size)
    if pilot.outcome is not None:
        kappa = pilot.kappa
    return RoundStatus(
        pilot.id, pilot.size, pilot.threshold, mine, done, kappa, complete, pilot.outcome, pairs
    )


def _record(session: Session, actor: str, row: ScreeningCalibration, change: str) -> None:
    record_row(
        session,
        actor,
        row,
        lambda row_id, names: CalibrationChanged(
            round_id=row_id, change=change, after=round_snapshot(row, names)
        ),
    )


def _close(
    session: Session, actor: str, member_id: int, outcome: str, reason: str | None
) -> ScreeningCalibration | None:
    row = session.exec(
        select(ScreeningCalibration)
        .where(col(ScreeningCalibration.closed_at).is_(None))
        .order_by(col(ScreeningCalibration.id).desc())
    ).first()
    if row is None:
        return None
    votes = _pilot_votes(session, tuple(json.loads(row.sample)))
    _done, kappa, _complete, _pairs = _measure(votes, row.size)
    row.closed_at = audit.log.utc_now()
    row.closed_by_id = member_id
    row.outcome = outcome
    row.kappa = kappa
    row.reason = reason
    _record(session, actor, row, {PASSED: "pass", OVERRIDDEN: "override"}.get(outcome, "replace"))
    return row


def start_round(session: Session, *, actor: str, size: int, seed: int) -> Round:
    """Start a calibration round of ``size`` references drawn with ``seed`` (an owner); a round
    still open is closed as replaced first. Only references nobody has voted on at title/abstract
    are drawn (the pilot measures independent first looks). InvalidInput for a size below 2 or
    above the references left."""
    from reviewtool.screening.worklist import eligible

    member = require(session, actor, Action.CHANGE_SETTINGS, doing="start a calibration round")
    assert member.id is not None
    voted = set(
        session.exec(
            select(ScreeningDecision.reference_id).where(ScreeningDecision.stage == STAGE)
        ).all()
    )
    candidates = [r for r in eligible(session, Stage.TITLE_ABSTRACT) if r not in voted]
    sample = draw_pilot(candidates, size, seed)
    _close(session, actor, member.id, REPLACED, None)
    row = ScreeningCalibration(
        stage=STAGE,
        seed=seed,
        size=size,
        sample=json.dumps(sample),
        threshold=float(cast(float, setting(session, "screening.calibration_kappa"))),
        started_at=audit.log.utc_now(),
        started_by_id=member.id,
    )
    _record(session, actor, row, "start")
    return _round(row)


def check_round(session: Session, *, actor: str) -> RoundStatus:
    """Check the open round (an owner): when every reviewer has screened the whole pilot and kappa
    reaches the threshold, close it as passed (screening proper opens) and record it. Otherwise
    nothing is written and the status says what is missing. InvalidInput when no round is open."""
    member = require(session, actor, Action.CHANGE_SETTINGS, doing="check the calibration round")
    assert member.id is not None
    pilot = open_round(session)
    if pilot is None:
        raise InvalidInput("no calibration round is open (`screen calibrate --sample N --seed S`)")
    status = round_status(session, actor=actor)
    if status.complete and status.kappa is not None and status.kappa >= pilot.threshold:
        _close(session, actor, member.id, PASSED, None)
        return round_status(session, actor=actor)
    return status


def override_round(session: Session, *, actor: str, reason: str) -> RoundStatus:
    """Open screening proper whatever kappa is (an owner), with ``reason``; recorded with the
    kappa of the moment. InvalidInput without a reason or when no round is open."""
    member = require(session, actor, Action.CHANGE_SETTINGS, doing="override the calibration round")
    assert member.id is not None
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("say why the calibration round is overridden: --reason")
    if _close(session, actor, member.id, OVERRIDDEN, reason) is None:
        raise InvalidInput("no calibration round is open (`screen calibrate --sample N --seed S`)")
    return round_status(session, actor=actor)
