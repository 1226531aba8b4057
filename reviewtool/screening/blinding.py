"""Screening: ending blinding at a stage (``screen unblind``).

While a stage is blind a reviewer sees their own votes only (``access.sight``, docs/blinding.md);
an owner ends it, once and for good, with a ``stage-unblinded`` event.
"""

from __future__ import annotations

import json

from sqlmodel import Session

from reviewtool import audit
from reviewtool.access import require, stage_blind
from reviewtool.audit.events import StageUnblinded
from reviewtool.domain import Action, Stage
from reviewtool.screening.reports import seek_reports
from reviewtool.screening.rules import parse_stage
from reviewtool.storage.models import ReviewSetting


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
