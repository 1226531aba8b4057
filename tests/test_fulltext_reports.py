"""Full-text decisions on reports (issue 10, item 2): each vote and resolution at full text is on
one report; a reference's full-text outcome is derived from its reports'; PRISMA counts reports.

The review: six references; reference 1 (a trial) is included at title/abstract and has two
reports, its journal article and its trial-registry entry; the others are excluded there.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import col, select
from typer.testing import CliRunner

from reviewtool import audit
from reviewtool.cli import app
from reviewtool.dedup.service import run_dedup
from reviewtool.errors import InvalidInput
from reviewtool.importing.service import import_files
from reviewtool.screening import service as sv
from reviewtool.screening.prisma import prisma_counts
from reviewtool.storage import Review
from reviewtool.storage.models import AuditEvent, FullTextReport, ScreeningDecision
from reviewtool.storage.queries import stage_outcomes, unit_outcomes

runner = CliRunner()

TITLES = [
    "Autologous stem cells in alcoholic cirrhosis: a randomised trial",
    "Granulocyte colony stimulating factor in rats",
    "Hepatocyte transplantation in urea cycle disorders",
    "Mesenchymal stromal cells after liver transplantation",
    "Umbilical cord cells for primary biliary cholangitis",
    "Bone marrow mononuclear cells in hepatitis B decompensation",
]
ARTICLE = "https://doi.org/10.1000/trial.1"
REGISTRY = "https://clinicaltrials.gov/study/NCT00000001"


def _ris() -> str:
    return "".join(
        f"TY  - JOUR\nID  - R{i}\nTI  - {title}\nAU  - Author{i}, A.\nPY  - {2000 + i}\nER  -\n\n"
        for i, title in enumerate(TITLES, start=1)
    )


def _write(review: Review, work: object) -> object:
    with review.transaction() as session:
        return work(session)  # type: ignore[operator]


@pytest.fixture
def review(fresh_review: Review, tmp_path: Path) -> Review:
    """Reference 1 included at title/abstract (report 1 sought from then on, then recorded as
    its article; report 2 its registry entry), 2..6 excluded; title/abstract unblinded."""
    path = tmp_path / "six.ris"
    path.write_text(_ris())
    with fresh_review.transaction() as session:
        import_files(session, actor="alice", paths=[path], source="MEDLINE")
        sv.unblind_stage(session, actor="alice", stage="tiab")
    with fresh_review.transaction() as session:
        run_dedup(session, actor="alice")
    for who in ("alice", "bob"):
        with fresh_review.transaction() as session:
            sv.record_decision(session, actor=who, record_id=1, stage="tiab", decision="include")
            for ref in range(2, 7):
                sv.record_decision(
                    session, actor=who, record_id=ref, stage="tiab", decision="exclude",
                    reason="animal study",
                )  # fmt: skip
    with fresh_review.transaction() as session:
        (sought,) = sv.fulltext_reports(session, 1)
        assert (sought["id"], sought["status"]) == (1, "sought")  # made at inclusion
        first = sv.set_fulltext(session, actor="alice", record_id=1, location=ARTICLE)
        second = sv.set_fulltext(
            session, actor="alice", record_id=1, location=REGISTRY, kind="registry entry",
            add=True,
        )  # fmt: skip
    assert (first["id"], first["status"], second["id"], second["kind"]) == (
        1, "retrieved", 2, "registry entry",
    )  # fmt: skip
    return fresh_review


def ft(
    review: Review, who: str, decision: str, report: int | None, reason: str | None = None,
    record: int = 1,
) -> None:  # fmt: skip
    with review.transaction() as session:
        sv.record_decision(
            session, actor=who, record_id=record, stage="fulltext", decision=decision,
            reason=reason, report=report,
        )  # fmt: skip


def reference_status(review: Review, ref: int = 1) -> str:
    with review.reading() as session:
        found = stage_outcomes(session, "fulltext").get(ref)
    return found.status.value if found else "none"


def verified(review: Review) -> bool:
    with review.reading() as session:
        report = audit.verify(session)
    assert report.ok, report.problems
    return True


def test_one_report_excluded_one_included_includes_the_reference_and_counts_two_reports(
    review: Review,
) -> None:
    # The registry entry has no usable data; the article is the trial's full report.
    ft(review, "alice", "exclude", 2, "insufficient data")
    ft(review, "bob", "exclude", 2, "insufficient data")
    assert reference_status(review) == "open"  # the article is not decided yet: awaiting
    ft(review, "alice", "include", 1)
    assert reference_status(review) == "open"
    ft(review, "bob", "include", 1)
    assert reference_status(review) == "included"
    with review.reading() as session:
        per_report = unit_outcomes(session, "fulltext")
        assert {r: o.status.value for r, o in per_report.items()} == {
            1: "included",
            2: "excluded",
        }
        assert per_report[2].reason == "insufficient data"
        # One current vote per reviewer and report: two each on reference 1.
        rows = session.exec(
            select(ScreeningDecision.member_id, ScreeningDecision.report_id).where(
                ScreeningDecision.stage == "fulltext",
                col(ScreeningDecision.superseded_at).is_(None),
            )
        ).all()
        assert sorted(r for _, r in rows) == [1, 1, 2, 2]
        sv.unblind_stage(session, actor="alice", stage="fulltext")
        session.commit()
    with review.reading() as session:
        counts = prisma_counts(session, actor="alice")
    assert counts.broken_identities() == []
    assert (counts.records_screened, counts.records_excluded, counts.references_to_full_text) == (
        6, 5, 1,
    )  # fmt: skip
    assert (counts.reports_sought, counts.reports_not_retrieved, counts.reports_assessed) == (
        2, 0, 2,
    )  # fmt: skip
    assert (counts.reports_excluded, counts.excluded_by_reason) == (1, {"insufficient data": 1})
    assert (counts.studies_included, counts.reports_of_included_studies) == (1, 1)
    assert counts.awaiting_full_text == 0
    assert verified(review)


def test_every_report_excluded_excludes_the_reference(review: Review) -> None:
    for who in ("alice", "bob"):
        ft(review, who, "exclude", 1, "not an RCT")
    assert reference_status(review) == "open"  # the registry entry is still to be assessed
    for who in ("alice", "bob"):
        ft(review, who, "exclude", 2, "insufficient data")
    with review.reading() as session:
        found = stage_outcomes(session, "fulltext")[1]
    # Excluded; the reason reported is the earliest of the two in the settings' order.
    assert (found.status.value, found.reason) == ("excluded", "insufficient data")


def test_a_reference_with_several_reports_asks_which_one_naming_them(review: Review) -> None:
    with review.transaction() as session, pytest.raises(InvalidInput) as caught:
        sv.record_decision(
            session, actor="alice", record_id=1, stage="fulltext", decision="include"
        )
    assert str(caught.value) == (
        "record 1 has 2 reports; say which one you assessed (--report, or a report column): "
        "1 (journal article, retrieved); 2 (registry entry, retrieved)"
    )


def test_a_vote_on_a_report_of_another_reference_is_refused(review: Review, tmp_path: Path) -> None:
    # Reference 3 is brought to full text with its own report (3, sought at inclusion).
    with review.transaction() as session:
        for who in ("alice", "bob"):
            sv.record_decision(session, actor=who, record_id=3, stage="tiab", decision="include")
    with review.reading() as session:
        assert [r["id"] for r in sv.fulltext_reports(session, 3)] == [3]
        before = session.exec(select(AuditEvent.seq).order_by(col(AuditEvent.seq).desc())).first()
    with review.transaction() as session, pytest.raises(InvalidInput) as caught:
        sv.record_decision(
            session, actor="alice", record_id=1, stage="fulltext", decision="include", report=3
        )
    assert str(caught.value) == (
        "report 3 is not a report of record 1; its reports: 1 (journal article, retrieved); "
        "2 (registry entry, retrieved)"
    )
    # From the command line: one line, exit 2, nothing written.
    db = str(review.engine.url).removeprefix("sqlite:///")
    result = runner.invoke(
        app,
        ["screen", "decide", "1", "include", "--stage", "fulltext", "--report", "3",
         "--db", db, "--as", "alice"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "reviewtool: error: report 3 is not a report of record 1; its reports: 1 (journal article, "
        "retrieved); 2 (registry entry, retrieved)"
    ]
    # From a file: the file, line and report are named; nothing is written.
    votes = tmp_path / "ft.csv"
    votes.write_text("record_id,decision,reason,note,report\n1,include,,,1\n1,include,,,3\n")
    with review.transaction() as session, pytest.raises(InvalidInput) as caught:
        sv.import_decisions(session, actor="alice", path=str(votes), stage="fulltext")
    assert str(caught.value).startswith(f"{votes}:3: report 3 is not a report of record 1;")
    with review.reading() as session:
        after = session.exec(select(AuditEvent.seq).order_by(col(AuditEvent.seq).desc())).first()
    assert after == before


def test_conflicts_and_resolutions_are_per_report(review: Review) -> None:
    ft(review, "alice", "include", 1)
    ft(review, "bob", "exclude", 1, "not an RCT")  # the article: a conflict
    ft(review, "alice", "include", 2)
    ft(review, "bob", "include", 2)  # the registry entry: agreed
    assert reference_status(review) == "included"  # one report included is enough
    with review.reading() as session:
        (view,) = sv.list_conflicts(session, actor="carol", stage="fulltext")
    assert (view.record_id, view.state, view.report["id"], view.report["kind"]) == (
        1, "open", 1, "journal article",
    )  # fmt: skip
    assert [(v.reviewer, v.decision) for v in view.votes] == [
        ("alice", "include"),
        ("bob", "exclude"),
    ]
    with review.transaction() as session, pytest.raises(InvalidInput, match="has 2 reports"):
        sv.resolve_conflict(
            session, actor="carol", record_id=1, stage="fulltext", decision="exclude",
            reason="not an RCT",
        )  # fmt: skip
    with review.transaction() as session, pytest.raises(InvalidInput, match="no open conflict"):
        sv.resolve_conflict(
            session, actor="carol", record_id=1, stage="fulltext", decision="include", report=2
        )
    with review.transaction() as session:
        settled = sv.resolve_conflict(
            session, actor="carol", record_id=1, stage="fulltext", decision="exclude",
            reason="not an RCT", report=1,
        )  # fmt: skip
    assert settled.status.value == "resolved-excluded"
    assert reference_status(review) == "included"  # report 2 is still included
    with review.reading() as session:
        assert sv.list_conflicts(session, actor="carol", stage="fulltext") == []
        event = audit.list_events(session, action="screening-resolution")[-1]
    assert event.entity_id == "1:fulltext:r1"
    assert event.payload["after"] == {
        "decision": "exclude",
        "reason": "not an RCT",
        "note": None,
        "adjudicator": "carol",
        "report": 1,
    }
    # A changed vote on the registry entry does not touch the article's resolution.
    ft(review, "bob", "exclude", 2, "insufficient data")
    with review.reading() as session:
        (view,) = sv.list_conflicts(session, actor="carol", stage="fulltext")
    assert (view.report["id"], view.state) == (2, "open")
    ft(review, "alice", "maybe", 1)  # ...but one on the article reopens it
    with review.reading() as session:
        states = {
            v.report["id"]: v.state
            for v in sv.list_conflicts(session, actor="carol", stage="fulltext")
        }
    assert states == {1: "reopened", 2: "open"}
    assert verified(review)


def test_a_full_text_vote_moved_to_another_report_fails_verify(review: Review) -> None:
    ft(review, "alice", "include", 1)
    assert verified(review)
    with review.engine.begin() as conn:
        conn.execute(text("UPDATE screening_decision SET report_id = 2 WHERE stage = 'fulltext'"))
    with review.reading() as session:
        report = audit.verify(session)
    assert not report.ok
    assert any("screening_vote 1:fulltext:alice:r" in p for p in report.problems), report.problems


def test_a_full_text_vote_moved_to_another_references_report_fails_verify(review: Review) -> None:
    ft(review, "alice", "include", 1)
    with review.transaction() as session:
        for who in ("alice", "bob"):
            sv.record_decision(session, actor=who, record_id=3, stage="tiab", decision="include")
    with review.engine.begin() as conn:
        conn.execute(text("UPDATE screening_decision SET report_id = 3 WHERE stage = 'fulltext'"))
    with review.reading() as session:
        report = audit.verify(session)
    assert not report.ok
    assert any("names report 3 of another reference" in p for p in report.problems)


def test_a_report_shown_and_voted_on_from_the_cli_with_its_report_column(
    review: Review, tmp_path: Path
) -> None:
    db = str(review.engine.url).removeprefix("sqlite:///")
    out = runner.invoke(
        app,
        ["screen", "decide", "1", "include", "--stage", "fulltext", "--report", "2",
         "--db", db, "--as", "alice"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert out.stdout.strip() == "Record 1 report 2 at fulltext: include."
    votes = tmp_path / "bob.csv"
    votes.write_text(
        "record_id,decision,reason,note,report\n1,include,,,1\n1,exclude,insufficient data,,2\n"
    )
    with review.transaction() as session:
        done = sv.import_decisions(session, actor="bob", path=str(votes), stage="fulltext")
        assert done.written == 2
    with review.reading() as session:
        conflicts = sv.list_conflicts(session, actor="carol", stage="fulltext")
        reports = session.exec(select(FullTextReport.id)).all()
    assert [(c.record_id, c.report["id"]) for c in conflicts] == [(1, 2)]
    assert sorted(reports) == [1, 2]  # nothing new recorded: both reports named
    csv_out = runner.invoke(
        app,
        ["screen", "conflicts", "--stage", "fulltext", "--format", "csv", "--db", db,
         "--as", "carol"],
    )  # fmt: skip
    assert csv_out.exit_code == 0, csv_out.output
    lines = csv_out.stdout.splitlines()
    assert lines[0].startswith("record_id,report,stage,state")
    assert lines[1].startswith('1,"2 (registry entry, retrieved)",fulltext,open')
    assert verified(review)


# --- the full-text screen -----------------------------------------------------------------------


async def test_the_full_text_screen_shows_the_report_and_votes_on_it(tmp_path: Path) -> None:
    """A reference with two reports: the screen shows the first (its location, kind and the other
    report), a vote goes to that report, then the screen shows the second, and a vote goes there;
    only then does the reference leave the queue."""
    from test_tui_screening import SIZE, _text, make_tiny_review

    from reviewtool.review.service import open_existing
    from reviewtool.tui.screening import ScreeningApp

    url = make_tiny_review(tmp_path)
    review = open_existing(url)
    with review.transaction() as session:
        for who in ("alice", "bob"):
            sv.record_decision(session, actor=who, record_id=1, stage="tiab", decision="include")
        sv.unblind_stage(session, actor="alice", stage="tiab")
        sv.set_fulltext(session, actor="alice", record_id=1, location="pdfs/article.pdf")
        sv.set_fulltext(
            session, actor="alice", record_id=1, location=REGISTRY, kind="registry entry",
            add=True,
        )  # fmt: skip
    review.close()
    app = ScreeningApp(url, "bob", "fulltext")
    async with app.run_test(size=SIZE) as pilot:
        card = _text(app, "#card")
        assert "Full text: pdfs/article.pdf" in card
        assert "Report 1: journal article" in card
        assert "other reports, each voted on by itself: 2 (registry entry, retrieved)" in card
        await pilot.press("i")
        card = _text(app, "#card")
        assert f"Full text: {REGISTRY}" in card and "Report 2: registry entry" in card
        assert app.screening.card is not None and app.screening.card.report_id == 2
        assert "1 of 1 in your queue" in _text(app, "#heading")
        await pilot.press("e", "1")  # insufficient data
        assert "Queue done" in _text(app, "#heading")
    review = open_existing(url)
    with review.reading() as session:
        rows = session.exec(
            select(
                ScreeningDecision.report_id, ScreeningDecision.decision, ScreeningDecision.reason
            ).where(ScreeningDecision.stage == "fulltext")
        ).all()
        assert audit.verify(session).ok
    review.close()
    assert sorted(rows) == [(1, "include", None), (2, "exclude", "insufficient data")]


# --- reviews from before schema 0009 ------------------------------------------------------------

FIXTURE = Path(__file__).parent / "fixtures" / "review_v0005.db"


def test_full_text_votes_from_before_0009_keep_verifying_and_are_replaced_per_report(
    tmp_path: Path,
) -> None:
    """The 0005 fixture's full-text votes (alice and bob include reference 3) were recorded
    without a report: the upgrade gives them reference 3's report (1) and leaves their snapshots
    as written; a new vote on that report replaces the old one under the new key, and moving an
    old vote to another reference's report is caught."""
    import shutil

    from reviewtool.review.service import open_existing

    copy = tmp_path / "review.db"
    shutil.copyfile(FIXTURE, copy)
    review = open_existing(f"sqlite:///{copy}")
    try:
        with review.reading() as session:
            rows = session.exec(
                select(
                    ScreeningDecision.member_id,
                    ScreeningDecision.report_id,
                    ScreeningDecision.report_in_ledger,
                ).where(ScreeningDecision.stage == "fulltext")
            ).all()
            assert sorted(rows) == [(1, 1, False), (2, 1, False)]
            assert audit.verify(session).ok
        with review.transaction() as session:
            sv.record_decision(
                session, actor="alice", record_id=3, stage="fulltext", decision="exclude",
                reason="not an RCT",
            )  # fmt: skip
        with review.reading() as session:
            event = audit.list_events(session, action="screening-decision")[-1]
            assert event.entity_id == "3:fulltext:alice:r1"
            assert event.payload["before"] == {"decision": "include", "note": None, "reason": None}
            assert event.payload["state"] == {"screening_vote": {"3:fulltext:alice": None}}
            assert audit.verify(session).ok
        with review.engine.begin() as conn:  # bob's old vote moved to reference 1's report
            conn.execute(
                text(
                    "UPDATE screening_decision SET report_id = 2 "
                    "WHERE stage = 'fulltext' AND member_id = 2"
                )
            )
        with review.reading() as session:
            report = audit.verify(session)
        assert not report.ok
        assert any("names report 2 of another reference" in p for p in report.problems)
    finally:
        review.close()
