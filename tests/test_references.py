"""References: title/abstract decisions stay attached to a duplicate group through every later
import, merge, split and change of primary (issue 10)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import col, select
from typer.testing import CliRunner

from reviewtool import audit
from reviewtool.cli import app
from reviewtool.dedup.service import decide_pair, run_dedup, undo_group
from reviewtool.errors import InvalidInput, PermissionDenied
from reviewtool.importing.service import import_files
from reviewtool.screening import service as sv
from reviewtool.screening.labels import visible_labels
from reviewtool.screening.prisma import PrismaCounts, prisma_counts
from reviewtool.storage import Review, schema
from reviewtool.storage.models import (
    AuditEvent,
    FullTextReport,
    Member,
    Record,
    RecordLabel,
    ScreeningDecision,
    ScreeningResolution,
)
from reviewtool.storage.queries import stage_outcomes
from reviewtool.storage.references import FOLLOWERS
from reviewtool.studies import service as studies

runner = CliRunner()

TITLE = "Autologous bone marrow stem cells for decompensated cirrhosis: a randomised trial"
# The first search round: a bare copy (title, one author, year, DOI).
BARE = (
    f"TY  - JOUR\nID  - M1\nTI  - {TITLE}\nAU  - Mohamadnejad, M.\nPY  - 2013\n"
    "DO  - 10.1111/liv.12228\nER  -\n\n"
)
# A later round: the same paper, more complete (DOI, journal, pages, abstract), so it becomes the
# group's primary record when deduplicated.
FULL = (
    f"TY  - JOUR\nID  - E7\nTI  - {TITLE}\nAU  - Mohamadnejad, M.\nAU  - Vosough, M.\n"
    "PY  - 2013\nJO  - Liver International\nVL  - 33\nIS  - 10\nSP  - 1490\nEP  - 1496\n"
    "DO  - 10.1111/liv.12228\nAB  - Forty patients with decompensated cirrhosis were randomised.\n"
    "ER  -\n\n"
)
OTHER = "TY  - JOUR\nID  - M2\nTI  - Hepatocyte transplantation in mice\nPY  - 2011\nER  -\n\n"


def cli(db: str, *args: str) -> str:
    result = runner.invoke(app, [*args, "--db", db])
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def _review(tmp_path: Path) -> str:
    db = str(tmp_path / "r.db")
    first = tmp_path / "round1.ris"
    first.write_text(BARE + OTHER)
    cli(db, "init", "--title", "T", "--as", "alice")
    cli(db, "member", "add", "bob", "--role", "reviewer", "--as", "alice")
    cli(db, "member", "add", "carol", "--role", "adjudicator", "--as", "alice")
    cli(db, "import", str(first), "--source", "MEDLINE", "--as", "alice")
    return db


def _stats(db: str) -> dict[str, object]:
    return json.loads(cli(db, "screen", "stats", "--format", "json", "--as", "alice"))["tiab"]


def _queue(db: str, who: str) -> list[int]:
    from reviewtool.screening.service import screening_queue
    from reviewtool.storage import open_review

    review = open_review(f"sqlite:///{db}")
    try:
        with review.reading() as session:
            return screening_queue(session, actor=who, stage="tiab")
    finally:
        review.close()


def test_votes_survive_a_new_round_whose_copy_becomes_primary(tmp_path: Path) -> None:
    """The issue's fault: both reviewers exclude record 1; a second export brings a more complete
    copy (record 3) which becomes the primary. The exclusion must still hold for the paper."""
    db = _review(tmp_path)
    for who in ("alice", "bob"):
        cli(db, "screen", "decide", "1", "exclude", "--reason", "wrong population", "--as", who)
    assert _stats(db)["excluded"] == 1
    assert 1 not in _queue(db, "alice") and 1 not in _queue(db, "bob")

    second = tmp_path / "round2.ris"
    second.write_text(FULL)
    cli(db, "import", str(second), "--source", "Embase", "--as", "alice")
    cli(db, "dedup", "run", "--as", "alice")
    shown = json.loads(cli(db, "records", "show", "3", "--format", "json", "--as", "alice"))
    assert shown["duplicate_of"] is None  # the new, fuller copy is the group's primary

    stats = _stats(db)
    assert stats["references"] == 2  # the paper and the mouse study
    assert stats["excluded"] == 1  # still excluded: 1 -> 1, not 1 -> 0
    assert stats["excluded_by_reason"] == {"wrong population": 1}
    # The paper does not come back into either reviewer's queue under any id.
    assert _queue(db, "alice") == [2] and _queue(db, "bob") == [2]
    assert cli(db, "audit", "verify", "--as", "alice").startswith("Audit ledger verified")


# --- merges, splits and new primaries, through the library ------------------------------------


def _pair_ris() -> str:
    """Six records: odd ids bare, even ids fuller (journal, abstract): a confirmed pair of an odd
    and an even record gets the even one as primary, and its reference keeps the odd (smaller) id."""
    titles = [
        "Autologous stem cells in alcoholic cirrhosis",
        "Granulocyte colony stimulating factor for acute liver failure",
        "Hepatocyte transplantation in urea cycle disorders",
        "Mesenchymal stromal cells after liver transplantation",
        "Umbilical cord cells for primary biliary cholangitis",
        "Bone marrow mononuclear cells in hepatitis B decompensation",
    ]
    out = []
    for i, title in enumerate(titles, start=1):
        more = "" if i % 2 else f"JO  - Hepatology\nAB  - Abstract of trial {i}.\nVL  - {i}\n"
        out.append(
            f"TY  - JOUR\nID  - R{i}\nTI  - {title}\nAU  - Author{i}, A.\nPY  - {2000 + i}\n"
            f"{more}ER  -\n\n"
        )
    return "".join(out)


@pytest.fixture
def review(fresh_review: Review, tmp_path: Path) -> Review:
    """alice and bob screen, carol adjudicates; records 1..6 (even ones fuller); tiab unblinded so
    outcomes can be read."""
    path = tmp_path / "six.ris"
    path.write_text(_pair_ris())
    with fresh_review.transaction() as session:
        import_files(session, actor="alice", paths=[path], source="MEDLINE")
        sv.unblind_stage(session, actor="alice", stage="tiab")
    with fresh_review.transaction() as session:
        assert run_dedup(session, actor="alice").duplicates == 0
    return fresh_review


def vote(review: Review, who: str, record: int, decision: str, reason: str | None = None) -> None:
    with review.transaction() as session:
        sv.record_decision(
            session, actor=who, record_id=record, stage="tiab", decision=decision, reason=reason
        )


def merge(review: Review, a: int, b: int) -> None:
    with review.transaction() as session:
        decide_pair(session, actor="alice", decision="confirm", records=(a, b))


def split(review: Review, record: int) -> None:
    with review.transaction() as session:
        undo_group(session, actor="alice", group_id=record)


def outcome(review: Review, ref: int) -> str:
    with review.reading() as session:
        found = stage_outcomes(session, "tiab").get(ref)
    return found.status.value if found else "none"


def queue(review: Review, who: str) -> list[int]:
    with review.reading() as session:
        return sorted(sv.screening_queue(session, actor=who, stage="tiab"))


def verified(review: Review) -> bool:
    with review.reading() as session:
        report = audit.verify(session)
    assert report.ok, report.problems
    return True


def test_merge_voted_with_unvoted_keeps_the_votes_whichever_becomes_primary(
    review: Review,
) -> None:
    vote(review, "alice", 1, "include")
    vote(review, "bob", 1, "include")
    merge(review, 1, 2)  # record 2 (fuller, unvoted) becomes primary; the reference stays 1
    assert outcome(review, 1) == "included" and outcome(review, 2) == "none"
    assert queue(review, "alice") == [3, 4, 5, 6]
    # Votes on the newer reference (4) move to the older one (3) when the two merge.
    vote(review, "alice", 4, "exclude", reason="wrong population")
    vote(review, "bob", 4, "exclude", reason="wrong population")
    merge(review, 3, 4)
    assert outcome(review, 3) == "excluded" and outcome(review, 4) == "none"
    assert queue(review, "bob") == [5, 6]
    with review.reading() as session:
        card = sv.record_card(session, actor="alice", record_id=4, stage="tiab")
    assert card.record_id == 3  # any record id names its reference
    assert card.fields["abstract"] == "Abstract of trial 4."  # the primary is shown
    assert verified(review)


def test_merge_voted_with_voted_agreeing_and_conflicting(review: Review) -> None:
    vote(review, "alice", 1, "include")
    vote(review, "bob", 3, "include")
    merge(review, 1, 3)
    assert outcome(review, 1) == "included"  # two reviewers, two records, one agreement
    vote(review, "alice", 5, "include")
    vote(review, "bob", 6, "exclude", reason="not an RCT")
    merge(review, 5, 6)
    assert outcome(review, 5) == "conflict"
    with review.reading() as session:
        (conflict,) = sv.list_conflicts(session, actor="carol", stage="tiab")
    assert conflict.record_id == 5
    assert {(v.reviewer, v.decision) for v in conflict.votes} == {
        ("alice", "include"),
        ("bob", "exclude"),
    }
    assert verified(review)


def test_same_reviewer_voting_differently_on_both_needs_a_fresh_look(review: Review) -> None:
    vote(review, "alice", 1, "include")
    vote(review, "alice", 2, "exclude", reason="wrong population")
    vote(review, "bob", 1, "include")
    merge(review, 1, 2)
    # Neither of alice's votes is picked: both stop being current, she is asked again.
    assert 1 in queue(review, "alice") and 1 not in queue(review, "bob")
    assert outcome(review, 1) == "open"  # bob's vote alone
    with review.reading() as session:
        alice = session.exec(select(Member).where(Member.name == "alice")).one()
        rows = session.exec(
            select(ScreeningDecision).where(ScreeningDecision.member_id == alice.id)
        ).all()
        assert sv.my_vote(session, actor="alice", record_id=1, stage="tiab") is None
    assert len(rows) == 2  # nothing deleted
    assert all(r.superseded_at is not None for r in rows)
    assert all(
        r.superseded_because is not None and r.superseded_because.startswith("needs a fresh look")
        for r in rows
    )
    assert "include on record 1" in (rows[0].superseded_because or "")
    assert "exclude (wrong population) on record 2" in (rows[0].superseded_because or "")
    assert verified(review)
    vote(review, "alice", 2, "include")  # her fresh look, on the record she now sees
    assert outcome(review, 1) == "included"
    assert verified(review)


def test_same_reviewer_same_vote_on_both_keeps_one(review: Review) -> None:
    vote(review, "bob", 3, "exclude", reason="animal study")
    vote(review, "bob", 4, "exclude", reason="animal study")
    merge(review, 3, 4)
    with review.reading() as session:
        rows = session.exec(
            select(ScreeningDecision).where(col(ScreeningDecision.superseded_at).is_(None))
        ).all()
    assert [(r.record_id, r.reference_id, r.decision) for r in rows] == [(3, 3, "exclude")]
    assert 3 not in queue(review, "bob")
    assert verified(review)


def test_split_after_votes_sends_each_vote_with_its_record(review: Review) -> None:
    vote(review, "alice", 1, "include")  # cast on record 1, before the merge
    merge(review, 1, 2)
    vote(review, "bob", 1, "exclude", reason="wrong population")  # bob saw record 2, the primary
    assert outcome(review, 1) == "conflict"
    with review.transaction() as session:
        sv.resolve_conflict(session, actor="carol", record_id=2, stage="tiab", decision="include")
    assert outcome(review, 1) == "resolved-included"
    split(review, 2)
    # alice's vote stays with record 1, bob's goes with record 2; the resolution answered votes
    # that no longer stand together, so it is reopened (the adjudicator sees it in the history).
    with review.reading() as session:
        assert sv.my_vote(session, actor="alice", record_id=1, stage="tiab") is not None
        assert sv.my_vote(session, actor="alice", record_id=2, stage="tiab") is None
        bobs = sv.my_vote(session, actor="bob", record_id=2, stage="tiab")
        assert bobs is not None and bobs.decision == "exclude"
        assert sv.my_vote(session, actor="bob", record_id=1, stage="tiab") is None
        (resolution,) = session.exec(select(ScreeningResolution)).all()
    assert resolution.reopened_at is not None
    assert outcome(review, 1) == "open" and outcome(review, 2) == "open"
    assert queue(review, "alice") == [2, 3, 4, 5, 6]
    assert queue(review, "bob") == [1, 3, 4, 5, 6]
    assert verified(review)


def test_a_resolution_stands_when_an_unvoted_copy_joins(review: Review) -> None:
    vote(review, "alice", 5, "include")
    vote(review, "bob", 5, "exclude", reason="not an RCT")
    with review.transaction() as session:
        sv.resolve_conflict(session, actor="carol", record_id=5, stage="tiab", decision="exclude")
    merge(review, 5, 6)  # a new round's fuller copy: primary 6, the same votes, the same answer
    assert outcome(review, 5) == "resolved-excluded"
    with review.reading() as session:
        assert sv.list_conflicts(session, actor="carol", stage="tiab") == []
    assert verified(review)


def test_a_vote_moved_to_another_reference_fails_verify(review: Review) -> None:
    vote(review, "alice", 1, "include")
    with review.engine.begin() as conn:
        conn.execute(text("UPDATE screening_decision SET reference_id = 3 WHERE record_id = 1"))
    with review.reading() as session:
        report = audit.verify(session)
    assert not report.ok
    assert any(
        "reference_link screening_decision:1" in p and "record 1 is in reference 1" in p
        for p in report.problems
    )


# --- migration 0007 on a database built by the 0005 code --------------------------------------

FIXTURE = Path(__file__).parent / "fixtures" / "review_v0005.db"


def test_a_0005_review_upgrades_and_every_row_finds_its_reference(tmp_path: Path) -> None:
    from reviewtool.review.service import open_existing

    copy = tmp_path / "review.db"
    shutil.copyfile(FIXTURE, copy)
    with sqlite3.connect(copy) as conn:
        before = {
            model.__tablename__: conn.execute(
                f"SELECT COUNT(*) FROM {model.__tablename__}"
            ).fetchone()[0]
            for model in FOLLOWERS
        }
    review = open_existing(f"sqlite:///{copy}")
    try:
        assert schema.current_revision(review.engine) == schema.HEAD
        with review.reading() as session:
            assert verified(review)
            refs = dict(session.exec(select(Record.id, Record.reference_id)).all())
            # Record 5 (round two, fuller) is the primary of {1, 5}; the reference stays 1.
            assert refs == {1: 1, 2: 2, 3: 3, 4: 4, 5: 1, 6: 6}
            for model in (ScreeningDecision, ScreeningResolution, RecordLabel, FullTextReport):
                rows = session.exec(select(model)).all()
                assert len(rows) == before[model.__tablename__]  # nothing lost
                assert all(r.reference_id == refs[r.record_id] for r in rows)
            tiab = stage_outcomes(session, "tiab")
            assert {r: o.status.value for r, o in tiab.items()} == {
                1: "included",
                2: "excluded",
                3: "resolved-included",
                4: "excluded",
            }
            # The fault healed: the paper does not come back as record 5 in anyone's queue.
            assert sv.screening_queue(session, actor="alice", stage="tiab") == [6]
            labels = visible_labels(session, actor="alice")
            assert [v.label for v in labels[1]] == ["RCT?"]
            card = sv.record_card(session, actor="alice", record_id=5, stage="fulltext")
            assert card.record_id == 1 and card.fulltext == {
                "record": 1,
                "kind": "journal article",
                "status": "not_retrieved",
                "location": None,
                "reason": None,
                "note": "paywalled",
            }
            # Full-text votes name the report assessed (record 3's, the only one).
            ft = session.exec(
                select(ScreeningDecision).where(ScreeningDecision.stage == "fulltext")
            ).all()
            report3 = session.exec(
                select(FullTextReport).where(FullTextReport.reference_id == 3)
            ).one()
            assert {v.report_id for v in ft} == {report3.id}
    finally:
        review.close()


# --- studies and the PRISMA counts ------------------------------------------------------------


def _screen_to_studies(review: Review) -> None:
    """tiab: 1-4 included, 5 excluded by agreement, 6 by resolution; full text: 4 not retrieved,
    1 and 2 included, 3 excluded (not an RCT)."""
    for ref in (1, 2, 3, 4):
        vote(review, "alice", ref, "include")
        vote(review, "bob", ref, "include")
    vote(review, "alice", 5, "exclude", reason="animal study")
    vote(review, "bob", 5, "exclude", reason="animal study")
    vote(review, "alice", 6, "include")
    vote(review, "bob", 6, "exclude", reason="wrong population")
    with review.transaction() as session:
        sv.resolve_conflict(
            session, actor="carol", record_id=6, stage="tiab", decision="exclude",
            reason="wrong population",
        )  # fmt: skip
        sv.set_fulltext(session, actor="alice", record_id=4, not_retrieved=True, note="no reply")
    for ref, decision, reason in (
        (1, "include", None),
        (2, "include", None),
        (3, "exclude", "not an RCT"),
    ):
        for who in ("alice", "bob"):
            with review.transaction() as session:
                sv.record_decision(
                    session, actor=who, record_id=ref, stage="fulltext", decision=decision,
                    reason=reason,
                )  # fmt: skip


def counts(review: Review, who: str = "alice") -> PrismaCounts:
    with review.reading() as session:
        return prisma_counts(session, actor=who)


def test_prisma_counts_come_from_references_reports_and_studies(review: Review) -> None:
    _screen_to_studies(review)
    found = counts(review)
    assert found.broken_identities() == []
    assert (found.identified, found.identified_by_source, found.duplicates_removed) == (
        6, {"MEDLINE": 6}, 0,
    )  # fmt: skip
    assert (found.records_screened, found.records_excluded, found.awaiting_title_abstract) == (
        6, 2, 0,
    )  # fmt: skip
    assert (found.reports_sought, found.reports_not_retrieved, found.reports_assessed) == (4, 1, 3)
    assert (found.reports_excluded, found.excluded_by_reason) == (1, {"not an RCT": 1})
    assert (found.studies_included, found.reports_of_included_studies) == (2, 2)
    # A follow-up report of the same trial: two reports, one study.
    with review.transaction() as session:
        view = studies.link(session, actor="alice", report=2, study=1)
    assert (view.study_id, view.references) == (1, (1, 2))
    found = counts(review)
    assert (found.studies_included, found.reports_of_included_studies) == (1, 2)
    assert found.broken_identities() == []
    assert verified(review)


def test_prisma_identities_hold_while_screening_is_open(review: Review) -> None:
    vote(review, "alice", 1, "include")
    vote(review, "bob", 1, "include")
    vote(review, "alice", 2, "include")  # bob has not voted: awaiting
    merge(review, 3, 4)
    found = counts(review)
    assert (found.identified, found.duplicates_removed, found.records_screened) == (6, 1, 5)
    assert (found.reports_sought, found.awaiting_title_abstract) == (1, 4)
    assert (found.reports_assessed, found.awaiting_full_text) == (1, 1)
    assert found.broken_identities() == []
    assert found.notes  # says screening is not finished


def test_prisma_and_studies_are_refused_while_full_text_is_blind_to_a_reviewer(
    review: Review,
) -> None:
    _screen_to_studies(review)
    with review.reading() as session, pytest.raises(PermissionDenied, match="fulltext is blind"):
        prisma_counts(session, actor="bob")
    with review.reading() as session, pytest.raises(PermissionDenied, match="full text is blind"):
        studies.list_studies(session, actor="bob")
    with review.transaction() as session:
        sv.unblind_stage(session, actor="alice", stage="fulltext")
    assert counts(review, "bob").studies_included == 2


def test_study_link_unlink_merge_split_are_audited_and_survive_reference_merges(
    review: Review,
) -> None:
    _screen_to_studies(review)

    def listed() -> list[tuple[int, tuple[int, ...]]]:
        with review.reading() as session:
            return [
                (v.study_id, v.references) for v in studies.list_studies(session, actor="alice")
            ]

    assert listed() == [(1, (1,)), (2, (2,))]
    with review.transaction() as session:
        studies.merge(session, actor="alice", study=2, other=1)
    assert listed() == [(2, (1, 2))]
    with review.transaction() as session:
        studies.unlink(session, actor="alice", report=2)  # the anchor leaves: 1 is alone too
    assert listed() == [(1, (1,)), (2, (2,))]
    with review.transaction() as session:
        studies.link(session, actor="alice", report=1, study=2)
    # A duplicate of record 2 joins (a later round): the study keeps its reports and its id.
    with review.transaction() as session:
        decide_pair(session, actor="alice", decision="confirm", records=(2, 5))
    assert listed() == [(2, (1, 2))]
    with review.transaction() as session:
        assert studies.split(session, actor="alice", study=1) == [1, 2]
    assert listed() == [(1, (1,)), (2, (2,))]
    with review.transaction() as session, pytest.raises(InvalidInput, match="not included"):
        studies.link(session, actor="alice", report=3, study=1)
    with review.reading() as session:
        log = session.exec(select(AuditEvent).where(AuditEvent.action == "study-changed")).all()
    assert [json.loads(e.payload)["change"] for e in log] == ["merge", "unlink", "link", "split"]
    assert verified(review)


def test_a_study_link_removed_behind_the_tools_back_fails_verify(review: Review) -> None:
    _screen_to_studies(review)
    with review.transaction() as session:
        studies.link(session, actor="alice", report=2, study=1)
    with review.engine.begin() as conn:
        conn.execute(text("DELETE FROM study_link"))
    with review.reading() as session:
        report = audit.verify(session)
    assert not report.ok
    assert any(p.startswith("study_link 2:") for p in report.problems)


def test_a_0005_review_rescreened_after_the_fault_asks_again_and_still_verifies(
    tmp_path: Path,
) -> None:
    """Built by the 0005 code: record 5 (a fuller copy of record 1) came back into the queues and
    was screened again, bob differently from before. The upgrade joins them into reference 1 and
    picks none of bob's votes; alice's two identical votes keep the first."""
    from reviewtool.review.service import open_existing

    copy = tmp_path / "review.db"
    shutil.copyfile(FIXTURE.with_name("review_v0005_rescreened.db"), copy)
    review = open_existing(f"sqlite:///{copy}")
    try:
        assert verified(review)
        with review.reading() as session:
            names = dict(session.exec(select(Member.id, Member.name)).all())
            tiab = session.exec(
                select(ScreeningDecision)
                .where(ScreeningDecision.reference_id == 1, ScreeningDecision.stage == "tiab")
                .order_by(col(ScreeningDecision.id))
            ).all()
            current = [
                (names[v.member_id], v.record_id, v.decision) for v in tiab if not v.superseded_at
            ]
            assert current == [("alice", 1, "include")]
            bobs = [v for v in tiab if names[v.member_id] == "bob"]
            assert len(bobs) == 2 and all(
                (v.superseded_because or "").startswith("needs a fresh look (schema 0007)")
                for v in bobs
            )
            assert sv.screening_queue(session, actor="bob", stage="tiab") == [1, 6]
            assert 1 not in sv.screening_queue(session, actor="alice", stage="tiab")
            event = session.exec(
                select(AuditEvent).where(AuditEvent.action == "schema-upgraded")
            ).one()
            state = json.loads(event.payload)["state"]
            assert state["screening_vote"] == {
                "1:tiab:bob": None,
                "5:tiab:alice": None,
                "5:tiab:bob": None,
            }
            # Reports are keyed by their id from 0007 on: record 3's report is report 1, record
            # 1's (not retrieved) report 2; the old key "3" goes.
            assert {k: (v or {}).get("record") for k, v in state["fulltext_report"].items()} == {
                "1": 3,
                "2": 1,
                "3": None,
            }
    finally:
        review.close()


# --- reports ------------------------------------------------------------------------------------


def test_several_reports_per_reference_with_kind_status_and_prisma_counts(
    review: Review, tmp_path: Path
) -> None:
    """Reference 1: an article (retrieved) and its registry entry (not retrieved); reference 2:
    two reports, neither retrieved, so it is not assessed; reference 3: sought (each included
    reference got one report, status sought, when it was included at title/abstract)."""
    for ref in (1, 2, 3):
        vote(review, "alice", ref, "include")
        vote(review, "bob", ref, "include")
    for ref in (4, 5, 6):
        vote(review, "alice", ref, "exclude", reason="animal study")
        vote(review, "bob", ref, "exclude", reason="animal study")
    pdf = tmp_path / "one.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    with review.transaction() as session:
        first = sv.set_fulltext(session, actor="alice", record_id=1, location=str(pdf))
        second = sv.set_fulltext(
            session, actor="alice", record_id=1, location=None, not_retrieved=True,
            kind="registry entry", reason="registry offline", add=True,
        )  # fmt: skip
        for kind, add in (("conference abstract", False), ("thesis", True)):
            sv.set_fulltext(
                session, actor="bob", record_id=2, not_retrieved=True, kind=kind,
                reason="no library holds it", add=add,
            )  # fmt: skip
        with pytest.raises(InvalidInput, match="unknown report kind"):
            sv.set_fulltext(session, actor="bob", record_id=3, location="x", kind="poster")
    assert first["id"] != second["id"] and second["kind"] == "registry entry"
    assert second["reason"] == "registry offline"
    with review.reading() as session:
        assert [r["kind"] for r in sv.fulltext_reports(session, 1)] == [
            "journal article",
            "registry entry",
        ]
        assert sv.eligible(session, sv.Stage.FULL_TEXT) == [1, 3]  # 2 has nothing to assess
    for who in ("alice", "bob"):
        with review.transaction() as session:
            sv.record_decision(
                session, actor=who, record_id=1, stage="fulltext", decision="include"
            )
    with review.reading() as session:
        ft = session.exec(
            select(ScreeningDecision).where(ScreeningDecision.stage == "fulltext")
        ).all()
    assert {v.report_id for v in ft} == {first["id"]}  # the retrieved report was assessed
    found = counts(review)
    assert found.broken_identities() == []
    # Sought: 2 reports of 1, 2 of 2, 1 (sought, no location yet) of 3; not retrieved: 1 + 2.
    assert (found.reports_sought, found.reports_not_retrieved, found.reports_assessed) == (5, 3, 2)
    assert (found.reports_of_included_studies, found.awaiting_full_text) == (1, 1)
    assert found.references_to_full_text == 3 and "5 reports were sought for 3" in found.notes[0]
    assert found.studies_included == 1
    assert verified(review)


def test_cli_records_show_study_commands_and_prisma(tmp_path: Path) -> None:
    """`records show` gives the record's reference, reports and study; `study` and `prisma` work
    from the command line on the fault's review once it is screened to the end."""
    db = _review(tmp_path)
    second = tmp_path / "round2.ris"
    second.write_text(FULL)
    cli(db, "import", str(second), "--source", "Embase", "--as", "alice")
    cli(db, "dedup", "run", "--as", "alice")
    for who in ("alice", "bob"):
        cli(db, "screen", "decide", "3", "include", "--as", who)  # record 3 names reference 1
        cli(db, "screen", "decide", "2", "include", "--as", who)
    cli(db, "screen", "unblind", "--stage", "tiab", "--as", "alice")
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    cli(db, "screen", "fulltext", "3", "--file", str(pdf), "--as", "alice")
    out = cli(
        db, "screen", "fulltext", "1", "--not-retrieved", "--kind", "registry entry",
        "--reason", "registry offline", "--add", "--as", "alice",
    )  # fmt: skip
    # Reports 1 and 2 were recorded as sought when references 1 and 2 were included at
    # title/abstract; --file recorded the first as retrieved.
    assert out.strip() == "Record 1: report 3 (registry entry) not retrieved."
    for who in ("alice", "bob"):
        cli(db, "screen", "decide", "1", "include", "--stage", "fulltext", "--as", who)
        cli(db, "screen", "decide", "2", "include", "--stage", "fulltext", "--as", who)
    cli(db, "screen", "unblind", "--stage", "fulltext", "--as", "alice")
    assert "Study 1 now holds references 1, 2." in cli(
        db, "study", "link", "2", "3", "--as", "alice"
    )
    shown = json.loads(cli(db, "records", "show", "3", "--format", "json", "--as", "alice"))
    assert (shown["reference_id"], shown["study"]) == (1, 1)
    assert [(r["id"], r["kind"], r["status"]) for r in shown["reports"]] == [
        (1, "journal article", "retrieved"),
        (3, "registry entry", "not_retrieved"),
    ]
    listed = json.loads(cli(db, "study", "list", "--format", "json", "--as", "alice"))
    assert [(s["study_id"], s["references"]) for s in listed] == [(1, [1, 2])]
    assert json.loads(cli(db, "study", "show", "2", "--format", "json", "--as", "alice")) == [
        {"study_id": 1, "references": [1, 2], "title": TITLE}
    ]
    assert cli(db, "study", "show", "3", "--format", "csv", "--as", "alice").splitlines() == [
        "study_id,references,title",
        f"1,1;2,{TITLE}",
    ]
    prisma = json.loads(cli(db, "prisma", "--format", "json", "--as", "alice"))
    assert (prisma["identified"], prisma["duplicates_removed"], prisma["records_screened"]) == (
        3, 1, 2,
    )  # fmt: skip
    assert (prisma["reports_sought"], prisma["reports_not_retrieved"]) == (3, 1)
    assert (prisma["studies_included"], prisma["reports_of_included_studies"]) == (1, 2)
    refused = runner.invoke(app, ["study", "link", "2", "2", "--as", "alice", "--db", db])
    assert refused.exit_code == 2 and refused.stderr == (
        "reviewtool: error: reference 2 is in study 1 already\n"
    )
    assert cli(db, "audit", "verify", "--as", "alice").startswith("Audit ledger verified")


def test_records_show_hides_reports_while_title_abstract_is_blind(tmp_path: Path) -> None:
    """A full text recorded for a reference says it was included at title/abstract: a reviewer to
    whom that stage is blind does not see it in `records show` (an owner does)."""
    db = _review(tmp_path)
    for who in ("alice", "bob"):
        cli(db, "screen", "decide", "1", "include", "--as", who)
    cli(db, "screen", "fulltext", "1", "--not-retrieved", "--as", "alice")  # the owner may
    as_bob = json.loads(cli(db, "records", "show", "1", "--format", "json", "--as", "bob"))
    as_alice = json.loads(cli(db, "records", "show", "1", "--format", "json", "--as", "alice"))
    assert as_bob["reports"] == [] and as_bob["study"] is None
    assert [r["status"] for r in as_alice["reports"]] == ["not_retrieved"]
