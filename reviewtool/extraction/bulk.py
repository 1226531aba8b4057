"""Bulk reads of extraction values for ``compare`` and the exports: one query per table.

A review of 500 studies × 4 arms × 10 outcomes × 6 time points holds 360,000 values per extractor
(``benchmarks/bench_extraction.py``). These readers let the database do what it does fast (the
join that finds the places without a consensus in force, the grouping that finds each arm's first
row) and hand back plain tuples, so ``extraction.service`` builds no object per stored row that it
does not return.

* ``open_places``: every value at a place of its study where no consensus is in force (none, or a
  reopened one), with that consensus's ``reopened_at`` and ``reopened_because``.
* ``extractors_and_arms``: per study, the members who entered values and each arm's first row id
  (``arm rank``: arms are listed in the order they were first entered).
* ``ordered``: one extractor's values, or the consensus values in force, in the form's order, as
  ``ValueView``-shaped tuples.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import and_, func, literal, or_
from sqlmodel import Session, col, select

from reviewtool.extraction.forms import SEPARATOR, Form, ValueKey
from reviewtool.storage.models import ExtractionConsensus, ExtractionValue
from reviewtool.storage.snapshots import chunks, stream

_new_key = tuple.__new__  # ValueKey from a row's 4-tuple without the named tuple's Python __new__


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector for a bulk step (``with no_cycle_collection(): ...``).

    A bulk import or export allocates millions of tuples that live to its end; each 700 of them
    start a collection that walks the growing heap again (a third of an export's time at 360,000
    values). The steps make no reference cycles of their own; whatever cycles a library makes are
    collected once the collector runs again. Nested uses leave it to the outermost.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parts(study_ids: Iterable[int] | None) -> list[list[int] | None]:
    """``None`` (every study, one query) or the ids in lists short enough for ``IN (...)``."""
    return [None] if study_ids is None else list(chunks(sorted(set(study_ids))))


def open_places(
    session: Session, study_ids: Iterable[int] | None = None
) -> Iterator[tuple[int, int, ValueKey, str, str | None, str | None]]:
    """Every value at a place where no consensus is in force: (study id, member id, place,
    value, reopened_at, reopened_because), the last two None where no consensus exists.

    One outer join of ``extraction_value`` with ``extraction_consensus`` on the place; a study's
    values that have a consensus in force (almost all of them once two extractors agreed) never
    leave the database.
    """
    v: Any = ExtractionValue.__table__  # type: ignore[attr-defined]
    c: Any = ExtractionConsensus.__table__  # type: ignore[attr-defined]
    same_place = and_(
        c.c.study_id == v.c.study_id,
        c.c.arm == v.c.arm,
        c.c.outcome == v.c.outcome,
        c.c.time_point == v.c.time_point,
        c.c.field == v.c.field,
    )
    columns: list[Any] = [
        v.c.study_id,
        v.c.member_id,
        v.c.field,
        v.c.arm,
        v.c.outcome,
        v.c.time_point,
        v.c.value,
        c.c.reopened_at,
        c.c.reopened_because,
    ]
    query = (
        select(*columns)
        .select_from(v.outerjoin(c, same_place))
        .where(or_(c.c.id.is_(None), c.c.reopened_at.is_not(None)))
    )
    places: dict[tuple[str, ...], ValueKey] = {}
    for part in _parts(study_ids):
        chunk = query if part is None else query.where(v.c.study_id.in_(part))
        for study, member, field, arm, outcome, time, value, reopened_at, because in stream(
            session, chunk
        ):
            shape = (field, arm, outcome, time)
            place = places.get(shape)
            if place is None:
                place = places[shape] = _new_key(ValueKey, shape)
            yield study, member, place, value, reopened_at, because


def others_values(
    session: Session, study_ids: Iterable[int], member_id: int
) -> dict[int, list[dict[str, str]]]:
    """study -> one dict per other member (place -> value) of the members other than
    ``member_id`` with values in the study: what a writer compares its values with to find
    agreement (the value alone, not its row, version or provenance).

    A place is named by the tail of its ledger id, ``arm|outcome|time point|field`` (the value
    id after ``study|member|``, ``forms.value_id``), joined by the database: one text a row
    instead of four.
    """
    v: Any = ExtractionValue.__table__  # type: ignore[attr-defined]
    tail = v.c.arm
    for column in (v.c.outcome, v.c.time_point, v.c.field):
        tail = tail + literal(SEPARATOR) + column
    query = select(v.c.study_id, v.c.member_id, tail, v.c.value).where(v.c.member_id != member_id)
    found: dict[tuple[int, int], dict[str, str]] = {}
    last: tuple[int, int] | None = None
    values: dict[str, str] = {}
    for part in _parts(study_ids):
        chunk = query if part is None else query.where(v.c.study_id.in_(part))
        for study, member, place, value in stream(session, chunk):
            if last is None or study != last[0] or member != last[1]:  # rows come grouped
                last = (study, member)
                got = found.get(last)
                values = found[last] = {} if got is None else got
            values[place] = value
    by_study: dict[int, list[dict[str, str]]] = {}
    for (study, _), values in sorted(found.items()):
        by_study.setdefault(study, []).append(values)
    return by_study


def extractors_and_arms(
    session: Session, study_ids: Iterable[int] | None = None
) -> tuple[dict[int, set[int]], dict[int, dict[str, int]]]:
    """Per study: the ids of the members with values in it, and arm -> the smallest row id among
    every member's values of that arm (one grouped query over the unique index)."""
    v = ExtractionValue
    query = select(v.study_id, v.member_id, v.arm, func.min(col(v.id))).group_by(
        col(v.study_id), col(v.member_id), col(v.arm)
    )
    members: dict[int, set[int]] = {}
    ranks: dict[int, dict[str, int]] = {}
    for part in _parts(study_ids):
        chunk = query if part is None else query.where(col(v.study_id).in_(part))
        for study, member, arm, first in stream(session, chunk):
            members.setdefault(study, set()).add(member)
            if arm:
                arms = ranks.setdefault(study, {})
                if first < arms.get(arm, first + 1):
                    arms[arm] = first
    return members, ranks


def ordered(
    session: Session,
    form: Form,
    labels: dict[int, str],
    *,
    member_id: int | None,
    who: str,
    study_ids: Iterable[int] | None = None,
) -> list[tuple[Any, ...]]:
    """The values of member ``member_id`` (or, when None, the consensus values in force) of the
    studies in ``labels`` (study id -> label; ``study_ids`` narrows the query), as tuples in
    ``ValueView``'s field order (study id, study, extractor ``who``, arm, outcome, time point,
    field, value, form version, source kind, source), sorted by study id, then in the form's order
    (``Form.order``) with each study's arms in the order first entered (the smallest row id among
    the member's rows, or among all consensus rows, reopened ones included), then by place.

    Two queries: the arms' first rows (grouped, over the unique index) and the rows themselves;
    each row costs one tuple, and the sort compares integers.
    """
    m: Any = ExtractionValue if member_id is not None else ExtractionConsensus
    mine = [] if member_id is None else [m.member_id == member_id]
    first_rows = (
        select(m.study_id, m.arm, func.min(m.id))
        .where(m.arm != "", *mine)
        .group_by(col(m.study_id), col(m.arm))
    )
    columns: list[Any] = [
        m.study_id,
        m.field,
        m.arm,
        m.outcome,
        m.time_point,
        m.value,
        m.form_version,
        m.source_kind,
        m.source,
    ]
    query = select(*columns).where(
        *mine, *([] if member_id is not None else [col(m.reopened_at).is_(None)])
    )
    # Each study's arms numbered 1, 2, ... in order of first entry (the row ids' order, as small
    # numbers), so a (place, arm number) slot repeats across studies and is ranked once.
    first: dict[int, list[tuple[int, str]]] = {}
    for part in _parts(study_ids):
        chunk = first_rows if part is None else first_rows.where(col(m.study_id).in_(part))
        for study, arm, row_id in stream(session, chunk):
            first.setdefault(study, []).append((row_id, arm))
    number = {
        (study, arm): i
        for study, arms in first.items()
        for i, (_, arm) in enumerate(sorted(arms), start=1)
    }
    numbers: dict[int, dict[str, int]] = {}
    for (study, arm), i in number.items():
        numbers.setdefault(study, {})[arm] = i
    # (field, arm, outcome, time point, arm number) -> (slot number, the place's four texts): each
    # distinct slot is seen once and its texts kept once (rows share them)
    seen: dict[tuple[str, str, str, str, int], tuple[int, str, str, str, str]] = {}
    slots: list[tuple[ValueKey, int]] = []
    pooled: dict[str, str] = {}
    found: list[tuple[Any, ...]] = []
    row_slots: list[int] = []  # per row: study << 24 | slot number
    last_study, label, arm_numbers = None, None, {}
    for part in _parts(study_ids):
        chunk = query if part is None else query.where(col(m.study_id).in_(part))
        for study, field, arm, outcome, time, value, version, kind, source in stream(
            session, chunk
        ):
            if study != last_study:  # rows come a study at a time: look it up once per run
                last_study, label = study, labels.get(study)
                arm_numbers = numbers.get(study, {})
            if label is None:
                continue  # a study no longer included
            shape = (field, arm, outcome, time, arm_numbers.get(arm, 0))
            slot = seen.get(shape)
            if slot is None:
                slot = seen[shape] = (len(slots), field, arm, outcome, time)
                slots.append((_new_key(ValueKey, shape[:4]), shape[4]))
            row_slots.append(study << 24 | slot[0])
            found.append(
                (
                    study,
                    label,
                    who,
                    slot[2],
                    slot[3],
                    slot[4],
                    slot[1],
                    value,
                    version,
                    pooled.setdefault(kind, kind),
                    pooled.setdefault(source, source),
                )
            )
    ranked = sorted(range(len(slots)), key=lambda i: (form.order(*slots[i]), slots[i][0]))
    rank = [0] * len(slots)
    for position, i in enumerate(ranked, start=1):
        rank[i] = position
    width, low = len(slots) + 1, (1 << 24) - 1
    keys = [(packed >> 24) * width + rank[packed & low] for packed in row_slots]
    del row_slots
    return [found[i] for i in sorted(range(len(found)), key=keys.__getitem__)]


__all__ = [
    "extractors_and_arms",
    "no_cycle_collection",
    "open_places",
    "ordered",
    "others_values",
]
