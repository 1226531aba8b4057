"""Read-only queries that several layers need (screening status for members, status and reports)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from reviewtool.domain import (
    SETTINGS,
    ScreeningOutcome,
    Vote,
    reference_outcome,
    screening_outcome,
)
from reviewtool.storage.models import (
    DedupPair,
    FullTextReport,
    Member,
    Record,
    ReviewSetting,
    ScreeningDecision,
    ScreeningResolution,
)

NOT_RETRIEVED = "not_retrieved"


def setting(session: Session, key: str) -> object:
    """One setting's current value (its default when never set)."""
    row = session.get(ReviewSetting, key)
    return json.loads(row.value) if row is not None else SETTINGS[key].default


def _unit_column(stage: str, model: Any) -> Any:
    """What one vote or resolution is on at ``stage``: the reference at title/abstract, the report
    at full text (schema 0009)."""
    return model.report_id if stage == "fulltext" else model.reference_id


def current_votes(session: Session, stage: str) -> dict[int, list[Vote]]:
    """unit id -> the current votes on it at ``stage``, in the order they were cast; the unit is the
    reference at title/abstract and the report at full text."""
    names = dict(session.exec(select(Member.id, Member.name)).all())
    votes: dict[int, list[Vote]] = defaultdict(list)
    # Column tuples, not ORM objects: this runs over every vote of a 100k-record review.
    rows = session.exec(
        select(
            _unit_column(stage, ScreeningDecision),
            ScreeningDecision.member_id,
            ScreeningDecision.decision,
            ScreeningDecision.reason,
        )
        .where(ScreeningDecision.stage == stage, col(ScreeningDecision.superseded_at).is_(None))
        .order_by(col(ScreeningDecision.id))
    ).all()
    for unit, member_id, decision, reason in rows:
        votes[unit].append(Vote(names[member_id], decision, reason))
    return dict(votes)


def current_resolutions(session: Session, stage: str) -> dict[int, ScreeningResolution]:
    """unit id (reference at title/abstract, report at full text) -> the adjudicator's current
    resolution at ``stage``."""
    rows = session.exec(
        select(ScreeningResolution).where(
            ScreeningResolution.stage == stage, col(ScreeningResolution.reopened_at).is_(None)
        )
    ).all()
    return {
        (r.report_id if stage == "fulltext" else r.reference_id): r  # type: ignore[misc]
        for r in rows
    }


def stage_rules(session: Session, stage: str) -> tuple[int, list[str]]:
    """(reviewers required, exclusion reasons in order) at ``stage``."""
    required = int(setting(session, "screening.reviewers_required"))  # type: ignore[call-overload]
    key = (
        "screening.exclusion_reasons_tiab"
        if stage == "tiab"
        else "screening.exclusion_reasons_fulltext"
    )
    return required, list(setting(session, key))  # type: ignore[call-overload]


def current_resolution(session: Session, unit: int, stage: str) -> ScreeningResolution | None:
    """The adjudicator's current resolution of one unit at ``stage`` (a reference at
    title/abstract, a report at full text), if any."""
    return session.exec(
        select(ScreeningResolution).where(
            _unit_column(stage, ScreeningResolution) == unit,
            ScreeningResolution.stage == stage,
            col(ScreeningResolution.reopened_at).is_(None),
        )
    ).first()


def unit_outcome(session: Session, unit: int, stage: str) -> ScreeningOutcome | None:
    """The outcome of one unit at ``stage`` (reference at title/abstract, report at full text;
    None before any vote), from its own rows only."""
    names = dict(session.exec(select(Member.id, Member.name)).all())
    rows = session.exec(
        select(ScreeningDecision)
        .where(
            _unit_column(stage, ScreeningDecision) == unit,
            ScreeningDecision.stage == stage,
            col(ScreeningDecision.superseded_at).is_(None),
        )
        .order_by(col(ScreeningDecision.id))
    ).all()
    if not rows:
        return None
    resolution = current_resolution(session, unit, stage)
    required, reasons = stage_rules(session, stage)
    return screening_outcome(
        [Vote(names[d.member_id], d.decision, d.reason) for d in rows],
        required=required,
        stage=stage,
        resolution=(resolution.decision, resolution.reason) if resolution else None,
        reason_order=reasons,
    )


def record_outcome(session: Session, record_id: int, stage: str) -> ScreeningOutcome | None:
    """The outcome of one reference at ``stage`` (None before any vote); at full text derived
    from its reports' outcomes (``domain.reference_outcome``)."""
    if stage != "fulltext":
        return unit_outcome(session, record_id, stage)
    reports = [
        report_id
        for report_id, status in session.exec(
            select(FullTextReport.id, FullTextReport.status).where(
                FullTextReport.reference_id == record_id
            )
        ).all()
        if status != NOT_RETRIEVED and report_id is not None
    ]
    outcomes = {r: unit_outcome(session, r, stage) for r in reports}
    if all(o is None for o in outcomes.values()):
        return None
    _, reasons = stage_rules(session, stage)
    return reference_outcome(list(outcomes.values()), reason_order=reasons)


def unit_outcomes(session: Session, stage: str) -> dict[int, ScreeningOutcome]:
    """unit id -> outcome at ``stage``, for every unit (reference at title/abstract, report at full
    text) with at least one vote."""
    required, reasons = stage_rules(session, stage)
    resolutions = current_resolutions(session, stage)
    return {
        unit: screening_outcome(
            votes,
            required=required,
            stage=stage,
            resolution=(
                (resolutions[unit].decision, resolutions[unit].reason)
                if unit in resolutions
                else None
            ),
            reason_order=reasons,
        )
        for unit, votes in current_votes(session, stage).items()
    }


def assessable_reports(session: Session) -> dict[int, list[int]]:
    """reference id -> its reports that can be assessed at full text (every status but not
    retrieved), oldest first."""
    found: dict[int, list[int]] = defaultdict(list)
    for report_id, ref, status in session.exec(
        select(FullTextReport.id, FullTextReport.reference_id, FullTextReport.status).order_by(
            col(FullTextReport.id)
        )
    ).all():
        if status != NOT_RETRIEVED and report_id is not None:
            found[ref].append(report_id)
    return dict(found)


def stage_outcomes(session: Session, stage: str) -> dict[int, ScreeningOutcome]:
    """reference id -> outcome at ``stage``, for every reference with at least one vote there (at
    full text: on one of its reports; the outcome is derived from its reports' outcomes by
    ``domain.reference_outcome``)."""
    units = unit_outcomes(session, stage)
    if stage != "fulltext":
        return units
    _, reasons = stage_rules(session, stage)
    result: dict[int, ScreeningOutcome] = {}
    for ref, reports in assessable_reports(session).items():
        if any(r in units for r in reports):
            result[ref] = reference_outcome([units.get(r) for r in reports], reason_order=reasons)
    return result


def references_to_seek(session: Session, refs: Collection[int] | None = None) -> list[int]:
    """The references (of ``refs``; all when None) included at title/abstract that have no report
    recorded yet, in id order: each gets one report, status ``sought`` (``screening.service``)."""
    tiab = stage_outcomes(session, "tiab")
    have = set(session.exec(select(FullTextReport.reference_id)).all())
    wanted = tiab.keys() if refs is None else [r for r in refs if r in tiab]
    return sorted({r for r in wanted if tiab[r].goes_on and r not in have})


def unobtainable(session: Session) -> set[int]:
    """References whose full text could not be had: they have reports, and every one was marked
    not retrieved. They are not assessed at full text (PRISMA: "reports not retrieved")."""
    status: dict[int, set[str]] = defaultdict(set)
    for ref, state in session.exec(
        select(FullTextReport.reference_id, FullTextReport.status)
    ).all():
        status[ref].add(state)
    return {ref for ref, states in status.items() if states == {NOT_RETRIEVED}}


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
