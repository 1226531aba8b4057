"""Deduplication inside a review, on the sample project's four exports (truth in truth.csv)."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from reviewtool import audit
from reviewtool.dedup.service import (
    decide_from_file,
    decide_pair,
    dedup_report,
    export_groups,
    review_queue,
    run_dedup,
    undo_group,
)
from reviewtool.errors import InvalidInput, NotFound, PermissionDenied
from reviewtool.review.service import open_existing
from reviewtool.storage import Review
from reviewtool.storage.models import ImportBatch, Record

EXPORTS = Path(__file__).resolve().parents[1] / "sample_project" / "exports"
pytestmark = pytest.mark.skipif(
    not (EXPORTS / "truth.csv").exists(), reason="sample exports missing"
)


@pytest.fixture
def review(sample_review_url: str) -> Review:
    opened = open_existing(sample_review_url)
    yield opened  # type: ignore[misc]
    opened.close()


def _publication_of(session: Session) -> dict[int, str]:
    """record id -> the true publication id from truth.csv (Embase keyed by its U2 accession)."""
    truth = {
        r["source_id"]: r["publication_id"] for r in csv.DictReader((EXPORTS / "truth.csv").open())
    }
    embase = re.findall(
        r"^U2  - (\S+)", (EXPORTS / "embase.ris").read_text(encoding="utf-8-sig"), flags=re.M
    )
    files = {b.id: b.file_name for b in session.exec(select(ImportBatch)).all()}
    result: dict[int, str] = {}
    position: dict[str, int] = defaultdict(int)
    for r in session.exec(select(Record).order_by(Record.id)).all():  # type: ignore[arg-type]
        name = files[r.batch_id]
        key = r.source_key
        if name == "embase.ris" and not (key or "").startswith("L"):
            key = embase[position[name]]
        position[name] += 1
        assert r.id is not None and key is not None
        result[r.id] = truth[key]
    return result


def test_sample_dedup_has_no_false_merge_and_finds_every_duplicate(review: Review) -> None:
    with review.reading() as session:
        publication = _publication_of(session)
        groups: dict[int, set[str]] = defaultdict(set)
        split: dict[str, set[int]] = defaultdict(set)
        for r in session.exec(select(Record)).all():
            assert r.id is not None
            group = r.duplicate_of or r.id
            groups[group].add(publication[r.id])
            split[publication[r.id]].add(group)
        queue = review_queue(session)
        report = dedup_report(session)
    assert [g for g in groups.values() if len(g) > 1] == []  # zero false merges
    missed = {p for p, gs in split.items() if len(gs) > 1}
    # A true duplicate may wait in the queue, but never be silently kept apart.
    queued_same = {
        publication[q.a["record_id"]]
        for q in queue
        if publication[q.a["record_id"]] == publication[q.b["record_id"]]
    }
    assert missed <= queued_same
    assert report.identified == 892
    assert report.duplicates_removed + len(missed) == 288


def test_confirm_reject_and_undo_are_reversible_and_audited(review: Review) -> None:
    with review.reading() as session:
        group_id, members = next(
            (r.duplicate_of, r.id)
            for r in session.exec(select(Record).where(Record.duplicate_of != None))  # noqa: E711
        )
        before = dedup_report(session).duplicates_removed
    assert group_id is not None
    with review.transaction() as session:
        split = undo_group(session, actor="bob", group_id=group_id, note="different trials")
    assert members in split
    with review.reading() as session:
        after = dedup_report(session)
        assert after.duplicates_removed == before - (len(split) - 1)
        assert all(session.get(Record, i).duplicate_of is None for i in split)  # type: ignore[union-attr]
    # A later automatic run keeps the person's decision.
    with review.transaction() as session:
        run_dedup(session, actor="bob")
    with review.reading() as session:
        assert dedup_report(session).duplicates_removed == after.duplicates_removed
    # Confirming two of the records joins them again.
    with review.transaction() as session:
        decide_pair(
            session,
            actor="bob",
            decision="confirm",
            records=(split[0], split[1]),
            note="same after all",
        )
    with review.reading() as session:
        assert dedup_report(session).duplicates_removed == after.duplicates_removed + 1
        events = [
            e.action
            for e in audit.list_events(session, entity_type="duplicate_group")
            if e.action != "dedup-run-group"  # what the automatic runs decided, group by group
        ]
        assert events == ["dedup-decision", "dedup-decision"]
        report = audit.verify(session)
    assert report.ok, report.problems


def test_queue_decisions_from_a_file_all_or_nothing(review: Review, tmp_path: Path) -> None:
    with review.reading() as session:
        queue = review_queue(session)
    assert queue, "the sample leaves pairs for a person"
    good = tmp_path / "decisions.csv"
    good.write_text(
        "pair_id,decision,note\n" + "".join(f"{q.pair_id},reject,not the same\n" for q in queue)
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(f"pair_id,decision\n{queue[0].pair_id},reject\n999999,confirm\n")
    with (
        pytest.raises(NotFound, match=r"bad.csv:3: no candidate pair 999999"),
        review.transaction() as session,
    ):
        decide_from_file(session, actor="bob", path=str(bad))
    with review.reading() as session:
        assert len(review_queue(session)) == len(queue)  # the first row was rolled back too
    with review.transaction() as session:
        assert decide_from_file(session, actor="bob", path=str(good)).written == len(queue)
    with review.reading() as session:
        assert review_queue(session) == []
        assert audit.verify(session).ok


def test_refusals_and_bad_input(review: Review) -> None:
    with pytest.raises(PermissionDenied), review.transaction() as session:
        run_dedup(session, actor="carol")
    with pytest.raises(InvalidInput, match="itself"), review.transaction() as session:
        decide_pair(session, actor="bob", decision="confirm", records=(3, 3))
    with (
        pytest.raises(NotFound, match="no duplicate group 999999"),
        review.transaction() as session,
    ):
        undo_group(session, actor="bob", group_id=999999)
    with pytest.raises(InvalidInput, match="confirm or reject"), review.transaction() as session:
        decide_pair(session, actor="bob", decision="maybe", pair_id=1)


def test_export_rows_and_tampering(review: Review) -> None:
    with review.reading() as session:
        rows = list(export_groups(session))
    assert len(rows) == 892
    assert sum(1 for r in rows if not r["is_primary"]) == sum(
        1 for r in rows if r["group_id"] != r["record_id"]
    )
    with review.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE record SET duplicate_of = NULL WHERE duplicate_of IS NOT NULL AND id = (SELECT MIN(id) FROM record WHERE duplicate_of IS NOT NULL)"
            )
        )
    with review.reading() as session:
        problems = audit.verify(session).problems
    assert any(p.startswith("record_duplicate ") for p in problems)
