"""Forest plots laid out as RevMan and Stata users hand them to a journal.

One table row per study: the arm columns (continuous: mean, SD and total per arm; binary: events
and total per arm), the weight (%), the estimate with its CI as text, and the square and whiskers
on the right; "Not estimable" for a study without an estimate (a double-zero study for an odds
ratio), never a study silently left out. Under each diamond: the heterogeneity line
(τ² only under random effects, χ², df, P, I²), the test for the overall effect (Z, or t under
HKSJ) and, for random effects, the prediction interval drawn as its own row. Subgroup plots have a
diamond per subgroup and the test for subgroup differences; an outcome's time points can be the
sections of one figure (the seed paper's figures 3–8).

Every number printed comes from the stored :class:`~reviewtool.analysis.results.MetaAnalysisResult`
(which the differential tests pin to metafor); this module only formats and draws. Text is
placed with the axes' ``text`` so tests can read the figure's text artists. matplotlib is imported
inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from reviewtool.analysis.results import StudyArms

if TYPE_CHECKING:
    from reviewtool.analysis.results import MetaAnalysisResult, SubgroupAnalysis

#: The measure's name in a column header (RevMan's wording).
MEASURE_NAMES = {
    "SMD": "Std. mean difference",
    "MD": "Mean difference",
    "OR": "Odds ratio",
    "RR": "Risk ratio",
    "RD": "Risk difference",
    "GEN": "Estimate",
}
RATIO_MEASURES = ("OR", "RR")
FONT = 8.0  # points, every table cell
ROW = 0.2  # inches per table row
PLOT_WIDTH = 2.6  # inches of the graphic panel
PAD = 0.14  # inches between columns

SUBGROUP_WEIGHTS = ("overall", "within")


@dataclass(frozen=True)
class ForestLabels:
    """What the plot calls things: the arms, the outcome (with unit), and its good direction.

    ``better`` is ``higher`` (e.g. survival, albumin), ``lower`` (e.g. MELD, bilirubin) or empty.
    It decides which side of the null line favours which arm: with ``lower`` (and with no
    direction, RevMan's default layout) the left side favours the experimental arm.
    """

    arm_exp: str = "experimental"
    arm_con: str = "control"
    outcome: str = ""
    unit: str = ""
    better: str = ""

    @classmethod
    def from_mapping(cls, d: dict[str, str] | None, outcome: str = "") -> ForestLabels:
        """From the ``labels`` of a stored analysis (``outcome_title, unit, arm_exp, arm_con,
        better``); missing values take the defaults."""
        d = d or {}
        return cls(
            arm_exp=d.get("arm_exp") or "experimental",
            arm_con=d.get("arm_con") or "control",
            outcome=d.get("outcome_title") or outcome,
            unit=d.get("unit", ""),
            better=(d.get("better") or "").lower(),
        )

    def title(self) -> str:
        """``outcome (unit)``, or the outcome alone."""
        return f"{self.outcome} ({self.unit})" if self.unit else self.outcome

    def favours(self) -> tuple[str, str]:
        """(left, right) axis captions: ``Favours [arm]``."""
        exp, con = f"Favours {self.arm_exp}", f"Favours {self.arm_con}"
        return (con, exp) if self.better == "higher" else (exp, con)


@dataclass(frozen=True)
class Section:
    """One block of a forest plot: a header, its studies and its diamond.

    ``result`` is None when the block is not estimable (``note`` says why). ``arms`` gives the
    studies in input order with their arm data (a study absent from ``result.studies`` is
    "Not estimable"). ``weight_share`` multiplies the block's study weights (%), so that weights
    add to 100% across subgroups (RevMan's convention); 1 keeps within-block weights.
    """

    title: str
    result: MetaAnalysisResult | None
    arms: tuple[StudyArms, ...] = ()
    note: str = ""
    weight_share: float = 1.0
    flag: str = ""


@dataclass
class _Row:
    kind: str  # header, study, diamond, pi, text, blank
    cells: dict[str, str] = field(default_factory=dict)
    est: float = math.nan
    lo: float = math.nan
    hi: float = math.nan
    weight: float = math.nan
    bold: bool = False
    italic: bool = False
    total: bool = False


# ------------------------------------------------------------------------------------ formatting


def fmt_p(p: float) -> str:
    """``P < 0.001`` or ``P = 0.042`` (3 decimals), as the plot prints a p-value."""
    if not math.isfinite(p):
        return "P not estimable"
    return "P < 0.001" if p < 0.001 else f"P = {p:.3f}"


def fmt_tau2(tau2: float) -> str:
    """τ² with 2 decimals, or 2 significant digits below 0.01 (never a bare ``0.00``)."""
    if tau2 == 0:
        return "0"
    return f"{tau2:.2f}" if abs(tau2) >= 0.01 else f"{tau2:.2g}"


def heterogeneity_line(res: MetaAnalysisResult) -> str:
    """RevMan's heterogeneity line; τ² only for a random-effects model (it weighs nothing under a
    fixed-effect model). I² is the Q-based one every table prints."""
    h = res.heterogeneity
    tau = f"τ² = {fmt_tau2(h.tau2)}; " if res.model == "random" and math.isfinite(h.tau2) else ""
    return f"Heterogeneity: {tau}χ² = {h.q:.2f}, df = {h.df} ({fmt_p(h.p)}); I² = {h.i2:.0f}%"


def overall_effect_line(res: MetaAnalysisResult) -> str:
    """``Test for overall effect: Z = 2.34 (P = 0.019)``, or ``t = …, df = …`` under HKSJ."""
    p = res.pooled
    if p.statistic_name == "t":
        df = f", df = {p.df:g}" if p.df is not None else ""
        return f"Test for overall effect: t = {p.statistic:.2f}{df} ({fmt_p(p.p)})"
    return f"Test for overall effect: Z = {abs(p.statistic):.2f} ({fmt_p(p.p)})"


def subgroup_test_line(sg: SubgroupAnalysis) -> str:
    """``Test for subgroup differences: χ² = …, df = … (P = …), I² = …%`` (I² = (Q−df)/Q)."""
    if not math.isfinite(sg.q_between) or sg.df < 1:
        return "Test for subgroup differences: not applicable (fewer than 2 estimable subgroups)"
    i2 = max(0.0, (sg.q_between - sg.df) / sg.q_between) * 100 if sg.q_between > 0 else 0.0
    return (
        f"Test for subgroup differences: χ² = {sg.q_between:.2f}, df = {sg.df} "
        f"({fmt_p(sg.p)}), I² = {i2:.0f}%"
    )


def fmt_ci(est: float, lo: float, hi: float) -> str:
    """``0.42 [0.10, 0.74]``."""
    return f"{est:.2f} [{lo:.2f}, {hi:.2f}]"


def _decimals(values: Sequence[float]) -> int:
    d = 0
    for v in values:
        if not math.isfinite(v):
            continue
        while d < 3 and abs(round(v, d) - v) > 1e-9 * max(1.0, abs(v)):
            d += 1
    return d


def _model_words(res: MetaAnalysisResult) -> str:
    return {"random": "Random", "fixed": "Fixed"}.get(res.model, "")


# ----------------------------------------------------------------------------------- the rows


def _arm_columns(kind: str) -> list[tuple[str, str, str]]:
    """(key, header, arm) per arm column."""
    if kind == "continuous":
        return [
            ("mean_exp", "Mean", "exp"),
            ("sd_exp", "SD", "exp"),
            ("n_exp", "Total", "exp"),
            ("mean_con", "Mean", "con"),
            ("sd_con", "SD", "con"),
            ("n_con", "Total", "con"),
        ]
    if kind == "binary":
        return [
            ("events_exp", "Events", "exp"),
            ("total_exp", "Total", "exp"),
            ("events_con", "Events", "con"),
            ("total_con", "Total", "con"),
        ]
    return []


def _study_list(sec: Section) -> list[tuple[str, StudyArms | None]]:
    if sec.arms:
        return [(a.study, a) for a in sec.arms]
    shown = [s.study for s in sec.result.studies] if sec.result else []
    dropped = [s for s, _ in sec.result.dropped] if sec.result else []
    return [(s, None) for s in shown + dropped]


def _section_rows(
    sec: Section,
    kind: str,
    tr: Any,
    decimals: dict[str, int],
    *,
    total_label: str,
    model_in_label: bool,
    level: float,
) -> list[_Row]:
    rows: list[_Row] = []
    if sec.title:
        rows.append(_Row("header", {"study": sec.title + (f" ({sec.flag})" if sec.flag else "")}))
    res = sec.result
    by_study = {s.study: s for s in res.studies} if res else {}
    reasons = dict(res.dropped) if res else {}
    cols = _arm_columns(kind)
    totals: dict[str, float] = {}
    for study, arms in _study_list(sec):
        cells = {"study": study}
        if arms is not None:
            for key, _, _ in cols:
                v = arms.values.get(key, math.nan)
                cells[key] = f"{v:.{decimals[key]}f}" if math.isfinite(v) else ""
                if key.startswith(("n_", "total_", "events_")) and math.isfinite(v):
                    totals[key] = totals.get(key, 0.0) + v
        s = by_study.get(study)
        if s is None:
            why = reasons.get(study) or sec.note
            cells["ci"] = "Not estimable"
            rows.append(_Row("study", cells, italic=False))
            if why:
                rows[-1].cells["why"] = why
            continue
        w = s.weight * sec.weight_share
        cells["weight"] = f"{w:.1f}%" if math.isfinite(w) else ""
        cells["ci"] = fmt_ci(tr(s.yi), tr(s.ci_low), tr(s.ci_high))
        rows.append(_Row("study", cells, s.yi, s.ci_low, s.ci_high, weight=w))
    ci_name = f"{level:.0%} CI"
    if res is None:
        rows.append(
            _Row("text", {"study": f"Not estimable: {sec.note}" if sec.note else "Not estimable"})
        )
        return rows
    if res.k == 1:
        rows.append(_Row("text", {"study": "Single study, not pooled"}, italic=True))
        return rows
    p = res.pooled
    label = f"{total_label} ({ci_name})"
    if model_in_label:
        label = f"{total_label}, {res.model} effect ({ci_name})"
    cells = {"study": label, "weight": f"{100 * sec.weight_share:.1f}%"}
    for key, _, _ in cols:
        if key.startswith(("n_", "total_")) and key in totals:
            cells[key] = f"{totals[key]:.0f}"
    cells["ci"] = fmt_ci(tr(p.estimate), tr(p.ci_low), tr(p.ci_high))
    rows.append(_Row("diamond", cells, p.estimate, p.ci_low, p.ci_high, bold=True))
    if res.model == "random" and p.pi_low is not None and p.pi_high is not None:
        rows.append(
            _Row(
                "pi",
                {
                    "study": "Prediction interval",
                    "ci": f"[{tr(p.pi_low):.2f}, {tr(p.pi_high):.2f}]",
                },
                p.estimate,
                p.pi_low,
                p.pi_high,
            )
        )
    if kind == "binary":
        ev = {k: f"{v:.0f}" for k, v in totals.items() if k.startswith("events_")}
        rows.append(_Row("text", {"study": "Total events", **ev}))
    rows.append(_Row("text", {"study": heterogeneity_line(res)}, italic=True))
    rows.append(_Row("text", {"study": overall_effect_line(res)}, italic=True))
    return rows


# ----------------------------------------------------------------------------------- drawing


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (imported on first use)."""
    import matplotlib

    matplotlib.use("Agg")
    # SVG text stays text (editable by a journal's typesetter, and 3x faster than outlines).
    matplotlib.rcParams["svg.fonttype"] = "none"
    import matplotlib.pyplot as plt

    return plt


@lru_cache(maxsize=512)
def _char_width(char: str, bold: bool) -> float:
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(size=100, weight="bold" if bold else "normal")
    w, _, _ = TextToPath().get_text_width_height_descent(char, prop, ismath=False)
    return float(w) / 100.0 / 72.0


def text_width(text: str, size: float = FONT, bold: bool = False) -> float:
    """Width in inches of ``text`` in the default font at ``size`` points (the sum of its
    characters' advances, without kerning: a slight overestimate)."""
    return size * sum(_char_width(c, bold) for c in text)


def _nice_bound(x: float, ratio: bool) -> float:
    steps = (
        (2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 1000.0)
        if ratio
        else (0.5, 1.0, 2.0, 4.0, 5.0, 10.0, 20.0)
    )
    target = math.exp(x) if ratio else x
    for s in steps:
        if target <= s * 1.0000001:
            return math.log(s) if ratio else s
    mag = 10 ** math.ceil(math.log10(target))
    return math.log(mag) if ratio else mag


def _ticks(bound: float, ratio: bool) -> list[float]:
    if ratio:
        b = round(math.exp(bound))
        table = {
            2: [0.5, 0.7, 1, 1.5, 2],
            5: [0.2, 0.5, 1, 2, 5],
            10: [0.1, 0.2, 0.5, 1, 2, 5, 10],
            20: [0.05, 0.2, 1, 5, 20],
            50: [0.02, 0.1, 1, 10, 50],
            100: [0.01, 0.1, 1, 10, 100],
            1000: [0.001, 0.1, 1, 10, 1000],
        }
        vals = table.get(b, [1 / b, 1, b])
        return [math.log(v) for v in vals]
    return [-bound, -bound / 2, 0.0, bound / 2, bound]


def forest_figure(
    sections: Sequence[Section],
    *,
    measure: str,
    level: float = 0.95,
    labels: ForestLabels | None = None,
    title: str = "",
    overall: MetaAnalysisResult | None = None,
    footer: Sequence[str] = (),
) -> Any:
    """Build the forest plot figure (matplotlib ``Figure``; the caller saves and closes it).

    ``sections`` are drawn top to bottom; a single untitled section is an ordinary forest plot
    whose diamond is the "Total". ``overall`` adds the overall diamond (subgroup plots), ``footer``
    lines go at the bottom (e.g. the test for subgroup differences). The figure's width fits its
    columns; its height fits its rows.
    """
    from matplotlib.transforms import blended_transform_factory

    plt = pyplot()
    labels = labels or ForestLabels()
    ratio = measure in RATIO_MEASURES
    tr = math.exp if ratio else (lambda x: x)
    kinds = {a.kind for sec in sections for a in sec.arms} or {"generic"}
    kind = kinds.pop() if len(kinds) == 1 else "generic"
    cols = _arm_columns(kind)
    decimals = {
        key: (
            0
            if key.startswith(("n_", "total_", "events_"))
            else _decimals([a.values.get(key, math.nan) for s in sections for a in s.arms])
        )
        for key, _, _ in cols
    }
    results = [s.result for s in sections if s.result is not None] + ([overall] if overall else [])
    models = {r.model for r in results if r.k > 1}
    several = len(sections) > 1 or bool(sections and sections[0].title)
    rows: list[_Row] = []
    for sec in sections:
        rows += _section_rows(
            sec,
            kind,
            tr,
            decimals,
            total_label="Subtotal" if several else "Total",
            model_in_label=len(models) > 1,
            level=level,
        )
        if several:
            rows.append(_Row("blank"))
    if overall is not None and overall.k > 1:
        total = Section("", overall, tuple(a for s in sections for a in s.arms))
        over = _section_rows(
            total,
            kind,
            tr,
            decimals,
            total_label="Total",
            model_in_label=len(models) > 1,
            level=level,
        )
        rows += [r for r in over if r.kind != "study"]
    rows += [_Row("text", {"study": line}, italic=True) for line in footer]
    while rows and rows[-1].kind == "blank":
        rows.pop()

    # Column layout (inches from the left edge).
    method = sorted({r.method for r in results if r.k > 1} or {"IV"})[0]
    model = "" if len(models) != 1 else ", " + _model_words(next(r for r in results if r.k > 1))
    ci_head = [MEASURE_NAMES.get(measure, measure), f"{method}{model}, {level:.0%} CI"]
    numeric = [(key, head) for key, head, _ in cols] + [("weight", "Weight"), ("ci", "")]
    wrapped = {"study", "ci"}
    widths: dict[str, float] = {}
    text_rows = [r for r in rows if r.kind in ("header", "text")]
    for key, head in [("study", "Study or subgroup"), *numeric]:
        cells = [r.cells.get(key, "") for r in rows if r not in text_rows or key != "study"]
        bold_cells = [r.cells.get(key, "") for r in rows if r.bold]
        w = max(
            [text_width(c) for c in cells if c]
            + [text_width(c, bold=True) for c in bold_cells if c]
            + [text_width(head, bold=True)]
            + ([text_width(h, bold=True) for h in ci_head] if key == "ci" else [])
        )
        widths[key] = w + (PAD if key not in wrapped else 0.0)
    x = 0.15
    pos: dict[str, float] = {"study": x}
    x += widths["study"] + PAD
    for key, _ in numeric:
        x += widths[key] + (PAD if key == "ci" else 0.0)
        pos[key] = x  # right edge: numbers are right-aligned
    table_w = x
    longest = max(
        [text_width(r.cells.get("study", ""), bold=r.kind == "header") for r in text_rows] + [0]
    )
    table_w = max(table_w, 0.15 + longest + PAD)
    plot_l, plot_r = table_w + 0.25, table_w + 0.25 + PLOT_WIDTH
    fig_w = plot_r + 0.35

    n = len(rows)
    head_rows = 2.6
    fig_h = (n + head_rows) * ROW + 0.75 + (0.35 if title else 0.1)
    fig = plt.figure(figsize=(fig_w, fig_h))
    bottom, top = 0.7 / fig_h, 1 - (0.35 if title else 0.1) / fig_h
    ax = fig.add_axes((plot_l / fig_w, bottom, (plot_r - plot_l) / fig_w, top - bottom))
    ax.set_ylim(-n + 0.4, head_rows)
    inch = blended_transform_factory(fig.dpi_scale_trans, ax.transData)

    # Horizontal scale: symmetric about the null, a nice bound covering the CIs (capped at three
    # times the pooled ones, longer whiskers end in an arrow).
    est_rows = [r for r in rows if r.kind in ("study", "diamond", "pi") and math.isfinite(r.lo)]
    reach = max([abs(v) for r in est_rows for v in (r.lo, r.hi) if math.isfinite(v)] + [0.1])
    pooled = [abs(v) for r in est_rows if r.kind != "study" for v in (r.lo, r.hi)]
    if pooled and reach > 3 * max(pooled):
        reach = 3 * max(pooled)
    bound = _nice_bound(reach, ratio)
    ax.set_xlim(-bound, bound)
    ticks = _ticks(bound, ratio)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{tr(t):g}" for t in ticks], fontsize=FONT - 1)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", length=3, pad=2)

    def put(xpos: float, y: float, s: str, **kw: Any) -> None:
        kw.setdefault("fontsize", FONT)
        ax.text(xpos, y, s, transform=inch, va="center", clip_on=False, **kw)

    # Header: arm names over their columns, then the column names.
    y1, y2 = 2.0, 1.0
    for arm, name in (("exp", labels.arm_exp), ("con", labels.arm_con)):
        keys = [k for k, _, a in cols if a == arm]
        if keys:
            left = pos[keys[0]] - widths[keys[0]] + PAD / 2
            put((left + pos[keys[-1]]) / 2, y1, name, ha="center", fontweight="bold")
            ax.plot(
                [left, pos[keys[-1]]], [y1 - 0.45] * 2, transform=inch, color="0.3", lw=0.6,
                clip_on=False,
            )  # fmt: skip
    put(pos["study"], y2, "Study or subgroup", fontweight="bold")
    for key, head in numeric:
        if head:
            put(pos[key], y2, head, ha="right", fontweight="bold")
    put(pos["ci"], y1, ci_head[0], ha="right", fontweight="bold")
    put(pos["ci"], y2, ci_head[1], ha="right", fontweight="bold")
    ax.text(0.5, y1, ci_head[0], transform=ax.get_yaxis_transform(), ha="center",
            va="center", fontsize=FONT, fontweight="bold", clip_on=False)  # fmt: skip
    ax.text(0.5, y2, ci_head[1], transform=ax.get_yaxis_transform(), ha="center",
            va="center", fontsize=FONT, fontweight="bold", clip_on=False)  # fmt: skip
    line_y = 0.55
    ax.plot([0.15, plot_r], [line_y, line_y], transform=inch, color="0.3", lw=0.6, clip_on=False)

    weights = [r.weight for r in rows if r.kind == "study" and math.isfinite(r.weight)]
    wmax = max(weights) if weights else 1.0
    first_graphic = last_graphic = None
    for i, r in enumerate(rows):
        y = -float(i)
        weight = "bold" if r.bold or r.kind == "header" else "normal"
        style = "italic" if r.italic else "normal"
        if r.kind in ("header", "text"):
            put(pos["study"], y, r.cells.get("study", ""), fontweight=weight, fontstyle=style,
                fontsize=FONT if r.kind == "header" else FONT - 0.5)  # fmt: skip
            for key, _ in numeric:
                if r.cells.get(key):
                    put(pos[key], y, r.cells[key], ha="right")
            continue
        if r.kind == "blank":
            continue
        put(pos["study"], y, r.cells.get("study", ""),
            fontweight=weight)  # fmt: skip
        for key, _, _ in cols:
            if r.cells.get(key):
                put(pos[key], y, r.cells[key], ha="right", fontweight=weight)
        for key, _ in numeric[-2:]:
            if r.cells.get(key):
                put(pos[key], y, r.cells[key], ha="right", fontweight=weight)
        if not math.isfinite(r.lo):
            continue
        first_graphic = y if first_graphic is None else first_graphic
        last_graphic = y
        lo, hi = max(r.lo, -bound), min(r.hi, bound)
        if r.kind == "study":
            ax.plot([lo, hi], [y, y], color="black", lw=0.9, solid_capstyle="butt")
            for end, clipped, mark in ((lo, r.lo < -bound, "<"), (hi, r.hi > bound, ">")):
                if clipped:
                    ax.plot([end], [y], marker=mark, color="black", markersize=4, clip_on=False)
            if -bound <= r.est <= bound:
                size = 2.5 + 5 * math.sqrt(r.weight / wmax) if math.isfinite(r.weight) else 3
                ax.plot([r.est], [y], marker="s", color="#1f4e79", markersize=size, ls="none")
        elif r.kind == "diamond":
            est = min(max(r.est, -bound), bound)
            ax.fill([lo, est, hi, est], [y, y + 0.32, y, y - 0.32], color="black", lw=0)
        elif r.kind == "pi":
            ax.plot([lo, hi], [y, y], color="#7f7f7f", lw=1.6, solid_capstyle="butt")
            ax.plot([lo, hi], [y, y], ls="none", marker="|", color="#7f7f7f", markersize=6)
    if first_graphic is not None and last_graphic is not None:
        ax.plot([0.0, 0.0], [first_graphic + 0.5, last_graphic - 0.5], color="0.2", lw=0.7)
        ax.set_ylim(min(last_graphic - 0.6, -n + 0.4), head_rows)

    from matplotlib.transforms import ScaledTranslation

    fav_left, fav_right = labels.favours()
    below = ax.transAxes + ScaledTranslation(0, -0.3, fig.dpi_scale_trans)
    ax.text(0.0, 0, fav_left, transform=below, ha="left", va="top", fontsize=FONT - 0.5)
    ax.text(1.0, 0, fav_right, transform=below, ha="right", va="top", fontsize=FONT - 0.5)
    if title:
        fig.text(0.15 / fig_w, 1 - 0.22 / fig_h, title, fontsize=10, fontweight="bold",
                 va="center", ha="left")  # fmt: skip
    return fig


def forest_text(fig: Any) -> list[str]:
    """Every text of a forest figure, top to bottom then left to right (for tests and checks)."""
    texts = []
    for ax in fig.axes:
        for t in ax.texts:
            x, y = t.get_transform().transform(t.get_position())
            texts.append((-round(y, 1), x, t.get_text()))
    texts += [(-1e9, 0.0, t.get_text()) for t in fig.texts]
    return [t for _, _, t in sorted(texts)]


# ----------------------------------------------------------------------- sections from results


def main_sections(
    result: MetaAnalysisResult, arms: Sequence[StudyArms] = (), *, title: str = ""
) -> list[Section]:
    """One section: the whole analysis (an ordinary forest plot)."""
    return [Section(title, result, tuple(arms))]


def subgroup_sections(
    sg: SubgroupAnalysis,
    arms: Sequence[StudyArms] = (),
    *,
    weights: str = "overall",
) -> list[Section]:
    """One section per subgroup (estimable ones with their diamond, then the not estimable).

    ``weights="overall"`` scales each subgroup's study weights so that all studies add to 100%
    (RevMan): a study's raw weight is 1/(vᵢ + τ²_g) for an inverse-variance random-effects
    subgroup (its own τ², as the subgroups are pooled), 1/vᵢ for a fixed-effect one, and the
    subgroup's share is Σ raw weights over the grand sum. Mantel-Haenszel and Peto subgroups
    (whose weights are not inverse variances) take 1/SE² of their pooled estimate as their total.
    ``weights="within"`` keeps each subgroup's weights adding to 100%.
    """
    if weights not in SUBGROUP_WEIGHTS:
        raise ValueError(f"weights must be one of {SUBGROUP_WEIGHTS}, not {weights!r}")
    totals: dict[str, float] = {}
    for name, res in sg.groups:
        if res.method == "IV" or res.k == 1:
            tau2 = res.heterogeneity.tau2 if res.model == "random" else 0.0
            tau2 = tau2 if math.isfinite(tau2) else 0.0
            totals[name] = sum(1.0 / (s.vi + tau2) for s in res.studies)
        else:
            totals[name] = 1.0 / res.pooled.se**2
    grand = sum(totals.values())

    def members(group: str) -> tuple[StudyArms, ...]:
        return tuple(a for a in arms if a.groups.get(sg.variable) == group)

    out = [
        Section(
            f"{sg.variable}: {name}",
            res,
            members(name),
            weight_share=(totals[name] / grand if weights == "overall" and grand > 0 else 1.0),
        )
        for name, res in sg.groups
    ]
    out += [Section(f"{sg.variable}: {g}", None, members(g), note=why) for g, why in sg.undefined]
    return out
