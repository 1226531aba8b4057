"""What ``audit verify`` checks of duplicate groups and candidate pairs (see ``storage.snapshots``)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from sqlmodel import Session, col, select

from reviewtool.storage.models import DedupPair, Record
from reviewtool.storage.snapshots import (
    chunks,
    declare_unchecked,
    int_ids,
    member_names,
    pair_snapshot,
    register_state,
    stream,
)

_PAIR_FIELDS = ("id", "record_a", "record_b", "status", "decided_by_id")


def _duplicates(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    query = select(Record.id, Record.duplicate_of).where(col(Record.duplicate_of).is_not(None))
    if ids is None:
        for record_id, target in stream(session, query):
            yield str(record_id), target
        return
    for part in chunks(int_ids(ids)):
        for record_id, target in stream(session, query.where(col(Record.id).in_(part))):
            yield str(record_id), target


def _pairs(session: Session, ids: Collection[str] | None) -> Iterator[tuple[str, Any]]:
    """Pairs by id; who decided each is named (``decided_by_id`` -> the member's name)."""
    names = member_names(session)
    query = select(*[getattr(DedupPair, name) for name in _PAIR_FIELDS])
    parts = [None] if ids is None else list(chunks(int_ids(ids)))
    for part in parts:
        chunk = query if part is None else query.where(col(DedupPair.id).in_(part))
        for row in stream(session, chunk):
            yield str(row[0]), pair_snapshot(dict(zip(_PAIR_FIELDS, row, strict=True)), names)


register_state("record_duplicate", _duplicates, covers={"record": ("id", "duplicate_of")})
register_state("dedup_pair", _pairs, covers={"dedup_pair": _PAIR_FIELDS})
_SCORER = (
    "what the scorer said; the run's event holds its settings and counts, and a re-run redoes it"
)
declare_unchecked(
    "dedup_pair",
    {
        "run_id": "which run scored the pair, for listings; the dedup-run event lists its pairs",
        "score": _SCORER,
        "outcome": _SCORER,
        "reasons": _SCORER,
        "fields": _SCORER,
        "decided_at": "a copy for listings; the dedup-decision event's time is the audited one",
        "note": "a copy for listings; the dedup-decision event holds the note, hashed",
    },
)
declare_unchecked(
    "dedup_run",
    {
        "id": "a run's settings and counts are in its dedup-run event, hashed; these are copies",
        "run_by_id": "who ran it, for listings: the member whose name is the dedup-run event's "
        "actor, the audited one",
        "run_at": "a copy for listings; the dedup-run event's time is the audited one",
        "settings": "a copy of the dedup-run event's settings (hashed there)",
        "records": "a copy of the dedup-run event's counts (hashed there)",
        "candidate_pairs": "a copy of the dedup-run event's counts (hashed there)",
        "auto_merged": "a copy of the dedup-run event's counts (hashed there)",
        "queued": "a copy of the dedup-run event's counts (hashed there)",
    },
)
