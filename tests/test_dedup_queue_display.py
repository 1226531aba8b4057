"""``dedup queue`` and ``dedup review`` show enough to tell records apart (issue 9 item 6): whole
titles with the differing words marked, record ids, and a warning when a record is in a group."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app
from reviewtool.dedup.compare import word_diff
from reviewtool.review.service import open_existing
from reviewtool.tui.dedup_review import DIFF_STYLE, DedupReviewApp, render_record

runner = CliRunner()
STEM = "Mesenchymal stem cell transplantation in decompensated cirrhosis: a randomised trial of"
TITLES = (f"{STEM} 40 patients", f"{STEM} 80 patients", f"{STEM} 80 patients (abstract)")


@pytest.fixture
def db(tmp_path: Path) -> str:
    """Records 1-3 whose titles share their first 88 characters; 2 and 3 confirmed as one group;
    a reviewer flags 1 and 3 as possible duplicates, so the queue holds the pair (1, 3)."""
    path = str(tmp_path / "r.db")
    export = tmp_path / "refs.ris"
    export.write_text(
        "".join(
            f"TY  - JOUR\nID  - T{i}\nTI  - {title}\nAU  - Author{i}, A.\nPY  - 20{10 + i}\nER  -\n\n"
            for i, title in enumerate(TITLES, start=1)
        )
    )
    for args in (
        ["init", "--title", "T", "--as", "alice"],
        ["import", str(export), "--source", "MEDLINE", "--as", "alice"],
        ["dedup", "run", "--as", "alice"],
        ["dedup", "confirm", "2", "3", "--as", "alice"],
        ["screen", "flag-duplicate", "1", "3", "--as", "alice"],
    ):
        result = runner.invoke(app, [*args, "--db", path])
        assert result.exit_code == 0, (args, result.output)
    return path


def test_word_diff_marks_what_the_other_lacks() -> None:
    assert word_diff(TITLES[0], TITLES[1]) == [(STEM, False), ("40", True), ("patients", False)]
    assert word_diff("A b c", "a B C") == [("A b c", False)]  # case does not count


def test_queue_shows_whole_titles_and_the_group(db: str) -> None:
    wide = runner.invoke(
        app, ["dedup", "queue", "--db", db, "--as", "alice"], env={"COLUMNS": "400"}
    )
    assert wide.exit_code == 0
    assert TITLES[0] in wide.stdout and TITLES[2] in wide.stdout
    assert "1 / 3" in wide.stdout and "(3 is in group 2)" in wide.stdout
    result = runner.invoke(
        app, ["dedup", "queue", "--db", db, "--as", "alice"], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0
    text = " ".join(result.stdout.replace("│", " ").split())
    # Wrapped across lines in an 80-column table, the two titles still read whole: the words
    # after the shared 88 characters are there.
    for word in ("40", "80", "(abstract)"):
        assert word in text
    assert "…" not in result.stdout


def test_review_screen_shows_ids_and_warns_about_the_group(db: str) -> None:
    url = f"sqlite:///{db}"
    review = open_existing(url)
    review.close()

    async def run() -> None:
        app_ = DedupReviewApp(url, "alice")
        async with app_.run_test(size=(140, 45)):
            status = str(app_.query_one("#status").render())
            assert "records 1 / 3" in status
            right = app_.query_one("#right").render()
            assert "Record: 3" in str(right)
            assert "record 3 is already in group 2 (with 2): confirming joins both groups" in str(
                right
            )
            assert "Record: 1" in str(app_.query_one("#left").render())
            assert "already in group" not in str(app_.query_one("#left").render())

    import asyncio

    asyncio.run(run())


def test_render_record_highlights_only_the_differing_title_words() -> None:
    a = {"record_id": 1, "title": TITLES[0], "group_records": []}
    b = {"record_id": 3, "title": TITLES[2], "group_id": 2, "group_records": [2]}
    text = render_record(a, b)
    marked = {text.plain[s.start : s.end] for s in text.spans if s.style == DIFF_STYLE}
    assert marked == {"40"}
