"""Screening: the conflicts list for adjudicators (``screen conflicts``, the adjudication screen).

Open conflicts (with the earlier resolution of a reopened one), contested resolutions (the votes
came to agree against them) and, if asked, the resolved ones; at full text per report. Read from
the database at call time; adjudicators only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlmodel import Session, col, select

from reviewtool.access import require
from reviewtool.domain import Action, ScreeningStatus, Stage
from reviewtool.screening.rules import _reference, parse_stage
from reviewtool.screening.votes import VoteView, _votes_of
from reviewtool.storage.models import FullTextReport, Member, ScreeningResolution
from reviewtool.storage.queries import current_resolutions, unit_outcomes
from reviewtool.storage.snapshots import report_snapshot, resolution_snapshot


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
