"""The risk-of-bias screen, driven by textual's Pilot: single keys record judgements and RoB 2
answers (one transaction each, through rob.service), the algorithm's judgement follows the answers
as they come, conditional questions appear only when asked, and keys typed back to back are taken
in order (tests/tui_keys.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from reviewtool.review.service import open_existing
from reviewtool.rob import service as rob
from reviewtool.tui.rob import RobApp
from tests.rob_review import build_rob_review
from tests.tui_keys import burst, keys_of, settle

RESULT = "MELD@24 weeks"


@pytest.fixture
def url(tmp_path: Path) -> str:
    return build_rob_review(tmp_path / "review.db")


def stored(url: str, who: str = "bob", tool: str = "rob1") -> dict[str, Any]:
    review = open_existing(url)
    try:
        with review.reading() as session:
            return {
                v.domain: v
                for v in rob.judgements(session, actor=who, tool=tool, assessor=who)
                if not v.outcome_group
            }
    finally:
        review.close()


def test_rob1_keys_judge_the_domains_in_order_and_support_is_saved(
    url: str, tmp_path: Path
) -> None:
    async def run() -> str:
        app = RobApp(url, "bob", "Suk 2016")
        async with app.run_test(size=(130, 45)) as pilot:
            await pilot.pause()
            assert "A. Random sequence generation (selection bias)" in app.screen_text()
            # Seven judgements typed back to back, A to G, then a support text for G.
            burst(app, *"lluhlll", "s", *keys_of("Comment: stopped early"), "enter")
            await settle(pilot)
            app.save_screenshot(str(tmp_path / "rob1.svg"))
            return app.screen_text()

    text = asyncio.run(run())
    rows = stored(url)
    assert {k: v.judgement for k, v in rows.items()} == dict(
        zip("ABCDEFG", ["Low", "Low", "Unclear", "High", "Low", "Low", "Low"], strict=True)
    )
    assert rows["G"].support == "Comment: stopped early"
    assert "Comment: stopped early" in text
    assert (tmp_path / "rob1.svg").read_text(encoding="utf-8").startswith("<svg")


def test_rob2_answers_update_the_judgement_and_ask_conditional_questions(
    url: str, tmp_path: Path
) -> None:
    async def run() -> list[str]:
        app = RobApp(url, "bob", "Suk 2016", tool="rob2", result=RESULT)
        seen = []
        async with app.run_test(size=(140, 50)) as pilot:
            await pilot.pause()
            seen.append(app.screen_text())
            burst(app, "y", "p")  # 1.1 Y, 1.2 PY: 1.3 still missing
            await settle(pilot)
            seen.append(app.screen_text())
            burst(app, "n")  # 1.3 N: D1 Low
            await settle(pilot)
            seen.append(app.screen_text())
            # D2 (effect of assignment): 2.1 Y makes 2.3 asked; 2.3 N -> part 1 Low; 2.6 Y.
            burst(app, "right", "y", "n", "n", "y")
            await settle(pilot)
            seen.append(app.screen_text())
            app.save_screenshot(str(tmp_path / "rob2.svg"))
        return seen

    first, partial, d1, d2 = asyncio.run(run())
    assert "1.1 [ ·] Was the allocation sequence random?" in first
    assert "Guidance: Y/PY if a random component" in first
    assert "Judgement (algorithm): incomplete" in partial
    assert "Judgement (algorithm): Low" in d1
    # 2.3 is shown once 2.1 is Y; 2.4, 2.5, 2.7 stay hidden (not asked).
    assert "2.3 [ N]" in d2 and "2.4" not in d2.split("Guidance")[0] and "2.7" not in d2
    rows = stored(url, tool="rob2")
    assert rows["D1"].answers == {"1.1": "Y", "1.2": "PY", "1.3": "N"}
    assert (rows["D1"].judgement, rows["D2"].judgement) == ("Low", "Low")
    assert rows["D2"].answers == {"2.1": "Y", "2.2": "N", "2.3": "N", "2.6": "Y"}
    assert rows["overall"].algorithm == "incomplete"  # D3-D5 unanswered: never a guess


def test_an_answer_a_question_does_not_take_is_refused_on_screen(url: str) -> None:
    async def run() -> None:
        app = RobApp(url, "bob", "Suk 2016", tool="rob2", result=RESULT)
        async with app.run_test(size=(140, 50)) as pilot:
            await pilot.pause()
            burst(app, "a")  # 1.1 is always asked: NA is not one of its answers
            await settle(pilot)

    asyncio.run(run())
    assert stored(url, tool="rob2") == {}
