"""``extract digitised``: an Engauge Digitizer export of a figure imported as digitised values.

The export files here are built by hand following Engauge Digitizer's documented export format
(File > Export with Settings > Export Format: "Raw Xs and Ys", header "Simple", delimiter comma;
the two layouts "All curves on each line", where a cell is empty where a curve has no point at
that x, and "One curve on each line", a header row per curve and a blank line between curves),
the layouts that ``extraction.engauge`` reads and that tests/test_extraction_engauge.py pins to
excerpts of real exports (Engauge's own regression files and petrobras/ccp's). A real export of a
MELD-over-time figure of a trial is not public, so the numbers are made up; what the test pins is
the mapping: curve → arm, x → time point, and the provenance stored with each value.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from reviewtool import audit
from reviewtool.extraction import service as x
from reviewtool.review.service import open_existing
from tests.extraction_builder import build_review_with_form, copy_review
from tests.extraction_builder import cli as _cli

# "All curves on each line", raw xs: the weeks as clicked (4.03, not 4), a curve per arm.
ALL_PER_LINE = """\
x,MSC 1,Control
3.97,,14.71
4.03,13.12,
11.96,12.79,14.39
24.1,11.43,
24.2,,14.52
"""
# "One curve on each line": a block per curve; the figure's axis in months.
ONE_PER_LINE = """\
x,MSC
0.98,13.2
2.96,12.6

x,Control
1.01,14.8
3.02,14.3
"""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_review_with_form(tmp_path_factory.mktemp("digitised") / "review.db")


@pytest.fixture
def db(template: Path, tmp_path: Path) -> str:
    return f"sqlite:///{copy_review(template, tmp_path)}"


def _mine(db: str) -> dict[tuple[str, str, str], x.ValueView]:
    review = open_existing(db)
    try:
        with review.reading() as s:
            return {(v.arm, v.time_point, v.field): v for v in x.values(s, actor="alice")}
    finally:
        review.close()


def _digitise(db: str, path: Path, *extra: str) -> Any:
    return _cli(
        db,
        "extract",
        "digitised",
        "Suk 2016",
        str(path),
        "--report",
        "1",
        "--figure",
        "Figure 2",
        "--outcome",
        "meld",
        *extra,
    )


def test_curves_become_arms_and_x_the_time_points_with_their_provenance(
    db: str, tmp_path: Path
) -> None:
    path = tmp_path / "fig2.csv"
    path.write_text(ALL_PER_LINE, encoding="utf-8")
    done = _digitise(db, path, "--arm", "MSC 1=MSC")
    assert done.exit_code == 0, done.output
    assert done.output.startswith(
        "6 digitised values written in 1 study from fig2.csv, Figure 2, report 1 (0 unchanged); "
        "consensus reached on 0, reopened on 0."
    )
    mine = _mine(db)
    assert {k: v.value for k, v in mine.items()} == {
        ("Control", "4 weeks", "mean"): "14.71",
        ("MSC", "4 weeks", "mean"): "13.12",
        ("MSC", "12 weeks", "mean"): "12.79",
        ("Control", "12 weeks", "mean"): "14.39",
        ("MSC", "24 weeks", "mean"): "11.43",
        ("Control", "24 weeks", "mean"): "14.52",
    }
    value = mine[("MSC", "24 weeks", "mean")]
    assert value.source_kind == "digitised"
    assert json.loads(value.source) == {
        "report": "report 1",
        "figure": "Figure 2",
        "tool": "Engauge Digitizer",
        "file": "fig2.csv",
        "sha256": hashlib.sha256(ALL_PER_LINE.encode()).hexdigest(),
        "curve": "MSC 1",
        "x": 24.1,
        "line": 5,
    }
    review = open_existing(db)
    try:
        with review.reading() as s:
            report = audit.verify(s)
    finally:
        review.close()
    assert report.ok, report.problems
    again = _digitise(db, path, "--arm", "MSC 1=MSC")  # the same file again changes nothing
    assert (
        "0 digitised values written in 0 studies from fig2.csv, Figure 2, report 1 (6 unchanged)"
        in (" ".join(again.output.split()))
    )


def test_one_curve_per_line_with_x_in_months_mapped_by_time(db: str, tmp_path: Path) -> None:
    path = tmp_path / "fig3.csv"
    path.write_text(ONE_PER_LINE, encoding="utf-8")
    done = _digitise(db, path, "--time", "1=4 weeks", "--time", "3=12 weeks")
    assert done.exit_code == 0, done.output
    mine = _mine(db)
    assert mine[("Control", "12 weeks", "mean")].value == "14.3"
    assert json.loads(mine[("Control", "12 weeks", "mean")].source)["line"] == 7


@pytest.mark.parametrize(
    ("text", "extra", "message"),
    [
        (
            ALL_PER_LINE + "8.1,12.9,\n",
            (),
            "fig.csv:7: curve 'MSC 1': x 8.1 is not within 2 of any time point: 4 weeks (x 4), "
            "12 weeks (x 12), 24 weeks (x 24)",
        ),
        (
            ALL_PER_LINE + "4.5,13.0,\n",
            (),
            "fig.csv:7: curve 'MSC 1': a second point at '4 weeks' for arm 'MSC 1' (also line 3)",
        ),
        (ALL_PER_LINE.replace("12.79", "n/a"), (), "fig.csv:4: MSC 1: 'n/a' is not a number"),
        (ALL_PER_LINE, ("--arm", "MSC 2=MSC"), "--arm names curve(s) not in the file: MSC 2"),
        (
            ALL_PER_LINE,
            ("--field", "n"),
            "fig.csv:2: curve 'Control': study Suk 2016, arm 'Control', meld at '4 weeks': n: "
            "'14.71' is not an integer",
        ),
        (ALL_PER_LINE, ("--time", "4"), "--time '4': write it as LEFT=RIGHT"),
    ],
)
def test_a_bad_export_names_file_line_and_curve_and_writes_nothing(
    db: str, tmp_path: Path, text: str, extra: tuple[str, ...], message: str
) -> None:
    path = tmp_path / "fig.csv"
    path.write_text(text, encoding="utf-8")
    done = _digitise(db, path, *extra)
    assert done.exit_code != 0
    assert message in " ".join(done.output.split()), done.output
    assert "Traceback" not in done.output
    assert _mine(db) == {}


def test_the_report_must_be_one_of_the_studys(db: str, tmp_path: Path) -> None:
    path = tmp_path / "fig2.csv"
    path.write_text(ALL_PER_LINE, encoding="utf-8")
    done = _cli(
        db, "extract", "digitised", "Suk 2016", str(path), "--report", "2",
        "--figure", "Figure 2", "--outcome", "meld",
    )  # fmt: skip
    assert done.exit_code != 0
    assert "report 2 is not a report of study Suk 2016 (its reports: 1)" in done.output
    assert _mine(db) == {}


def test_a_rule_across_values_names_the_line_of_the_digitised_point(
    db: str, tmp_path: Path
) -> None:
    # The arm's n randomised is 30; the Control curve's n at 12 weeks (line 4) is 38.
    done = _cli(db, "extract", "set", "Suk 2016", "n_randomised", "30", "--arm", "Control")
    assert done.exit_code == 0, done.output
    path = tmp_path / "fig.csv"
    path.write_text(
        "x,MSC 1,Control\n3.97,,30\n4.03,28,\n11.96,27,38\n24.1,26,\n24.2,,29\n", encoding="utf-8"
    )
    done = _digitise(db, path, "--field", "n")
    assert done.exit_code != 0
    assert (
        f"{path}:4: study Suk 2016 (1), arm 'Control', meld at '12 weeks': n (38) exceeds the "
        "arm's n_randomised (30)"
    ) in " ".join(done.output.split()), done.output
    assert set(_mine(db)) == {("Control", "", "n_randomised")}  # nothing digitised was written
