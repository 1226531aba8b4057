"""The duplicate review screen, driven with textual's pilot: keys decide, the database records it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select
from tui_keys import burst, settle

from reviewtool import audit
from reviewtool.dedup.service import review_queue
from reviewtool.review.service import open_existing
from reviewtool.storage.models import DedupPair, Member
from reviewtool.tui.dedup_review import DIFF_STYLE, DedupReviewApp, render_record

EXPORTS = Path(__file__).resolve().parents[1] / "sample_project" / "exports"
pytestmark = pytest.mark.skipif(
    not (EXPORTS / "truth.csv").exists(), reason="sample exports missing"
)


def _queue_ids(url: str) -> list[int]:
    review = open_existing(url)
    with review.reading() as session:
        ids = [q.pair_id for q in review_queue(session)]
    review.close()
    return ids


async def test_keys_reject_skip_and_confirm(sample_review_url: str) -> None:
    queued = _queue_ids(sample_review_url)
    assert len(queued) >= 2
    app = DedupReviewApp(sample_review_url, "bob")
    async with app.run_test(size=(100, 30)) as pilot:
        status = str(app.query_one("#status").render())
        assert f"Pair 1 of {len(queued)}" in status and f"id {queued[0]}" in status
        await pilot.press("n")  # reject the first pair
        await pilot.press("s")  # skip the next one
        expected = queued[2] if len(queued) > 2 else queued[1]  # skipping wraps round
        assert f"id {expected}" in str(app.query_one("#status").render())
    review = open_existing(sample_review_url)
    with review.reading() as session:
        first = session.get(DedupPair, queued[0])
        second = session.get(DedupPair, queued[1])
        assert first is not None and first.decided_by_id is not None
        decider = session.get(Member, first.decided_by_id)
        assert (first.status, decider and decider.name) == ("rejected", "bob")
        assert second is not None and second.status == "pending"
        assert [e.actor for e in audit.list_events(session, action="dedup-decision")] == ["bob"]
        assert audit.verify(session).ok
    review.close()


async def test_refused_person_sees_an_error_and_nothing_changes(sample_review_url: str) -> None:
    app = DedupReviewApp(sample_review_url, "carol")  # an adjudicator may not deduplicate
    async with app.run_test() as pilot:
        await pilot.press("y")
        await pilot.pause()
    review = open_existing(sample_review_url)
    with review.reading() as session:
        statuses = {
            p.status
            for p in session.exec(
                select(DedupPair).where(col(DedupPair.decided_by_id).is_not(None))
            ).all()
        }
        refused = audit.list_events(session, action="access-refused")
    review.close()
    assert statuses == set()
    assert [e.actor for e in refused] == ["carol"]


async def test_empty_queue_says_so(sample_review_url: str) -> None:
    app = DedupReviewApp(sample_review_url, "bob")
    async with app.run_test() as pilot:
        for _ in range(len(_queue_ids(sample_review_url))):
            await pilot.press("n")
        assert "No pairs left to review" in str(app.query_one("#status").render())
    assert _queue_ids(sample_review_url) == []


def test_differences_are_highlighted() -> None:
    a = {"title": "Stem cells in cirrhosis", "year": 2012, "doi": "10.1/x", "source": "PubMed"}
    b = {"title": "Stem cells for cirrhosis", "year": 2012, "doi": None, "source": "Embase"}
    text = render_record(a, b)
    highlighted = {text.plain[s.start : s.end] for s in text.spans if s.style == DIFF_STYLE}
    assert highlighted == {"in", "10.1/x"}


async def test_skip_reads_the_queue_again_so_pairs_decided_elsewhere_drop_out(
    sample_review_url: str,
) -> None:
    from reviewtool.dedup.service import decide_pair

    queued = _queue_ids(sample_review_url)
    assert len(queued) >= 3
    app = DedupReviewApp(sample_review_url, "bob")
    async with app.run_test(size=(100, 30)) as pilot:
        assert f"Pair 1 of {len(queued)}" in str(app.query_one("#status").render())
        other = open_existing(sample_review_url)  # alice's window decides the next pair
        with other.transaction() as session:
            decide_pair(session, actor="alice", decision="reject", pair_id=queued[1])
        other.close()
        await pilot.press("s")
        await pilot.pause()
        status = str(app.query_one("#status").render())
        assert f"of {len(queued) - 1}" in status and f"id {queued[2]} " in status


async def test_decisions_back_to_back_each_reach_their_pair(sample_review_url: str) -> None:
    """Issue 9 item 1 on the dedup screen: keys sent together decide the pairs in order."""
    queued = _queue_ids(sample_review_url)
    assert len(queued) >= 3
    app = DedupReviewApp(sample_review_url, "bob")
    async with app.run_test(size=(100, 30)) as pilot:
        burst(app, "n", "s", "n")
        await settle(pilot)
    review = open_existing(sample_review_url)
    with review.reading() as session:
        status = {p: session.get(DedupPair, p).status for p in queued[:3]}  # type: ignore[union-attr]
    review.close()
    assert status == {queued[0]: "rejected", queued[1]: "pending", queued[2]: "rejected"}
