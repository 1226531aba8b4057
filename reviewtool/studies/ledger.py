"""What ``audit verify`` checks of studies: the links that put a reference into another's study.

See ``storage.snapshots`` for the registry; the ``study-changed`` event carries the same snapshot.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from sqlmodel import Session, col, select

from reviewtool.storage.models import StudyLink
from reviewtool.storage.snapshots import (
    chunks,
    declare_unchecked,
    int_ids,
    register_state,
    stream,
    who_names,
)


def _study_links(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    """record id of a reference linked to a study -> {"study": the study's record id}."""
    s = StudyLink
    query = select(s.record_id, s.study_record_id)
    for part in [None] if ids is None else list(chunks(int_ids(ids))):
        chunk = query if part is None else query.where(col(s.record_id).in_(part))
        for record_id, study in stream(session, chunk):
            yield str(record_id), {"study": study}


def _linkers(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    """record id of a linked reference -> the name of the member who linked it."""
    yield from who_names(session, StudyLink.linked_by_id, StudyLink.record_id, ids)


register_state(
    "study_link",
    _study_links,
    who=_linkers,
    who_in_state=True,  # links change only in study-changed events, made by their actor
    covers={"study_link": ("record_id", "study_record_id", "linked_by_id")},
)
declare_unchecked(
    "study_link",
    {"linked_at": "a copy for listings; the study event's time is the audited one"},
)
