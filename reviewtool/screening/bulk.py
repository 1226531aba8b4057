"""Screening: votes and resolutions imported from CSV files, in bulk and in one transaction.

``import_decisions`` (``screen import-decisions``) and ``import_resolutions``
(``screen import-resolutions``) read the state once, check each row by the single-vote and
single-resolution paths' own rules (``rules``, ``votes``, ``resolutions``), then write the rows
with one UPDATE and one INSERT and the events with one bulk append (``audit.log.record_many``).
A row the same as the vote or resolution in force is unchanged and writes nothing
(``ImportCounts``). A bad row names the file and line; nothing is written then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import duties_separate, entering_for, require, sight
from reviewtool.audit.events import ConflictResolved, FullTextRecorded, ScreeningDecided
from reviewtool.csvfiles import at_line, numbered, read_rows
from reviewtool.domain import Action, Decision, ScreeningOutcome, Stage, Vote, screening_outcome
from reviewtool.errors import InvalidInput
from reviewtool.screening.prescreen import removed_references
from reviewtool.screening.reports import _new_sought, _sought_report, choose_report
from reviewtool.screening.resolutions import (
    _own_vote_refused,
    _require_open_conflict,
    _resolution_decision,
    _voted_units,
)
from reviewtool.screening.rules import (
    _reason_for,
    _reason_required,
    _require_fulltext_open,
    _require_not_removed,
    _require_reference,
    exclusion_reasons,
    parse_decision,
    parse_stage,
)
from reviewtool.screening.votes import _answer_changed_vote
from reviewtool.storage.models import (
    FullTextReport,
    Member,
    Record,
    ScreeningDecision,
    ScreeningResolution,
)
from reviewtool.storage.postgres_revisit import revisit_hidden_resolution
from reviewtool.storage.queries import (
    current_resolutions,
    current_votes,
    stage_outcomes,
    stage_rules,
    unobtainable,
)
from reviewtool.storage.snapshots import (
    resolution_key,
    resolution_key_of,
    resolution_snapshot,
    vote_key,
    vote_snapshot,
)

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

    A row the same as the member's current vote on its unit (same decision, reason and note; a
    file without a note column leaves notes alone: same decision and reason) is unchanged: it is
    checked as any row (the calibration round, the stop), then nothing is written for it, so
    importing one file twice writes its events once. Returns the votes written and
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
    _apply_rows(path, rows, batch.cast)
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


def _apply_rows(path: str, rows: list[dict[str, str]], apply: Callable[..., None]) -> None:
    """Give each row of a decisions or resolutions file to ``apply`` (``_VoteBatch.cast``,
    ``_ResolutionBatch.resolve``): record id, decision, reason, note, report, and whether the
    file has a note column; an error names the file and the row's line."""
    for line, row in numbered(rows):
        with at_line(path, line):
            apply(
                int(row["record_id"]),
                row["decision"] or "",
                row.get("reason"),
                row.get("note"),
                _row_report(row),
                note_given="note" in row,
            )


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
        *,
        note_given: bool = True,
    ) -> None:
        """Check one vote and queue it (nothing but a report recorded as sought touches the
        database until ``write``). ``note_given`` False: the file has no note column, so a vote
        the same in decision and reason as the one in force is unchanged, its note kept."""
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
        if (
            old is not None
            and (old.decision, old.reason) == (parsed.value, checked)
            and (old.note == note or not note_given)
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


def import_resolutions(session: Session, *, actor: str, path: str, stage: str) -> ImportCounts:
    """Resolve many conflicts from a CSV (``record_id,decision,reason,note[,report]``), all or
    nothing.

    Each row is a resolution as ``resolve_conflict`` makes it (same checks, a contested resolution
    replaced, one ``screening-resolution`` event each; at full text on the ``report`` named, by
    default the reference's only one), with the votes and resolutions read once and the rows and
    events written in bulk. A bad row names the file and line; nothing is written then.

    A row the same as the adjudicator's own standing resolution of the unit (same decision,
    reason and note, or without a note column the same decision and reason; not contested) is
    unchanged: nothing is written for it, so importing one file
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
    _apply_rows(path, rows, batch.resolve)
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
        *,
        note_given: bool = True,
    ) -> None:
        """Check one resolution and queue it (the database is written by ``write``).
        ``note_given`` False: the file has no note column (the standing resolution's note is
        no reason to write it again)."""
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
            and (standing.decision, standing.reason) == (parsed.value, checked)
            and (standing.note == note or not note_given)
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
