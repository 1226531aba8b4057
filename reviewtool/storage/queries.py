"""Read-only queries that several layers need (screening status for members, status and reports)."""

from __future__ import annotations

import json
from collections import defaultdict

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from reviewtool.domain import SETTINGS, ScreeningOutcome, Vote, screening_outcome
from reviewtool.storage.models import (
    DedupPair,
    FullTextReport,
    Member,
    Record,
    ReviewSetting,
    ScreeningDecision,
    ScreeningResolution,
)


def setting(session: Session, key: str) -> object:
    """One setting's current value (its default when never set)."""
    row = session.get(ReviewSetting, key)
    return json.loads(row.value) if row is not None else SETTINGS[key].default


def current_votes(session: Session, stage: str) -> dict[int, list[Vote]]:
    """reference id -> the current votes on it at ``stage``, in the order they were cast."""
    names = dict(session.exec(select(Member.id, Member.name)).all())
    votes: dict[int, list[Vote]] = defaultdict(list)
    # Column tuples, not ORM objects: this runs over every vote of a 100k-record review.
    rows = session.exec(
        select(
            ScreeningDecision.reference_id,
            ScreeningDecision.member_id,
            ScreeningDecision.decision,
            ScreeningDecision.reason,
        )
        .where(ScreeningDecision.stage == stage, col(ScreeningDecision.superseded_at).is_(None))
        .order_by(col(ScreeningDecision.id))
    ).all()
    for record_id, member_id, decision, reason in rows:
        votes[record_id].append(Vote(names[member_id], decision, reason))
    return dict(votes)


def current_resolutions(session: Session, stage: str) -> dict[int, ScreeningResolution]:
    """reference id -> the adjudicator's current resolution at ``stage``."""
    rows = session.exec(
        select(ScreeningResolution).where(
            ScreeningResolution.stage == stage, col(ScreeningResolution.reopened_at).is_(None)
        )
    ).all()
    return {r.reference_id: r for r in rows}


def stage_rules(session: Session, stage: str) -> tuple[int, list[str]]:
    """(reviewers required, exclusion reasons in order) at ``stage``."""
    required = int(setting(session, "screening.reviewers_required"))  # type: ignore[call-overload]
    key = (
        "screening.exclusion_reasons_tiab"
        if stage == "tiab"
        else "screening.exclusion_reasons_fulltext"
    )
    return required, list(setting(session, key))  # type: ignore[call-overload]


def current_resolution(session: Session, record_id: int, stage: str) -> ScreeningResolution | None:
    """The adjudicator's current resolution of one reference at ``stage``, if any."""
    return session.exec(
        select(ScreeningResolution).where(
            ScreeningResolution.reference_id == record_id,
            ScreeningResolution.stage == stage,
            col(ScreeningResolution.reopened_at).is_(None),
        )
    ).first()


def record_outcome(session: Session, record_id: int, stage: str) -> ScreeningOutcome | None:
    """The outcome of one reference at ``stage`` (None before any vote), from its own rows only."""
    names = dict(session.exec(select(Member.id, Member.name)).all())
    rows = session.exec(
        select(ScreeningDecision)
        .where(
            ScreeningDecision.reference_id == record_id,
            ScreeningDecision.stage == stage,
            col(ScreeningDecision.superseded_at).is_(None),
        )
        .order_by(col(ScreeningDecision.id))
    ).all()
    if not rows:
        return None
    resolution = current_resolution(session, record_id, stage)
    required, reasons = stage_rules(session, stage)
    return screening_outcome(
        [Vote(names[d.member_id], d.decision, d.reason) for d in rows],
        required=required,
        stage=stage,
        resolution=(resolution.decision, resolution.reason) if resolution else None,
        reason_order=reasons,
    )


def stage_outcomes(session: Session, stage: str) -> dict[int, ScreeningOutcome]:
    """reference id -> outcome at ``stage``, for every reference with at least one vote."""
    required, reasons = stage_rules(session, stage)
    resolutions = current_resolutions(session, stage)
    return {
        record_id: screening_outcome(
            votes,
            required=required,
            stage=stage,
            resolution=(
                (resolutions[record_id].decision, resolutions[record_id].reason)
                if record_id in resolutions
                else None
            ),
            reason_order=reasons,
        )
        for record_id, votes in current_votes(session, stage).items()
    }


def unobtainable(session: Session) -> set[int]:
    """References whose full text could not be had: they have reports, and none was retrieved.
    They are not assessed at full text (PRISMA: "reports not retrieved")."""
    status: dict[int, set[str]] = defaultdict(set)
    for ref, state in session.exec(
        select(FullTextReport.reference_id, FullTextReport.status)
    ).all():
        status[ref].add(state)
    return {ref for ref, states in status.items() if "retrieved" not in states}


def dedup_queue_size(session: Session) -> int:
    """Pending duplicate pairs whose two records are still in different groups."""
    a, b = aliased(Record), aliased(Record)
    query = (
        select(func.count())
        .select_from(DedupPair)
        .join(a, col(a.id) == col(DedupPair.record_a))
        .join(b, col(b.id) == col(DedupPair.record_b))
        .where(
            DedupPair.status == "pending",
            func.coalesce(a.duplicate_of, a.id) != func.coalesce(b.duplicate_of, b.id),
        )
    )
    return int(session.exec(query).one())
