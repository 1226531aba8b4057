"""What ``audit verify`` checks of the review row and its settings (see ``storage.snapshots``)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from sqlmodel import Session, select

from reviewtool.storage.models import ReviewInfo, ReviewSetting
from reviewtool.storage.snapshots import (
    declare_unchecked,
    json_or_text,
    only,
    register_state,
    who_names,
)


def _reviews(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    rows = session.exec(select(ReviewInfo.id, ReviewInfo.title, ReviewInfo.question)).all()
    yield from only(ids, ((str(i), {"title": t, "question": q}) for i, t, q in rows))


def _settings(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    rows = session.exec(select(ReviewSetting.key, ReviewSetting.value)).all()
    yield from only(ids, ((key, json_or_text(value)) for key, value in rows))


def _creators(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    yield from who_names(session, ReviewInfo.created_by_id, ReviewInfo.id, ids)


register_state(
    "review",
    _reviews,
    who=_creators,
    covers={"review": ("id", "title", "question", "created_by_id")},
)
register_state("review_setting", _settings, covers={"review_setting": ("key", "value")})
declare_unchecked(
    "review",
    {
        "created_at": "a copy for listings; the review-created event's time is the audited one",
    },
)
