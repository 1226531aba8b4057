"""Deduplication inside a review: score, merge the certain, queue the uncertain, undo on request.

Nothing is deleted. A merge sets ``record.duplicate_of`` to the group's primary (its most complete
record); the pairs behind every group are kept with their scores and reasons; a person's confirm or
reject is a pair status that later runs respect, and ``undo`` rejects every link of a group.
Groups are always rebuilt from the stored pairs by one function, ``_regroup``, so automatic runs and
human decisions cannot disagree about who belongs with whom.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from reviewtool import audit
from reviewtool.access import require
from reviewtool.audit.events import DedupDecided, DedupRunCompleted, DedupRunGroup, Event
from reviewtool.csvfiles import at_line, numbered, read_rows
from reviewtool.dedup.clusters import UnionFind
from reviewtool.dedup.engine import DedupInput, find_duplicates
from reviewtool.dedup.similarity import PairDecision, Thresholds
from reviewtool.domain import Action
from reviewtool.errors import InvalidInput, NotFound
from reviewtool.storage.models import DedupPair, DedupRun, ImportBatch, Record
from reviewtool.storage.queries import dedup_queue_size
from reviewtool.storage.references import follow_groups
from reviewtool.storage.snapshots import member_names, pair_snapshot

LINKS = ("merged", "confirmed")
"""Pair statuses that put two records in one group."""

_COMPLETENESS_FIELDS = (
    "title",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "abstract",
)


def _completeness(row: Any) -> int:
    filled = sum(1 for name in _COMPLETENESS_FIELDS if getattr(row, name))
    return filled + (1 if row.authors not in (None, "", "[]") else 0)


def _dedup_input(row: Any) -> DedupInput:
    extra = json.loads(row.extra or "{}")
    return DedupInput(
        id=str(row.id),
        title=row.title,
        authors=tuple(json.loads(row.authors or "[]")),
        year=row.year,
        journal=row.journal,
        volume=row.volume,
        issue=row.issue,
        pages=row.pages,
        doi=row.doi,
        pmid=row.pmid,
        abstract=row.abstract,
        publication_type=row.publication_type,
        booktitle=extra.get("booktitle"),
        isbn=extra.get("isbn"),
        article_number=extra.get("article_number"),
    )


# Column-level reads and bulk writes: at 100k records ORM objects cost more than the matching itself.
_RECORD_COLUMNS = ("id", "duplicate_of", "authors", "extra", "title", "year", "journal", "volume",
                   "issue", "pages", "doi", "pmid", "abstract", "publication_type")  # fmt: skip
_PAIR_COLUMNS = ("id", "record_a", "record_b", "score", "status", "decided_by_id")


def _columns(model: Any, names: tuple[str, ...]) -> Any:
    # sqlmodel's select() is typed for at most four columns; build the statement on the table.
    table = model.__table__
    return sa_select(*(table.c[name] for name in names))


def _record_rows(session: Session) -> list[Any]:
    return list(session.execute(_columns(Record, _RECORD_COLUMNS).order_by(col(Record.id))).all())


@dataclass
class Regrouped:
    """What one regrouping changed: ``records`` (record id -> its new primary, None for a
    primary or a record alone) and ``requeued`` (automatic merges sent back to the queue because
    they would join the two records of a rejected pair: pair id -> its snapshot, now pending)."""

    records: dict[str, int | None]
    requeued: dict[str, dict[str, Any]]

    def state(self, pairs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The ledger's ``state`` of a change: ``pairs`` (the pairs changed on purpose) and the
        pairs and records the regrouping changed with them (a pair sent back to the queue is
        recorded as it stands, pending)."""
        return {"dedup_pair": {**pairs, **self.requeued}, "record_duplicate": self.records}


def _grouping(
    ids: list[str], completeness: dict[str, int], pairs: Iterable[Any]
) -> tuple[dict[str, int | None], list[Any]]:
    """The groups of ``ids`` that the stored ``pairs`` make: the one rule, on any set of records
    closed under links (all of them, or the records a decision can reach).

    Confirmed pairs are joined first, then automatic merges strongest first; a union that would put
    the two records of a rejected pair into one group is skipped, and that pair goes back to the
    queue. Each group's primary is its most complete record (ties: the smallest id). ``pairs`` have
    ``record_a``, ``record_b``, ``score`` and ``status``. Returns (record id -> primary, or None
    for a primary or a record alone; the pairs to send back to the queue).
    """
    uf = UnionFind(ids)
    pairs = list(pairs)
    rejected: dict[int, set[int]] = defaultdict(set)
    for p in pairs:
        if p.status == "rejected":
            rejected[p.record_a].add(p.record_b)
            rejected[p.record_b].add(p.record_a)
    links = sorted(
        (p for p in pairs if p.status in LINKS),
        key=lambda p: (p.status != "confirmed", -p.score, p.record_a, p.record_b),
    )
    requeued: list[Any] = []
    for pair in links:
        a, b = str(pair.record_a), str(pair.record_b)
        if uf.find(a) == uf.find(b):
            continue
        left = [int(x) for x in uf.members(a)]
        right = {int(x) for x in uf.members(b)}
        if any(rejected[x] & right for x in left):
            requeued.append(pair)
            continue
        uf.union(a, b)
    wanted: dict[str, int | None] = {}
    done: set[str] = set()
    for rid in ids:
        root = uf.find(rid)
        if root in done:
            continue
        done.add(root)
        members = uf.members(rid)
        primary = min(members, key=lambda m: (-completeness[m], int(m)))
        for m in members:
            wanted[m] = None if m == primary or len(members) == 1 else int(primary)
    return wanted, requeued


def _regroup(session: Session, records: list[Any] | None = None) -> Regrouped:
    """Rebuild every group from the stored pairs (``_grouping``); write and return what changed."""
    records = records if records is not None else _record_rows(session)
    pairs = session.execute(_columns(DedupPair, _PAIR_COLUMNS)).all()
    wanted, requeued = _grouping(
        [str(r.id) for r in records], {str(r.id): _completeness(r) for r in records}, pairs
    )
    if requeued:
        session.execute(update(DedupPair), [{"id": p.id, "status": "pending"} for p in requeued])
    current = {str(r.id): r.duplicate_of for r in records}
    changes = {rid: target for rid, target in wanted.items() if current[rid] != target}
    if changes:
        # One executemany UPDATE by primary key; objects already in the session are expired so
        # nobody reads a stale group afterwards.
        session.execute(
            update(Record), [{"id": int(r), "duplicate_of": t} for r, t in changes.items()]
        )
    if changes or requeued:
        session.expire_all()
    names = member_names(session) if requeued else {}
    return Regrouped(
        changes,
        {str(p.id): pair_snapshot({**p._asdict(), "status": "pending"}, names) for p in requeued},
    )


@dataclass(frozen=True)
class DedupRunReport:
    """What one `dedup run` did."""

    run_id: int
    records: int
    candidate_pairs: int
    auto_merged: int
    queued: int
    groups: int
    duplicates: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def run_dedup(
    session: Session,
    *,
    actor: str,
    thresholds: Thresholds | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DedupRunReport:
    """Score all records, store merge/review pairs, regroup; a person's earlier decisions stand.
    ``progress(done, total)``: candidate pairs scored (``engine.find_duplicates``)."""
    runner = require(session, actor, Action.DEDUPLICATE)
    assert runner.id is not None
    records = _record_rows(session)
    if not records:
        raise InvalidInput("there are no records to deduplicate; import search exports first")
    thresholds = thresholds or Thresholds()
    result = find_duplicates(
        [_dedup_input(r) for r in records], thresholds=thresholds, progress=progress
    )
    run = DedupRun(
        run_by_id=runner.id,
        run_at=audit.log.utc_now(),
        settings=json.dumps(asdict(thresholds)),
        records=len(records),
        candidate_pairs=len(result.pairs),
        auto_merged=0,
        queued=0,
    )
    session.add(run)
    session.flush()
    assert run.id is not None

    existing = {
        (p.record_a, p.record_b): p
        for p in session.execute(_columns(DedupPair, _PAIR_COLUMNS)).all()
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for score in result.pairs:
        if score.decision is PairDecision.DISTINCT:
            continue
        a, b = sorted((int(score.a), int(score.b)))
        old = existing.get((a, b))
        if old is not None and old.status in ("confirmed", "rejected"):
            continue
        row = {
            "run_id": run.id,
            "score": round(float(score.score), 6),
            "outcome": score.decision.value,
            "reasons": json.dumps(list(score.reasons), ensure_ascii=False),
            "fields": json.dumps({k: round(v, 4) for k, v in score.fields.items()}),
            "status": "merged" if score.decision is PairDecision.MERGE else "pending",
        }
        if old is None:
            inserts.append({"record_a": a, "record_b": b, **row})
        elif (old.status, old.score) != (row["status"], row["score"]):
            updates.append({"id": old.id, **row})
    if inserts:
        session.execute(insert(DedupPair), inserts)
    if updates:
        session.execute(update(DedupPair), updates)
    regrouped = _regroup(session, records)
    changes = regrouped.records
    followed = follow_groups(session, run.run_at)
    touched_keys = {(r["record_a"], r["record_b"]) for r in inserts}
    touched_ids = {r["id"] for r in updates} | {int(i) for i in regrouped.requeued}
    touched = [
        p
        for p in session.execute(_columns(DedupPair, _PAIR_COLUMNS)).all()
        if p.id in touched_ids or (p.record_a, p.record_b) in touched_keys
    ]
    run.auto_merged = sum(1 for p in touched if p.status == "merged")
    run.queued = dedup_queue_size(session)
    session.add(run)
    groups, duplicates = _group_counts(session)
    counts = {
        "records": len(records),
        "candidate_pairs": len(result.pairs),
        "auto_merged": run.auto_merged,
        "queued": run.queued,
        "groups": groups,
        "duplicates": duplicates,
    }
    session.flush()
    scores = _pair_scores(session, [p.id for p in touched])
    events: list[Event] = [
        DedupRunGroup(
            run_id=run.id,
            group_id=group_id,
            state=state,
            scores={pid: scores[pid] for pid in state["dedup_pair"]},
        )
        for group_id, state in _run_groups(touched, changes, records, member_names(session))
    ]
    events.append(
        DedupRunCompleted(run_id=run.id, settings=asdict(thresholds), counts=counts, state=followed)
    )
    audit.log.record_many(session, actor, events)
    return DedupRunReport(run_id=run.id, **counts)


def _pair_scores(session: Session, pair_ids: list[int]) -> dict[str, dict[str, Any]]:
    """pair id (text) -> what the scorer said of it (run, score, outcome, reasons, per-field
    similarities): the columns ``audit verify`` does not compare, carried by ``dedup-run-group``
    events so that ``audit replay`` rebuilds the pairs whole."""
    table: Any = DedupPair.__table__  # type: ignore[attr-defined]
    columns = (table.c.id, table.c.run_id, table.c.score, table.c.outcome, table.c.reasons)
    found: dict[str, dict[str, Any]] = {}
    for part in range(0, len(pair_ids), 500):
        chosen = pair_ids[part : part + 500]
        query = sa_select(*columns, table.c.fields).where(table.c.id.in_(chosen))
        for pid, run_id, score, outcome, reasons, fields in session.execute(query).all():
            found[str(pid)] = {
                "run_id": run_id,
                "score": score,
                "outcome": outcome,
                "reasons": json.loads(reasons),
                "fields": fields,  # as stored: the scorer's order of fields
            }
    return found


def _run_groups(
    pairs: list[Any], changes: dict[str, int | None], records: list[Any], names: dict[int, str]
) -> list[tuple[int, dict[str, dict[str, Any]]]]:
    """A run's changes split into the connected sets of records they concern, one per event.

    ``pairs`` are the pair rows the run stored or changed, ``changes`` the records whose group
    changed (record id -> its primary, None for a primary or a record left alone) and ``records``
    the record rows as they were before the run; ``names`` member id -> name. Returns ``(group_id, state)`` sorted by group id:
    the set's pairs and records in the ledger's ``state`` shape, and the primary of its largest
    group after the run (ties: the smallest id).
    """
    edges = [(str(p.record_a), str(p.record_b)) for p in pairs]
    edges += [(rid, str(target)) for rid, target in changes.items() if target is not None]
    uf = UnionFind({rid for edge in edges for rid in edge} | set(changes))
    for a, b in edges:
        uf.union(a, b)
    before = {str(r.id): r.duplicate_of for r in records}

    def group_of(rid: str) -> int:
        target = changes[rid] if rid in changes else before.get(rid)
        return target if target is not None else int(rid)

    sets: dict[str, dict[str, dict[str, Any]]] = defaultdict(
        lambda: {"dedup_pair": {}, "record_duplicate": {}}
    )
    for pair in pairs:
        sets[uf.find(str(pair.record_a))]["dedup_pair"][str(pair.id)] = pair_snapshot(
            pair._asdict(), names
        )
    for rid, target in changes.items():
        sets[uf.find(rid)]["record_duplicate"][rid] = target
    out = []
    for root, state in sets.items():
        sizes = Counter(group_of(rid) for rid in uf.members(root))
        group_id = min(sizes, key=lambda g: (-sizes[g], g))
        out.append((group_id, state))
    return sorted(out, key=lambda item: item[0])


def _group_counts(session: Session) -> tuple[int, int]:
    targets = session.exec(
        select(Record.duplicate_of).where(col(Record.duplicate_of).is_not(None))
    ).all()
    return len(set(targets)), len(targets)


def _group_id(record: Record) -> int:
    assert record.id is not None
    return record.duplicate_of or record.id


@dataclass(frozen=True)
class QueuedPair:
    """A pair waiting for a person, with both records and the evidence."""

    pair_id: int
    score: float
    reasons: tuple[str, ...]
    fields: dict[str, float]
    a: dict[str, Any]
    b: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def record_fields(session: Session, record: Record) -> dict[str, Any]:
    """A record's fields as a person compares them (with its source database)."""
    batch = session.get(ImportBatch, record.batch_id)
    return {
        "record_id": record.id,
        "source": batch.source if batch else "",
        "source_key": record.source_key,
        "title": record.title,
        "authors": "; ".join(json.loads(record.authors or "[]")),
        "year": record.year,
        "journal": record.journal,
        "volume": record.volume,
        "issue": record.issue,
        "pages": record.pages,
        "doi": record.doi,
        "pmid": record.pmid,
        "publication_type": record.publication_type,
        "abstract": record.abstract,
    }


def review_queue(session: Session) -> list[QueuedPair]:
    """Pending pairs whose records are still in different groups, strongest first.

    Each side holds the record's fields (``record_fields``) plus ``group_id`` (its group's primary,
    itself when alone) and ``group_records`` (the other records already in its group, sorted), so
    a person is warned that confirming joins two groups.
    """
    pending = session.exec(
        select(DedupPair)
        .where(DedupPair.status == "pending")
        .order_by(col(DedupPair.score).desc(), col(DedupPair.id))
    ).all()
    groups: dict[int, list[int]] = {}
    for rid, target in session.exec(
        select(Record.id, Record.duplicate_of).where(col(Record.duplicate_of).is_not(None))
    ).all():
        assert rid is not None and target is not None
        groups.setdefault(target, [target]).append(rid)

    def side(record: Record) -> dict[str, Any]:
        group = _group_id(record)
        others = sorted(r for r in groups.get(group, []) if r != record.id)
        return {**record_fields(session, record), "group_id": group, "group_records": others}

    queue: list[QueuedPair] = []
    for pair in pending:
        a, b = session.get(Record, pair.record_a), session.get(Record, pair.record_b)
        assert a is not None and b is not None and pair.id is not None
        if _group_id(a) == _group_id(b):
            continue
        queue.append(
            QueuedPair(
                pair_id=pair.id,
                score=pair.score,
                reasons=tuple(json.loads(pair.reasons)),
                fields=json.loads(pair.fields),
                a=side(a),
                b=side(b),
            )
        )
    return queue


def _find_pair(session: Session, pair_id: int) -> DedupPair:
    pair = session.get(DedupPair, pair_id)
    if pair is None:
        raise NotFound(f"no candidate pair {pair_id}; see `reviewtool dedup queue`")
    return pair


def _pair_for_records(
    session: Session, record_a: int, record_b: int, actor: str, note: str | None
) -> DedupPair:
    """The stored pair of two records, or a new one for a duplicate a person spotted themselves."""
    a, b = sorted((record_a, record_b))
    if a == b:
        raise InvalidInput(f"record {a} cannot be a duplicate of itself")
    for rid in (a, b):
        if session.get(Record, rid) is None:
            raise NotFound(f"no record {rid}; see `reviewtool records list`")
    pair = session.exec(
        select(DedupPair).where(DedupPair.record_a == a, DedupPair.record_b == b)
    ).first()
    if pair is None:
        last_run = session.exec(select(DedupRun.id).order_by(col(DedupRun.id).desc())).first()
        if last_run is None:
            raise InvalidInput("run `reviewtool dedup run` before deciding pairs")
        pair = DedupPair(
            record_a=a,
            record_b=b,
            run_id=last_run,
            score=0.0,
            outcome="flagged",
            reasons=json.dumps([f"flagged by {actor}"]),
            status="pending",
            note=note,
        )
        session.add(pair)
        session.flush()
    return pair


def decide_pair(
    session: Session,
    *,
    actor: str,
    decision: str,
    pair_id: int | None = None,
    records: tuple[int, int] | None = None,
    note: str | None = None,
) -> dict[str, int | None]:
    """Confirm (``confirm``) or reject (``reject``) a pair, by pair id or by its two record ids.

    Returns the records whose group changed.
    """
    member = require(session, actor, Action.DEDUPLICATE)
    if decision not in ("confirm", "reject"):
        raise InvalidInput(f"decision must be confirm or reject, not {decision!r}")
    if pair_id is not None:
        pair = _find_pair(session, pair_id)
    elif records is not None:
        pair = _pair_for_records(session, records[0], records[1], actor, note)
    else:
        raise InvalidInput("name the pair (its id) or its two records")
    pair.status = "confirmed" if decision == "confirm" else "rejected"
    pair.decided_by_id = member.id
    pair.decided_at = audit.log.utc_now()
    pair.note = note if note is not None else pair.note
    session.add(pair)
    session.flush()
    snapshot = {str(pair.id): pair_snapshot(pair, member_names(session))}
    regrouped = _regroup(session)
    followed = follow_groups(session, audit.log.utc_now())
    record_a = session.get(Record, pair.record_a)
    assert record_a is not None
    audit.record(
        session,
        actor,
        DedupDecided(
            group_id=_group_id(record_a),
            decision=decision,
            note=note,
            state={**regrouped.state(snapshot), **followed},
        ),
    )
    return regrouped.records


def flag_duplicate(
    session: Session, *, actor: str, record_a: int, record_b: int, note: str | None = None
) -> int:
    """Put two records a person suspects are duplicates into the review queue; returns the pair id."""
    require(session, actor, Action.SCREEN, doing="flag a duplicate")
    pair = _pair_for_records(session, record_a, record_b, actor, note)
    assert pair.id is not None
    if pair.status in ("confirmed", "rejected", "merged"):
        raise InvalidInput(
            f"records {pair.record_a} and {pair.record_b} were {pair.status} already (pair {pair.id})"
        )
    if pair.status != "pending":
        pair.status = "pending"
        session.add(pair)
        session.flush()
    record = session.get(Record, pair.record_a)
    assert record is not None
    audit.record(
        session,
        actor,
        DedupDecided(
            group_id=_group_id(record),
            decision="flag",
            note=note,
            state={
                "dedup_pair": {str(pair.id): pair_snapshot(pair, member_names(session))},
                "record_duplicate": {},
            },
        ),
    )
    return pair.id


def undo_group(
    session: Session, *, actor: str, group_id: int, note: str | None = None
) -> list[int]:
    """Split the group holding record ``group_id`` (its primary, or any of its records) back into
    its records; returns them. Votes and other decisions go with the record they were made on.

    Every link inside the group becomes a rejected pair, so later runs keep the records apart.
    """
    member = require(session, actor, Action.DEDUPLICATE)
    named = session.get(Record, group_id)
    if named is not None and named.duplicate_of is not None:
        group_id = named.duplicate_of  # any record of the group names it
    members = session.exec(
        select(Record).where((col(Record.duplicate_of) == group_id) | (col(Record.id) == group_id))
    ).all()
    if len(members) < 2:
        raise NotFound(
            f"no duplicate group {group_id}; groups are named by their primary record id"
        )
    ids = {m.id for m in members}
    now = audit.log.utc_now()
    changed_pairs: list[DedupPair] = []
    for pair in session.exec(select(DedupPair).where(col(DedupPair.status).in_(LINKS))).all():
        if pair.record_a in ids and pair.record_b in ids:
            pair.status, pair.decided_by_id, pair.decided_at = "rejected", member.id, now
            pair.note = note or "group undone"
            session.add(pair)
            changed_pairs.append(pair)
    session.flush()
    names = member_names(session)
    snapshots = {str(p.id): pair_snapshot(p, names) for p in changed_pairs}
    regrouped = _regroup(session)
    followed = follow_groups(session, audit.log.utc_now())
    audit.record(
        session,
        actor,
        DedupDecided(
            group_id=group_id,
            decision="undo",
            note=note,
            state={**regrouped.state(snapshots), **followed},
        ),
    )
    return sorted(i for i in ids if i is not None)


@dataclass(frozen=True)
class SourceCount:
    """Records of one database: identified, removed as duplicates, kept."""

    source: str
    identified: int
    duplicates_removed: int
    kept: int


@dataclass(frozen=True)
class DedupReport:
    """PRISMA identification numbers: records identified, duplicates removed, records left."""

    identified: int
    duplicates_removed: int
    remaining: int
    groups: int
    queued: int
    by_source: tuple[SourceCount, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def dedup_report(session: Session) -> DedupReport:
    """Counts per source and the PRISMA "duplicate records removed" number."""
    batches = {b.id: b.source for b in session.exec(select(ImportBatch)).all()}
    identified: Counter[str] = Counter()
    removed: Counter[str] = Counter()
    for batch_id, duplicate_of in session.exec(select(Record.batch_id, Record.duplicate_of)).all():
        source = batches[batch_id]
        identified[source] += 1
        if duplicate_of is not None:
            removed[source] += 1
    groups, duplicates = _group_counts(session)
    total = sum(identified.values())
    return DedupReport(
        identified=total,
        duplicates_removed=duplicates,
        remaining=total - duplicates,
        groups=groups,
        queued=len(review_queue(session)),
        by_source=tuple(
            SourceCount(s, identified[s], removed[s], identified[s] - removed[s])
            for s in sorted(identified)
        ),
    )


def export_groups(session: Session) -> Iterable[dict[str, Any]]:
    """One row per record: source_id, batch, group_id, is_primary (for scoring against labels)."""
    for r in session.exec(select(Record).order_by(col(Record.id))).all():
        assert r.id is not None
        yield {
            "record_id": r.id,
            "source_id": r.source_key or "",
            "batch": r.batch_id,
            "group_id": r.duplicate_of or r.id,
            "is_primary": r.duplicate_of is None,
        }


@dataclass(frozen=True)
class ImportCounts:
    """What ``decide_from_file`` did with a file's rows.

    :ivar written: decisions applied (one ``dedup-decision`` event each).
    :ivar unchanged: rows that repeat the pair's decision in force (the same status, decided by
        the same person, and no note or the same note): nothing written, no event.
    """

    written: int
    unchanged: int


def decide_from_file(session: Session, *, actor: str, path: str) -> ImportCounts:
    """Apply a CSV of decisions (``pair_id`` or ``record_a,record_b``; ``decision``; ``note``).

    Each row is a decision as ``decide_pair`` makes it (same checks, one ``dedup-decision`` event
    each with the pairs and records it changed), but the records and pairs are read once and each
    row regroups only the records its pair can reach, so a file costs its rows, not rows x review.
    All rows or none: an unknown record or decision names the file and line. A row that repeats
    the pair's decision in force (``ImportCounts``) writes nothing, so importing one file twice
    writes its events once. Returns the decisions written and the unchanged rows.
    The person is checked before the file is read, as every command checks access first.
    """
    member = require(session, actor, Action.DEDUPLICATE)
    assert member.id is not None
    rows = read_rows(
        path,
        required=[{"decision", "pair_id"}, {"decision", "record_a", "record_b"}],
        what="decisions",
        unique=_decision_key,
        unique_words="pair",
        allowed=("pair_id", "record_a", "record_b", "decision", "note"),
    )
    batch = _PairDecisions(session, actor, member.id)
    for line, row in numbered(rows):
        with at_line(path, line):
            decision = (row.get("decision") or "").strip().lower()
            note = (row.get("note") or "").strip() or None
            if (row.get("pair_id") or "").strip():
                batch.decide(session, decision, note, pair_id=int(row["pair_id"]))
            else:
                pair = (int(row["record_a"]), int(row["record_b"]))
                batch.decide(session, decision, note, records=pair)
    batch.write(session)
    return ImportCounts(len(rows) - batch.unchanged, batch.unchanged)


def _decision_key(row: dict[str, str]) -> str | None:
    """A dedup decision row's pair: ``pair_id``, or its two records in either order."""
    pair_id = (row.get("pair_id") or "").strip()
    if pair_id:
        return pair_id
    ends = sorted((row.get(k) or "").strip() for k in ("record_a", "record_b"))
    return f"of records {ends[0]} and {ends[1]}" if all(ends) else None


@dataclass
class _Pair:
    """A stored pair's grouping fields, changed in memory by a batch of decisions."""

    id: int
    record_a: int
    record_b: int
    score: float
    status: str
    decided_by_id: int | None


class _PairDecisions:
    """Many pair decisions by one person: the records and pairs read once, each decision applied
    in memory and regrouped over the records its pair can reach, then everything written at once.

    Regrouping only those records gives what regrouping all of them gives: groups only ever join
    records linked by merged or confirmed pairs, and a decision on a pair changes the links of its
    two records alone, so no other group can change (every operation regroups, so the stored
    groups always match the stored pairs).
    """

    def __init__(self, session: Session, actor: str, member_id: int) -> None:
        self.actor = actor
        self.member_id = member_id
        self.names = member_names(session)
        records = _record_rows(session)
        self.completeness = {str(r.id): _completeness(r) for r in records}
        self.duplicate_of: dict[str, int | None] = {str(r.id): r.duplicate_of for r in records}
        self.stored = dict(self.duplicate_of)
        self.pairs: dict[int, _Pair] = {}
        self.by_key: dict[tuple[int, int], int] = {}
        self.by_record: dict[int, list[int]] = defaultdict(list)
        for row in session.execute(_columns(DedupPair, _PAIR_COLUMNS)).all():
            self._add(_Pair(*row))
        self.updates: dict[int, dict[str, Any]] = {}
        self.events: list[DedupDecided] = []
        # Each pair's note (changed in memory as rows set one) and the rows that repeat a decision.
        self.notes: dict[int, str | None] = {
            pid: note
            for pid, note in session.exec(select(DedupPair.id, DedupPair.note)).all()
            if pid is not None
        }
        self.unchanged = 0

    def _add(self, pair: _Pair) -> None:
        self.pairs[pair.id] = pair
        self.by_key[(pair.record_a, pair.record_b)] = pair.id
        self.by_record[pair.record_a].append(pair.id)
        self.by_record[pair.record_b].append(pair.id)

    def _pair(
        self,
        session: Session,
        pair_id: int | None,
        records: tuple[int, int] | None,
        note: str | None,
    ) -> _Pair:
        if pair_id is not None:
            if pair_id not in self.pairs:
                _find_pair(session, pair_id)  # raises NotFound, as decide_pair does
            return self.pairs[pair_id]
        assert records is not None
        known = self.by_key.get((min(records), max(records)))
        if known is not None and records[0] != records[1]:
            return self.pairs[known]
        # Checks the records and stores a pair a person spotted, as decide_pair does.
        row = _pair_for_records(session, records[0], records[1], self.actor, note)
        assert row.id is not None
        pair = _Pair(row.id, row.record_a, row.record_b, row.score, row.status, row.decided_by_id)
        self._add(pair)
        return pair

    def decide(
        self,
        session: Session,
        decision: str,
        note: str | None,
        *,
        pair_id: int | None = None,
        records: tuple[int, int] | None = None,
    ) -> None:
        """One row: ``decide_pair``'s checks, its change to the pair, its regrouping and event."""
        if decision not in ("confirm", "reject"):
            raise InvalidInput(f"decision must be confirm or reject, not {decision!r}")
        pair = self._pair(session, pair_id, records, note)
        status = "confirmed" if decision == "confirm" else "rejected"
        if (
            pair.status == status
            and pair.decided_by_id == self.member_id
            and (note is None or note == self.notes.get(pair.id))
        ):
            self.unchanged += 1  # this person's decision in force already: nothing to write
            return
        pair.status = status
        pair.decided_by_id = self.member_id
        change = self.updates.setdefault(pair.id, {"id": pair.id})
        change.update(
            status=pair.status, decided_by_id=self.member_id, decided_at=audit.log.utc_now()
        )
        if note is not None:
            change["note"] = self.notes[pair.id] = note
        decided = {str(pair.id): pair_snapshot(asdict(pair), self.names)}
        reach = self._reach(pair.record_a, pair.record_b)
        inside = {
            pid
            for rid in reach
            for pid in self.by_record[rid]
            if self.pairs[pid].record_a in reach and self.pairs[pid].record_b in reach
        }
        wanted, requeued = _grouping(
            [str(r) for r in sorted(reach)],
            self.completeness,
            (self.pairs[pid] for pid in sorted(inside)),
        )
        for back in requeued:
            back.status = "pending"
            self.updates.setdefault(back.id, {"id": back.id})["status"] = "pending"
        changes = {r: t for r, t in wanted.items() if self.duplicate_of[r] != t}
        self.duplicate_of.update(changes)
        regrouped = Regrouped(
            changes, {str(p.id): pair_snapshot(asdict(p), self.names) for p in requeued}
        )
        self.events.append(
            DedupDecided(
                group_id=self.duplicate_of[str(pair.record_a)] or pair.record_a,
                decision=decision,
                note=note,
                state=regrouped.state(decided),
            )
        )

    def _reach(self, *start: int) -> set[int]:
        """The records joined to ``start`` by merged or confirmed pairs."""
        seen: set[int] = set()
        todo = list(start)
        while todo:
            rid = todo.pop()
            if rid in seen:
                continue
            seen.add(rid)
            for pid in self.by_record[rid]:
                p = self.pairs[pid]
                if p.status in LINKS:
                    todo.append(p.record_b if p.record_a == rid else p.record_a)
        return seen

    def write(self, session: Session) -> None:
        """The pairs and records changed, then one event per decision, in the file's order."""
        session.flush()
        if self.updates:
            session.execute(update(DedupPair), list(self.updates.values()))
        moved = [
            {"id": int(r), "duplicate_of": t}
            for r, t in self.duplicate_of.items()
            if self.stored[r] != t
        ]
        if moved:
            session.execute(update(Record), moved)
        session.expire_all()
        # References follow the groups once for the whole file; what that superseded or reopened
        # (votes of two merged references) is recorded with the file's last decision.
        followed = follow_groups(session, audit.log.utc_now())
        if followed and self.events:
            last = self.events[-1]
            assert isinstance(last, DedupDecided)
            self.events[-1] = replace(last, state={**last.state, **followed})
        audit.log.record_many(session, self.actor, self.events)
