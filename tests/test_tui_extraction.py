"""The extraction form screen (``reviewtool extract STUDY``), driven by textual's Pilot: values typed
into study fields and arm × time-point cells are stored (one transaction each, through
extraction.service) with the provenance in force, Tab / Shift-Tab follow the form's order, an
invalid value is refused with the service's one line and nothing written, the extractor sees only
their own values and the consensus (a difference test), and keys typed back to back are taken in
order (tests/tui_keys.py)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from statistics import NormalDist
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app as cli
from reviewtool.extraction import service as extraction
from reviewtool.extraction.forms import ValueKey
from reviewtool.review.service import open_existing
from reviewtool.tui.extraction import ExtractionApp
from tests.extraction_builder import FORM, build_review
from tests.tui_keys import burst, keys_of, settle


def _with_form(path: Path) -> str:
    url = build_review(path)
    review = open_existing(url)
    with review.transaction() as s:
        extraction.add_form(s, actor="olga", text=FORM, file_name="form.toml")
    review.close()
    return url


@pytest.fixture
def url(tmp_path: Path) -> str:
    return _with_form(tmp_path / "review.db")


def stored(url: str, who: str = "bob") -> dict[ValueKey, Any]:
    review = open_existing(url)
    try:
        with review.reading() as session:
            return dict(extraction.study_sheet(session, actor=who, study="Suk 2016").values)
    finally:
        review.close()


def _set(url: str, who: str, rows: list[tuple[str, str, dict[str, str]]]) -> None:
    review = open_existing(url)
    with review.transaction() as s:
        for field, value, place in rows:
            extraction.set_value(s, actor=who, study="Suk 2016", field=field, value=value, **place)
    review.close()


def _look(app: ExtractionApp, size: tuple[int, int], svg: Path | None = None) -> str:
    async def run() -> str:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            if svg is not None:
                app.save_screenshot(str(svg))
            return app.screen_text()

    return asyncio.run(run())


def test_values_typed_into_study_fields_and_a_grid_cell_are_stored_with_provenance(
    url: str, tmp_path: Path
) -> None:
    async def run() -> tuple[str, list[ValueKey]]:
        app = ExtractionApp(url, "bob", "Suk 2016")
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            assert app.current() == ValueKey("country")
            # Country, then (Enter moved on) Follow-up: typed back to back.
            burst(app, "enter", *keys_of("China"), "enter", "e", *keys_of("48"), "enter")
            # The provenance in force: kind 2 (converted) and a source text, then an arm, then
            # the first MELD cell (4 weeks, arm MSC, mean): the arm's first cell is its name.
            burst(app, "k", "2", "s", "ctrl+u", *keys_of("report 1, Table 2"), "enter")
            burst(app, "a", *keys_of("MSC"), "enter")
            await settle(pilot)
            order = app.cells()
            start = order.index(ValueKey("mean", "MSC", "meld", "4 weeks"))
            # Kind converted: the prompt takes the conversion, and the service computes the value
            # (Luo's mean of median 12, IQR 9-15, n 20 is 12: the quartiles are symmetric).
            burst(
                app,
                *["tab"] * (start - app.cursor),
                "enter",
                *keys_of("median_iqr 12 9 15 n=20"),
                "enter",
            )
            await settle(pilot)
            after = app.screen_text()
            # Back on the converted cell: its inputs, formula and citation are shown.
            burst(app, "shift+tab")
            await settle(pilot)
            app.save_screenshot(str(tmp_path / "extract.svg"))
            return after + "\n" + app.screen_text(), order

    text, order = asyncio.run(run())
    rows = stored(url)
    assert {k: v.value for k, v in rows.items()} == {
        ValueKey("country"): "China",
        ValueKey("follow_up"): "48",
        ValueKey("mean", "MSC", "meld", "4 weeks"): "12",  # computed and normalised
    }
    assert (rows[ValueKey("country")].source_kind, rows[ValueKey("country")].source) == (
        "reported",
        "",
    )
    meld = rows[ValueKey("mean", "MSC", "meld", "4 weeks")]
    assert meld.source_kind == "converted"
    found = json.loads(meld.source)
    assert (found["conversion"], found["inputs"]) == (
        "median_iqr",
        {"median": 12, "q1": 9, "q3": 15, "n": 20},
    )
    assert found["values"]["sd"] == pytest.approx(6 / (2 * NormalDist().inv_cdf(14.875 / 20.25)))
    # After a saved value the cursor is on the next cell: the SD of the same arm and time point.
    assert "MELD score · 4 weeks · arm MSC · SD" in text
    assert "Reports: report 1 · journal article · pdfs/e1.pdf" in text
    assert re.search(r"4 weeks\s+12ᶜ", text)
    assert "[converted: median_iqr: median=12, q1=9, q3=15, n=20 → mean = w·(q1+q3)/2" in text
    assert "(Luo D, Wan X, Liu J, Tong T. Stat Methods Med Res 2018" in text
    assert order[0] == ValueKey("country")
    assert (tmp_path / "extract.svg").read_text(encoding="utf-8").startswith("<svg")


def test_tab_and_shift_tab_follow_the_form_order(url: str) -> None:
    _set(url, "bob", [("name", "MSC", {"arm": "MSC"}), ("name", "Control", {"arm": "Control"})])

    async def run() -> list[ValueKey | None]:
        app = ExtractionApp(url, "bob", "Suk 2016")
        seen: list[ValueKey | None] = []
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            for key in ["tab"] * 18 + ["shift+tab"] * 2:
                burst(app, key)
                await settle(pilot)
                seen.append(app.current())
            # Back to the first cell (16 back), then once more: the last cell (it wraps round),
            # and forward again: the first.
            burst(app, *["shift+tab"] * 17)
            await settle(pilot)
            seen.append(app.current())
            burst(app, "tab")
            await settle(pilot)
            seen.append(app.current())
        return seen

    seen = asyncio.run(run())
    study = ["follow_up", "route", "adverse_events", "blinded", "published"]
    arms = [("name", "MSC"), ("intervention", "MSC"), ("n_randomised", "MSC")]
    arms += [("name", "Control"), ("intervention", "Control"), ("n_randomised", "Control")]
    meld = [("mean", "MSC"), ("sd", "MSC"), ("n", "MSC"), ("mean", "Control"), ("sd", "Control")]
    expected = [ValueKey(f) for f in study]
    expected += [ValueKey(f, a) for f, a in arms]
    expected += [ValueKey(f, a, "meld", "4 weeks") for f, a in meld]
    expected += [ValueKey("n", "Control", "meld", "4 weeks")]
    expected += [ValueKey("mean", "MSC", "meld", "12 weeks")]  # the next time point's row
    expected += [ValueKey("n", "Control", "meld", "4 weeks")]  # Shift-Tab: back
    expected += [ValueKey("sd", "Control", "meld", "4 weeks")]
    assert seen[:20] == expected
    # 6 study + 2 x 3 arm + 3 x 2 x 3 MELD + 2 x 2 survival cells; the last: Control's total.
    assert seen[20:] == [ValueKey("total", "Control", "survival", "24 weeks"), ValueKey("country")]


def test_an_invalid_sd_is_refused_with_the_service_line_and_nothing_written(url: str) -> None:
    _set(url, "bob", [("name", "MSC", {"arm": "MSC"})])

    async def run() -> str:
        app = ExtractionApp(url, "bob", "Suk 2016")
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            sd = app.cells().index(ValueKey("sd", "MSC", "meld", "4 weeks"))
            burst(app, *["tab"] * sd, "enter", "-", "1", "enter")
            await settle(pilot)
            assert app.current() == ValueKey("sd", "MSC", "meld", "4 weeks")  # did not move on
            return app.screen_text()

    text = asyncio.run(run())
    assert (
        "study Suk 2016 (1), arm 'MSC', meld at '4 weeks': sd: SD must be greater than 0, not -1"
        in text
    )
    assert set(stored(url)) == {ValueKey("name", "MSC")}


def test_a_cell_emptied_on_screen_is_removed(url: str) -> None:
    _set(url, "bob", [("country", "China", {})])

    async def run() -> None:
        app = ExtractionApp(url, "bob", "Suk 2016")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            burst(app, "x")
            await settle(pilot)

    asyncio.run(run())
    assert stored(url) == {}


# ---- blinding: a difference test ---------------------------------------------------------------

BOB = [
    ("country", "China", {}),
    ("name", "MSC", {"arm": "MSC"}),
    ("mean", "12.5", {"arm": "MSC", "outcome": "meld", "time_point": "4 weeks"}),
]
SCENARIOS: dict[str, list[tuple[str, str, dict[str, str]]]] = {
    "alice has not extracted": [],
    "alice disagrees": [
        ("country", "Brazil", {}),
        ("mean", "17.25", {"arm": "MSC", "outcome": "meld", "time_point": "4 weeks"}),
    ],
    "alice extracted what bob has not": [
        ("follow_up", "52", {}),
        ("name", "Placebo arm", {"arm": "Placebo arm"}),
        ("sd", "3.5", {"arm": "MSC", "outcome": "meld", "time_point": "4 weeks"}),
    ],
}


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    found = {}
    for n, (name, alice) in enumerate(SCENARIOS.items()):
        url = _with_form(tmp_path_factory.mktemp(f"s{n}") / "review.db")
        _set(url, "bob", BOB)
        _set(url, "alice", alice)
        found[name] = _look(ExtractionApp(url, "bob", "Suk 2016"), (140, 45))
        found[name + ", alice"] = _look(ExtractionApp(url, "alice", "Suk 2016"), (140, 45))
    return found


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "alice has not extracted"])
def test_bob_sees_the_same_screen_whatever_alice_extracted(
    screens: dict[str, str], scenario: str
) -> None:
    assert screens[scenario] == screens["alice has not extracted"]
    # The control: alice's own screen does show what she entered.
    assert screens[f"{scenario}, alice"] != screens["alice has not extracted, alice"]


def test_what_bob_sees_is_his_own(screens: dict[str, str]) -> None:
    text = screens["alice disagrees"]
    assert "China" in text and "12.5" in text and "extractor bob · 3 values" in text
    assert "Brazil" not in text and "17.25" not in text
    assert "Placebo arm" not in screens["alice extracted what bob has not"]
    assert "Brazil" in screens["alice disagrees, alice"]


def test_a_consensus_value_is_shown_to_both(url: str) -> None:
    _set(url, "bob", [("country", "China", {})])
    _set(url, "alice", [("country", "China", {}), ("follow_up", "52", {})])
    text = _look(ExtractionApp(url, "bob", "Suk 2016"), (140, 45))
    assert "Consensus: China  (agreement)" in text
    assert "52" not in text.split("Reports:")[1]


# ---- the command line -------------------------------------------------------------------------


def test_extract_study_opens_the_screen_for_the_extractor(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.app import App

    opened: list[tuple[str, str]] = []

    def fake_run(self: App[Any], *args: object, **kwargs: object) -> None:
        assert isinstance(self, ExtractionApp)
        opened.append((self.actor, self.sheet.study.label))

    monkeypatch.setattr(App, "run", fake_run)
    db = url.removeprefix("sqlite:///")
    runner = CliRunner()
    result = runner.invoke(cli, ["extract", "Suk 2016", "--db", db, "--as", "bob"])
    assert result.exit_code == 0, result.output
    assert opened == [("bob", "Suk 2016")]
    # carol is an adjudicator, not an extractor: one line, no screen.
    refused = runner.invoke(cli, ["extract", "Suk 2016", "--db", db, "--as", "carol"])
    assert refused.exit_code != 0 and opened == [("bob", "Suk 2016")]
    assert refused.stderr.count("\n") == 1 and "open the extraction form" in refused.stderr
    unknown = runner.invoke(cli, ["extract", "Nobody 1999", "--db", db, "--as", "bob"])
    assert unknown.exit_code != 0 and unknown.stderr.startswith("reviewtool: error: ")
    assert "Traceback" not in unknown.output and unknown.stderr.count("\n") == 1
    bare = runner.invoke(cli, ["extract", "--db", db, "--as", "bob"])
    assert bare.exit_code != 0 and "name the study to extract" in bare.stderr


def test_extract_study_before_a_form_exists_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.app import App

    monkeypatch.setattr(App, "run", lambda self, *a, **k: pytest.fail("the screen was opened"))
    db = build_review(tmp_path / "review.db").removeprefix("sqlite:///")
    result = CliRunner().invoke(cli, ["extract", "Suk 2016", "--db", db, "--as", "bob"])
    assert result.exit_code != 0
    assert result.stderr == (
        "reviewtool: error: no extraction form yet; an owner adds one with "
        "`reviewtool extract form add FORM.toml`\n"
    )


def test_the_cursor_stays_on_its_cell_when_a_later_added_arm_gets_its_first_value(
    url: str,
) -> None:
    async def run() -> ValueKey | None:
        app = ExtractionApp(url, "bob", "Suk 2016")
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            # Two arms added; Control's name entered first: it becomes the first arm stored.
            burst(app, "a", *keys_of("MSC"), "enter", "a", *keys_of("Control"), "enter")
            burst(app, "enter", *keys_of("Control"), "enter")
            await settle(pilot)
            return app.current()

    # After the save the cursor moved on from Control's name to Control's intervention.
    assert asyncio.run(run()) == ValueKey("intervention", "Control")
    assert list(stored(url)) == [ValueKey("name", "Control")]


def test_the_values_that_followed_a_changed_n_are_shown_after_saving(
    url: str, tmp_path: Path
) -> None:
    """bob's SD of the MSC arm at 4 weeks is converted from SE 1 with his n 27: SD = SE·√n =
    √27 = 5.196152422706632 (Cochrane Handbook 6.5.2.2). He changes the n to 25 on screen: the
    SD follows (√25 = 5), and the screen says so as ``extract set`` does, under the form and in a
    notification; the next move clears the line."""
    meld4 = {"arm": "MSC", "outcome": "meld", "time_point": "4 weeks"}
    _set(url, "bob", [("name", "MSC", {"arm": "MSC"}), ("n", "27", meld4)])
    review = open_existing(url)
    with review.transaction() as s:
        extraction.set_converted(
            s, actor="bob", study="Suk 2016", fields=["sd"], conversion="se 1", **meld4
        )
    review.close()
    line = "sd followed n: 5.19615 → 5 (from se 1, n 27 → 25)"

    async def run() -> tuple[str, list[str], str]:
        app = ExtractionApp(url, "bob", "Suk 2016")
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause()
            n = app.cells().index(ValueKey("n", "MSC", "meld", "4 weeks"))
            burst(app, *["tab"] * n, "enter", "ctrl+u", *keys_of("25"), "enter")
            await settle(pilot)
            after = app.screen_text()
            toasts = [str(note.message) for note in app._notifications]
            app.save_screenshot(str(tmp_path / "followed.svg"))
            burst(app, "tab")
            await settle(pilot)
            return after, toasts, app.screen_text()

    after, toasts, moved = asyncio.run(run())
    assert line in after.splitlines()
    assert toasts == [line]
    assert line not in moved
    rows = stored(url)
    assert rows[ValueKey("n", "MSC", "meld", "4 weeks")].value == "25"
    assert float(rows[ValueKey("sd", "MSC", "meld", "4 weeks")].value) == 5.0
