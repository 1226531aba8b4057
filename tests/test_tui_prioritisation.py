"""The screening screen under relevance order (issue 15): the model is trained in a worker thread
while the screen is already usable, the queue follows it, the status line shows the order in
effect and the reviewer's own progress towards the stopping rules, and each vote is stored with
the order and model that put it there."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from test_prioritisation import TRIALS, _review, ok

from reviewtool.tui.screening import ScreeningApp

SIZE = (160, 30)


@pytest.fixture(autouse=True)
def _no_user_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _line(app: ScreeningApp) -> str:
    return str(app.screening.query_one("#queue-status").render())


async def test_the_screen_ranks_in_the_background_and_stamps_each_vote(tmp_path: Path) -> None:
    db = _review(tmp_path, "screening.order=relevance")
    ok(db, "screen", "decide", "1", "include", "--as", "alice")
    ok(db, "screen", "decide", "2", "exclude", "--as", "alice")
    app = ScreeningApp(f"sqlite:///{db}", "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screening
        # The first card is there before any model: the random order, while the worker trains.
        assert screen.card is not None
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.ranked.ordering == "relevance"
        version = screen.ranked.model_version
        assert version.startswith("svm:")
        line = _line(app)
        assert f"order: relevance order, model {version[:21]}" in line
        # alice's own history: include, exclude, both in random order (the whole of it a random
        # sample): 1 excluded in a row; Callaghan & Müller-Hansen with N = 16, n = 2, k = 1:
        # K_tar = floor(1/0.95 + 1) = 2, p = 1 - P(X = 2) = 1 - 1/C(16,2) = 119/120 = 0.992.
        assert "stopping: 1/100 excluded in a row · recall test p = 0.992 · SAFE stage 2" in line
        # The record on screen stays; everything after it follows the model: trials first.
        shown = screen.queue[0]
        rest = [r for r in screen.queue[1:]]
        trials_left = [t for t in TRIALS if t not in (1, shown)]
        assert set(rest[: len(trials_left)]) == set(trials_left)
        await pilot.press("s")  # skip whatever the random order showed first
        first_ranked = screen.card.record_id
        assert first_ranked in TRIALS
        await pilot.press("i")
    with sqlite3.connect(db) as con:
        row = con.execute(
            "SELECT queue_order, model_version FROM screening_decision "
            "WHERE reference_id = ? AND superseded_at IS NULL",
            (first_ranked,),
        ).fetchone()
    assert row == ("relevance", version)


async def test_random_order_needs_no_model_and_says_why(tmp_path: Path) -> None:
    db = _review(tmp_path, "screening.order=relevance", "screening.min_includes=2")
    app = ScreeningApp(f"sqlite:///{db}", "alice", "tiab")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screening.model is None and not app.screening.training
        assert (
            "order: random until you have 2 includes and 1 exclude (now 0 and 0), then relevance"
            in _line(app)
        )
        shown = app.screening.card.record_id  # type: ignore[union-attr]
        await pilot.press("i")
    with sqlite3.connect(db) as con:
        assert con.execute(
            "SELECT queue_order, model_version FROM screening_decision WHERE reference_id = ?",
            (shown,),
        ).fetchone() == ("random", None)
