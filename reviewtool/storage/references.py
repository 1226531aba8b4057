"""References: one per duplicate group, with an id that survives merges, splits and new primaries.

A reference's id is the smallest record id in its group. Everything a person decided about a
reference (title/abstract and full-text votes, resolutions, labels, full texts) is stored with the
record they saw (``record_id``) and the reference that record is in now (``reference_id``); after
every regrouping ``follow_groups`` moves ``reference_id`` with the record, so

- a merge keeps every vote: the votes of both references now stand on one (disagreeing votes are a
  conflict for the adjudicator); a reviewer who voted on both keeps one vote if the two agree and
  is asked again ("needs a fresh look", both votes superseded, none picked) if they do not;
- a split sends each vote with the record it was cast on;
- a resolution whose reference gains or loses votes is reopened: it answered the votes as they were.

``link_errors`` is the check ``audit verify`` runs: a ``reference_id`` that does not follow its
record (moved with an SQL client) is reported.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import delete, insert, update
from sqlmodel import Session, col, select

from reviewtool.errors import NotFound
from reviewtool.storage.models import (
    FullTextReport,
    Member,
    Record,
    RecordLabel,
    Reference,
    ScreeningDecision,
    ScreeningResolution,
)
from reviewtool.storage.snapshots import resolution_key_of, vote_key_of

# Tables whose rows follow the record they were made on.
FOLLOWERS: tuple[Any, ...] = (ScreeningDecision, ScreeningResolution, RecordLabel, FullTextReport)


def new_references(session: Session) -> int:
    """Give every record without one its own reference (id = the record's id); returns how many.

    Called after records are inserted, before any regrouping.
    """
    missing = [
        r
        for r in session.exec(select(Record.id).where(col(Record.reference_id).is_(None))).all()
        if r is not None
    ]
    if missing:
        session.execute(insert(Reference), [{"id": r} for r in missing])
        session.execute(update(Record), [{"id": r, "reference_id": r} for r in missing])
    return len(missing)


def reference_of(session: Session, record_id: int) -> int:
    """The reference holding record ``record_id`` (a reference id is also its first record's id).

    NotFound (one line) for an unknown record.
    """
    row = session.exec(select(Record.reference_id).where(Record.id == record_id)).first()
    if row is None:
        raise NotFound(f"no record {record_id}; see `reviewtool records list`")
    return int(row)


def primary_of(session: Session, reference_id: int) -> int:
    """The record shown for a reference: its group's primary (the most complete record)."""
    rows = session.exec(
        select(Record.id, Record.duplicate_of).where(Record.reference_id == reference_id)
    ).all()
    for rid, duplicate_of in rows:
        if duplicate_of is None and rid is not None:
            return rid
    raise NotFound(f"no reference {reference_id}; see `reviewtool records list`")


def wanted_references(session: Session) -> dict[int, int]:
    """record id -> the reference it belongs in: the smallest record id of its duplicate group."""
    rows = session.exec(select(Record.id, Record.duplicate_of)).all()
    smallest: dict[int, int] = {}
    for rid, target in rows:
        assert rid is not None
        group = target if target is not None else rid
        smallest[group] = min(smallest.get(group, rid), rid)
    return {rid: smallest[target if target is not None else rid] for rid, target in rows if rid}


def _words(decision: str, reason: str | None) -> str:
    return decision + (f" ({reason})" if reason else "")


def _unit(row: ScreeningDecision | ScreeningResolution, reference: int) -> Any:
    """What a vote or resolution is on: its report at full text (a report keeps its id through
    every regrouping: ``("report", id)``), else ``reference``."""
    if row.stage == "fulltext" and row.report_id is not None:
        return ("report", row.report_id)
    return reference


def follow_groups(session: Session, now: str) -> dict[str, dict[str, Any]]:
    """Move references with the duplicate groups just rewritten (``record.duplicate_of``).

    Returns the audit ``state`` of what changed besides the groups: votes superseded by a merge
    (``screening_vote``: key -> None) and resolutions reopened (``screening_resolution``: key ->
    None). Raises nothing; run inside the regrouping's transaction.
    """
    wanted = wanted_references(session)
    have = dict(session.exec(select(Record.id, Record.reference_id)).all())
    existing = set(session.exec(select(Reference.id)).all())
    needed = set(wanted.values())
    if needed - existing:
        session.execute(insert(Reference), [{"id": r} for r in sorted(needed - existing)])
    moved = [{"id": rid, "reference_id": ref} for rid, ref in wanted.items() if have[rid] != ref]
    if not moved and not needed ^ existing:
        return {}
    if moved:
        session.execute(update(Record), moved)
    names = dict(session.exec(select(Member.id, Member.name)).all())
    state: dict[str, dict[str, Any]] = {}

    votes = session.exec(
        select(ScreeningDecision)
        .where(col(ScreeningDecision.superseded_at).is_(None))
        .order_by(col(ScreeningDecision.id))
    ).all()
    # Full-text votes and resolutions are on a report (schema 0009), which no regrouping changes:
    # only title/abstract ones can land together.
    old_sets: dict[tuple[Any, str], set[int]] = defaultdict(set)
    by_reviewer: dict[tuple[Any, str, int], list[ScreeningDecision]] = defaultdict(list)
    for v in votes:
        assert v.id is not None
        old_sets[(_unit(v, v.reference_id), v.stage)].add(v.id)
        by_reviewer[(_unit(v, wanted[v.record_id]), v.stage, v.member_id)].append(v)
    for (_unit_of, _stage, _member), mine in by_reviewer.items():
        ref = wanted[mine[0].record_id]
        if len(mine) < 2:
            continue
        seen = "; ".join(f"{_words(v.decision, v.reason)} on record {v.record_id}" for v in mine)
        if len({(v.decision, v.reason) for v in mine}) == 1:
            # The same vote twice: the first stands, the others are history.
            dropped, because = mine[1:], f"references merged into {ref}: the same vote ({seen})"
        else:
            dropped = mine
            because = f"needs a fresh look: references merged into {ref}; you voted {seen}"
        for v in dropped:
            v.superseded_at, v.superseded_because = now, because
            session.add(v)
            state.setdefault("screening_vote", {})[vote_key_of(v, names[v.member_id])] = None
    session.flush()
    new_sets: dict[tuple[Any, str], set[int]] = defaultdict(set)
    for v in votes:
        if v.superseded_at is None and v.id is not None:
            new_sets[(_unit(v, wanted[v.record_id]), v.stage)].add(v.id)

    resolutions = session.exec(
        select(ScreeningResolution).where(col(ScreeningResolution.reopened_at).is_(None))
    ).all()
    landing: dict[tuple[Any, str], list[ScreeningResolution]] = defaultdict(list)
    for r in resolutions:
        landing[(_unit(r, wanted[r.record_id]), r.stage)].append(r)
    for (unit, stage), here in landing.items():
        ref = wanted[here[0].record_id]
        for r in here:
            before = (_unit(r, r.reference_id), stage)
            if len(here) == 1 and old_sets[before] == new_sets[(unit, stage)]:
                continue
            r.reopened_at = now
            r.reopened_because = (
                f"references regrouped: reference {ref} now holds other votes than those resolved"
            )
            session.add(r)
            state.setdefault("screening_resolution", {})[resolution_key_of(r)] = None
    session.flush()

    for model in FOLLOWERS:
        table = model.__table__
        rows = session.execute(select(table.c.id, table.c.record_id, table.c.reference_id)).all()
        changes = [
            {"id": i, "reference_id": wanted[rec]} for i, rec, ref in rows if wanted[rec] != ref
        ]
        if changes:
            session.execute(update(model), changes)
    gone = existing - needed
    if gone:
        session.execute(delete(Reference).where(col(Reference.id).in_(sorted(gone))))
    session.expire_all()
    return state


def link_errors(session: Session) -> dict[str, str]:
    """Rows whose ``reference_id`` does not follow their record (nothing when all is well).

    ``audit verify`` compares this with an empty ledger state, so a vote, resolution, label or full
    text moved to another reference behind the tool's back fails verification.
    """
    wanted = wanted_references(session)
    errors: dict[str, str] = {}
    for rid, ref in session.exec(select(Record.id, Record.reference_id)).all():
        if rid is not None and wanted.get(rid) != ref:
            errors[f"record:{rid}"] = (
                f"in reference {ref}, but its group's reference is {wanted.get(rid)}"
            )
    for model in FOLLOWERS:
        table = model.__table__
        for i, rec, ref in session.execute(
            select(table.c.id, table.c.record_id, table.c.reference_id)
        ).all():
            if wanted.get(rec) != ref:
                errors[f"{table.name}:{i}"] = (
                    f"on reference {ref}, but record {rec} is in reference {wanted.get(rec)}"
                )
    return errors


__all__ = [
    "FOLLOWERS",
    "follow_groups",
    "link_errors",
    "new_references",
    "primary_of",
    "reference_of",
    "wanted_references",
]
