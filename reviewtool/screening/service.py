"""Screening: votes, conflicts, adjudication, full texts, queues, exports and statistics.

Two reviewers (``screening.reviewers_required``) vote independently on each reference (one per
duplicate group, ``storage.references``) at title/abstract, then on the full texts (reports) of
those included. A ``record_id`` argument is any record of the reference: a duplicate names its
group's reference, and a reference's id is its first record's id, so the ids people see in the
queue are record ids. Votes are stored with the record shown (the primary then) and follow it
through later merges and splits. Votes are never edited: a change supersedes the current row. Every read a reviewer makes goes through
``access.sight``: while a stage is blind, a reviewer sees their own votes and progress there and
nothing that depends on another reviewer's vote (docs/blinding.md); owners and adjudicators see all.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, cast

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import (
    Sight,
    duties_separate,
    entering_for,
    own_work_refused,
    require,
    roles_of,
    sight,
    stage_blind,
)
from reviewtool.audit.events import (
    ConflictResolved,
    FullTextRecorded,
    ScreeningDecided,
    StageUnblinded,
)
from reviewtool.csvfiles import at_line, numbered, read_rows
from reviewtool.domain import (
    Action,
    Decision,
    QueueStamp,
    Role,
    ScreeningOutcome,
    ScreeningStatus,
    Stage,
    Vote,
    screening_outcome,
)
from reviewtool.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    ReviewtoolError,
    StageOrderError,
)
from reviewtool.screening.agreement import pairwise_screening_agreement
from reviewtool.screening.labels import records_labelled, visible_labels
from reviewtool.screening.prescreen import removed_references
from reviewtool.storage.models import (
    FullTextReport,
    ImportBatch,
    Member,
    Record,
    Reference,
    ReviewSetting,
    ScreeningDecision,
    ScreeningResolution,
)
from reviewtool.storage.postgres_revisit import revisit_hidden_resolution
from reviewtool.storage.queries import (
    assessable_reports,
    current_resolution,
    current_resolutions,
    current_votes,
    record_outcome,
    references_to_seek,
    setting,
    stage_outcomes,
    stage_rules,
    unit_outcome,
    unit_outcomes,
    unobtainable,
)
from reviewtool.storage.references import primary_of
from reviewtool.storage.snapshots import (
    report_snapshot,
    resolution_key,
    resolution_key_of,
    resolution_snapshot,
    vote_key,
    vote_key_of,
    vote_snapshot,
)

NOT_RETRIEVED = "not_retrieved"
# A report asked for whose document is not in hand yet (no location); schema 0009.
SOUGHT = "sought"
REPORT_STATUSES = (SOUGHT, "retrieved", NOT_RETRIEVED)
# The kinds of report (shared/spec/domain.md).
REPORT_KINDS = (
    "journal article",
    "conference abstract",
    "registry entry",
    "thesis",
    "preprint",
    "other",
)
RETRIEVED = "retrieved"


def parse_stage(value: str) -> Stage:
    """``tiab`` or ``fulltext``, or InvalidInput naming the value."""
    if value in (Stage.TITLE_ABSTRACT.value, Stage.FULL_TEXT.value):
        return Stage(value)
    raise InvalidInput(f"stage must be tiab or fulltext, not {value!r}")


def parse_decision(value: str) -> Decision:
    """``include``, ``exclude`` or ``maybe``, or InvalidInput naming the value."""
    try:
        return Decision(value.strip().lower())
    except ValueError:
        raise InvalidInput(f"decision must be include, exclude or maybe, not {value!r}") from None


def exclusion_reasons(session: Session, stage: Stage) -> list[str]:
    """The exclusion reasons offered at ``stage``."""
    key = (
        "screening.exclusion_reasons_tiab"
        if stage is Stage.TITLE_ABSTRACT
        else "screening.exclusion_reasons_fulltext"
    )
    return list(setting(session, key))  # type: ignore[call-overload]


def _reason_required(session: Session, stage: Stage) -> bool:
    key = (
        "screening.reason_required_tiab"
        if stage is Stage.TITLE_ABSTRACT
        else "screening.reason_required_fulltext"
    )
    return bool(setting(session, key))


def _check_reason(
    session: Session, stage: Stage, decision: Decision, reason: str | None
) -> str | None:
    return _reason_for(
        stage,
        decision,
        reason,
        allowed=exclusion_reasons(session, stage),
        required=_reason_required(session, stage),
    )


def _reason_for(
    stage: Stage, decision: Decision, reason: str | None, *, allowed: list[str], required: bool
) -> str | None:
    """The reason as stored (one of ``allowed``), or InvalidInput: the one rule for reasons.

    ``allowed`` and ``required`` are the stage's settings, read once by the caller.
    """
    reason = (reason or "").strip() or None
    if decision is not Decision.EXCLUDE:
        if reason is not None:
            raise InvalidInput("a reason goes with exclude only")
        return None
    if reason is None:
        if required:
            raise InvalidInput(f"excluding at {stage.value} needs a reason: {'; '.join(allowed)}")
        return None
    # Users type reasons; accept any case and a 1-based number from the list.
    if reason.isdigit() and 1 <= int(reason) <= len(allowed):
        return allowed[int(reason) - 1]
    for known in allowed:
        if known.casefold() == reason.casefold():
            return known
    raise InvalidInput(
        f"unknown exclusion reason {reason!r} at {stage.value}; reasons: {'; '.join(allowed)}"
    )


def _check_reference(session: Session, record_id: int) -> int:
    """The reference holding record ``record_id`` (any record of a duplicate group names its
    reference; a reference id is its first record's id). NotFound for an unknown record."""
    return _require_reference(record_id, _maybe_reference(session, record_id))


def _require_reference(record_id: int, reference_id: int | None) -> int:
    """The reference record ``record_id`` is in (``reference_id``: as read, None when there is no
    such record); NotFound for a missing record."""
    if reference_id is None:
        raise NotFound(f"no record {record_id}; see `reviewtool records list`")
    return reference_id


def _maybe_reference(session: Session, record_id: int) -> int | None:
    row = session.exec(select(Record.reference_id).where(Record.id == record_id)).first()
    return None if row is None else int(row)


def _reference(session: Session, reference_id: int) -> Record:
    """The record shown for a reference: its group's primary."""
    record = session.get(Record, primary_of(session, reference_id))
    assert record is not None
    return record


def _check_stage_open(session: Session, record_id: int, stage: Stage) -> None:
    if stage is Stage.TITLE_ABSTRACT:
        _require_not_removed(record_id, removed_references(session))
        return
    outcome = record_outcome(session, record_id, Stage.TITLE_ABSTRACT.value)
    _require_fulltext_open(record_id, outcome, record_id in unobtainable(session))


def _require_not_removed(reference_id: int, removed: dict[int, str]) -> None:
    """InvalidInput when the reference was removed before screening (``removed``: reference ->
    reason, from ``prescreen.removed_references``)."""
    if reference_id in removed:
        raise InvalidInput(
            f"reference {reference_id} was removed before screening ({removed[reference_id]}); "
            f"an owner brings it back with `reviewtool screen restore --reference {reference_id}`"
        )


def _require_fulltext_open(
    record_id: int, tiab: ScreeningOutcome | None, not_retrieved: bool
) -> None:
    """StageOrderError unless the reference was included at title/abstract and its full text
    could be had (``tiab``: its title/abstract outcome, None before any vote; ``not_retrieved``:
    it is in ``queries.unobtainable``)."""
    if tiab is None or not tiab.goes_on:
        status = tiab.status.value if tiab else "not screened"
        raise StageOrderError(
            f"record {record_id} is not included at title/abstract ({status}); only included records reach full text"
        )
    if not_retrieved:
        raise StageOrderError(
            f"record {record_id}: its full text was marked not retrieved, so it cannot be assessed"
        )


def _reports_of(session: Session, reference_id: int) -> list[FullTextReport]:
    """The reports of a reference, oldest first."""
    return list(
        session.exec(
            select(FullTextReport)
            .where(FullTextReport.reference_id == reference_id)
            .order_by(col(FullTextReport.id))
        ).all()
    )


def _report_words(report: FullTextReport | dict[str, Any]) -> str:
    """``7 (registry entry, retrieved)``: how a report is named in a message."""
    if isinstance(report, dict):
        return f"{report['id']} ({report['kind']}, {report['status']})"
    return f"{report.id} ({report.kind}, {report.status})"


def choose_report(
    record_id: int, reports: list[FullTextReport], report: int | None
) -> FullTextReport | None:
    """The report a full-text vote or resolution on reference ``record_id`` is on.

    ``reports``: the reference's reports, oldest first; ``report``: the one named (``--report``, a
    ``report`` column), or None for the default: the only report that can be assessed (any status
    but not retrieved), or None when the reference has no report yet (the caller records one as
    sought). InvalidInput when the named report is not one of the reference's (naming the
    reference it belongs to is left to the caller), was not retrieved, or when no report is named
    and the reference has several (the message names them).
    """
    if report is not None:
        found = next((r for r in reports if r.id == report), None)
        if found is None:
            raise InvalidInput(
                f"report {report} is not a report of record {record_id}; its reports: "
                + ("; ".join(_report_words(r) for r in reports) or "none recorded")
            )
        if found.status == NOT_RETRIEVED:
            raise InvalidInput(
                f"report {report} of record {record_id} was not retrieved, so it cannot be assessed"
            )
        return found
    candidates = [r for r in reports if r.status != NOT_RETRIEVED]
    if len(candidates) > 1:
        raise InvalidInput(
            f"record {record_id} has {len(candidates)} reports; say which one you assessed "
            f"(--report, or a report column): {'; '.join(_report_words(r) for r in candidates)}"
        )
    return candidates[0] if candidates else None


def _sought_report(session: Session, actor: str, reference_id: int) -> FullTextReport:
    """Record a report as sought for a reference that has none, with its ``fulltext-report``
    event."""
    report, event = _new_sought(session, actor, reference_id)
    audit.record(session, actor, event)
    return report


def _new_sought(
    session: Session, actor: str, reference_id: int
) -> tuple[FullTextReport, FullTextRecorded]:
    """A report, status sought, written for ``reference_id``, and the event that records it (for
    the caller to write: a bulk import writes it in order with its votes' events)."""
    report = FullTextReport(
        record_id=primary_of(session, reference_id),
        reference_id=reference_id,
        kind=REPORT_KINDS[0],
        status=SOUGHT,
        recorded_by_id=session.exec(select(Member.id).where(Member.name == actor)).one(),
        recorded_at=audit.log.utc_now(),
    )
    session.add(report)
    session.flush()
    assert report.id is not None
    return report, FullTextRecorded(
        record_id=report.record_id, before=None, after=report_snapshot(report), report_id=report.id
    )


def seek_reports(session: Session, actor: str, refs: Collection[int] | None = None) -> list[int]:
    """Record one report, status sought, for each reference (of ``refs``; all when None) included
    at title/abstract with no report yet (``queries.references_to_seek``), each with its
    ``fulltext-report`` event written by ``actor``. Called by every change that can include a
    reference at title/abstract (a vote, a resolution, their bulk imports, an undo), so the
    reports sought exist as rows from the moment of inclusion, whoever votes at full text first
    (a reviewer's open full-text work never creates what another sees). Returns the references."""
    found = references_to_seek(session, refs)
    for ref in found:
        _sought_report(session, actor, ref)
    return found


def _report_for(
    session: Session, actor: str, reference_id: int, stage: Stage, report: int | None
) -> int | None:
    """The unit's report at full text (None at title/abstract, where ``report`` must be None):
    the one named, else the default (``choose_report``), recording one as sought when the
    reference has none (included before schema 0009's upgrade recorded them, or re-formed by a
    dedup split after its inclusion: ``seek_reports`` records the others at inclusion)."""
    if stage is not Stage.FULL_TEXT:
        if report is not None:
            raise InvalidInput("a report is named at full text only")
        return None
    chosen = choose_report(reference_id, _reports_of(session, reference_id), report)
    if chosen is None:
        chosen = _sought_report(session, actor, reference_id)
    assert chosen.id is not None
    return chosen.id


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


def _existing_report(
    session: Session, ref: int | None, stage: Stage, report: int | None
) -> int | None:
    """The report a full-text vote would be on, without recording one (None: none yet, or
    title/abstract); InvalidInput as ``choose_report``."""
    if ref is None or stage is not Stage.FULL_TEXT:
        return None
    chosen = choose_report(ref, _reports_of(session, ref), report)
    return None if chosen is None else chosen.id


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


@dataclass(frozen=True)
class ConflictView:
    """A conflict as the adjudicator sees it: the record, every current vote and its history.

    ``state`` is ``open`` (never resolved), ``reopened`` (resolved once, then a vote changed:
    ``earlier`` holds that resolution with ``reopened_at`` and ``reopened_because``), ``contested``
    (the resolution still decides, but the votes now agree against it: ``contested`` says how) or
    ``resolved``.
    """

    record_id: int
    stage: str
    title: str | None
    votes: tuple[VoteView, ...]
    resolution: dict[str, Any] | None = None
    state: str = "open"
    earlier: dict[str, Any] | None = None
    contested: str | None = None
    report: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


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


def _last_reopened(
    session: Session, unit: int, stage: Stage, names: dict[int | None, str]
) -> dict[str, Any] | None:
    on: Any = (
        ScreeningResolution.report_id == unit
        if stage is Stage.FULL_TEXT
        else ScreeningResolution.reference_id == unit
    )
    row = session.exec(
        select(ScreeningResolution)
        .where(
            on,
            ScreeningResolution.stage == stage.value,
            col(ScreeningResolution.reopened_at).is_not(None),
        )
        .order_by(col(ScreeningResolution.id).desc())
    ).first()
    if row is None:
        return None
    return {
        **resolution_snapshot(row, names[row.member_id]),
        "resolved_at": row.resolved_at,
        "reopened_at": row.reopened_at,
        "reopened_because": row.reopened_because,
    }


def list_conflicts(
    session: Session, *, actor: str, stage: str, include_resolved: bool = False
) -> list[ConflictView]:
    """Conflicts at ``stage`` that need the adjudicator, read from the database now; adjudicators only.

    Open conflicts (with the earlier resolution of a reopened one) and contested resolutions (the
    votes came to agree against them) are always listed; the other resolved ones only if asked.
    At full text conflicts are per report: each view names its reference (``record_id``) and the
    report (``report``: its id, kind, status, location).
    """
    require(session, actor, Action.RESOLVE_CONFLICT, doing="list conflicts")
    parsed = parse_stage(stage)
    outcomes = unit_outcomes(session, parsed.value)
    resolutions = current_resolutions(session, parsed.value)
    names: dict[int | None, str] = dict(session.exec(select(Member.id, Member.name)).all())
    resolved = {ScreeningStatus.RESOLVED_INCLUDED, ScreeningStatus.RESOLVED_EXCLUDED}
    reports: dict[int, FullTextReport] = {}
    if parsed is Stage.FULL_TEXT:
        reports = {
            r.id: r
            for r in session.exec(select(FullTextReport)).all()
            if r.id is not None and r.id in outcomes
        }
    views = []
    for unit in sorted(outcomes, key=lambda u: (reports[u].reference_id, u) if reports else u):
        record_id = reports[unit].reference_id if reports else unit
        status = outcomes[unit].status
        res = resolutions.get(unit)
        contested = res is not None and res.contested_at is not None and status in resolved
        if not (
            status is ScreeningStatus.CONFLICT
            or contested
            or (include_resolved and status in resolved)
        ):
            continue
        record = _reference(session, record_id)
        earlier = (
            _last_reopened(session, unit, parsed, names)
            if status is ScreeningStatus.CONFLICT
            else None
        )
        state = (
            ("reopened" if earlier else "open")
            if status is ScreeningStatus.CONFLICT
            else ("contested" if contested else "resolved")
        )
        views.append(
            ConflictView(
                record_id=record_id,
                stage=parsed.value,
                title=record.title if record else None,
                votes=tuple(_votes_of(session, unit, parsed)),
                resolution=resolution_snapshot(res, names[res.member_id]) if res else None,
                state=state,
                earlier=earlier,
                contested=res.contested_because if contested and res is not None else None,
                report={"id": unit, **report_snapshot(reports[unit])} if reports else None,
            )
        )
    return views


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
        state = outcome.status.value if outcome else "not screened"
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


def set_fulltext(
    session: Session,
    *,
    actor: str,
    record_id: int,
    location: str | None = None,
    not_retrieved: bool = False,
    note: str | None = None,
    kind: str = "journal article",
    reason: str | None = None,
    add: bool = False,
    sought: bool = False,
    report: int | None = None,
) -> dict[str, Any]:
    """Record a report (a full text: file path or URL) for a reference, that it is sought (asked
    for, not in hand: ``sought``), or that it was not retrieved (``reason``: why). ``record_id``
    is any record of the reference.

    Without ``add`` this changes the reference's report ``report`` (by default its latest;
    creating the first); with ``add`` it records a further report (a registry entry beside the
    article, a thesis). ``kind`` is one of ``REPORT_KINDS``. Returns the report's snapshot with
    its ``id``. InvalidInput unless exactly one of a location, ``sought`` and ``not_retrieved``
    is given, for an unknown kind, or a ``report`` of another reference; StageOrderError when
    the reference is not included at title/abstract.
    """
    recorder = require(session, actor, Action.SCREEN, doing="record a full-text report")
    assert recorder.id is not None
    sight(session, actor).check_stage_open(Stage.FULL_TEXT.value)
    if [bool(location), not_retrieved, sought].count(True) != 1:
        raise InvalidInput("give one of a file path / URL, --sought or --not-retrieved")
    if add and report is not None:
        raise InvalidInput("--add records a new report; --report changes an existing one")
    if kind not in REPORT_KINDS:
        raise InvalidInput(f"unknown report kind {kind!r}; kinds: {'; '.join(REPORT_KINDS)}")
    record_id = _check_reference(session, record_id)
    outcome = stage_outcomes(session, Stage.TITLE_ABSTRACT.value).get(record_id)
    if outcome is None or not outcome.goes_on:
        raise StageOrderError(
            f"record {record_id} is not included at title/abstract; no full text is sought for it"
        )
    existing = _reports_of(session, record_id)
    if report is not None:
        changed = next((r for r in existing if r.id == report), None)
        if changed is None:
            raise InvalidInput(
                f"report {report} is not a report of record {record_id}; its reports: "
                + ("; ".join(_report_words(r) for r in existing) or "none recorded")
            )
    else:
        changed = None if add or not existing else existing[-1]
    before = report_snapshot(changed) if changed else None
    if changed is None:
        changed = FullTextReport(
            record_id=primary_of(session, record_id),
            reference_id=record_id,
            status="",
            recorded_by_id=recorder.id,
            recorded_at="",
        )
    changed.status = NOT_RETRIEVED if not_retrieved else SOUGHT if sought else RETRIEVED
    changed.location = location or None
    changed.kind = kind
    changed.reason = ((reason or "").strip() or None) if not_retrieved else None
    changed.note = (note or "").strip() or None
    changed.recorded_by_id, changed.recorded_at = recorder.id, audit.log.utc_now()
    session.add(changed)
    session.flush()
    after = report_snapshot(changed)
    assert changed.id is not None
    audit.record(
        session,
        actor,
        FullTextRecorded(
            record_id=changed.record_id, before=before, after=after, report_id=changed.id
        ),
    )
    return {"id": changed.id, **after}


def fulltext_reports(session: Session, reference_id: int) -> list[dict[str, Any]]:
    """The reports recorded for a reference (id, kind, status, location, reason, note), oldest
    first."""
    rows = session.exec(
        select(FullTextReport)
        .where(FullTextReport.reference_id == reference_id)
        .order_by(col(FullTextReport.id))
    ).all()
    return [{"id": r.id, **report_snapshot(r)} for r in rows]


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


@dataclass(frozen=True)
class RecordCard:
    """What a reviewer sees of one reference: the citation, their own vote, and others' only if allowed."""

    record_id: int
    stage: str
    fields: dict[str, Any]
    my_vote: VoteView | None
    other_votes: tuple[VoteView, ...] | None
    outcome: str | None
    fulltext: dict[str, Any] | None = None
    report_id: int | None = None
    reports: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def _card_report(
    session: Session,
    member: Member,
    record_id: int,
    reports: list[FullTextReport],
    report: int | None,
) -> FullTextReport | None:
    """The report a full-text card shows: the one named, else the only one that can be assessed,
    else the first of them the member has not voted on (the first when they voted on all), else
    the latest (not retrieved); None when the reference has none."""
    if report is not None:
        return choose_report(record_id, reports, report)
    candidates = [r for r in reports if r.status != NOT_RETRIEVED]
    if len(candidates) <= 1:
        # None to assess: the latest shows why (not retrieved), if any.
        return candidates[0] if candidates else reports[-1] if reports else None
    voted = set(
        session.exec(
            select(ScreeningDecision.report_id).where(
                ScreeningDecision.member_id == member.id,
                ScreeningDecision.reference_id == record_id,
                ScreeningDecision.stage == Stage.FULL_TEXT.value,
                col(ScreeningDecision.superseded_at).is_(None),
            )
        ).all()
    )
    return next((r for r in candidates if r.id not in voted), candidates[0])


def record_card(
    session: Session, *, actor: str, record_id: int, stage: str, report: int | None = None
) -> RecordCard:
    """One reference for ``actor``: their own vote always; the others' votes and the outcome only
    when the stage is not blind to them (see ``access.Sight``). At a blind stage an owner sees the
    votes once the reference is decided, an adjudicator those of a conflict too.

    At full text the card is about one report of the reference (``report``; by default its only
    one, or the first the actor has not voted on): ``report_id``, ``fulltext`` (its snapshot), the
    votes and outcome are that report's; ``reports`` lists all the reference's reports."""
    member = require(session, actor, Action.READ, doing="read a reference")
    parsed = parse_stage(stage)
    seen = sight(session, actor)
    seen.check_stage_open(parsed.value)
    record_id = _check_reference(session, record_id)
    record = _reference(session, record_id)
    shown: FullTextReport | None = None
    all_reports: list[FullTextReport] = []
    if parsed is Stage.FULL_TEXT:
        all_reports = _reports_of(session, record_id)
        shown = _card_report(session, member, record_id, all_reports, report)
    unit = record_id if parsed is Stage.TITLE_ABSTRACT else shown.id if shown else None
    votes = [] if unit is None else _votes_of(session, unit, parsed)
    # The outcome from the votes just read (a key press should cost a handful of queries).
    outcome: ScreeningOutcome | None = None
    if votes and unit is not None:
        resolution = current_resolution(session, unit, parsed.value)
        required, reasons = stage_rules(session, parsed.value)
        outcome = screening_outcome(
            [Vote(v.reviewer, v.decision, v.reason) for v in votes],
            required=required,
            stage=parsed.value,
            resolution=(resolution.decision, resolution.reason) if resolution else None,
            reason_order=reasons,
        )
    final = outcome is not None and outcome.final
    if not seen.sees_others(parsed.value):
        show_others = show_outcome = False
    elif not stage_blind(session, parsed.value):
        show_others = show_outcome = True
    else:
        # Blind stage, privileged viewer who may be screening too: the card does not show them
        # another's open vote before they vote; the outcome once it is final, a conflict to the
        # adjudicator who resolves it.
        show_others = final or (
            outcome is not None
            and outcome.status is ScreeningStatus.CONFLICT
            and Role.ADJUDICATOR in roles_of(session, member)
        )
        show_outcome = final or show_others
    source = session.exec(
        select(ImportBatch.source).where(ImportBatch.id == record.batch_id)
    ).first()
    return RecordCard(
        record_id=record_id,
        stage=parsed.value,
        fields={
            "title": record.title,
            "authors": json.loads(record.authors or "[]"),
            "journal": record.journal,
            "year": record.year,
            "volume": record.volume,
            "issue": record.issue,
            "pages": record.pages,
            "doi": record.doi,
            "pmid": record.pmid,
            "abstract": record.abstract,
            "keywords": json.loads(record.keywords or "[]"),
            "publication_type": record.publication_type,
            "source": source,
            "labels": [
                v.shown(actor)
                for v in visible_labels(session, actor=actor, record_ids={record_id}).get(
                    record_id, []
                )
            ],
        },
        my_vote=next((v for v in votes if v.reviewer == actor), None),
        other_votes=tuple(v for v in votes if v.reviewer != actor) if show_others else None,
        outcome=outcome.status.value if outcome is not None and show_outcome else None,
        fulltext=report_snapshot(shown) if shown else None,
        report_id=shown.id if shown else None,
        reports=tuple({"id": r.id, **report_snapshot(r)} for r in all_reports),
    )


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


DECISION_COLUMNS = ("record_id", "decision", "reason", "note", "report")
"""The columns of a decisions or resolutions file (``screen import-decisions``/``-resolutions``)."""


@dataclass(frozen=True)
class ImportCounts:
    """What ``import_decisions`` or ``import_resolutions`` did with a file's rows.

    :ivar written: rows written: a new vote or resolution, or one that replaces a different one
        (one row and one event each).
    :ivar unchanged: rows the same as the one in force (a vote: the reviewer's current vote on the
        unit with the same decision, reason and note; a resolution: the adjudicator's standing,
        uncontested resolution with the same decision, reason and note): nothing written, no event.
    """

    written: int
    unchanged: int

    @property
    def rows(self) -> int:
        """Every row of the file: ``written + unchanged``."""
        return self.written + self.unchanged


def import_decisions(
    session: Session, *, actor: str, path: str, stage: str, on_behalf_of: str | None = None
) -> ImportCounts:
    """Cast many votes from a CSV (``record_id,decision,reason,note[,report]``) in one transaction.

    Each row is a vote as ``record_decision`` casts it (same checks, a later row or an earlier vote
    on the same reference superseded, a standing resolution reopened or contested, one
    ``screening-decision`` event per vote), but the state is read once up front and the rows and
    events are written in bulk. At full text a vote is on one report: the ``report`` column, or
    the reference's only report (recorded as sought when it has none). An unknown record, report,
    decision or reason, or an unknown column (``DECISION_COLUMNS``: a ``reviewer`` column is not
    read as whose vote it is), names the file and line; nothing is written then.

    A row the same as the member's current vote on its unit (same decision, reason and note) is
    unchanged: it is checked as any row (the calibration round, the stop), then nothing is written
    for it, so importing one file twice writes its events once. Returns the votes written and
    the unchanged ones (``ImportCounts``).

    ``on_behalf_of``: an owner (``actor``) enters the votes of another member who screens (the
    votes are theirs, checked as theirs, blinding as for them); each ``screening-decision`` event
    is written by the owner and names the member (``on_behalf_of``), so the ledger holds both
    names. PermissionDenied for anyone but an owner.
    """
    parsed_stage = parse_stage(stage)
    actor, entered_by = entering_for(session, actor, on_behalf_of, doing="import votes")
    member = require(session, actor, Action.SCREEN, entered_by=entered_by)
    rows = read_rows(
        path,
        required={"record_id", "decision"},
        what="decisions",
        unique=_row_unit,
        allowed=DECISION_COLUMNS,
        on_behalf="an owner enters another member's votes with --on-behalf-of NAME",
    )
    batch = _VoteBatch(session, member, parsed_stage, entered_by, source_file=Path(path).name)
    for line, row in numbered(rows):
        with at_line(path, line):
            batch.cast(
                int(row["record_id"]),
                row["decision"] or "",
                row.get("reason"),
                row.get("note"),
                _row_report(row),
            )
    batch.write(session)
    return ImportCounts(len(rows) - batch.unchanged, batch.unchanged)


IMPORTED = "imported"
"""The queue order stamped on a vote imported from a file (``screen import-decisions``)."""


def _tiab_limits(session: Session) -> tuple[frozenset[int] | None, frozenset[int]]:
    """What an import at title/abstract may not vote on: (the open calibration round's pilot, None
    when no round is open; the references the stop in force set aside)."""
    from reviewtool.screening import calibration, stop

    round_ = calibration.open_round(session)
    pilot = frozenset(round_.sample) if round_ is not None else None
    return pilot, frozenset(stop.set_aside(session))


def _row_unit(row: dict[str, str]) -> str | None:
    """What one row of a decisions or resolutions file is about (``record_id``, and ``report``
    when given): two rows on one thing are refused."""
    record = (row.get("record_id") or "").strip()
    if not record:
        return None
    report = (row.get("report") or "").strip()
    return f"{record} (report {report})" if report else record


def _row_report(row: dict[str, str]) -> int | None:
    """The ``report`` column of a row (None: empty or absent); InvalidInput when not a number."""
    value = (row.get("report") or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput(f"report must be a report id (a number), not {value!r}")
    return int(value)


class _ReferenceMap:
    """What a bulk import needs of the references, read once: record id -> its reference, each
    reference's primary (the record shown), and at full text each reference's reports (oldest
    first) and the references whose full text could not be had (``queries.unobtainable``)."""

    def __init__(self, session: Session, stage: Stage) -> None:
        self.reference: dict[int, int] = {}
        self.primary: dict[int, int] = {}
        for rid, dup, ref in session.exec(
            select(Record.id, Record.duplicate_of, Record.reference_id)
        ).all():
            if rid is None or ref is None:
                continue
            self.reference[rid] = ref
            if dup is None:
                self.primary[ref] = rid
        self.reports: dict[int, list[FullTextReport]] = {}
        self.unobtainable: set[int] = set()
        self.removed = removed_references(session) if stage is Stage.TITLE_ABSTRACT else {}
        if stage is Stage.FULL_TEXT:
            for report in session.exec(
                select(FullTextReport).order_by(col(FullTextReport.id))
            ).all():
                self.reports.setdefault(report.reference_id, []).append(report)
            self.unobtainable = unobtainable(session)

    def report(
        self, session: Session, actor: str, ref: int, stage: Stage, named: int | None
    ) -> int | None:
        """As ``_report_for``, from the reports read once (a report recorded as sought is added
        to them, with its event written at once, before the votes' events)."""
        if stage is not Stage.FULL_TEXT:
            if named is not None:
                raise InvalidInput("a report is named at full text only")
            return None
        chosen = choose_report(ref, self.reports.get(ref, []), named)
        if chosen is None:
            chosen = _sought_report(session, actor, ref)
            self.reports.setdefault(ref, []).append(chosen)
        assert chosen.id is not None
        return chosen.id


class _VoteBatch:
    """Many votes by one member at one stage: checked in memory against state read once, then
    written with one UPDATE of the superseded rows, one INSERT of the new ones and one bulk
    append of their events (``audit.log.record_many``). The rules are the single-vote path's own
    functions (``access.Sight.check_stage_open``, ``_reason_for``, ``_require_reference``,
    ``_require_fulltext_open``, ``_answer_changed_vote``)."""

    def __init__(
        self,
        session: Session,
        member: Member,
        stage: Stage,
        entered_by: str | None = None,
        *,
        source_file: str | None = None,
    ) -> None:
        assert member.id is not None
        self.session = session
        # Imported votes (``source_file``): stamped ``imported``, the file named in each event,
        # and at title/abstract held to the calibration round and the stop as ``screen decide``.
        self.source_file = source_file
        self.order = IMPORTED if source_file is not None else None
        self.pilot: frozenset[int] | None = None
        self.set_aside: frozenset[int] = frozenset()
        if source_file is not None and stage is Stage.TITLE_ABSTRACT:
            self.pilot, self.set_aside = _tiab_limits(session)
        self.member, self.member_id, self.stage = member, member.id, stage
        # Who writes the events: the member, or the owner entering the member's votes.
        self.entered_by = entered_by or member.name
        self.on_behalf_of = member.name if entered_by else None
        self.sight = sight(session, member.name)
        self.allowed = exclusion_reasons(session, stage)
        self.reason_required = _reason_required(session, stage)
        self.required, self.reason_order = stage_rules(session, stage.value)
        self.refs = _ReferenceMap(session, stage)
        self.tiab: dict[int, ScreeningOutcome] = {}
        if stage is Stage.FULL_TEXT:
            self.tiab = stage_outcomes(session, Stage.TITLE_ABSTRACT.value)
        # The member's current votes by reference: rows already stored (their id), then those cast
        # from the file (their row to insert). Column tuples, not ORM objects: a migration brings
        # tens of thousands.
        # Keyed by unit: the reference at title/abstract, the report at full text.
        table: Any = ScreeningDecision.__table__  # type: ignore[attr-defined]
        columns: tuple[str, ...] = ("id", "record_id", "reference_id", "report_id")
        columns += ("report_in_ledger", "decision", "reason", "note", "queue_order")
        columns += ("model_version",)
        full = stage is Stage.FULL_TEXT
        self.mine: dict[int, _Ballot] = {
            (report_id if full else reference_id): _Ballot(
                decision,
                reason,
                note,
                record_id=record_id,
                stored_id=vote_id,
                report_id=report_id,
                report_in_ledger=bool(in_ledger),
                queue_order=order,
                model_version=model,
            )
            for (
                vote_id,
                record_id,
                reference_id,
                report_id,
                in_ledger,
                decision,
                reason,
                note,
                order,
                model,
            ) in (
                session.execute(
                    sa_select(*(table.c[n] for n in columns)).where(
                        table.c.member_id == member.id,
                        table.c.stage == stage.value,
                        table.c.superseded_at.is_(None),
                    )
                ).all()
            )
        }
        self.resolutions = current_resolutions(session, stage.value)
        self.names: dict[int | None, str] = dict(session.exec(select(Member.id, Member.name)).all())
        # At title/abstract a reference included by a vote gets its report, sought, recorded
        # right after that vote (as ``seek_reports`` does after one vote): every reference's
        # current votes are kept for that. At full text only where a resolution stands.
        self.seek = stage is Stage.TITLE_ABSTRACT
        self.with_report: set[int] = (
            set(session.exec(select(FullTextReport.reference_id)).all()) if self.seek else set()
        )
        self.votes: dict[int, list[Vote]] = (
            {
                rid: list(vs)
                for rid, vs in current_votes(session, stage.value).items()
                if self.seek or rid in self.resolutions
            }
            if self.resolutions or self.seek
            else {}
        )
        self.superseded: list[dict[str, Any]] = []  # stored votes: {"id", "superseded_at"}
        self.new: list[dict[str, Any]] = []  # rows to insert, in the file's order
        self.events: list[ScreeningDecided | FullTextRecorded] = []
        # Units whose vote changed with no resolution in sight: in team mode the server revisits
        # one the login may not read, after the votes are written (storage.postgres_revisit).
        self.revisit: list[int] = []
        self.unchanged = 0  # rows the same as the member's current vote: nothing written

    def cast(
        self,
        record_id: int,
        decision: str,
        reason: str | None,
        note: str | None,
        report: int | None = None,
    ) -> None:
        """Check one vote and queue it (nothing but a report recorded as sought touches the
        database until ``write``)."""
        # First, as in _vote: a refusal naming the title/abstract status would unblind.
        self.sight.check_stage_open(self.stage.value)
        parsed = parse_decision(decision)
        checked = _reason_for(
            self.stage, parsed, reason, allowed=self.allowed, required=self.reason_required
        )
        ref = _require_reference(record_id, self.refs.reference.get(record_id))
        _require_not_removed(ref, self.refs.removed)
        if self.pilot is not None and ref not in self.pilot:
            raise InvalidInput(
                f"record {record_id} is not in the calibration round's pilot: screening proper "
                "opens once an owner closes the round (`reviewtool screen calibrate`)"
            )
        if ref in self.set_aside:
            raise InvalidInput(
                f"record {record_id} was set aside when screening stopped; an owner brings it "
                "back with `reviewtool screen stop --undo --reason R`"
            )
        if self.stage is Stage.FULL_TEXT:
            _require_fulltext_open(ref, self.tiab.get(ref), ref in self.refs.unobtainable)
        named = self.refs.report(self.session, self.entered_by, ref, self.stage, report)
        unit = ref if named is None else named
        old = self.mine.get(unit)
        note = (note or "").strip() or None
        if old is not None and (old.decision, old.reason, old.note) == (
            parsed.value,
            checked,
            note,
        ):
            self.unchanged += 1  # the vote in force already: nothing to write
            return
        now = audit.log.utc_now()
        before = old.snapshot() if old is not None else None
        if old is not None:
            # A stored vote becomes an UPDATE; one cast earlier in this file is inserted superseded.
            if old.row is not None:
                old.row["superseded_at"] = now
            else:
                self.superseded.append({"id": old.stored_id, "superseded_at": now})
        seen = self.refs.primary[ref]  # the record the reviewer saw
        new = _Ballot(
            parsed.value,
            checked,
            note,
            record_id=seen,
            report_id=named,
            report_in_ledger=named is not None,
            queue_order=self.order,
        )
        new.row = {
            "record_id": seen,
            "reference_id": ref,
            "report_id": named,
            "report_in_ledger": named is not None,
            "stage": self.stage.value,
            "member_id": self.member_id,
            "decision": new.decision,
            "reason": new.reason,
            "note": new.note,
            "decided_at": now,
            "superseded_at": None,
            "queue_order": self.order,
            "model_version": None,
        }
        self.mine[unit] = new
        self.new.append(new.row)
        state: dict[str, dict[str, Any]] = {}
        resolution = self.resolutions.get(unit)
        if resolution is not None or self.seek:
            votes = [v for v in self.votes.get(unit, []) if v.reviewer != self.member.name]
            votes.append(Vote(self.member.name, new.decision, new.reason))
            self.votes[unit] = votes
            if old is not None and resolution is not None:
                state = self._answer(unit, resolution, old, new, votes, now)
        if old is not None and resolution is None:
            self.revisit.append(unit)
        key = new.key(self.stage, self.member.name)
        if old is not None and old.key(self.stage, self.member.name) != key:
            # The vote it replaces is recorded under another key: cast on another record of the
            # reference (the primary changed), or before schema 0009 (no report in its snapshot).
            state.setdefault("screening_vote", {})[old.key(self.stage, self.member.name)] = None
        self.events.append(
            ScreeningDecided(
                key=key,
                record_id=seen,
                stage=self.stage.value,
                before=before,
                after=new.snapshot(),
                state=state,
                on_behalf_of=self.on_behalf_of,
                source_file=self.source_file,
            )
        )
        if self.seek and ref not in self.with_report:
            standing = self.resolutions.get(ref)
            outcome = screening_outcome(
                self.votes[ref],
                required=self.required,
                stage=self.stage.value,
                resolution=(standing.decision, standing.reason) if standing else None,
                reason_order=self.reason_order,
            )
            if outcome.goes_on:
                self.events.append(_new_sought(self.session, self.entered_by, ref)[1])
                self.with_report.add(ref)

    def _answer(
        self,
        record_id: int,
        resolution: ScreeningResolution,
        old: _Ballot,
        new: _Ballot,
        votes: list[Vote],
        now: str,
    ) -> dict[str, dict[str, Any]]:
        _answer_changed_vote(
            resolution,
            self.member.name,
            old,
            new,
            votes,
            self.stage,
            required=self.required,
            reasons=self.reason_order,
            now=now,
        )
        key = resolution_key_of(resolution)
        if resolution.reopened_at is not None:
            del self.resolutions[record_id]
            return {"screening_resolution": {key: None}}
        adjudicator = self.names[resolution.member_id]
        return {"screening_resolution": {key: resolution_snapshot(resolution, adjudicator)}}

    def write(self, session: Session) -> None:
        """Write every queued vote and its event: the resolutions reopened or contested (changed
        in place, written by the flush) and the stored votes superseded go first, so the
        one-current-vote index never sees two; then one INSERT of the new rows."""
        session.flush()
        if self.superseded:
            session.execute(update(ScreeningDecision), self.superseded)
        if self.new:
            # Core, not ORM, INSERT: the ORM splits executemany batches wherever NULLs differ.
            table: Any = ScreeningDecision.__table__  # type: ignore[attr-defined]
            session.execute(table.insert(), self.new)
        audit.log.record_many(session, self.entered_by, self.events)
        for unit in dict.fromkeys(self.revisit):
            revisit_hidden_resolution(session, self.stage.value, unit)


@dataclass
class _Ballot:
    """A vote's content in a bulk import: stored already (``stored_id``) or to insert (``row``)."""

    decision: str
    reason: str | None
    note: str | None
    record_id: int = 0  # the record it was cast on (the reference's primary then)
    stored_id: int | None = None
    row: dict[str, Any] | None = None
    report_id: int | None = None
    report_in_ledger: bool = False
    queue_order: str | None = None
    model_version: str | None = None

    def snapshot(self) -> dict[str, Any]:
        """The vote as the ledger records it (``vote_snapshot`` reads these fields)."""
        return vote_snapshot(cast(ScreeningDecision, self))

    def key(self, stage: Stage, reviewer: str) -> str:
        """Its ledger key (``vote_key``)."""
        return vote_key(
            self.record_id, stage.value, reviewer, self.report_id if self.report_in_ledger else None
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


def unblind_stage(session: Session, *, actor: str, stage: str) -> bool:
    """End blinding at ``stage`` (owners only): from now on reviewers see each other's votes, the
    outcomes, agreement and conflicts there. Recorded as a ``stage-unblinded`` event.

    Blinding cannot be turned back on: the reviewers may already have seen the votes, and a
    "blind" label on votes cast after that would claim an independence they no longer have.
    Returns False (and records nothing) when the stage was not blind.
    """
    require(session, actor, Action.CHANGE_SETTINGS, doing="end blinding (screen unblind)")
    parsed = parse_stage(stage)
    if not stage_blind(session, parsed.value):
        return False
    key = f"screening.blind_{parsed.value}"
    row = session.get(ReviewSetting, key)
    before = json.loads(row.value) if row is not None else None
    if row is None:
        row = ReviewSetting(key=key, value="")
    row.value = audit.log.canonical_json(False)
    session.add(row)
    session.flush()
    audit.record(
        session, actor, StageUnblinded(stage=parsed.value, key=key, before=before, after=False)
    )
    if parsed is Stage.TITLE_ABSTRACT:
        # Team mode on PostgreSQL: a reviewer's login cannot read the votes that included a
        # reference, so its reports sought are recorded here (docs/identity.md); else none left.
        seek_reports(session, actor)
    return True


def import_resolutions(session: Session, *, actor: str, path: str, stage: str) -> ImportCounts:
    """Resolve many conflicts from a CSV (``record_id,decision,reason,note[,report]``), all or
    nothing.

    Each row is a resolution as ``resolve_conflict`` makes it (same checks, a contested resolution
    replaced, one ``screening-resolution`` event each; at full text on the ``report`` named, by
    default the reference's only one), with the votes and resolutions read once and the rows and
    events written in bulk. A bad row names the file and line; nothing is written then.

    A row the same as the adjudicator's own standing resolution of the unit (same decision,
    reason and note, not contested) is unchanged: nothing is written for it, so importing one file
    twice writes its events once (another adjudicator's standing resolution is still refused as
    no open conflict). Returns the resolutions written and the unchanged ones (``ImportCounts``).
    """
    parsed_stage = parse_stage(stage)
    member = require(session, actor, Action.RESOLVE_CONFLICT, doing="import resolutions")
    rows = read_rows(
        path,
        required={"record_id", "decision"},
        what="resolutions",
        unique=_row_unit,
        allowed=DECISION_COLUMNS,
    )
    batch = _ResolutionBatch(session, member, parsed_stage)
    for line, row in numbered(rows):
        with at_line(path, line):
            batch.resolve(
                int(row["record_id"]),
                row["decision"] or "",
                row.get("reason"),
                row.get("note"),
                _row_report(row),
            )
    batch.write(session)
    return ImportCounts(len(rows) - batch.unchanged, batch.unchanged)


class _ResolutionBatch:
    """Many resolutions by one adjudicator at one stage, checked against state read once.

    The rules are ``resolve_conflict``'s: ``_resolution_decision`` and ``_reason_for`` for the
    input, ``screening_outcome`` for whether a conflict is open, a contested resolution replaced.
    """

    def __init__(self, session: Session, member: Member, stage: Stage) -> None:
        assert member.id is not None
        self.member, self.member_id, self.stage = member, member.id, stage
        self.allowed = exclusion_reasons(session, stage)
        self.reason_required = _reason_required(session, stage)
        self.required, self.reason_order = stage_rules(session, stage.value)
        self.refs = _ReferenceMap(session, stage)
        self.votes = current_votes(session, stage.value)
        self.standing = current_resolutions(session, stage.value)
        self.names: dict[int | None, str] = dict(session.exec(select(Member.id, Member.name)).all())
        self.new: list[ScreeningResolution] = []
        self.events: list[ConflictResolved | FullTextRecorded] = []
        self.unchanged = 0  # rows the same as the adjudicator's standing resolution
        self.session = session
        # Separation of duties: what this adjudicator voted on is not theirs to resolve.
        self.own: set[int] = (
            _voted_units(session, member.id, stage) if duties_separate(session) else set()
        )
        # As resolve_conflict: a reference included by a resolution at title/abstract gets its
        # report, sought, recorded right after it (``seek_reports``).
        self.with_report: set[int] = (
            set(session.exec(select(FullTextReport.reference_id)).all())
            if stage is Stage.TITLE_ABSTRACT
            else set()
        )

    def resolve(
        self,
        record_id: int,
        decision: str,
        reason: str | None,
        note: str | None,
        report: int | None = None,
    ) -> None:
        """Check one resolution and queue it (the database is written by ``write``)."""
        parsed = _resolution_decision(decision)
        checked = _reason_for(
            self.stage, parsed, reason, allowed=self.allowed, required=self.reason_required
        )
        ref = _require_reference(record_id, self.refs.reference.get(record_id))
        named: int | None = None
        if self.stage is Stage.FULL_TEXT:
            chosen = choose_report(ref, self.refs.reports.get(ref, []), report)
            named = None if chosen is None else chosen.id
        elif report is not None:
            raise InvalidInput("a report is named at full text only")
        unit = ref if named is None else named
        votes = None if self.stage is Stage.FULL_TEXT and named is None else self.votes.get(unit)
        standing = self.standing.get(unit)
        note = (note or "").strip() or None
        if (
            standing is not None
            and standing.contested_at is None
            and standing.member_id == self.member_id
            and (standing.decision, standing.reason, standing.note) == (parsed.value, checked, note)
        ):
            self.unchanged += 1  # the resolution in force already: nothing to write
            return
        outcome = (
            screening_outcome(
                votes,
                required=self.required,
                stage=self.stage.value,
                resolution=(standing.decision, standing.reason) if standing else None,
                reason_order=self.reason_order,
            )
            if votes
            else None
        )
        _require_open_conflict(ref, self.stage, outcome, standing)
        if unit in self.own:
            raise _own_vote_refused(self.member.name, ref, self.stage, named)
        now = audit.log.utc_now()
        replaced = None
        followed: dict[str, dict[str, Any]] = {}
        seen = self.refs.primary[ref]  # the record the adjudicator saw
        if standing is not None:
            replaced = resolution_snapshot(standing, self.names[standing.member_id])
            standing.reopened_at = now
            standing.reopened_because = f"resolved again by {self.member.name}"
            if resolution_key_of(standing) != resolution_key(seen, self.stage.value, named):
                followed["screening_resolution"] = {resolution_key_of(standing): None}
        resolution = ScreeningResolution(
            record_id=seen,
            reference_id=ref,
            report_id=named,
            report_in_ledger=named is not None,
            stage=self.stage.value,
            member_id=self.member_id,
            decision=parsed.value,
            reason=checked,
            note=note,
            resolved_at=now,
        )
        self.standing[unit] = resolution
        self.new.append(resolution)
        self.events.append(
            ConflictResolved(
                record_id=seen,
                stage=self.stage.value,
                votes=[
                    {"reviewer": v.reviewer, "decision": v.decision, "reason": v.reason}
                    for v in votes or []
                ],
                after=resolution_snapshot(resolution, self.member.name),
                replaced=replaced,
                state=followed,
                report_id=named,
            )
        )
        if (
            self.stage is Stage.TITLE_ABSTRACT
            and parsed is Decision.INCLUDE
            and ref not in self.with_report
        ):
            self.events.append(_new_sought(self.session, self.member.name, ref)[1])
            self.with_report.add(ref)

    def write(self, session: Session) -> None:
        """The replaced resolutions (changed in place) first, so the one-current-resolution index
        never sees two; then the new ones and their events."""
        session.flush()
        session.add_all(self.new)
        session.flush()
        audit.log.record_many(session, self.member.name, self.events)
