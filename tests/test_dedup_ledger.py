"""What a dedup run writes to the ledger: one event per set of records that hang together.

A run used to list every pair it stored in one `dedup-run` payload, which grows with the review.
Now each connected set of pairs and regrouped records is its own `dedup-run-group` event, and the
`dedup-run` event holds only settings and counts; `audit verify` still checks every pair and record.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from reviewtool import audit
from reviewtool.dedup.service import run_dedup
from reviewtool.review.service import open_existing
from reviewtool.storage import Review
from reviewtool.storage.models import AuditEvent, DedupPair, Record

EXPORTS = Path(__file__).resolve().parents[1] / "sample_project" / "exports"
pytestmark = pytest.mark.skipif(
    not (EXPORTS / "truth.csv").exists(), reason="sample exports missing"
)


@pytest.fixture
def review(sample_review_url: str) -> Review:
    opened = open_existing(sample_review_url)
    yield opened  # type: ignore[misc]
    opened.close()


def _components(edges: list[tuple[int, int]], nodes: set[int]) -> list[set[int]]:
    """Connected sets of ``nodes`` joined by ``edges`` (a plain search, independent of the tool)."""
    graph: dict[int, set[int]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
        graph[b].add(a)
    seen: set[int] = set()
    found = []
    for start in sorted(nodes):
        if start in seen:
            continue
        todo, part = [start], set()
        while todo:
            node = todo.pop()
            if node in part:
                continue
            part.add(node)
            todo.extend(graph[node] - part)
        seen |= part
        found.append(part)
    return found


def test_a_run_writes_one_event_per_connected_set(review: Review) -> None:
    with review.reading() as session:
        pairs = {p.id: p for p in session.exec(select(DedupPair)).all()}
        duplicate_of = {
            r.id: r.duplicate_of
            for r in session.exec(select(Record)).all()
            if r.duplicate_of is not None
        }
        groups = audit.list_events(session, action="dedup-run-group")
        (run,) = audit.list_events(session, action="dedup-run")
        sizes = session.execute(
            text("SELECT length(payload) FROM audit_event WHERE action = 'dedup-run-group'")
        ).all()
        assert audit.verify(session).ok
    # The run event keeps its settings and counts; the pairs and records are in the group events.
    assert run.payload["state"] == {}
    assert run.payload["counts"]["duplicates"] == len(duplicate_of)
    assert run.seq == max(g.seq for g in groups) + 1
    # The sample's first run stored every pair and regrouped every duplicate: each is in exactly
    # one group event, with the state the tables hold.
    seen_pairs: dict[str, dict[str, object]] = {}
    seen_records: dict[str, int | None] = {}
    for event in groups:
        state = event.payload["state"]
        assert not set(state["dedup_pair"]) & set(seen_pairs)
        assert not set(state["record_duplicate"]) & set(seen_records)
        seen_pairs.update(state["dedup_pair"])
        seen_records.update(state["record_duplicate"])
    assert all(p.decided_by_id is None for p in pairs.values())
    assert seen_pairs == {
        str(i): {
            "record_a": p.record_a,
            "record_b": p.record_b,
            "status": p.status,
            "decided_by": None,  # a run decides nothing for a person
        }
        for i, p in pairs.items()
    }
    assert seen_records == {str(r): t for r, t in duplicate_of.items()}
    # As many events as connected sets of pairs and record -> primary links, counted here by hand.
    edges = [(p.record_a, p.record_b) for p in pairs.values()] + list(duplicate_of.items())
    parts = _components(edges, {n for e in edges for n in e})
    assert len(groups) == len(parts)
    # Each event is named by a primary inside its own set, and no event holds a large share.
    for event in groups:
        members = {int(r) for r in event.payload["state"]["record_duplicate"]}
        for pair in event.payload["state"]["dedup_pair"].values():
            members |= {pair["record_a"], pair["record_b"]}
        group_id = event.payload["group_id"]
        assert event.entity_id == str(group_id) and group_id in members
        assert group_id not in duplicate_of
    total = sum(size for (size,) in sizes)
    assert max(size for (size,) in sizes) < total / 20


def test_a_run_that_changes_nothing_writes_only_its_counts(review: Review) -> None:
    with review.reading() as session:
        before = len(session.exec(select(AuditEvent)).all())
    with review.transaction() as session:
        report = run_dedup(session, actor="alice")
    with review.reading() as session:
        new = audit.list_events(session)[before:]
        assert audit.verify(session).ok
    assert [e.action for e in new] == ["dedup-run"]
    assert new[0].payload["counts"]["duplicates"] == report.duplicates
    assert new[0].payload["state"] == {}


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE dedup_pair SET status = 'rejected' WHERE id = (SELECT MIN(id) FROM dedup_pair WHERE status = 'merged')",
        "UPDATE dedup_pair SET record_b = record_b + 1 WHERE id = (SELECT MIN(id) FROM dedup_pair)",
        "DELETE FROM dedup_pair WHERE id = (SELECT MAX(id) FROM dedup_pair)",
    ],
)
def test_an_edited_pair_fails_verification(review: Review, tamper: str) -> None:
    with review.engine.begin() as conn:
        conn.execute(text("PRAGMA foreign_keys = OFF"))
        conn.execute(text(tamper))
    with review.reading() as session:
        problems = audit.verify(session).problems
    assert any(p.startswith("dedup_pair ") for p in problems), problems


def _a_chain(review: Review) -> tuple[int, int, int]:
    """Three records x, y, z of one group joined by merged pairs x-y and y-z, with no x-z pair."""
    with review.reading() as session:
        merged = [
            (p.record_a, p.record_b)
            for p in session.exec(select(DedupPair).where(DedupPair.status == "merged")).all()
        ]
    linked: dict[int, set[int]] = defaultdict(set)
    for a, b in merged:
        linked[a].add(b)
        linked[b].add(a)
    for y in sorted(linked):
        ends = sorted(linked[y])
        for x in ends:
            for z in ends:
                if x < z and z not in linked[x]:
                    return x, y, z
    raise AssertionError("the sample has no chain of two automatic merges")


def test_rejecting_across_a_chain_audits_the_merge_it_sends_back_to_the_queue(
    review: Review,
) -> None:
    """x-y and y-z were merged automatically; a person says x and z differ. The weaker merge
    can no longer stand (it would join x and z again), so it goes back to the queue; that pair's
    change is in the decision's event, so `audit verify` passes, and editing it fails."""
    from reviewtool.dedup.service import decide_pair

    x, _, z = _a_chain(review)
    with review.transaction() as session:
        decide_pair(session, actor="bob", decision="reject", records=(x, z))
    with review.reading() as session:
        requeued = session.exec(select(DedupPair).where(DedupPair.status == "pending")).all()
        (event,) = audit.list_events(session, action="dedup-decision")
        report = audit.verify(session)
    sent_back = [p for p in requeued if {x, z} & {p.record_a, p.record_b} and p.score > 0]
    assert sent_back, "one of the two automatic merges goes back to the queue"
    assert report.ok, report.problems
    for pair in sent_back:
        assert event.payload["state"]["dedup_pair"][str(pair.id)]["status"] == "pending"


def _dedup_state(review: Review, since: int) -> dict[str, object]:
    """Pairs, groups and the events after ``since``, without the clock."""
    with review.reading() as session:
        pairs = [
            (p.id, p.record_a, p.record_b, p.status, p.decided_by_id, p.note)
            for p in session.exec(select(DedupPair).order_by(DedupPair.id)).all()  # type: ignore[arg-type]
        ]
        groups = {r.id: r.duplicate_of for r in session.exec(select(Record)).all()}
        events = [
            (e.seq, e.actor, e.action, e.entity_type, e.entity_id, e.payload)
            for e in audit.list_events(session)
            if e.seq > since
        ]
        report = audit.verify(session)
    assert report.ok, report.problems
    return {"pairs": pairs, "groups": groups, "events": events}


def test_a_decisions_file_writes_what_one_decision_at_a_time_writes(
    review: Review, _sample_template: Path, tmp_path: Path
) -> None:
    """Every kind of row: by pair id and by records, confirm and reject, a pair a person spotted
    (stored by the file), a rejection across a chain of merges that sends a merge back to the
    queue, and notes. (One pair twice in one file is refused: tests/test_csvfiles.py.)"""
    import shutil

    from reviewtool.dedup.service import decide_from_file, decide_pair, review_queue

    x, _, z = _a_chain(review)
    with review.reading() as session:
        queue = review_queue(session)
        since = audit.list_events(session, limit=1)[0].seq
    assert len(queue) >= 3
    rows: list[tuple[str, str, str, str, str]] = [
        (str(queue[0].pair_id), "", "", "confirm", "same trial"),
        (str(queue[1].pair_id), "", "", "reject", ""),
        ("", str(queue[2].a["record_id"]), str(queue[2].b["record_id"]), "confirm", ""),
        ("", str(x), str(z), "reject", "different arms"),  # a new pair; sends a merge back
    ]
    path = tmp_path / "decisions.csv"
    path.write_text(
        "pair_id,record_a,record_b,decision,note\n" + "".join(",".join(r) + "\n" for r in rows)
    )
    with review.transaction() as session:
        assert decide_from_file(session, actor="bob", path=str(path)).written == 4
    bulk = _dedup_state(review, since)

    copy_path = tmp_path / "copy.db"
    shutil.copy(_sample_template, copy_path)
    copy = open_existing(f"sqlite:///{copy_path}")
    for pair_id, a, b, decision, note in rows:
        with copy.transaction() as session:
            decide_pair(
                session,
                actor="bob",
                decision=decision,
                pair_id=int(pair_id) if pair_id else None,
                records=(int(a), int(b)) if a else None,
                note=note or None,
            )
    one_by_one = _dedup_state(copy, since)
    copy.close()

    assert bulk == one_by_one
    events = bulk["events"]
    assert isinstance(events, list) and [e[2] for e in events] == ["dedup-decision"] * 4
    # The rejection across the chain: its new pair rejected, one automatic merge back in the queue.
    state = events[3][5]["state"]
    statuses = sorted(p["status"] for p in state["dedup_pair"].values())
    assert statuses == ["pending", "rejected"]
    assert str(x) in state["record_duplicate"] or str(z) in state["record_duplicate"]
