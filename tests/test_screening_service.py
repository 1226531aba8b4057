"""Screening rules, history, adjudication, full text, blinding and statistics through the library."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from reviewtool import audit
from reviewtool.access import sight, visible_events
from reviewtool.domain import Role
from reviewtool.errors import InvalidInput, NotFound, PermissionDenied, StageOrderError
from reviewtool.importing.service import import_files
from reviewtool.members.service import add_member, remove_member, revoke_role
from reviewtool.review.service import set_setting
from reviewtool.screening import service as sv
from reviewtool.storage import Review
from reviewtool.storage.models import Member, ScreeningDecision, ScreeningResolution


def _ris(n: int) -> str:
    return "".join(
        f"TY  - JOUR\nID  - R{i}\nTI  - Trial number {i} of stem cells in liver disease cohort {i * 7}\n"
        f"AU  - Author{i}, A.\nPY  - {2000 + i % 20}\nER  -\n\n"
        for i in range(1, n + 1)
    )


@pytest.fixture
def review(fresh_review: Review, tmp_path: Path) -> Review:
    """alice (owner) and bob (reviewer) screen, carol adjudicates; six references 1..6."""
    path = tmp_path / "six.ris"
    path.write_text(_ris(6))
    with fresh_review.transaction() as session:
        import_files(session, actor="alice", paths=[path], source="MEDLINE")
    return fresh_review


def vote(
    review: Review,
    who: str,
    record: int,
    decision: str,
    stage: str = "tiab",
    reason: str | None = None,
) -> None:
    with review.transaction() as session:
        sv.record_decision(
            session, actor=who, record_id=record, stage=stage, decision=decision, reason=reason
        )


def outcome(review: Review, record: int, stage: str = "tiab") -> str:
    from reviewtool.storage.queries import stage_outcomes

    with review.reading() as session:
        found = stage_outcomes(session, stage).get(record)
    return found.status.value if found else "none"


def test_agreement_conflict_and_resolution(review: Review) -> None:
    vote(review, "alice", 1, "include")
    assert outcome(review, 1) == "open"
    vote(review, "bob", 1, "maybe")
    assert outcome(review, 1) == "included"  # maybe counts as include
    vote(review, "alice", 2, "exclude", reason="animal study")
    vote(review, "bob", 2, "exclude", reason="review or meta-analysis")
    assert outcome(review, 2) == "excluded"  # at title/abstract different reasons still agree
    vote(review, "alice", 3, "include")
    vote(review, "bob", 3, "exclude", reason="not an RCT")
    assert outcome(review, 3) == "conflict"
    with review.reading() as session:
        (conflict,) = sv.list_conflicts(session, actor="carol", stage="tiab")
    assert conflict.record_id == 3
    assert {(v.reviewer, v.decision, v.reason) for v in conflict.votes} == {
        ("alice", "include", None),
        ("bob", "exclude", "not an RCT"),
    }
    with review.transaction() as session:
        sv.resolve_conflict(
            session, actor="carol", record_id=3, stage="tiab", decision="include", note="randomised"
        )
    assert outcome(review, 3) == "resolved-included"


def unblind(review: Review, stage: str = "tiab") -> None:
    with review.transaction() as session:
        sv.unblind_stage(session, actor="alice", stage=stage)


def test_full_text_follows_title_abstract_and_reasons_must_agree(review: Review) -> None:
    with pytest.raises(StageOrderError, match="not included at title/abstract"):
        vote(review, "alice", 1, "include", stage="fulltext")
    for record in (1, 2):
        vote(review, "alice", record, "include")
        vote(review, "bob", record, "include")
    unblind(review)  # full text opens to reviewers once title/abstract is not blind
    vote(review, "alice", 1, "exclude", stage="fulltext", reason="insufficient data")
    vote(review, "bob", 1, "exclude", stage="fulltext", reason="not an RCT")
    assert outcome(review, 1, "fulltext") == "conflict"
    vote(review, "alice", 2, "exclude", stage="fulltext", reason="insufficient data")
    with pytest.raises(InvalidInput, match="needs a reason"):
        vote(review, "bob", 2, "exclude", stage="fulltext")
    vote(review, "bob", 2, "exclude", stage="fulltext", reason="1")  # a reason by its number
    assert outcome(review, 2, "fulltext") == "excluded"


def test_not_retrieved_full_text_cannot_be_assessed(review: Review) -> None:
    vote(review, "alice", 4, "include")
    vote(review, "bob", 4, "include")
    unblind(review)
    with review.transaction() as session:
        sv.set_fulltext(
            session, actor="bob", record_id=4, not_retrieved=True, note="author did not reply"
        )
    with pytest.raises(StageOrderError, match="not retrieved"):
        vote(review, "alice", 4, "include", stage="fulltext")
    with review.reading() as session:
        assert sv.screening_stats(session, actor="bob", stage="fulltext").not_retrieved == 1
        assert 4 not in sv.eligible(session, sv.Stage.FULL_TEXT)
    with pytest.raises(StageOrderError), review.transaction() as session:
        sv.set_fulltext(session, actor="bob", record_id=5, location="x.pdf")


def test_changes_keep_history_and_one_current_vote(review: Review) -> None:
    vote(review, "alice", 1, "include")
    vote(review, "alice", 1, "exclude", reason="animal study")
    vote(review, "alice", 1, "maybe")
    with review.reading() as session:
        rows = session.exec(select(ScreeningDecision).where(ScreeningDecision.record_id == 1)).all()
    assert [r.decision for r in rows] == ["include", "exclude", "maybe"]
    assert [r.superseded_at is None for r in rows] == [False, False, True]
    # The database itself refuses a second current vote by the same reviewer.
    with pytest.raises(IntegrityError), review.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO screening_decision (record_id, stage, member_id, decision, decided_at)"
                " VALUES (1, 'tiab', 1, 'include', '2026-01-01T00:00:00Z')"
            )
        )


def test_changed_vote_reopens_the_resolution(review: Review) -> None:
    vote(review, "alice", 3, "include")
    vote(review, "bob", 3, "exclude", reason="not an RCT")
    with review.transaction() as session:
        sv.resolve_conflict(
            session,
            actor="carol",
            record_id=3,
            stage="tiab",
            decision="exclude",
            reason="not an RCT",
        )
    vote(review, "alice", 3, "include")  # same vote again, still a change of row
    assert outcome(review, 3) == "conflict"
    with review.reading() as session:
        (resolution,) = session.exec(select(ScreeningResolution)).all()
        assert resolution.reopened_at is not None and "alice" in (resolution.reopened_because or "")
        assert audit.verify(session).ok


def test_undo_restores_the_previous_vote(review: Review) -> None:
    vote(review, "bob", 5, "include")
    vote(review, "bob", 5, "exclude", reason="wrong population")
    with review.transaction() as session:
        assert sv.undo_last(session, actor="bob", stage="tiab") == 5
        card = sv.record_card(session, actor="bob", record_id=5, stage="tiab")
    assert card.my_vote is not None and card.my_vote.decision == "include"
    with review.transaction() as session:
        assert sv.undo_last(session, actor="bob", stage="tiab") == 5
        assert sv.record_card(session, actor="bob", record_id=5, stage="tiab").my_vote is not None


def test_blinding_in_cards_conflicts_exports_and_the_audit_log(review: Review) -> None:
    """bob is a reviewer, alice the owner (who screens too), carol the adjudicator."""
    vote(review, "alice", 1, "exclude", reason="animal study")
    with review.reading() as session:
        card = sv.record_card(session, actor="bob", record_id=1, stage="tiab")
        assert card.other_votes is None and card.outcome is None
        with pytest.raises(PermissionDenied, match="hidden while the stage is blind"):
            sv.final_decisions(session, actor="bob", stage="tiab")
        bob = session.exec(select(Member).where(Member.name == "bob")).one()
        log = visible_events(session, bob, audit.list_events(session, action="screening-decision"))
    assert log == []
    with pytest.raises(PermissionDenied), review.reading() as session:
        sv.list_conflicts(session, actor="bob", stage="tiab")
    vote(review, "bob", 1, "include")  # now a conflict: the adjudicator sees both, bob not
    with review.reading() as session:
        assert sv.record_card(session, actor="bob", record_id=1, stage="tiab").other_votes is None
        carol = sv.record_card(session, actor="carol", record_id=1, stage="tiab")
        assert carol.other_votes is not None and carol.outcome == "conflict"
    with review.transaction() as session:
        sv.resolve_conflict(
            session,
            actor="carol",
            record_id=1,
            stage="tiab",
            decision="exclude",
            reason="animal study",
        )
    # Decided now, but the stage is still blind: the decision would show alice's vote to bob.
    with review.reading() as session:
        card = sv.record_card(session, actor="bob", record_id=1, stage="tiab")
        assert card.other_votes is None and card.outcome is None
        assert sv.screening_progress(session, actor="bob", stage="tiab").decided is None
        assert sv.screening_progress(session, actor="alice", stage="tiab").decided == 1
        owner = sv.record_card(session, actor="alice", record_id=1, stage="tiab")
        assert owner.outcome == "resolved-excluded"
        assert [r["via"] for r in sv.final_decisions(session, actor="alice", stage="tiab")] == [
            "adjudication"
        ]
    unblind(review)
    with review.reading() as session:
        card = sv.record_card(session, actor="bob", record_id=1, stage="tiab")
        assert card.other_votes is not None and card.other_votes[0].reason == "animal study"
        assert card.outcome == "resolved-excluded"
        assert sv.screening_progress(session, actor="bob", stage="tiab").decided == 1
        assert [r["reason"] for r in sv.final_decisions(session, actor="bob", stage="tiab")] == [
            "animal study"
        ]
        log = visible_events(session, bob, audit.list_events(session, action="screening-decision"))
    assert [e.actor for e in log] == ["alice", "bob"]


def test_unblinding_is_for_owners_recorded_and_never_undone(review: Review) -> None:
    with pytest.raises(PermissionDenied), review.transaction() as session:
        sv.unblind_stage(session, actor="bob", stage="tiab")
    vote(review, "bob", 1, "include")
    unblind(review)
    with review.transaction() as session:
        assert sv.unblind_stage(session, actor="alice", stage="tiab") is False  # already ended
    with pytest.raises(InvalidInput, match="screen unblind --stage tiab"):
        with review.transaction() as session:
            set_setting(session, actor="alice", key="screening.blind_tiab", value="true")
    with review.transaction() as session:
        set_setting(session, actor="alice", key="screening.blind", value="false")
    with pytest.raises(InvalidInput, match="cannot be turned back on once votes exist"):
        with review.transaction() as session:
            set_setting(session, actor="alice", key="screening.blind", value="true")
    with review.reading() as session:
        # tiab by `screen unblind`; fulltext by turning the review-wide switch off (item 2).
        tiab, fulltext = audit.list_events(session, action="stage-unblinded")
        assert (tiab.actor, tiab.entity_id) == ("alice", "screening.blind_tiab")
        assert (tiab.payload["stage"], tiab.payload["after"]) == ("tiab", False)
        assert (fulltext.entity_id, fulltext.payload["before"]) == (
            "screening.blind_fulltext",
            None,
        )
        assert audit.verify(session).ok
    # Blinding put back behind the ledger's back is caught: the ledger says it ended.
    with review.engine.begin() as conn:
        conn.execute(
            text("UPDATE review_setting SET value = 'true' WHERE key = 'screening.blind_tiab'")
        )
    with review.reading() as session:
        report = audit.verify(session)
        assert not report.ok
        assert any("screening.blind_tiab" in p for p in report.problems), report.problems
        # fulltext is still blind by its own flag, but screening.blind false opens every stage;
        # risk of bias, which follows full text, is blind until `rob unblind` (docs/rob.md).
        assert sight(session, "bob").blind == frozenset({"rob"})


def test_unblinded_review_shows_votes(review: Review) -> None:
    with review.transaction() as session:
        set_setting(session, actor="alice", key="screening.blind", value="false")
    vote(review, "bob", 2, "include")
    with review.reading() as session:
        card = sv.record_card(session, actor="alice", record_id=2, stage="tiab")
    assert card.other_votes is not None and card.other_votes[0].reviewer == "bob"


def test_bad_votes_are_refused(review: Review) -> None:
    with pytest.raises(InvalidInput, match="unknown exclusion reason 'too old'"):
        vote(review, "alice", 1, "exclude", reason="too old")
    with pytest.raises(InvalidInput, match="with exclude only"):
        vote(review, "alice", 1, "include", reason="animal study")
    with pytest.raises(InvalidInput, match="include, exclude or maybe"):
        vote(review, "alice", 1, "perhaps")
    with pytest.raises(InvalidInput, match="stage must be tiab or fulltext"):
        vote(review, "alice", 1, "include", stage="abstract")
    with pytest.raises(NotFound):
        vote(review, "alice", 99, "include")
    with pytest.raises(PermissionDenied):
        vote(review, "carol", 1, "include")  # adjudicators do not screen


def test_last_adjudicator_cannot_leave_open_conflicts(review: Review) -> None:
    vote(review, "alice", 3, "include")
    vote(review, "bob", 3, "exclude", reason="not an RCT")
    with pytest.raises(InvalidInput, match="last adjudicator"), review.transaction() as session:
        remove_member(session, actor="alice", name="carol")
    with pytest.raises(InvalidInput, match="last adjudicator"), review.transaction() as session:
        revoke_role(session, actor="alice", name="carol", role=Role.ADJUDICATOR)
    with review.transaction() as session:
        add_member(session, actor="alice", name="dora", roles=[Role.ADJUDICATOR])
        remove_member(session, actor="alice", name="carol")


def test_import_decisions_is_all_or_nothing(review: Review, tmp_path: Path) -> None:
    good = tmp_path / "bob.csv"
    good.write_text("record_id,decision,reason,note\n1,include,,\n2,exclude,animal study,rats\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("record_id,decision,reason\n3,include,\n4,exclude,teleportation\n")
    with (
        pytest.raises(InvalidInput, match=r"bad.csv:3: unknown exclusion reason"),
        review.transaction() as session,
    ):
        sv.import_decisions(session, actor="bob", path=str(bad), stage="tiab")
    with review.transaction() as session:
        assert sv.import_decisions(session, actor="bob", path=str(good), stage="tiab").written == 2
    with review.reading() as session:
        assert session.exec(select(ScreeningDecision)).all()[1].note == "rats"
        assert len(session.exec(select(ScreeningDecision)).all()) == 2


def test_stats_kappa_by_hand(review: Review) -> None:
    # bob/alice on four references: (inc, inc) (exc, exc) (inc, exc) (exc, exc).
    # p_o = 3/4; bob includes 2/4, alice 1/4: p_e = .5*.25 + .5*.75 = .5; kappa = (.75-.5)/.5 = 0.5.
    for record, (b, a) in enumerate(
        [
            ("include", "include"),
            ("exclude", "exclude"),
            ("include", "exclude"),
            ("exclude", "exclude"),
        ],
        start=1,
    ):
        vote(review, "bob", record, b, reason="animal study" if b == "exclude" else None)
        vote(review, "alice", record, a, reason="animal study" if a == "exclude" else None)
    with review.reading() as session:
        stats = sv.screening_stats(session, actor="alice", stage="tiab")  # alice is the owner
    (pair,) = stats.agreement
    assert (pair["reviewer_a"], pair["reviewer_b"], pair["n"]) == ("alice", "bob", 4)
    assert pair["kappa"] == pytest.approx(0.5)
    assert pair["percent_agreement"] == pytest.approx(75.0)
    assert pair["pabak"] == pytest.approx(0.5)
    assert (stats.included, stats.excluded, stats.conflicts_open, stats.open) == (1, 2, 1, 2)
    assert stats.excluded_by_reason == {"animal study": 2}


def test_queue_order_is_per_reviewer_and_skips_own_votes(review: Review) -> None:
    with review.reading() as session:
        alice = sv.screening_queue(session, actor="alice", stage="tiab")
        bob = sv.screening_queue(session, actor="bob", stage="tiab")
    assert sorted(alice) == sorted(bob) == [1, 2, 3, 4, 5, 6]
    assert alice != bob  # each reviewer has an own shuffled order
    vote(review, "alice", alice[0], "include")
    with review.reading() as session:
        assert sv.screening_queue(session, actor="alice", stage="tiab") == alice[1:]
        progress = sv.screening_progress(session, actor="alice", stage="tiab")
    assert (progress.total, progress.mine, progress.left, progress.decided) == (6, 1, 5, 0)


def _resolve(review: Review, record: int, decision: str, reason: str | None = None) -> None:
    with review.transaction() as session:
        sv.resolve_conflict(
            session, actor="carol", record_id=record, stage="tiab", decision=decision, reason=reason
        )


def test_a_reopened_conflict_shows_the_earlier_resolution_and_whose_vote_changed(
    review: Review,
) -> None:
    vote(review, "alice", 3, "include")
    vote(review, "bob", 3, "exclude", reason="not an RCT")
    _resolve(review, 3, "include")
    with review.reading() as session:
        assert sv.list_conflicts(session, actor="carol", stage="tiab") == []
    vote(review, "alice", 3, "maybe")  # still against bob: a conflict again
    with review.reading() as session:
        (view,) = sv.list_conflicts(session, actor="carol", stage="tiab")
        assert audit.verify(session).ok
    assert view.state == "reopened"
    assert view.resolution is None
    assert view.earlier is not None
    assert (view.earlier["decision"], view.earlier["adjudicator"]) == ("include", "carol")
    assert view.earlier["reopened_because"] == "alice changed their vote from include to maybe"
    assert view.earlier["reopened_at"] >= view.earlier["resolved_at"]
    # bob taking his vote back leaves the reference open, not in conflict: nothing listed.
    _resolve(review, 3, "exclude", "not an RCT")
    with review.transaction() as session:
        sv.undo_last(session, actor="bob", stage="tiab")
    with review.reading() as session:
        assert sv.list_conflicts(session, actor="carol", stage="tiab") == []
        rows = session.exec(
            select(ScreeningResolution).order_by(ScreeningResolution.id)  # type: ignore[arg-type]
        ).all()
    assert rows[-1].reopened_because == "bob took back their vote (exclude (not an RCT))"
    assert outcome(review, 3) == "open"


def test_votes_that_agree_against_a_resolution_contest_it_and_do_not_override_it(
    review: Review,
) -> None:
    vote(review, "alice", 3, "include")
    vote(review, "bob", 3, "exclude", reason="not an RCT")
    _resolve(review, 3, "include")
    vote(review, "alice", 3, "exclude", reason="animal study")  # now both exclude
    # The adjudicator's include still decides; the conflicts list flags it.
    assert outcome(review, 3) == "resolved-included"
    with review.reading() as session:
        (view,) = sv.list_conflicts(session, actor="carol", stage="tiab")
        assert audit.verify(session).ok
    assert view.state == "contested"
    assert view.resolution is not None and view.resolution["decision"] == "include"
    assert view.contested == (
        "alice changed their vote from include to exclude (animal study); "
        "the votes now agree on exclude (animal study), against this resolution"
    )
    # Resolving again answers it: here following the votes; the old resolution is kept as history.
    _resolve(review, 3, "exclude", "animal study")
    assert outcome(review, 3) == "resolved-excluded"
    with review.reading() as session:
        assert sv.list_conflicts(session, actor="carol", stage="tiab") == []
        old, new = session.exec(
            select(ScreeningResolution).order_by(ScreeningResolution.id)  # type: ignore[arg-type]
        ).all()
        assert audit.verify(session).ok
        (event,) = audit.list_events(session, action="screening-resolution")[-1:]
    assert old.reopened_because == "resolved again by carol" and new.reopened_at is None
    assert event.payload["replaced"]["decision"] == "include"
    assert event.payload["replaced"]["contested"].startswith("alice changed their vote")


def test_votes_that_come_to_agree_with_the_resolution_reopen_it(review: Review) -> None:
    vote(review, "alice", 4, "include")
    vote(review, "bob", 4, "exclude", reason="not an RCT")
    _resolve(review, 4, "include")
    vote(review, "bob", 4, "include")
    assert outcome(review, 4) == "included"  # agreement decides; nothing to tell
    with review.reading() as session:
        assert sv.list_conflicts(session, actor="carol", stage="tiab") == []
        (row,) = session.exec(select(ScreeningResolution)).all()
        assert audit.verify(session).ok
    assert row.reopened_because == (
        "bob changed their vote from exclude (not an RCT) to include; "
        "the votes now agree with the resolution"
    )


def test_a_contested_resolution_edited_behind_the_tools_back_fails_verify(review: Review) -> None:
    vote(review, "alice", 3, "include")
    vote(review, "bob", 3, "exclude", reason="not an RCT")
    _resolve(review, 3, "include")
    vote(review, "alice", 3, "exclude", reason="animal study")
    with review.engine.begin() as conn:
        conn.execute(text("UPDATE screening_resolution SET contested_at = NULL"))
    with review.reading() as session:
        report = audit.verify(session)
    assert not report.ok
    assert any("screening_resolution 3:tiab" in p for p in report.problems)


def test_turning_blinding_off_review_wide_unblinds_every_stage(review: Review) -> None:
    """Issue 8 follow-up, item 2: `settings set screening.blind false` is `screen unblind` at every
    stage still blind: a stage-unblinded event each, the per-stage keys false, nobody blind."""
    from reviewtool.review.service import get_settings

    vote(review, "bob", 1, "include")
    with review.transaction() as session:
        set_setting(session, actor="alice", key="screening.blind", value="false")
    with review.reading() as session:
        events = audit.list_events(session, action="stage-unblinded")
        assert [(e.actor, e.payload["stage"], e.payload["after"]) for e in events] == [
            ("alice", "tiab", False),
            ("alice", "fulltext", False),
        ]
        shown = get_settings(session)
        assert (shown["screening.blind"], shown["screening.blind_tiab"]) == (False, False)
        assert shown["screening.blind_fulltext"] is False
        # No screening stage is blind; risk of bias is, until `rob unblind` (docs/rob.md).
        assert sight(session, "bob").blind == frozenset({"rob"})
        assert audit.verify(session).ok
    # Again: nothing is blind, nothing recorded.
    with review.transaction() as session:
        set_setting(session, actor="alice", key="screening.blind", value="false")
    with review.reading() as session:
        assert len(audit.list_events(session, action="stage-unblinded")) == 2


def test_blinding_switched_off_and_on_before_any_vote_is_whole_again(review: Review) -> None:
    """Before any vote the switch may go back on: every stage is blind again (settings agree)."""
    from reviewtool.review.service import get_settings

    for value in ("false", "true"):
        with review.transaction() as session:
            set_setting(session, actor="alice", key="screening.blind", value=value)
    with review.reading() as session:
        shown = get_settings(session)
        assert [shown[k] for k in ("screening.blind", "screening.blind_tiab")] == [True, True]
        assert shown["screening.blind_fulltext"] is True
        assert sight(session, "bob").blind == frozenset({"tiab", "fulltext"})
        assert audit.verify(session).ok


def _undo(review: Review, who: str, stage: str = "tiab") -> None:
    with review.transaction() as session:
        sv.undo_last(session, actor=who, stage=stage)


def test_undo_gives_back_the_resolution_the_vote_reopened(review: Review) -> None:
    """Issue 8 follow-up, item 3 (the report's example, at full text): carol resolved record 1
    (exclude); alice votes maybe and undoes it: the votes are those carol resolved, so her
    resolution stands again, with no reopening left and the undo's event saying so."""
    vote(review, "alice", 1, "include")
    vote(review, "bob", 1, "include")
    unblind(review)
    vote(review, "alice", 1, "include", stage="fulltext")
    vote(review, "bob", 1, "exclude", stage="fulltext", reason="not an RCT")
    with review.transaction() as session:
        sv.resolve_conflict(
            session,
            actor="carol",
            record_id=1,
            stage="fulltext",
            decision="exclude",
            reason="not an RCT",
        )
    vote(review, "alice", 1, "maybe", stage="fulltext")
    with review.reading() as session:
        (view,) = sv.list_conflicts(session, actor="carol", stage="fulltext")
    assert view.state == "reopened"
    _undo(review, "alice", "fulltext")
    assert outcome(review, 1, "fulltext") == "resolved-excluded"
    with review.reading() as session:
        assert sv.list_conflicts(session, actor="carol", stage="fulltext") == []
        (row,) = session.exec(select(ScreeningResolution)).all()
        undone = audit.list_events(session, action="screening-decision")[-1]
        assert audit.verify(session).ok
    assert (row.decision, row.reopened_at, row.reopened_because) == ("exclude", None, None)
    assert undone.payload["after"]["decision"] == "include"
    # At full text the resolution decides report 1 (recorded as sought by alice's first vote).
    assert undone.payload["state"] == {
        "screening_resolution": {
            "1:fulltext:r1": {
                "adjudicator": "carol",
                "decision": "exclude",
                "note": None,
                "reason": "not an RCT",
                "report": 1,
            }
        }
    }


def test_undo_takes_back_a_contest_but_not_what_others_changed_since(review: Review) -> None:
    """The same for a contested resolution; and when bob's vote changed after alice's, undoing
    alice's does not give back the votes carol answered, so the reopening stays."""
    vote(review, "alice", 3, "include")
    vote(review, "bob", 3, "exclude", reason="not an RCT")
    _resolve(review, 3, "include")
    vote(review, "alice", 3, "exclude", reason="animal study")  # both exclude: contested
    _undo(review, "alice")
    with review.reading() as session:
        assert sv.list_conflicts(session, actor="carol", stage="tiab") == []
        (row,) = session.exec(select(ScreeningResolution)).all()
        assert audit.verify(session).ok
    assert (row.contested_at, row.contested_because, row.reopened_at) == (None, None, None)
    assert outcome(review, 3) == "resolved-included"
    vote(review, "alice", 3, "maybe")  # reopens
    vote(review, "bob", 3, "exclude", reason="animal study")
    _undo(review, "alice")
    with review.reading() as session:
        (view,) = sv.list_conflicts(session, actor="carol", stage="tiab")
        assert audit.verify(session).ok
    assert view.state == "reopened"
    assert view.earlier is not None
    assert view.earlier["reopened_because"] == "alice changed their vote from include to maybe"
