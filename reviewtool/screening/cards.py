"""Screening: one reference as a reviewer sees it (``screen show``, the screening screen).

The citation, the reviewer's own vote always, and the others' votes and the outcome only where
``access.sight`` allows it (docs/blinding.md); at full text the card is about one report.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session, col, select

from reviewtool.access import require, roles_of, sight, stage_blind
from reviewtool.domain import (
    Action,
    Role,
    ScreeningOutcome,
    ScreeningStatus,
    Stage,
    Vote,
    screening_outcome,
)
from reviewtool.screening.labels import visible_labels
from reviewtool.screening.reports import NOT_RETRIEVED, _reports_of, choose_report
from reviewtool.screening.rules import _check_reference, _reference, parse_stage
from reviewtool.screening.votes import VoteView, _votes_of
from reviewtool.storage.models import FullTextReport, ImportBatch, Member, ScreeningDecision
from reviewtool.storage.queries import current_resolution, stage_rules
from reviewtool.storage.snapshots import report_snapshot


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
