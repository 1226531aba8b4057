"""Screening: the adjudicator's resolution of one conflict (``screen resolve``).

A resolution decides an open conflict, or answers a contested resolution (replacing it); under
separation of duties an adjudicator may not resolve what they voted on. One
``screening-resolution`` event each. The checks here are shared with ``bulk.import_resolutions``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlmodel import Session, select

from reviewtool import audit
from reviewtool.access import duties_separate, own_work_refused, require
from reviewtool.audit.events import ConflictResolved
from reviewtool.domain import Action, Decision, ScreeningOutcome, ScreeningStatus, Stage
from reviewtool.errors import InvalidInput
from reviewtool.screening.reports import _existing_report, seek_reports
from reviewtool.screening.rules import _check_reason, _check_reference, parse_decision, parse_stage
from reviewtool.screening.votes import _votes_of
from reviewtool.storage.models import Member, ScreeningDecision, ScreeningResolution
from reviewtool.storage.queries import current_resolution, unit_outcome
from reviewtool.storage.references import primary_of
from reviewtool.storage.snapshots import resolution_key, resolution_key_of, resolution_snapshot


def _resolution_decision(decision: str) -> Decision:
    """Include or exclude (InvalidInput for maybe or anything else)."""
    parsed = parse_decision(decision)
    if parsed is Decision.MAYBE:
        raise InvalidInput("a resolution is include or exclude, not maybe")
    return parsed


def _require_open_conflict(
    record_id: int,
    stage: Stage,
    outcome: ScreeningOutcome | None,
    standing: ScreeningResolution | None,
) -> None:
    """InvalidInput unless the reference is a conflict or its ``standing`` resolution is contested
    (``outcome``: its outcome at ``stage``, None before any vote)."""
    contested = standing is not None and standing.contested_at is not None
    if outcome is None or (outcome.status is not ScreeningStatus.CONFLICT and not contested):
        if outcome is None:
            state = "not screened"
        elif outcome.status is ScreeningStatus.OPEN:  # "open" would read as an open conflict
            state = "waiting for more votes"
        else:
            state = outcome.status.value
        raise InvalidInput(
            f"record {record_id} has no open conflict at {stage.value} (it is {state})"
        )


def _voted_units(session: Session, member_id: int, stage: Stage) -> set[int]:
    """The units (references at title/abstract, reports at full text) ``member_id`` ever voted on
    at ``stage``, current votes and changed ones alike."""
    unit = (
        ScreeningDecision.report_id if stage is Stage.FULL_TEXT else ScreeningDecision.reference_id
    )
    return {
        u
        for u in session.exec(
            select(unit)
            .where(ScreeningDecision.member_id == member_id, ScreeningDecision.stage == stage.value)
            .distinct()
        ).all()
        if u is not None
    }


def _own_vote_refused(name: str, reference: int, stage: Stage, report: int | None) -> Exception:
    """Separation of duties: ``name`` voted on what they would resolve (``own_work_refused``)."""
    where = f"reference {reference} at {stage.value}"
    if report is not None:
        where = f"report {report} of reference {reference} at {stage.value}"
    return own_work_refused(name, f"voted on {where}", "its conflict")


def resolve_conflict(
    session: Session,
    *,
    actor: str,
    record_id: int,
    stage: str,
    decision: str,
    reason: str | None = None,
    note: str | None = None,
    report: int | None = None,
) -> ScreeningOutcome:
    """The adjudicator's final decision on a conflict (include or exclude, with reason and note).

    Also answers a contested resolution (the votes came to agree against it): the new resolution
    replaces it, whether it keeps the decision or follows the votes. InvalidInput when the
    reference (at full text: the report, ``report``, by default the reference's only one) has no
    open conflict and no contested resolution, or names a report of another reference. Returns the
    outcome of what was resolved (the reference, or at full text the report).
    """
    member = require(session, actor, Action.RESOLVE_CONFLICT, doing="resolve a conflict")
    parsed_stage = parse_stage(stage)
    parsed = _resolution_decision(decision)
    checked = _check_reason(session, parsed_stage, parsed, reason)
    record_id = _check_reference(session, record_id)
    unit_report = _existing_report(session, record_id, parsed_stage, report)
    if parsed_stage is Stage.FULL_TEXT and unit_report is None:
        raise InvalidInput(
            f"record {record_id} has no open conflict at fulltext (it is not screened)"
        )
    unit = record_id if unit_report is None else unit_report
    outcome = unit_outcome(session, unit, parsed_stage.value)
    standing = current_resolution(session, unit, parsed_stage.value)
    _require_open_conflict(record_id, parsed_stage, outcome, standing)
    assert member.id is not None
    if duties_separate(session) and unit in _voted_units(session, member.id, parsed_stage):
        raise _own_vote_refused(member.name, record_id, parsed_stage, unit_report)
    now = audit.log.utc_now()
    replaced = None
    followed: dict[str, dict[str, Any]] = {}
    seen = primary_of(session, record_id)  # the record the adjudicator saw
    if standing is not None:
        # A contested resolution is answered by resolving again: keep it or follow the votes.
        names = dict(session.exec(select(Member.id, Member.name)).all())
        replaced = resolution_snapshot(standing, names[standing.member_id])
        standing.reopened_at, standing.reopened_because = now, f"resolved again by {member.name}"
        session.add(standing)
        session.flush()
        if resolution_key_of(standing) != resolution_key(seen, parsed_stage.value, unit_report):
            followed["screening_resolution"] = {resolution_key_of(standing): None}
    resolution = ScreeningResolution(
        record_id=seen,
        reference_id=record_id,
        report_id=unit_report,
        report_in_ledger=unit_report is not None,
        stage=parsed_stage.value,
        member_id=member.id,
        decision=parsed.value,
        reason=checked,
        note=(note or "").strip() or None,
        resolved_at=now,
    )
    session.add(resolution)
    session.flush()
    votes = [asdict(v) for v in _votes_of(session, unit, parsed_stage)]
    audit.record(
        session,
        actor,
        ConflictResolved(
            record_id=seen,
            stage=parsed_stage.value,
            votes=[{k: v[k] for k in ("reviewer", "decision", "reason")} for v in votes],
            after=resolution_snapshot(resolution, member.name),
            replaced=replaced,
            state=followed,
            report_id=unit_report,
        ),
    )
    if parsed_stage is Stage.TITLE_ABSTRACT:
        seek_reports(session, actor, [record_id])
    settled = unit_outcome(session, unit, parsed_stage.value)
    assert settled is not None
    return settled
