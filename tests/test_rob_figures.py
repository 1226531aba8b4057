"""Risk-of-bias figures: files are valid PNG/SVG with every label, and the drawn artists follow
robvis's conventions (colours, symbols, legend, order; shared/spec/rob_prisma.md §3.2-3.4)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reviewtool.errors import InvalidInput
from reviewtool.rob.figures import (
    summary_figure,
    summary_plot,
    summary_shares,
    traffic_light,
    traffic_light_figure,
)
from reviewtool.rob.robvis import ROB1, ROB2, ROB2_CLUSTER, Level, read_robvis_file, robvis_table

# spec §3.3, "cochrane" and "colourblind" columns
COCHRANE = {"l": "#02C100", "s": "#E2DF07", "h": "#BF0000", "n": "#4EA1F7", "x": "#cccccc"}
COLOURBLIND = {"l": "#fed98e", "s": "#fe9929", "h": "#d95f0e", "n": "#ffffff", "x": "#cccccc"}
# spec §3.2 robvis symbols
ROBVIS_SYMBOLS = {"l": "+", "s": "-", "h": "x", "n": "?"}


def _table(shared_dir: Path, name: str, tool: str):
    return read_robvis_file(shared_dir / "spec" / "templates" / name, tool=tool)


@pytest.fixture
def rob1(shared_dir: Path):
    return _table(shared_dir, "robvis_data_rob1.csv", ROB1)


@pytest.fixture
def rob2(shared_dir: Path):
    return _table(shared_dir, "robvis_data_rob2.csv", ROB2)


def _rgba(hex_colour: str) -> tuple[float, ...]:
    from matplotlib.colors import to_rgba

    return tuple(round(c, 4) for c in to_rgba(hex_colour))


def _face(artist) -> tuple[float, ...]:
    return tuple(round(c, 4) for c in artist.get_facecolor())


def _svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(el.itertext()) for el in root.iter() if el.tag.endswith("text")]


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_traffic_light_files(tmp_path: Path, rob1, rob2, kind: str) -> None:
    for table in (rob1, rob2):
        path = traffic_light(table, tmp_path / f"tl_{table.tool}.{kind}")
        data = path.read_bytes()
        if kind == "png":
            assert data.startswith(b"\x89PNG\r\n\x1a\n")
            import matplotlib.image

            assert matplotlib.image.imread(path).shape[0] > 500
        else:
            texts = _svg_texts(path)
            for row in table.rows:
                assert row.study in texts
            for code in (*table.domain_codes, "Overall", "Risk of bias domains", "Study"):
                assert code in texts
            for code, name in zip(table.domain_codes, table.domain_names, strict=True):
                assert f"{code}: {name}." in texts


@pytest.mark.parametrize("kind", ["png", "svg"])
def test_summary_files(tmp_path: Path, rob1, rob2, kind: str) -> None:
    for table, overall in ((rob1, "Overall"), (rob2, "Overall risk of bias")):
        path = summary_plot(table, tmp_path / f"summary_{table.tool}.{kind}")
        if kind == "png":
            assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        else:
            texts = _svg_texts(path)
            for name in (*table.domain_names, overall, "0%", "25%", "50%", "75%", "100%"):
                assert name in texts


def test_svg_is_reproducible(tmp_path: Path, rob2) -> None:
    first = traffic_light(rob2, tmp_path / "a.svg").read_bytes()
    assert traffic_light(rob2, tmp_path / "b.svg").read_bytes() == first


def _cells(figure) -> dict[str, object]:
    ax = figure.axes[0]
    return {
        p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith(("cell", "legend"))
    }


def test_traffic_light_cell_colours_and_symbols_follow_robvis(rob2) -> None:
    figure = traffic_light_figure(rob2)
    cells = _cells(figure)
    symbols = {t.get_gid(): t.get_text() for t in figure.axes[0].texts if t.get_gid()}
    codes = ("D1", "D2", "D3", "D4", "D5", "Overall")
    for i, row in enumerate(rob2.rows):
        for code, level in zip(codes, (*row.judgements, row.overall), strict=True):
            circle = cells[f"cell|{i}|{code}"]
            assert _face(circle) == _rgba(COCHRANE[level.value]), (row.study, code)
            assert tuple(circle.get_edgecolor()) == (0.0, 0.0, 0.0, 1.0)
            assert symbols[f"symbol|{i}|{code}"] == ROBVIS_SYMBOLS[level.value]
    # Study 3, D1 is "No information": blue with "?"
    assert _face(cells["cell|2|D1"]) == _rgba("#4EA1F7")
    assert symbols["symbol|2|D1"] == "?"
    # study labels in input order, top to bottom
    labels = sorted(
        (t for t in figure.axes[0].texts if (t.get_gid() or "").startswith("study|")),
        key=lambda t: t.get_position()[1],
    )
    assert [t.get_text() for t in labels] == [r.study for r in rob2.rows]


def test_overall_column_is_grey_and_na_has_no_outline(shared_dir: Path) -> None:
    table = _table(shared_dir, "robvis_data_rob2_cluster.csv", ROB2_CLUSTER)
    figure = traffic_light_figure(table)
    cells = _cells(figure)
    na = cells["cell|0|D1b"]
    assert _face(na) == _rgba("#cccccc")
    assert na.get_edgecolor()[3] == 0  # no outline ring for N/A
    backgrounds = [p for p in figure.axes[0].patches if _face(p) == _rgba("#d3d3d3")]
    assert len(backgrounds) == 1  # the Overall column


def test_legend_lists_levels_present_worst_first(rob2, rob1) -> None:
    def legend(figure) -> list[str]:
        circles = sorted(
            (p for p in figure.axes[0].patches if (p.get_gid() or "").startswith("legend|")),
            key=lambda p: p.center[1],
        )
        return [p.get_gid().split("|")[1] for p in circles]

    assert legend(traffic_light_figure(rob2)) == ["h", "s", "l", "n"]
    texts = [t.get_text() for t in traffic_light_figure(rob1).axes[0].texts]
    assert "Unclear" in texts and "Some concerns" not in texts
    only_low = robvis_table(ROB2, [("A", ["Low"] * 5, "Low", None)])
    assert legend(traffic_light_figure(only_low)) == ["l"]


def test_colourblind_palette_and_revman_symbols(rob1) -> None:
    figure = traffic_light_figure(rob1, colours="colourblind", symbols="revman")
    cells = _cells(figure)
    symbols = {t.get_gid(): t.get_text() for t in figure.axes[0].texts if t.get_gid()}
    row5 = rob1.rows[4]  # Study 5: High, High, High, Low, Low, Unclear, Unclear, High
    assert _face(cells["cell|4|D1"]) == _rgba(COLOURBLIND["h"])
    assert _face(cells["cell|4|D6"]) == _rgba(COLOURBLIND["s"])
    assert [symbols[f"symbol|4|D{k}"] for k in (1, 4, 6)] == ["\u2212", "+", "?"]
    assert row5.judgements[0] is Level.HIGH


def test_summary_shares_count_studies_per_judgement(rob1) -> None:
    bars = summary_shares(rob1)
    assert [b.label for b in bars][:2] == ["Random sequence generation", "Allocation concealment"]
    # Counted by hand in templates/robvis_data_rob1.csv (9 studies).
    first = dict(bars[0].shares)
    assert first == pytest.approx({Level.LOW: 6 / 9, Level.CONCERNS: 2 / 9, Level.HIGH: 1 / 9})
    assert [lvl for lvl, _ in bars[0].shares] == [Level.LOW, Level.CONCERNS, Level.HIGH]
    other = dict(bars[6].shares)
    assert other[Level.NO_INFORMATION] == pytest.approx(1 / 9)
    overall = bars[-1]
    assert overall.overall and overall.label == "Overall"
    assert dict(overall.shares) == pytest.approx(
        {Level.LOW: 1 / 9, Level.CONCERNS: 3 / 9, Level.HIGH: 5 / 9}
    )


def test_weighted_shares_use_the_weights() -> None:
    table = robvis_table(
        ROB2,
        [("A", ["Low"] * 5, "Low", 3.0), ("B", ["High"] * 5, "High", 1.0)],
        weighted=True,
    )
    assert dict(summary_shares(table)[0].shares) == {Level.LOW: 0.5, Level.HIGH: 0.5}
    assert dict(summary_shares(table, weighted=True)[0].shares) == {
        Level.LOW: 0.75,
        Level.HIGH: 0.25,
    }
    assert dict(summary_shares(table, weights=[1.0, 9.0])[0].shares) == {
        Level.LOW: 0.1,
        Level.HIGH: 0.9,
    }
    with pytest.raises(InvalidInput, match="3 weights for 2 studies"):
        summary_shares(table, weights=[1, 2, 3])
    unweighted = robvis_table(ROB2, [("A", ["Low"] * 5, "Low", None)])
    with pytest.raises(InvalidInput, match="needs a Weight column"):
        summary_shares(unweighted, weighted=True)


def test_summary_bars_colours_order_and_bold_overall(rob2) -> None:
    figure = summary_figure(rob2)
    ax = figure.axes[0]
    segments = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("bar|")}
    # D1 of the RoB 2 example: Low 6, Some concerns 1, High 1, No information 1 of 9.
    lefts = [segments[f"bar|0|{c}"].get_x() for c in "lshn"]
    assert lefts == sorted(lefts)  # Low -> Some concerns -> High -> No information
    assert segments["bar|0|l"].get_width() == pytest.approx(6 / 9)
    for code, colour in COCHRANE.items():
        if f"bar|0|{code}" in segments:
            assert _face(segments[f"bar|0|{code}"]) == _rgba(colour)
    ticks = ax.get_yticklabels()
    assert ticks[0].get_text() == "Bias arising from the randomization process"
    assert ticks[-1].get_text() == "Overall risk of bias"
    assert ticks[-1].get_fontweight() == "bold"
    legend = figure.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == [
        "Low risk",
        "Some concerns",
        "High risk",
        "No information",
    ]


def test_size_grows_with_the_number_of_studies() -> None:
    def rows(n: int) -> list[tuple[str, list[str], str, None]]:
        return [(f"Study {i} et al. 2019", ["Low"] * 7, "Low", None) for i in range(n)]

    small = traffic_light_figure(robvis_table(ROB1, rows(12)))
    large = traffic_light_figure(robvis_table(ROB1, rows(60)))
    w12, h12 = small.get_size_inches()
    w60, h60 = large.get_size_inches()
    assert h60 - h12 == pytest.approx(48 * 0.4)  # 0.4 in per study at psize 10
    assert w60 == pytest.approx(w12)
    wide = traffic_light_figure(
        robvis_table(ROB1, [("A much longer study label 2019", ["Low"] * 7, "Low", None)])
    )
    narrow = traffic_light_figure(robvis_table(ROB1, [("A 2019", ["Low"] * 7, "Low", None)]))
    assert wide.get_size_inches()[0] > narrow.get_size_inches()[0]


def test_bad_requests_are_refused(tmp_path: Path, rob2) -> None:
    with pytest.raises(InvalidInput, match="PNG or SVG, not 'pdf'"):
        traffic_light(rob2, tmp_path / "x.pdf")
    with pytest.raises(InvalidInput, match="colours must be one of cochrane, colourblind"):
        summary_figure(rob2, colours="rainbow")
    with pytest.raises(InvalidInput, match="symbols must be one of robvis, revman"):
        traffic_light_figure(rob2, symbols="emoji")
    assert not (tmp_path / "x.pdf").exists()


def test_a_domain_nobody_has_agreed_yet_is_an_empty_bar_not_a_refusal(tmp_path: Path) -> None:
    """A review in progress (found by a new user: `report build` and `rob plot` refused while one
    domain had no consensus): the domain's bar is empty and the figure is drawn."""
    table = robvis_table(
        ROB2,
        [("A", ["Low", None, "Low", "High", "Low"], None, None),
         ("B", ["High", None, "Low", "Low", "Low"], None, None)],
        has_overall=False,
    )  # fmt: skip
    bars = summary_shares(table)
    assert [b.shares for b in bars][1] == ()
    assert dict(bars[0].shares) == {Level.LOW: 0.5, Level.HIGH: 0.5}
    path = summary_plot(table, tmp_path / "summary.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
