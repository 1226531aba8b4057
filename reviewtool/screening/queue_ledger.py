"""What ``audit verify`` checks of calibration rounds and stops (issue 15); imported by
``screening/ledger.py``. The readers give the snapshots ``calibration.round_snapshot`` and
``stop.stop_snapshot`` give the events, read from the tables."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from sqlmodel import Session, select

from reviewtool.screening.calibration import round_snapshot
from reviewtool.screening.stop import stop_snapshot
from reviewtool.storage.models import ScreeningCalibration, ScreeningStop
from reviewtool.storage.snapshots import declare_unchecked, member_names, only, register_state


def _rounds(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    names = member_names(session)
    rows = session.exec(select(ScreeningCalibration)).all()
    yield from only(ids, ((str(r.id), round_snapshot(r, names)) for r in rows))


def _stops(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    names = member_names(session)
    rows = session.exec(select(ScreeningStop)).all()
    yield from only(ids, ((str(r.id), stop_snapshot(r, names)) for r in rows))


register_state(
    "screening_calibration",
    _rounds,
    covers={
        "screening_calibration": (
            "stage",
            "seed",
            "size",
            "sample",
            "threshold",
            "started_by_id",
            "closed_at",
            "closed_by_id",
            "outcome",
            "kappa",
            "reason",
        )
    },
)
register_state(
    "screening_stop",
    _stops,
    covers={
        "screening_stop": (
            "stage",
            "rule",
            "evidence",
            "references",
            "methods",
            "stopped_by_id",
            "resumed_at",
            "resumed_by_id",
            "resume_reason",
        )
    },
)
_ID = "a surrogate key; the row is known by its id in the ledger (the event's entity id)"
declare_unchecked(
    "screening_calibration",
    {
        "id": _ID,
        "started_at": "a copy for listings; the screening-calibration event's time is the audited one",
    },
)
declare_unchecked(
    "screening_stop",
    {
        "id": _ID,
        "stopped_at": "a copy for listings; the screening-stopped event's time is the audited one",
    },
)
