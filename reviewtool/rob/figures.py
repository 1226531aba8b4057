"""Risk-of-bias figures in robvis's conventions: the traffic-light plot and the summary bar plot.

Input is plain data, a :class:`~reviewtool.rob.robvis.RobvisTable` (study labels, one level per
domain, overall, optional weights), so the figures need no database. matplotlib is imported inside
the functions (Agg canvas, no pyplot state), as the layering rules want for heavy libraries.

Conventions (``shared/spec/rob_prisma.md`` §3.2-3.4, read from robvis v0.3.0.900 source, and
compared with robvis's own snapshot images ``tests/testthat/_snaps/rob_traffic_light/TF - ROB2 -
Basic.png`` and ``_snaps/rob_summary/ROB2 - Basic.png``):

- **Colours** (§3.3): palette ``"cochrane"`` (default) low ``#02C100``, some concerns / unclear
  ``#E2DF07``, high ``#BF0000``, critical ``#820000``, no information ``#4EA1F7``, N/A ``#cccccc``;
  palette ``"colourblind"`` ``#fed98e`` / ``#fe9929`` / ``#d95f0e`` / ``#993404`` / ``#ffffff`` /
  ``#cccccc``.
- **Traffic light** (§3.2): studies as rows in input order (labels left in grey strips, axis title
  "Study"), domains D1…Dk then "Overall" as columns (grey header strips ``#a9a9a9``, title "Risk
  of bias domains"); a filled circle per cell with a black outline (none for N/A) and a black
  symbol: robvis's set ``+`` low, ``-`` some concerns / unclear, ``x`` high, ``!`` critical,
  ``?`` no information, blank N/A, or RevMan's set (``+`` low, ``?`` unclear, ``−`` high). Cell
  background white, the Overall column ``#d3d3d3``. Bottom left a caption "Domains:" with
  "D1: <name>." lines; bottom right the legend "Judgement" listing only the levels present, worst
  first (as robvis orders it). An empty cell (not assessed) is left blank.
- **Summary** (§3.4, and RevMan's "Risk of bias graph", §1.4): one horizontal 100%-stacked bar
  per domain (bar height 0.7, black outline), first domain at the top and the overall bar at the
  bottom in bold; segments from the left Low → Some concerns/Unclear → High → Critical → No
  information → N/A; x axis 0-100% with ticks every 25%, no axis titles, no grid; legend at the
  bottom with a black frame, levels present only. Unweighted: each assessed study counts 1
  (studies not assessed for a domain are left out of its bar). Weighted: each study counts its
  weight (e.g. its meta-analysis weight), so a bar shows shares of total weight.
- **Size** grows with the content: a row is 0.4 in at ``psize`` 10 (robvis: height
  2 + 0.4·rows), columns widen for long headers, the label strip for long study labels, the summary
  plot's left margin for long domain names; so 12 and 60 studies are equally readable.

SVG output keeps text as text (``svg.fonttype = none``), so labels stay searchable and editable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, overload

from reviewtool.errors import InvalidInput
from reviewtool.rob.robvis import ROB1, Level, RobvisTable, layout
from reviewtool.text import counted

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLOURS: Mapping[str, Mapping[Level, str]] = {
    "cochrane": {
        Level.LOW: "#02C100",
        Level.CONCERNS: "#E2DF07",
        Level.HIGH: "#BF0000",
        Level.CRITICAL: "#820000",
        Level.NO_INFORMATION: "#4EA1F7",
        Level.NOT_APPLICABLE: "#cccccc",
    },
    "colourblind": {
        Level.LOW: "#fed98e",
        Level.CONCERNS: "#fe9929",
        Level.HIGH: "#d95f0e",
        Level.CRITICAL: "#993404",
        Level.NO_INFORMATION: "#ffffff",
        Level.NOT_APPLICABLE: "#cccccc",
    },
}
"""robvis's palettes (spec §3.3)."""

SYMBOLS: Mapping[str, Mapping[Level, str]] = {
    "robvis": {
        Level.LOW: "+",
        Level.CONCERNS: "-",
        Level.HIGH: "x",
        Level.CRITICAL: "!",
        Level.NO_INFORMATION: "?",
        Level.NOT_APPLICABLE: "",
    },
    "revman": {
        Level.LOW: "+",
        Level.CONCERNS: "?",
        Level.HIGH: "\u2212",
        Level.CRITICAL: "!",
        Level.NO_INFORMATION: "?",
        Level.NOT_APPLICABLE: "",
    },
}
"""Cell symbols: robvis's (spec §3.2) and RevMan 5.3's risk-of-bias summary (spec §1.4)."""

LEGEND_ORDER: tuple[Level, ...] = (
    Level.CRITICAL,
    Level.HIGH,
    Level.CONCERNS,
    Level.LOW,
    Level.NO_INFORMATION,
    Level.NOT_APPLICABLE,
)
"""Traffic-light legend order, worst first (robvis's ``judgement_levels``)."""

BAR_ORDER: tuple[Level, ...] = (
    Level.LOW,
    Level.CONCERNS,
    Level.HIGH,
    Level.CRITICAL,
    Level.NO_INFORMATION,
    Level.NOT_APPLICABLE,
)
"""Summary-bar segment order from the left (spec §3.4)."""

TRAFFIC_LABELS: Mapping[str, Mapping[Level, str]] = {
    "ROB1": {
        Level.CRITICAL: "Critical",
        Level.HIGH: "High",
        Level.CONCERNS: "Unclear",
        Level.LOW: "Low",
        Level.NO_INFORMATION: "No information",
        Level.NOT_APPLICABLE: "Not applicable",
    },
    "ROB2": {
        Level.HIGH: "High",
        Level.CONCERNS: "Some concerns",
        Level.LOW: "Low",
        Level.NO_INFORMATION: "No information",
        Level.NOT_APPLICABLE: "Not applicable",
    },
}
"""Traffic-light legend labels: robvis's Generic defaults for RoB 1, its ROB2 labels."""

SUMMARY_LABELS: Mapping[str, Mapping[Level, str]] = {
    "ROB1": {
        Level.LOW: "Low risk of bias",
        Level.CONCERNS: "Unclear risk of bias",
        Level.HIGH: "High risk of bias",
        Level.CRITICAL: "Critical risk of bias",
        Level.NO_INFORMATION: "No information",
        Level.NOT_APPLICABLE: "N/A",
    },
    "ROB2": {
        Level.LOW: "Low risk",
        Level.CONCERNS: "Some concerns",
        Level.HIGH: "High risk",
        Level.NO_INFORMATION: "No information",
        Level.NOT_APPLICABLE: "N/A",
    },
}
"""Summary legend labels: RevMan's "… risk of bias" for RoB 1 (spec §1.4), robvis's for RoB 2."""

STRIP_GREY = "#a9a9a9"
OVERALL_GREY = "#d3d3d3"
GRID_GREY = "#bdbdbd"
FONT_SIZE = 10.0


def _labels_key(tool: str) -> str:
    return "ROB1" if tool == ROB1 else "ROB2"


@lru_cache(maxsize=4096)
def _text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Width of a line of text in inches (measured with matplotlib's text layout; remembered,
    since the same labels are measured for every figure of a table and each of its formats)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    if not text:
        return 0.0
    prop = FontProperties(weight="bold" if bold else "normal")
    return float(TextPath((0, 0), text, size=size, prop=prop).get_extents().width) / 72.0


def _check(colours: str, symbols: str | None = None) -> None:
    if colours not in COLOURS:
        raise InvalidInput(f"colours must be one of {', '.join(COLOURS)}, not {colours!r}")
    if symbols is not None and symbols not in SYMBOLS:
        raise InvalidInput(f"symbols must be one of {', '.join(SYMBOLS)}, not {symbols!r}")


def _format(path: Path, fmt: str | None) -> str:
    chosen = (fmt or path.suffix.lstrip(".")).lower()
    if chosen not in ("png", "svg"):
        raise InvalidInput(
            f"{path}: figures are written as PNG or SVG, not {chosen or 'no suffix'!r}"
        )
    return chosen


def _save(figure: Figure, path: str | Path, fmt: str | None, dpi: int) -> Path:
    import matplotlib

    target = Path(path)
    kind = _format(target, fmt)
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "reviewtool"}):
        figure.savefig(target, format=kind, dpi=dpi, metadata=_metadata(kind))
    return target


def _save_all(
    figure: Figure, path: str | Path | Sequence[str | Path], fmt: str | None, dpi: int
) -> Path | list[Path]:
    """Save ``figure`` to ``path``, or to each of several paths (the figure is built once for
    all its files); the path, or the list of paths."""
    if isinstance(path, str | Path):
        return _save(figure, path, fmt, dpi)
    return [_save(figure, p, fmt, dpi) for p in path]


def _check_formats(path: str | Path | Sequence[str | Path], fmt: str | None) -> None:
    for p in [path] if isinstance(path, str | Path) else path:
        _format(Path(p), fmt)


def _metadata(kind: str) -> dict[str, str | None]:
    # No creation date, so the same input gives the same file.
    if kind == "svg":
        return {"Date": None}
    return {"Software": "reviewtool (matplotlib)"}


# ---------------------------------------------------------------------------------------------
# Traffic light


def traffic_light_figure(
    table: RobvisTable,
    *,
    colours: str = "cochrane",
    symbols: str = "robvis",
    psize: float = 10.0,
) -> Figure:
    """Draw the traffic-light plot (studies × domains, plus Overall when the table has it).

    Every cell circle is a ``matplotlib.patches.Circle`` whose ``gid`` is
    ``"cell|<row index>|<column code>"`` and whose face colour is the level's colour; each symbol is
    a ``Text`` with gid ``"symbol|<row index>|<column code>"``; legend circles have gid
    ``"legend|<level code>"``. Raises ``InvalidInput`` for an unknown palette or symbol set, or a
    table without rows. Sizes are in inches; a row is ``0.4 * psize / 10`` in.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, Rectangle

    _check(colours, symbols)
    if not table.rows:
        raise InvalidInput("the traffic-light plot needs at least one study")
    palette = COLOURS[colours]
    marks = SYMBOLS[symbols]
    labels = TRAFFIC_LABELS[_labels_key(table.tool)]
    codes = list(table.domain_codes) + (["Overall"] if table.has_overall else [])
    n_rows, n_cols = len(table.rows), len(codes)

    row_h = 0.4 * psize / 10.0
    radius = row_h * 0.38
    symbol_size = row_h * 72.0 * 0.5
    strip_pad = 0.12
    label_w = max(_text_width(r.study, FONT_SIZE) for r in table.rows) + 2 * strip_pad
    col_w = max(0.7, max(_text_width(c, FONT_SIZE) for c in codes) + 2 * strip_pad)
    study_title_w = 0.35
    x_grid = 0.1 + study_title_w + label_w
    title_h, header_h = 0.3, 0.3
    y_grid = 0.1 + title_h + header_h
    grid_w, grid_h = n_cols * col_w, n_rows * row_h

    caption = ["Domains:"] + [
        f"{code}: {name}."
        for code, name in zip(table.domain_codes, table.domain_names, strict=True)
    ]
    present = {lvl for r in table.rows for lvl in (*r.judgements, r.overall) if lvl is not None}
    legend_levels = [lvl for lvl in LEGEND_ORDER if lvl in present and lvl in labels]
    line_h = 0.2
    legend_h = line_h * (len(legend_levels) + 1)
    below = 0.15 + max(line_h * len(caption), legend_h) + 0.1
    caption_w = max(_text_width(line, FONT_SIZE) for line in caption)
    legend_w = 0.6 + max(
        [_text_width("Judgement", FONT_SIZE)]
        + [_text_width(labels[lvl], FONT_SIZE) for lvl in legend_levels]
    )
    width = max(x_grid + grid_w + 0.1, x_grid + caption_w + 0.4 + legend_w + 0.1)
    height = y_grid + grid_h + below

    figure = Figure(figsize=(width, height))
    ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()

    ax.text(
        x_grid + grid_w / 2,
        0.1 + title_h / 2,
        "Risk of bias domains",
        ha="center",
        va="center",
        fontsize=FONT_SIZE + 1,
    )
    ax.text(
        0.1 + study_title_w / 2,
        y_grid + grid_h / 2,
        "Study",
        ha="center",
        va="center",
        rotation=90,
        fontsize=FONT_SIZE + 1,
    )
    for j, code in enumerate(codes):
        x = x_grid + j * col_w
        ax.add_patch(
            Rectangle(
                (x, y_grid - header_h),
                col_w,
                header_h,
                facecolor=STRIP_GREY,
                edgecolor="#333333",
                linewidth=0.6,
            )
        )
        ax.text(
            x + col_w / 2, y_grid - header_h / 2, code, ha="center", va="center", fontsize=FONT_SIZE
        )
        background = OVERALL_GREY if code == "Overall" else "#ffffff"
        ax.add_patch(
            Rectangle((x, y_grid), col_w, grid_h, facecolor=background, edgecolor="none", zorder=0)
        )
    for i, row in enumerate(table.rows):
        y = y_grid + i * row_h
        ax.add_patch(
            Rectangle(
                (x_grid - label_w, y),
                label_w,
                row_h,
                facecolor=STRIP_GREY,
                edgecolor="#333333",
                linewidth=0.6,
            )
        )
        ax.text(
            x_grid - label_w + strip_pad,
            y + row_h / 2,
            row.study,
            ha="left",
            va="center",
            fontsize=FONT_SIZE,
            gid=f"study|{i}",
        )
        levels = [*row.judgements, *((row.overall,) if table.has_overall else ())]
        for j, (code, level) in enumerate(zip(codes, levels, strict=True)):
            if level is None:
                continue
            cx, cy = x_grid + (j + 0.5) * col_w, y + row_h / 2
            outline = level is not Level.NOT_APPLICABLE
            ax.add_patch(
                Circle(
                    (cx, cy),
                    radius,
                    facecolor=palette[level],
                    edgecolor="black" if outline else "none",
                    linewidth=0.8,
                    zorder=3,
                    gid=f"cell|{i}|{code}",
                )
            )
            if marks[level]:
                ax.text(
                    cx,
                    cy,
                    marks[level],
                    ha="center",
                    va="center_baseline",
                    fontsize=symbol_size,
                    fontweight="bold",
                    color="black",
                    zorder=4,
                    gid=f"symbol|{i}|{code}",
                )
    # grid lines between cells
    for j in range(n_cols + 1):
        x = x_grid + j * col_w
        ax.plot([x, x], [y_grid, y_grid + grid_h], color=GRID_GREY, linewidth=0.8, zorder=1)
    for i in range(n_rows + 1):
        y = y_grid + i * row_h
        ax.plot([x_grid, x_grid + grid_w], [y, y], color=GRID_GREY, linewidth=0.8, zorder=1)

    y_text = y_grid + grid_h + 0.15
    for k, line in enumerate(caption):
        ax.text(
            x_grid, y_text + (k + 0.5) * line_h, line, ha="left", va="center", fontsize=FONT_SIZE
        )
    x_legend = width - 0.1 - legend_w
    ax.text(
        x_legend, y_text + 0.5 * line_h, "Judgement", ha="left", va="center", fontsize=FONT_SIZE
    )
    small = line_h * 0.42
    for k, level in enumerate(legend_levels):
        cy = y_text + (k + 1.5) * line_h
        cx = x_legend + 0.15
        ax.add_patch(
            Circle(
                (cx, cy),
                small,
                facecolor=palette[level],
                edgecolor="black" if level is not Level.NOT_APPLICABLE else "none",
                linewidth=0.6,
                gid=f"legend|{level.value}",
            )
        )
        if marks[level]:
            ax.text(
                cx,
                cy,
                marks[level],
                ha="center",
                va="center_baseline",
                fontsize=FONT_SIZE * 0.8,
                fontweight="bold",
            )
        ax.text(cx + 0.2, cy, labels[level], ha="left", va="center", fontsize=FONT_SIZE)
    return figure


@overload
def traffic_light(
    table: RobvisTable,
    path: str | Path,
    *,
    colours: str = ...,
    symbols: str = ...,
    psize: float = ...,
    fmt: str | None = ...,
    dpi: int = ...,
) -> Path: ...
@overload
def traffic_light(
    table: RobvisTable,
    path: list[Path],
    *,
    colours: str = ...,
    symbols: str = ...,
    psize: float = ...,
    fmt: str | None = ...,
    dpi: int = ...,
) -> list[Path]: ...
def traffic_light(
    table: RobvisTable,
    path: str | Path | Sequence[str | Path],
    *,
    colours: str = "cochrane",
    symbols: str = "robvis",
    psize: float = 10.0,
    fmt: str | None = None,
    dpi: int = 200,
) -> Path | list[Path]:
    """Write the traffic-light plot to ``path`` (PNG or SVG, from ``fmt`` or the suffix), or to
    each of several paths (the figure is built once and saved in each format).

    Returns the path (the list of paths). Raises ``InvalidInput`` as
    :func:`traffic_light_figure`, or for a format other than PNG/SVG.
    """
    _check_formats(path, fmt)
    return _save_all(
        traffic_light_figure(table, colours=colours, symbols=symbols, psize=psize), path, fmt, dpi
    )


# ---------------------------------------------------------------------------------------------
# Summary


@dataclass(frozen=True)
class SummaryBar:
    """One bar of the summary plot: its label and each level's share (0-1) in bar order (empty
    when no study has a judgement in that domain yet)."""

    label: str
    shares: tuple[tuple[Level, float], ...]
    overall: bool = False


def summary_shares(
    table: RobvisTable,
    *,
    weights: Sequence[float] | None = None,
    weighted: bool = False,
    include_overall: bool = True,
) -> tuple[SummaryBar, ...]:
    """The summary plot's numbers: per domain (then overall), each level's share of studies.

    Unweighted: each study assessed for the domain counts 1. ``weighted=True`` uses the table's
    Weight column; ``weights`` gives one weight per row instead (e.g. an analysis's weights).
    Studies with an empty cell are left out of that bar. Shares are fractions in 0-1, in
    :data:`BAR_ORDER`, levels with share 0 left out. Raises ``InvalidInput`` for weights of the
    wrong length, negative or non-finite weights, a weighted request without weights, or a bar
    whose studies all weigh 0.
    """
    import math

    if weights is not None:
        if len(weights) != len(table.rows):
            raise InvalidInput(
                f"{counted(len(weights), 'weight')} for {counted(len(table.rows), 'study')}"
            )
        row_weights = [float(w) for w in weights]
    elif weighted:
        if not table.weighted:
            raise InvalidInput("a weighted summary needs a Weight column or weights")
        row_weights = [float(r.weight or 0.0) for r in table.rows]
    else:
        row_weights = [1.0] * len(table.rows)
    for row, w in zip(table.rows, row_weights, strict=True):
        if not math.isfinite(w) or w < 0:
            raise InvalidInput(f"study {row.study}: weight {w} is not a number >= 0")
    spec = layout(table.tool)
    columns: list[tuple[str, list[Level | None], bool]] = [
        (name, [r.judgements[k] for r in table.rows], False)
        for k, name in enumerate(table.domain_names)
    ]
    if table.has_overall and include_overall:
        columns.append((spec.overall_name, [r.overall for r in table.rows], True))
    bars: list[SummaryBar] = []
    for name, levels, is_overall in columns:
        totals: dict[Level, float] = {}
        for level, w in zip(levels, row_weights, strict=True):
            if level is not None:
                totals[level] = totals.get(level, 0.0) + w
        total = sum(totals.values())
        if total <= 0:
            # Nothing agreed (or assessed) in this domain yet: an empty bar, not a refusal, so
            # a review in progress still gets its figures and report.
            bars.append(SummaryBar(name, (), is_overall))
            continue
        shares = tuple((lvl, totals[lvl] / total) for lvl in BAR_ORDER if totals.get(lvl, 0) > 0)
        bars.append(SummaryBar(name, shares, is_overall))
    return tuple(bars)


def summary_figure(
    table: RobvisTable,
    *,
    weights: Sequence[float] | None = None,
    weighted: bool = False,
    colours: str = "cochrane",
    caption: str | None = None,
) -> Figure:
    """Draw the summary bar plot of :func:`summary_shares`; ``caption`` (e.g. what the bars are
    weighted by) is printed under the axis.

    Each segment is a ``Rectangle`` with gid ``"bar|<bar index>|<level code>"``; the overall bar's
    label is bold. Raises ``InvalidInput`` as :func:`summary_shares` or for an unknown palette.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    _check(colours)
    if not table.rows:
        raise InvalidInput("the summary plot needs at least one study")
    bars = summary_shares(table, weights=weights, weighted=weighted)
    palette = COLOURS[colours]
    labels = SUMMARY_LABELS[_labels_key(table.tool)]
    label_w = max(_text_width(b.label, FONT_SIZE + 1, bold=b.overall) for b in bars) + 0.25
    present = [lvl for lvl in BAR_ORDER if any(lvl is level for b in bars for level, _ in b.shares)]
    legend_w = sum(0.55 + _text_width(labels.get(lvl, lvl.name), FONT_SIZE - 1) for lvl in present)
    plot_w = 5.2
    width = max(label_w + plot_w + 0.35, legend_w + 0.4)
    bar_h_in = 0.27
    legend_h = 0.55 + (0.25 if caption else 0.0)
    height = 0.15 + bar_h_in * len(bars) + 0.35 + legend_h
    figure = Figure(figsize=(width, height))
    ax = figure.add_axes(
        (label_w / width, (0.35 + legend_h) / height, plot_w / width, bar_h_in * len(bars) / height)
    )
    for index, bar in enumerate(bars):
        left = 0.0
        for level, share in bar.shares:
            ax.barh(
                index,
                share,
                left=left,
                height=0.7,
                color=palette[level],
                edgecolor="black",
                linewidth=0.8,
                gid=f"bar|{index}|{level.value}",
            )
            left += share
    ax.set_ylim(len(bars) - 0.5, -0.5)
    ax.set_xlim(-0.02, 1.02)
    ax.set_yticks(range(len(bars)))
    ax.set_yticklabels([b.label for b in bars], fontsize=FONT_SIZE + 1)
    for tick, bar in zip(ax.get_yticklabels(), bars, strict=True):
        if bar.overall:
            tick.set_fontweight("bold")
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v * 100:.0f}%"))
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", labelsize=FONT_SIZE, colors="#4d4d4d")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.grid(False)
    if caption:
        ax.set_xlabel(caption, fontsize=FONT_SIZE - 1, color="#4d4d4d")
    handles = [
        Patch(facecolor=palette[lvl], edgecolor="black", label=labels.get(lvl, lvl.name))
        for lvl in present
    ]
    legend = figure.legend(
        handles=handles,
        loc="lower center",
        ncol=len(handles),
        frameon=True,
        bbox_to_anchor=(0.5, 0.04),
        fontsize=FONT_SIZE - 1,
        fancybox=False,
        edgecolor="black",
    )
    legend.get_frame().set_linewidth(1.0)
    return figure


@overload
def summary_plot(
    table: RobvisTable,
    path: str | Path,
    *,
    weights: Sequence[float] | None = ...,
    weighted: bool = ...,
    colours: str = ...,
    fmt: str | None = ...,
    dpi: int = ...,
    caption: str | None = ...,
) -> Path: ...
@overload
def summary_plot(
    table: RobvisTable,
    path: list[Path],
    *,
    weights: Sequence[float] | None = ...,
    weighted: bool = ...,
    colours: str = ...,
    fmt: str | None = ...,
    dpi: int = ...,
    caption: str | None = ...,
) -> list[Path]: ...
def summary_plot(
    table: RobvisTable,
    path: str | Path | Sequence[str | Path],
    *,
    weights: Sequence[float] | None = None,
    weighted: bool = False,
    colours: str = "cochrane",
    fmt: str | None = None,
    dpi: int = 200,
    caption: str | None = None,
) -> Path | list[Path]:
    """Write the summary bar plot to ``path`` (PNG or SVG, from ``fmt`` or the suffix), or to
    each of several paths (the figure is built once and saved in each format).

    Returns the path (the list of paths). Raises ``InvalidInput`` as :func:`summary_figure`, or
    for a format other than PNG/SVG.
    """
    _check_formats(path, fmt)
    figure = summary_figure(
        table, weights=weights, weighted=weighted, colours=colours, caption=caption
    )
    return _save_all(figure, path, fmt, dpi)
