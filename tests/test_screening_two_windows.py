"""Issue 9 item 4, "two windows, one reviewer": a vote cast elsewhere (another screening window,
the CLI) on a record this window has already shown is never replaced silently. The screen passes
the vote it showed to the service; a different current vote writes nothing, and the screen shows
the reviewer the vote in force. ``screen decide`` says which vote it replaced."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, func, select
from test_tui_screening import _queue, _votes, make_tiny_review
from tui_keys import burst, keys_of, settle
from typer.testing import CliRunner

from reviewtool import audit
from reviewtool.cli import app as cli
from reviewtool.review.service import open_existing
from reviewtool.screening.service import (
    VoteChangedElsewhere,
    VoteView,
    cast_vote,
    my_vote,
    record_decision,
)
from reviewtool.storage.models import ScreeningDecision
from reviewtool.tui.screening import ScreeningApp

SIZE = (100, 30)
runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_user_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def tiny_url(tmp_path: Path) -> str:
    """Five references; alice (owner, screens too), bob (reviewer), carol (adjudicator)."""
    return make_tiny_review(tmp_path)


def _cli(url: str, *args: str) -> object:
    return runner.invoke(cli, [*args, "--db", url.removeprefix("sqlite:///")])


def _rows_and_events(url: str) -> tuple[int, int]:
    review = open_existing(url)
    with review.reading() as session:
        rows = session.exec(select(func.count()).select_from(ScreeningDecision)).one()
        events = len(audit.list_events(session, action="screening-decision"))
    review.close()
    return rows, events


def _card_text(app: ScreeningApp) -> str:
    return str(app.screening.query_one("#card").render())


def _messages(app: ScreeningApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


# ---- the service -------------------------------------------------------------------------------


def test_a_vote_on_a_vote_the_caller_did_not_see_writes_nothing(tiny_url: str) -> None:
    target = _queue(tiny_url, "alice")[0]
    review = open_existing(tiny_url)
    with review.transaction() as session:
        first = record_decision(
            session,
            actor="alice",
            record_id=target,
            stage="tiab",
            decision="exclude",
            reason="animal study",
        )
    before = _rows_and_events(tiny_url)
    with pytest.raises(VoteChangedElsewhere) as caught, review.transaction() as session:
        # the caller believes alice has no vote on it (a second window read it before)
        record_decision(
            session,
            actor="alice",
            record_id=target,
            stage="tiab",
            decision="include",
            expected=None,
        )
    assert caught.value.current == first and caught.value.exit_code == 4
    assert str(caught.value).startswith(
        f"record {target} at tiab: your vote changed elsewhere (another window or the CLI), "
        "it is now exclude (animal study) at "
    )
    assert _rows_and_events(tiny_url) == before  # nothing written, nothing audited
    with review.transaction() as session:
        # shown the vote in force, the reviewer replaces it knowingly
        cast = cast_vote(
            session,
            actor="alice",
            record_id=target,
            stage="tiab",
            decision="include",
            expected=first,
        )
        assert cast.replaced == first and cast.vote.decision == "include"
        stale = VoteView("alice", "maybe", None, None, first.decided_at)
        with pytest.raises(VoteChangedElsewhere):
            record_decision(
                session,
                actor="alice",
                record_id=target,
                stage="tiab",
                decision="maybe",
                expected=stale,
            )
        assert my_vote(session, actor="alice", record_id=target, stage="tiab") == cast.vote
    review.close()
    assert _votes(tiny_url) == {("alice", target): ("include", None, None)}


def test_other_reviewers_votes_do_not_count_as_changed(tiny_url: str) -> None:
    target = _queue(tiny_url, "alice")[0]
    review = open_existing(tiny_url)
    with review.transaction() as session:
        record_decision(session, actor="bob", record_id=target, stage="tiab", decision="exclude")
        record_decision(
            session,
            actor="alice",
            record_id=target,
            stage="tiab",
            decision="include",
            expected=None,
        )
    review.close()
    assert _votes(tiny_url)[("alice", target)] == ("include", None, None)


# ---- two screening windows of one reviewer -----------------------------------------------------


async def test_two_windows_vote_in_the_second_is_not_silently_replaced(tiny_url: str) -> None:
    """The issue's example: both windows show the first reference; the second window excludes it;
    the first window's include is refused, the reviewer sees the exclude, and a second include
    replaces it knowingly."""
    queue = _queue(tiny_url, "alice")
    first, second = ScreeningApp(tiny_url, "alice", "tiab"), ScreeningApp(tiny_url, "alice", "tiab")
    async with first.run_test(size=SIZE) as one, second.run_test(size=SIZE) as two:
        assert first.screening.card and first.screening.card.record_id == queue[0]
        burst(second, "e", "1")  # animal study
        await settle(two)
        burst(first, "i")
        await settle(one)
        assert _votes(tiny_url) == {("alice", queue[0]): ("exclude", "animal study", None)}
        assert any("your vote changed elsewhere" in m and "exclude" in m for m in _messages(first))
        card = _card_text(first)
        assert "Your vote changed elsewhere (another window or the CLI)." in card
        assert "Now: your vote: exclude (animal study) · this screen showed: no vote" in card
        assert str(first.screening.query_one("#heading").render()) == (
            f"Record {queue[0]} · changed elsewhere · your vote: exclude (animal study)"
        )
        assert "1/5 voted" in str(first.screening.query_one("#status-counts").render())
        burst(first, "i")  # now knowingly
        await settle(one)
        assert first.screening.card and first.screening.card.record_id == queue[1]
        assert "changed elsewhere" not in _card_text(first)
    assert _votes(tiny_url) == {("alice", queue[0]): ("include", None, None)}


async def test_two_windows_changed_vote_and_note_looking_back(tiny_url: str) -> None:
    """A vote shown as include (looking back) was changed to maybe in the other window: neither a
    new vote nor a note from this window replaces it unseen."""
    queue = _queue(tiny_url, "alice")
    first, second = ScreeningApp(tiny_url, "alice", "tiab"), ScreeningApp(tiny_url, "alice", "tiab")
    async with first.run_test(size=SIZE) as one, second.run_test(size=SIZE) as two:
        burst(first, "i", "b")  # include the first, look back at it
        await settle(one)
        burst(second, "slash", *keys_of(str(queue[0])), "enter", "m")
        await settle(two)
        burst(first, "n", *keys_of("dose?"), "enter")
        await settle(one)
        assert _votes(tiny_url) == {("alice", queue[0]): ("maybe", None, None)}
        assert "Now: your vote: maybe · this screen showed: your vote: include" in _card_text(first)
        burst(first, "e", "2")
        await settle(one)
    assert _votes(tiny_url) == {("alice", queue[0]): ("exclude", "case report or letter", None)}


async def test_vote_taken_back_elsewhere_puts_the_reference_back_in_the_queue(
    tiny_url: str,
) -> None:
    queue = _queue(tiny_url, "alice")
    first, second = ScreeningApp(tiny_url, "alice", "tiab"), ScreeningApp(tiny_url, "alice", "tiab")
    async with first.run_test(size=SIZE) as one, second.run_test(size=SIZE) as two:
        burst(first, "i", "b")  # include the first, look back at it
        await settle(one)
        burst(second, "u")  # the other window takes that vote back
        await settle(two)
        burst(first, "m")
        await settle(one)
        assert _votes(tiny_url) == {}
        assert "Now: no vote · this screen showed: your vote: include" in _card_text(first)
        heading = str(first.screening.query_one("#heading").render())
        assert heading == f"Record {queue[0]} · 1 of 5 in your queue"
        assert "0/5 voted" in str(first.screening.query_one("#status-counts").render())
        burst(first, "m")
        await settle(one)
        assert first.screening.card and first.screening.card.record_id == queue[1]
    assert _votes(tiny_url) == {("alice", queue[0]): ("maybe", None, None)}


async def test_queue_reference_voted_elsewhere_leaves_the_queue_with_a_notice(
    tiny_url: str,
) -> None:
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        result = _cli(tiny_url, "screen", "decide", str(queue[2]), "maybe", "--as", "alice")
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
        burst(app, "i", "i")
        await settle(pilot)
        assert app.screening.card and app.screening.card.record_id == queue[3]
        assert any(
            f"Record {queue[2]} has your vote from elsewhere" in m and "maybe" in m
            for m in _messages(app)
        )
        assert "3/5 voted" in str(app.screening.query_one("#status-counts").render())
    assert _votes(tiny_url) == {
        ("alice", queue[0]): ("include", None, None),
        ("alice", queue[1]): ("include", None, None),
        ("alice", queue[2]): ("maybe", None, None),
    }


async def test_prefetched_next_reference_voted_elsewhere_is_not_overwritten(
    tiny_url: str,
) -> None:
    """The next card is read ahead while the reviewer reads this one; a vote cast on it from the
    CLI after that read is still not replaced unseen."""
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        prefetched = app.screening.prefetched
        assert prefetched is not None and prefetched.record_id == queue[1]
        result = _cli(tiny_url, "screen", "decide", str(queue[1]), "exclude", "--as", "alice")
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
        burst(app, "i", "i")
        await settle(pilot)
        assert "Now: your vote: exclude · this screen showed: no vote" in _card_text(app)
    assert _votes(tiny_url) == {
        ("alice", queue[0]): ("include", None, None),
        ("alice", queue[1]): ("exclude", None, None),
    }


# ---- the CLI -------------------------------------------------------------------------------------


async def test_cli_vote_then_screen_vote_is_refused_and_shown(tiny_url: str) -> None:
    queue = _queue(tiny_url, "alice")
    app = ScreeningApp(tiny_url, "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        result = _cli(
            tiny_url, "screen", "decide", str(queue[0]), "exclude", "--reason", "3", "--as", "alice"
        )
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
        burst(app, "m")
        await settle(pilot)
        assert "Now: your vote: exclude (review or meta-analysis)" in _card_text(app)
    assert _votes(tiny_url) == {("alice", queue[0]): ("exclude", "review or meta-analysis", None)}


def test_cli_says_which_vote_it_replaced(tiny_url: str) -> None:
    target = _queue(tiny_url, "alice")[0]
    first = _cli(tiny_url, "screen", "decide", str(target), "include", "--as", "alice")
    assert first.output == f"Record {target} at tiab: include.\n"  # type: ignore[attr-defined]
    review = open_existing(tiny_url)
    with review.reading() as session:
        cast_at = session.exec(
            select(ScreeningDecision.decided_at).where(col(ScreeningDecision.record_id) == target)
        ).one()
    review.close()
    again = _cli(
        tiny_url, "screen", "decide", str(target), "exclude", "--reason", "1", "--as", "alice"
    )
    assert again.exit_code == 0  # type: ignore[attr-defined]
    assert (
        " ".join(again.output.split())
        == (  # type: ignore[attr-defined]
            f"Record {target} at tiab: exclude (animal study). It replaced your vote include of "
            f"{cast_at[:16].replace('T', ' ')} UTC."
        )
    )
