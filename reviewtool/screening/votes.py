"""Screening: one reviewer's vote, cast, changed or taken back (``screen decide``, the TUI).

Votes are never edited: a change supersedes the current row (one ``screening-decision`` event).
A vote changed under a current resolution reopens it, or marks it contested when the votes now
agree against it (``_answer_changed_vote``, the rule the bulk import and, in team mode, the
server-side ``storage.postgres_revisit`` apply too); ``undo_last`` gives back the vote the undone
one replaced and restores a resolution the undone vote had reopened or contested. ``cast_vote``'s
``expected`` keeps a screen from replacing a vote the reviewer has not seen
(``VoteChangedElsewhere``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import require, sight
from reviewtool.audit.events import ScreeningDecided
from reviewtool.domain import (
    Action,
    Decision,
    QueueStamp,
    ScreeningOutcome,
    Stage,
    Vote,
    screening_outcome,
)
from reviewtool.errors import ReviewtoolError
from reviewtool.screening.reports import _existing_report, _report_for, seek_reports
from reviewtool.screening.rules import (
    _check_reason,
    _check_reference,
    _check_stage_open,
    _maybe_reference,
    parse_decision,
    parse_stage,
)
from reviewtool.storage.models import Member, ScreeningDecision, ScreeningResolution
from reviewtool.storage.postgres_revisit import revisit_hidden_resolution
from reviewtool.storage.queries import current_resolution, stage_rules
from reviewtool.storage.references import primary_of
from reviewtool.storage.snapshots import (
    resolution_key_of,
    resolution_snapshot,
    vote_key,
    vote_key_of,
    vote_snapshot,
)

if TYPE_CHECKING:
    from reviewtool.screening.bulk import _Ballot


def _current(
    session: Session, record_id: int, stage: Stage, member_id: int, report: int | None = None
) -> ScreeningDecision | None:
    """The member's current vote on a reference (title/abstract) or on its ``report``."""
    query = select(ScreeningDecision).where(
        ScreeningDecision.stage == stage.value,
        ScreeningDecision.member_id == member_id,
        col(ScreeningDecision.superseded_at).is_(None),
    )
    if stage is Stage.FULL_TEXT:
        query = query.where(ScreeningDecision.report_id == report)
    else:
        query = query.where(ScreeningDecision.reference_id == record_id)
    return session.exec(query).first()


def _vote_words(vote: ScreeningDecision | _Ballot | None) -> str:
    if vote is None:
        return "no vote"
    return vote.decision + (f" ({vote.reason})" if vote.reason else "")


def _against(agreed: ScreeningOutcome, resolution: ScreeningResolution, stage: Stage) -> bool:
    """True when the reviewers' agreement says otherwise than the resolution.

    At full text the reason is part of the decision (excludes with different reasons conflict), so
    a different agreed reason is against it too; at title/abstract agreeing excludes may differ.
    """
    if agreed.decision != resolution.decision:
        return True
    return (
        stage is Stage.FULL_TEXT
        and agreed.decision == Decision.EXCLUDE
        and agreed.reason is not None
        and agreed.reason != resolution.reason
    )


def _revisit_resolution(
    session: Session,
    member: Member,
    record_id: int,
    stage: Stage,
    old: ScreeningDecision | None,
    new: ScreeningDecision | None,
    now: str,
    *,
    undo: bool = False,
) -> dict[str, Any]:
    """A vote changed under a current resolution: reopen it, or mark it contested.

    The resolution answered the votes as they were. When the new votes agree with each other
    against it, it stays in force and is marked contested (the adjudicator is told and resolves
    again); otherwise it is reopened, saying whose vote changed from what to what. Returns the
    event's ``state`` (``{"screening_resolution": {key: snapshot or None}}``), empty when no
    resolution stood. ``undo``: the change is ``undo_last`` giving back the vote the undone one
    replaced (where the login cannot read resolutions, the server then restores one the undone
    vote had reopened or contested: ``storage.postgres_revisit``).
    """
    unit = record_id if stage is Stage.TITLE_ABSTRACT else (new or old).report_id  # type: ignore[union-attr]
    assert unit is not None
    resolution = current_resolution(session, unit, stage.value)
    if resolution is None:
        # In team mode a login may not read the resolution: the server revisits it, if any.
        revisit_hidden_resolution(session, stage.value, unit, undo=undo)
        return {}
    key = resolution_key_of(resolution)
    names = dict(session.exec(select(Member.id, Member.name)).all())
    required, reasons = stage_rules(session, stage.value)
    votes = [Vote(v.reviewer, v.decision, v.reason) for v in _votes_of(session, unit, stage)]
    _answer_changed_vote(
        resolution, member.name, old, new, votes, stage, required=required, reasons=reasons, now=now
    )
    session.add(resolution)
    if resolution.reopened_at is None:
        return {
            "screening_resolution": {
                key: resolution_snapshot(resolution, names[resolution.member_id])
            }
        }
    return {"screening_resolution": {key: None}}


def _answer_changed_vote(
    resolution: ScreeningResolution,
    reviewer: str,
    old: ScreeningDecision | _Ballot | None,
    new: ScreeningDecision | _Ballot | None,
    votes: list[Vote],
    stage: Stage,
    *,
    required: int,
    reasons: list[str],
    now: str,
) -> None:
    """The rule for a vote changed under a current resolution, applied to the resolution row.

    ``votes`` are the current votes once the change is made. When they agree with each other
    against the resolution it is marked contested (``contested_at``/``contested_because``) and
    stays in force; otherwise it is reopened (``reopened_at``/``reopened_because``), saying whose
    vote changed from what to what.
    """
    change = (
        f"{reviewer} took back their vote ({_vote_words(old)})"
        if new is None
        else f"{reviewer} changed their vote from {_vote_words(old)} to {_vote_words(new)}"
    )
    agreed = screening_outcome(votes, required=required, stage=stage.value, reason_order=reasons)
    if agreed.final and _against(agreed, resolution, stage):
        said = (agreed.decision or "") + (f" ({agreed.reason})" if agreed.reason else "")
        resolution.contested_at = now
        resolution.contested_because = (
            f"{change}; the votes now agree on {said}, against this resolution"
        )
        return
    resolution.reopened_at = now
    resolution.reopened_because = change + (
        "; the votes now agree with the resolution" if agreed.final else ""
    )


@dataclass(frozen=True)
class VoteView:
    """One vote as shown to someone allowed to see it."""

    reviewer: str
    decision: str
    reason: str | None
    note: str | None
    decided_at: str


def _write_vote(
    session: Session,
    member: Member,
    record_id: int,
    stage: Stage,
    decision: str | None,
    reason: str | None,
    note: str | None,
    now: str,
    *,
    report: int | None = None,
    restore: ScreeningResolution | None = None,
    stamp: QueueStamp | None = None,
    undo: bool = False,
) -> VoteView | None:
    """Supersede the member's current vote with a new one (None: take it back); audit; reopen.

    ``report``: at full text, the report the vote is on. ``restore`` (from ``undo_last``): the
    resolution the vote being taken back reopened or contested; the votes are again the ones it
    answered, so it stands again as it was.
    """
    assert member.id is not None
    old = _current(session, record_id, stage, member.id, report)
    before = vote_snapshot(old) if old is not None else None
    if old is not None:
        old.superseded_at = now
        session.add(old)
        session.flush()
    new: ScreeningDecision | None = None
    if decision is not None:
        new = ScreeningDecision(
            record_id=primary_of(session, record_id),  # the record the reviewer saw
            reference_id=record_id,
            report_id=report,
            report_in_ledger=report is not None,
            stage=stage.value,
            member_id=member.id,
            decision=decision,
            reason=reason,
            note=note,
            decided_at=now,
            queue_order=stamp.order if stamp is not None else None,
            model_version=stamp.model if stamp is not None else None,
        )
        session.add(new)
        session.flush()
    # A resolution answered the votes as they were; a changed vote reopens it (or contests it).
    if restore is not None:
        restore.reopened_at = restore.reopened_because = None
        restore.contested_at = restore.contested_because = None
        session.add(restore)
        session.flush()
        names = dict(session.exec(select(Member.id, Member.name)).all())
        state: dict[str, Any] = {
            "screening_resolution": {
                resolution_key_of(restore): resolution_snapshot(restore, names[restore.member_id])
            }
        }
    elif old is not None:
        state = _revisit_resolution(session, member, record_id, stage, old, new, now, undo=undo)
    else:
        state = {}
    seen = new.record_id if new is not None else old.record_id if old is not None else record_id
    key = (
        vote_key_of(new, member.name)
        if new is not None
        else vote_key_of(old, member.name)
        if old is not None
        else vote_key(seen, stage.value, member.name, report)
    )
    if old is not None and vote_key_of(old, member.name) != key:
        # The vote it replaces is recorded under another key: cast on another record of the
        # reference (the primary changed), or before schema 0009 (its snapshot named no report).
        state.setdefault("screening_vote", {})[vote_key_of(old, member.name)] = None
    audit.record(
        session,
        member.name,
        ScreeningDecided(
            key=key,
            record_id=seen,
            stage=stage.value,
            before=before,
            after=vote_snapshot(new) if new is not None else None,
            state=state,
        ),
    )
    if stage is Stage.TITLE_ABSTRACT:
        seek_reports(session, member.name, [record_id])
    if new is None:
        return None
    return VoteView(member.name, new.decision, new.reason, new.note, new.decided_at)


class Unchecked(Enum):
    """Marker for ``record_decision(expected=...)``: the caller does not say which vote it saw."""

    UNCHECKED = "unchecked"


UNCHECKED = Unchecked.UNCHECKED


class VoteChangedElsewhere(ReviewtoolError):
    """The reviewer's current vote is not the one the caller showed them: it was cast, changed or
    taken back since, in another window or from the CLI. Nothing was written; ``current`` holds
    the vote in force (None: no vote)."""

    exit_code = 4

    def __init__(self, record_id: int, stage: str, current: VoteView | None) -> None:
        self.record_id = record_id
        self.stage = stage
        self.current = current
        if current is None:
            now = "taken back"
        else:
            reason = f" ({current.reason})" if current.reason else ""
            now = f"{current.decision}{reason} at {current.decided_at[:16].replace('T', ' ')} UTC"
        super().__init__(
            f"record {record_id} at {stage}: your vote changed elsewhere (another window or "
            f"the CLI), it is now {now}; nothing was replaced"
        )


def _my_current_view(
    session: Session, member: Member, record_id: int, stage: Stage, report: int | None = None
) -> VoteView | None:
    assert member.id is not None
    row = _current(session, record_id, stage, member.id, report)
    if row is None:
        return None
    return VoteView(member.name, row.decision, row.reason, row.note, row.decided_at)


def my_vote(
    session: Session, *, actor: str, record_id: int, stage: str, report: int | None = None
) -> VoteView | None:
    """``actor``'s own current vote on a reference at ``stage`` (at full text: on its ``report``,
    by default its only one; None: none). Reveals nothing of other reviewers, so it needs only the
    right to read."""
    member = require(session, actor, Action.READ, doing="read your vote")
    parsed = parse_stage(stage)
    ref = _maybe_reference(session, record_id)
    if ref is None:
        return None
    unit_report = _existing_report(session, ref, parsed, report)
    if parsed is Stage.FULL_TEXT and unit_report is None:
        return None
    return _my_current_view(session, member, ref, parsed, unit_report)


@dataclass(frozen=True)
class VoteCast:
    """A vote just cast, the reviewer's vote it replaced (None: there was none) and, at full
    text, the report it is on."""

    vote: VoteView
    replaced: VoteView | None
    report_id: int | None = None


def cast_vote(
    session: Session,
    *,
    actor: str,
    record_id: int,
    stage: str,
    decision: str,
    reason: str | None = None,
    note: str | None = None,
    expected: VoteView | Unchecked | None = UNCHECKED,
    report: int | None = None,
    stamp: QueueStamp | None = None,
) -> VoteCast:
    """Cast (or change) ``actor``'s vote on a reference at ``stage``; committed by the caller.

    At full text the vote is on one report of the reference (``report``; by default its only
    report that can be assessed, recorded as sought when it has none yet; InvalidInput naming them
    when it has several, or when ``report`` belongs to another reference).

    ``expected`` is the vote the caller showed the reviewer as current (None: no vote). When the
    current vote differs (cast, changed or taken back since, in another window or from the CLI),
    nothing is written and VoteChangedElsewhere carries the vote in force, so a screen never
    replaces a vote the reviewer has not seen. Left out, the vote is cast whatever was there
    (``screen decide``, which then says which vote it replaced). ``stamp``: the queue order (and
    relevance model version) the reviewer was screening in, stored with the vote (issue 15). Raises PermissionDenied /
    UnknownMember (no screening role), InvalidInput (decision, reason), NotFound (record).
    """
    member = require(session, actor, Action.SCREEN, doing="vote on references")
    parsed = parse_stage(stage)
    ref = _maybe_reference(session, record_id)
    current = None
    if not isinstance(expected, Unchecked) and ref is not None:
        # Before anything that depends on the record (see _vote).
        sight(session, member.name).check_stage_open(parsed.value)
        unit_report = _existing_report(session, ref, parsed, report)
        if parsed is Stage.TITLE_ABSTRACT or unit_report is not None:
            current = _my_current_view(session, member, ref, parsed, unit_report)
        if current != expected:
            raise VoteChangedElsewhere(record_id, parsed.value, current)
    cast, replaced, on = _vote(
        session, member, record_id, stage, decision, reason, note, report, stamp
    )
    return VoteCast(cast, replaced if isinstance(expected, Unchecked) else current, on)


def record_decision(
    session: Session,
    *,
    actor: str,
    record_id: int,
    stage: str,
    decision: str,
    reason: str | None = None,
    note: str | None = None,
    expected: VoteView | Unchecked | None = UNCHECKED,
    report: int | None = None,
    stamp: QueueStamp | None = None,
) -> VoteView:
    """Cast (or change) ``actor``'s vote on a reference at ``stage``; committed by the caller.

    ``expected``: as in ``cast_vote`` (the vote the caller showed as current; a different current
    vote raises VoteChangedElsewhere and writes nothing); ``report``: as in ``cast_vote``.
    """
    return cast_vote(
        session,
        actor=actor,
        record_id=record_id,
        stage=stage,
        decision=decision,
        reason=reason,
        note=note,
        expected=expected,
        report=report,
        stamp=stamp,
    ).vote


def _vote(
    session: Session,
    member: Member,
    record_id: int,
    stage: str,
    decision: str,
    reason: str | None,
    note: str | None,
    report: int | None = None,
    stamp: QueueStamp | None = None,
) -> tuple[VoteView, VoteView | None, int | None]:
    """Check and write one vote; (the vote, the member's vote it replaced, its report)."""
    parsed_stage = parse_stage(stage)
    # Before anything that depends on the record: a refusal that named its title/abstract status
    # would tell a blind reviewer how the others voted on it.
    sight(session, member.name).check_stage_open(parsed_stage.value)
    parsed = parse_decision(decision)
    checked_reason = _check_reason(session, parsed_stage, parsed, reason)
    ref = _check_reference(session, record_id)
    _check_stage_open(session, ref, parsed_stage)
    unit_report = _report_for(session, member.name, ref, parsed_stage, report)
    replaced = _my_current_view(session, member, ref, parsed_stage, unit_report)
    view = _write_vote(
        session,
        member,
        ref,
        parsed_stage,
        parsed.value,
        checked_reason,
        (note or "").strip() or None,
        audit.log.utc_now(),
        report=unit_report,
        stamp=stamp,
    )
    assert view is not None
    return view, replaced, unit_report


def undo_last(session: Session, *, actor: str, stage: str) -> int | None:
    """Take back ``actor``'s most recent vote at ``stage``, restoring the vote it replaced (if any).

    Returns the record id, or None when there was nothing to undo.
    """
    member = require(session, actor, Action.SCREEN, doing="undo a vote")
    parsed_stage = parse_stage(stage)
    last = session.exec(
        select(ScreeningDecision)
        .where(
            ScreeningDecision.member_id == member.id,
            ScreeningDecision.stage == parsed_stage.value,
            col(ScreeningDecision.superseded_at).is_(None),
        )
        .order_by(col(ScreeningDecision.decided_at).desc(), col(ScreeningDecision.id).desc())
    ).first()
    if last is None:
        return None
    query = select(ScreeningDecision).where(
        ScreeningDecision.member_id == member.id,
        ScreeningDecision.stage == parsed_stage.value,
        col(ScreeningDecision.id) < last.id,
    )
    query = (
        query.where(ScreeningDecision.report_id == last.report_id)
        if parsed_stage is Stage.FULL_TEXT
        else query.where(ScreeningDecision.reference_id == last.reference_id)
    )
    previous = session.exec(query.order_by(col(ScreeningDecision.id).desc())).first()
    report = last.report_id if parsed_stage is Stage.FULL_TEXT else None
    now = audit.log.utc_now()
    restore = (
        _answered_before(session, last, parsed_stage)
        if previous is not None and previous.superseded_at == last.decided_at
        else None
    )
    if previous is None:
        _write_vote(
            session, member, last.reference_id, parsed_stage, None, None, None, now, report=report
        )
    else:
        _write_vote(
            session,
            member,
            last.reference_id,
            parsed_stage,
            previous.decision,
            previous.reason,
            previous.note,
            now,
            report=report,
            restore=restore,
            undo=previous.superseded_at == last.decided_at,
            # The restored vote keeps the queue order it was cast in.
            stamp=QueueStamp(previous.queue_order, previous.model_version)
            if previous.queue_order is not None
            else None,
        )
    return last.reference_id


def _answered_before(
    session: Session, last: ScreeningDecision, stage: Stage
) -> ScreeningResolution | None:
    """The resolution that ``last`` (a vote about to be undone) reopened or contested, when undoing
    it gives back exactly the votes that resolution answered: no other vote on the reference at
    ``stage`` was cast, changed or taken back since, and the adjudicator has not resolved again.
    Else None (the resolution stays as it is)."""
    unit_vote: Any = (
        ScreeningDecision.report_id == last.report_id
        if stage is Stage.FULL_TEXT
        else ScreeningDecision.reference_id == last.reference_id
    )
    unit_resolution: Any = (
        ScreeningResolution.report_id == last.report_id
        if stage is Stage.FULL_TEXT
        else ScreeningResolution.reference_id == last.reference_id
    )
    touched_since = session.exec(
        select(ScreeningDecision.id).where(
            unit_vote,
            ScreeningDecision.stage == stage.value,
            col(ScreeningDecision.id) != last.id,
            (col(ScreeningDecision.decided_at) >= last.decided_at)
            | (col(ScreeningDecision.superseded_at) > last.decided_at),
        )
    ).first()
    if touched_since is not None:
        return None
    resolutions = session.exec(
        select(ScreeningResolution)
        .where(unit_resolution, ScreeningResolution.stage == stage.value)
        .order_by(col(ScreeningResolution.id).desc())
    ).all()
    if not resolutions:
        return None
    newest = resolutions[0]
    if newest.contested_at is not None and newest.contested_at == last.decided_at:
        return newest
    if newest.reopened_at is not None and newest.reopened_at == last.decided_at:
        return newest
    return None


def _votes_of(session: Session, unit: int, stage: Stage) -> list[VoteView]:
    """The current votes on a unit: a reference at title/abstract, a report at full text."""
    names = dict(session.exec(select(Member.id, Member.name)).all())
    on: Any = (
        ScreeningDecision.report_id == unit
        if stage is Stage.FULL_TEXT
        else ScreeningDecision.reference_id == unit
    )
    rows = session.exec(
        select(ScreeningDecision)
        .where(
            on,
            ScreeningDecision.stage == stage.value,
            col(ScreeningDecision.superseded_at).is_(None),
        )
        .order_by(col(ScreeningDecision.id))
    ).all()
    return [VoteView(names[d.member_id], d.decision, d.reason, d.note, d.decided_at) for d in rows]
