"""What ``audit verify`` checks of stored analysis runs (see ``storage.snapshots``)."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
from typing import Any

from sqlmodel import Session, col, select

from reviewtool.storage.models import AnalysisRun
from reviewtool.storage.snapshots import (
    declare_unchecked,
    int_ids,
    json_or_text,
    register_state,
    who_names,
)


def _runs(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    columns: list[Any] = [
        AnalysisRun.id,
        AnalysisRun.name,
        AnalysisRun.settings,
        AnalysisRun.input_sha256,
        AnalysisRun.input_source,
        AnalysisRun.results,
    ]
    query = select(*columns)
    if ids is not None:
        query = query.where(col(AnalysisRun.id).in_(int_ids(ids)))
    for run_id, name, settings, input_sha256, input_source, results in session.exec(query):
        # The same form as ``storage.snapshots.analysis_run_snapshot``.
        yield (
            str(run_id),
            {
                "name": name,
                "settings": json_or_text(settings),
                "input_sha256": input_sha256,
                "input_source": input_source,
                "results_sha256": hashlib.sha256(results.encode("utf-8")).hexdigest(),
            },
        )


def _runners(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    yield from who_names(session, AnalysisRun.run_by_id, AnalysisRun.id, ids)


register_state(
    "analysis_run",
    _runs,
    who=_runners,
    covers={
        "analysis_run": (
            "id",
            "name",
            "settings",
            "input_sha256",
            "input_source",
            "results",
            "run_by_id",
        ),
    },
)
declare_unchecked(
    "analysis_run",
    {
        "run_at": "a copy for listings; the analysis-run event's time is the audited one",
    },
)
