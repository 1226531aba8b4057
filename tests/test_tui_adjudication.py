"""The adjudication screen with the pilot: conflicts resolved by keys, reviewers refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input
from tui_keys import burst, keys_of, settle

from reviewtool import audit
from reviewtool.domain import Role
from reviewtool.importing.service import import_files
from reviewtool.members.service import add_member
from reviewtool.review.service import init_review, open_existing
from reviewtool.screening.service import list_conflicts, record_decision
from reviewtool.storage.queries import current_resolutions
from reviewtool.tui.adjudication import AdjudicationApp

SIZE = (100, 30)


@pytest.fixture
def conflicts_url(tmp_path: Path) -> str:
    """Three references: alice and bob disagree on the first two and agree on the third."""
    url = f"sqlite:///{tmp_path / 'adj.db'}"
    review = init_review(url, title="Adjudication test", owner="alice")
    ris = tmp_path / "three.ris"
    ris.write_text(
        "".join(
            f"TY  - JOUR\nID  - A{n}\nTI  - Trial number {n} of stem cells\nPY  - 2020\n"
            f"AB  - Abstract {n}.\nER  - \n\n"
            for n in (1, 2, 3)
        ),
        encoding="utf-8",
    )
    with review.transaction() as session:
        add_member(session, actor="alice", name="bob", roles=[Role.REVIEWER])
        add_member(session, actor="alice", name="carol", roles=[Role.ADJUDICATOR])
        import_files(session, actor="alice", paths=[ris], source="Test")
    with review.transaction() as session:
        for record_id, (a, b) in zip(
            (1, 2, 3),
            (("include", "exclude"), ("maybe", "exclude"), ("include", "include")),
            strict=True,
        ):
            record_decision(
                session,
                actor="alice",
                record_id=record_id,
                stage="tiab",
                decision=a,
                note="alice's note" if record_id == 1 else None,
            )
            record_decision(
                session,
                actor="bob",
                record_id=record_id,
                stage="tiab",
                decision=b,
                reason="animal study" if b == "exclude" else None,
            )
    review.close()
    return url


def _resolutions(url: str) -> dict[int, tuple[str, str | None, str | None, int]]:
    review = open_existing(url)
    with review.reading() as session:
        out = {
            r: (res.decision, res.reason, res.note, res.member_id)
            for r, res in current_resolutions(session, "tiab").items()
        }
    review.close()
    return out


async def test_votes_side_by_side_and_resolved_by_keys(conflicts_url: str) -> None:
    app = AdjudicationApp(conflicts_url, "carol", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.adjudication
        panels = [str(p.render()) for p in screen.query(".vote")]
        assert panels[0].startswith("alice: include · note: alice's note")
        assert panels[1].startswith("bob: exclude (animal study)")
        assert "Conflict 1 of 2" in str(screen.query_one("#heading").render())
        assert "Trial number 1" in str(screen.query_one("#card").render())
        await pilot.press("s")  # skip to the second, then resolve it with a note
        assert "record 2" in str(screen.query_one("#heading").render())
        await pilot.press("n")
        app.screen.query_one(Input).value = "methods say RCT"
        await pilot.press("enter", "i")
        assert "Conflict 1 of 1" in str(screen.query_one("#heading").render())
        await pilot.press("e", "4")  # 0 is "no reason", so 4 is the fourth reason
        assert "No conflicts need you right now" in str(screen.query_one("#heading").render())
    resolutions = _resolutions(conflicts_url)
    assert {r: v[:3] for r, v in resolutions.items()} == {
        1: ("exclude", "meeting abstract", None),
        2: ("include", None, "methods say RCT"),
    }
    review = open_existing(conflicts_url)
    with review.reading() as session:
        assert list_conflicts(session, actor="carol", stage="tiab") == []
        assert audit.verify(session).ok
    review.close()


async def test_a_reviewer_is_refused_and_nothing_is_written(conflicts_url: str) -> None:
    app = AdjudicationApp(conflicts_url, "bob", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i", "e", "1")
        assert any(
            "may not list conflicts: that needs the role adjudicator" in n.message
            for n in app._notifications
        )
        assert "not open to you" in str(app.adjudication.query_one("#heading").render())
    assert _resolutions(conflicts_url) == {}
    review = open_existing(conflicts_url)
    with review.reading() as session:
        refused = [e.actor for e in audit.list_events(session, action="access-refused")]
    review.close()
    assert refused == ["bob"]


def _second_session_votes(url: str, who: str, record_id: int, decision: str, **kw: str) -> None:
    """Another person's window: a vote committed through its own connection."""
    review = open_existing(url)
    with review.transaction() as session:
        record_decision(
            session, actor=who, record_id=record_id, stage="tiab", decision=decision, **kw
        )
    review.close()


def _text(screen: object, selector: str) -> str:
    return str(screen.query_one(selector).render())  # type: ignore[attr-defined]


async def test_a_conflict_reopened_while_the_screen_is_open_is_shown_with_its_history(
    conflicts_url: str,
) -> None:
    app = AdjudicationApp(conflicts_url, "carol", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.adjudication
        await pilot.press("i", "i")  # records 1 and 2 resolved as include
        await pilot.pause()
        assert "No conflicts need you right now" in _text(screen, "#heading")
        # Meanwhile bob, in his own window, changes his vote on record 1 (still against alice).
        _second_session_votes(conflicts_url, "bob", 1, "exclude", reason="not an RCT")
        await pilot.press("r")
        await pilot.pause()
        heading = _text(screen, "#heading")
        assert "Conflict 1 of 1" in heading and "record 1" in heading and "reopened" in heading
        history = _text(screen, "#history")
        assert "carol resolved it as include on" in history
        assert (
            "bob changed their vote from exclude (animal study) to exclude (not an RCT)" in history
        )
        assert any("record 1 reopened" in n.message for n in app._notifications)
        # Resolving moves on and reads the list again: nothing is left.
        await pilot.press("e", "5")
        await pilot.pause()
        assert "No conflicts need you right now" in _text(screen, "#heading")
    assert _resolutions(conflicts_url)[1][:2] == ("exclude", "not an RCT")


async def test_votes_agreeing_against_a_resolution_are_shown_not_silently_applied(
    conflicts_url: str,
) -> None:
    app = AdjudicationApp(conflicts_url, "carol", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.adjudication
        await pilot.press("i")  # record 1 resolved as include; record 2 is on screen
        await pilot.pause()
        assert "Conflict 1 of 1" in _text(screen, "#heading")
        # alice, elsewhere, now excludes record 1 too: the votes agree against carol's include.
        _second_session_votes(conflicts_url, "alice", 1, "exclude", reason="animal study")
        await pilot.press("s")  # moving on reads the list again
        await pilot.pause()
        assert "Conflict" in _text(screen, "#heading") and "of 2" in _text(screen, "#heading")
        while "record 1 " not in _text(screen, "#heading"):
            await pilot.press("s")
            await pilot.pause()
        assert "contested" in _text(screen, "#heading")
        assert "Votes now agree against the resolution" in _text(screen, "#history")
        history = _text(screen, "#history")
        assert "carol's include still decides" in history
        assert "alice changed their vote from include to exclude (animal study)" in history
        await pilot.press("i")  # carol keeps her decision
        await pilot.pause()
    assert _resolutions(conflicts_url)[1][0] == "include"
    review = open_existing(conflicts_url)
    with review.reading() as session:
        assert [c.record_id for c in list_conflicts(session, actor="carol", stage="tiab")] == [2]
        assert audit.verify(session).ok
    review.close()


async def test_the_timer_brings_a_new_conflict_without_a_key(conflicts_url: str) -> None:
    app = AdjudicationApp(conflicts_url, "carol", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.adjudication
        assert "of 2" in _text(screen, "#heading")
        _second_session_votes(conflicts_url, "bob", 3, "exclude", reason="animal study")
        screen._poll()  # what the interval timer calls
        await pilot.pause()
        assert "of 3" in _text(screen, "#heading")
        assert "record 1 " in _text(screen, "#heading")  # the conflict on screen stays


async def test_note_enter_then_resolve_back_to_back(conflicts_url: str) -> None:
    """Issue 9 item 1 on the adjudication screen: the key after Enter resolves, it is no note text."""
    app = AdjudicationApp(conflicts_url, "carol", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        burst(app, "n", *keys_of("methods say RCT"), "enter", "i", "e", "4")
        await settle(pilot)
        assert type(app.screen).__name__ == "AdjudicationScreen"
        assert "No conflicts need you right now" in str(
            app.adjudication.query_one("#heading").render()
        )
    assert {r: v[:3] for r, v in _resolutions(conflicts_url).items()} == {
        1: ("include", None, "methods say RCT"),
        2: ("exclude", "meeting abstract", None),
    }


async def test_help_and_cancelled_note_then_resolve_back_to_back(conflicts_url: str) -> None:
    app = AdjudicationApp(conflicts_url, "carol", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        burst(app, "question_mark", "q", "n", *keys_of("drop"), "escape", "s", "i")
        await settle(pilot)
        assert app.is_running
    assert {r: v[:3] for r, v in _resolutions(conflicts_url).items()} == {
        2: ("include", None, None)
    }
