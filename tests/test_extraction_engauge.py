"""Engauge Digitizer CSV exports read into (curve, x, y) points (reviewtool.extraction.engauge).

The layouts are excerpts (first rows, values unchanged) of real Engauge exports:

- ALL_PER_LINE, three curves, polar x in degrees: ``test/polar_linear_linear_3graph.csv`` of
  markummitchell/engauge-digitizer (the program's own regression data, commit 6dcd90d6).
- ALL_PER_LINE with one curve: ``test/cartesian_linear_log.csv`` of the same repository.
- ONE_PER_LINE, a header per curve and blank lines between the blocks, curves named by the user
  (compressor speeds): ``ccp/tests/data/normal-head.csv`` of petrobras/ccp (commit 29557522),
  read there by ``ccp``'s Engauge loader.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.errors import InvalidInput, ParseError
from reviewtool.extraction.engauge import (
    DigitisedPoint,
    curve_names,
    parse_engauge_csv,
    read_engauge_csv,
)

POLAR_ALL_PER_LINE = """\
x,Curve1,Curve2,Curve3
-179.758°,2.724,2.213,1.952
-178.595°,2.724,2.232,1.952
-174.246°,2.831,2.316,1.952
"""

CARTESIAN_ONE_CURVE = """\
x,Curve1
0.03,954
0.298,517
0.566,278.2
"""

ONE_PER_LINE = """\
x,11373
94529,148.586
98641,148.211
101554,147.837

x,10463
86421,126.284
90209,125.784

x,9300
76859,100.028
81085,99.245
"""


def test_all_curves_on_each_line_polar_export() -> None:
    points = parse_engauge_csv(POLAR_ALL_PER_LINE, path="polar.csv")
    assert curve_names(points) == ("Curve1", "Curve2", "Curve3")
    assert len(points) == 9
    assert points[0] == DigitisedPoint(curve="Curve1", x=-179.758, y=2.724, line=2)
    assert points[2] == DigitisedPoint(curve="Curve3", x=-179.758, y=1.952, line=2)
    assert points[-1] == DigitisedPoint(curve="Curve3", x=-174.246, y=1.952, line=4)


def test_single_curve_export() -> None:
    points = parse_engauge_csv(CARTESIAN_ONE_CURVE)
    assert [(p.x, p.y) for p in points] == [(0.03, 954.0), (0.298, 517.0), (0.566, 278.2)]
    assert {p.curve for p in points} == {"Curve1"}


def test_one_curve_per_block_export() -> None:
    points = parse_engauge_csv(ONE_PER_LINE, path="normal-head.csv")
    assert curve_names(points) == ("11373", "10463", "9300")
    by_curve = {
        name: [(p.x, p.y, p.line) for p in points if p.curve == name]
        for name in ("11373", "10463", "9300")
    }
    assert by_curve["11373"] == [(94529, 148.586, 2), (98641, 148.211, 3), (101554, 147.837, 4)]
    assert by_curve["10463"] == [(86421, 126.284, 7), (90209, 125.784, 8)]
    assert by_curve["9300"] == [(76859, 100.028, 11), (81085, 99.245, 12)]


def test_empty_cells_mean_no_point_for_that_curve() -> None:
    text = "x,MSC,Control\n0,24.7,21.9\n2,18.8,\n4,,18.2\n"
    points = parse_engauge_csv(text)
    assert [(p.curve, p.x, p.y) for p in points] == [
        ("MSC", 0, 24.7),
        ("Control", 0, 21.9),
        ("MSC", 2, 18.8),
        ("Control", 4, 18.2),
    ]


@pytest.mark.parametrize("delimiter", ["\t", ";", " "])
def test_other_delimiters_engauge_offers(delimiter: str) -> None:
    text = CARTESIAN_ONE_CURVE.replace(",", delimiter)
    assert parse_engauge_csv(text) == parse_engauge_csv(CARTESIAN_ONE_CURVE)


def test_file_with_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "fig2.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ONE_PER_LINE.replace("\n", "\r\n").encode())
    assert read_engauge_csv(path) == parse_engauge_csv(ONE_PER_LINE)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("x,Curve1\n0.1,abc\n", 2, "Curve1: 'abc' is not a number"),
        ("x,Curve1\n0.1,2\nfoo,3\n", 3, "x: 'foo' is not a number"),
        ("x,Curve1\n0.1,2,3\n", 2, "3 values, but the header names 2 columns"),
        ("x,A,B\n0.1,2\n", 2, "missing: B"),
        ("0.1,2\n0.2,3\n", 1, "Header: Simple"),
        ("x\n0.1\n", 1, "expected the x column and at least one curve"),
        ("x,A,A\n0.1,2,3\n", 1, "curve 'A' appears twice"),
        ("x,A,\n0.1,2,3\n", 1, "column 3 of the header has no curve name"),
        ("x,A\n0.1,inf\n", 2, "not a finite number"),
        ("x,A\n0.1,2\n\n0.2,3\n", 4, "Header: Simple"),
    ],
)
def test_malformed_exports_name_file_line_and_column(text: str, line: int, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_engauge_csv(text, path="fig3.csv")
    assert caught.value.line == line
    assert str(caught.value).startswith(f"fig3.csv:{line}: ")
    assert message in str(caught.value)
    assert isinstance(caught.value, InvalidInput)


def test_export_without_points_is_refused() -> None:
    with pytest.raises(ParseError, match=r"fig\.csv: no digitised points found"):
        parse_engauge_csv("x,Curve1\n\n", path="fig.csv")


def test_unreadable_files(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"x,Curve1\n0.1,2\n0.2,\xe93\n")
    with pytest.raises(ParseError, match=r"latin.csv:3: not UTF-8"):
        read_engauge_csv(latin)
    with pytest.raises(ParseError, match="cannot read the file"):
        read_engauge_csv(tmp_path / "missing.csv")
