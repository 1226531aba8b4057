"""Forest and funnel plots (matplotlib, Agg backend; PNG or SVG by file extension).

matplotlib is imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewtool.errors import InvalidInput

if TYPE_CHECKING:
    from reviewtool.analysis.results import (
        FunnelData,
        MetaAnalysisResult,
        SubgroupAnalysis,
    )

_FORMATS = (".png", ".svg", ".pdf")


def _check_path(path: str | Path) -> Path:
    p = Path(path)
    if p.suffix.lower() not in _FORMATS:
        raise InvalidInput(f"{p}: plot files must end in {', '.join(_FORMATS)}")
    if not p.parent.exists():
        raise InvalidInput(f"{p}: folder {p.parent} does not exist")
    return p


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@dataclass
class _Row:
    kind: str  # "header", "study", "diamond", "text", "blank"
    label: str = ""
    est: float = math.nan
    lo: float = math.nan
    hi: float = math.nan
    weight: float = math.nan
    arms: str = ""
    bold: bool = False


def _fmt_ci(est: float, lo: float, hi: float) -> str:
    return f"{est:.2f} [{lo:.2f}, {hi:.2f}]"


def _het_line(res: MetaAnalysisResult) -> str:
    h = res.heterogeneity
    p = "< 0.001" if h.p < 0.001 else f"= {h.p:.3f}"
    # The Q-based I², the same one the model rule and every table use.
    return (
        f"Heterogeneity: Q = {h.q:.2f}, df = {h.df} (p {p}); I² = {h.i2:.0f}%; tau² = {h.tau2:.4f}"
    )


def _rows_for(res: MetaAnalysisResult, ratio: bool, title: str) -> list[_Row]:
    tr = math.exp if ratio else (lambda x: x)
    rows: list[_Row] = []
    for s in res.studies:
        arms = ""
        if s.n_exp is not None and s.n_con is not None:
            arms = f"{s.n_exp:.0f} / {s.n_con:.0f}"
        rows.append(_Row("study", s.study, tr(s.yi), tr(s.ci_low), tr(s.ci_high), s.weight, arms))
    if res.k == 1:
        # Nothing is pooled: no diamond, no heterogeneity, the study's own row is the result.
        rows.append(_Row("text", "Single study, not pooled"))
        return rows
    p = res.pooled
    rows.append(
        _Row(
            "diamond",
            f"{title} ({res.model}, {res.method})",
            tr(p.estimate),
            tr(p.ci_low),
            tr(p.ci_high),
            bold=True,
        )
    )
    rows.append(_Row("text", _het_line(res)))
    return rows


def forest_plot(
    result: MetaAnalysisResult,
    path: str | Path,
    *,
    subgroups: SubgroupAnalysis | None = None,
    title: str | None = None,
) -> Path:
    """Write a RevMan/metafor-style forest plot of ``result`` (with subgroup sections if given)."""
    out = _check_path(path)
    plt = _pyplot()
    ratio = result.pooled.exp_estimate is not None
    rows: list[_Row] = []
    if subgroups is not None and len(subgroups.groups) > 0:
        for name, sub in subgroups.groups:
            rows.append(_Row("header", f"{subgroups.variable} = {name}", bold=True))
            rows.extend(_rows_for(sub, ratio, "Subtotal"))
            rows.append(_Row("blank"))
        rows.extend(_rows_for(result, ratio, "Overall")[-2:] if result.k > 1 else [])
        # Overall study rows were shown in their sections: keep only the overall diamond + line.
        sg_p = "< 0.001" if subgroups.p < 0.001 else f"= {subgroups.p:.3f}"
        rows.append(
            _Row(
                "text",
                f"Test for subgroup differences: Q = {subgroups.q_between:.2f}, "
                f"df = {subgroups.df} (p {sg_p})",
            )
        )
    else:
        rows = _rows_for(result, ratio, "Overall")

    n = len(rows)
    height = 1.6 + 0.28 * n
    fig = plt.figure(figsize=(11.5, height))
    gs = fig.add_gridspec(1, 3, width_ratios=[4.2, 4.0, 3.3], wspace=0.02)
    ax_l, ax, ax_r = (fig.add_subplot(gs[0, i]) for i in range(3))
    ys = list(range(n, 0, -1))
    ymax = n + 1.2
    for a in (ax_l, ax_r):
        a.set_xlim(0, 1)
        a.set_ylim(0.3, ymax)
        a.axis("off")
    ax.set_ylim(0.3, ymax)

    finite = [v for r in rows for v in (r.lo, r.hi) if r.kind in ("study", "diamond")]
    finite = [v for v in finite if math.isfinite(v) and (v > 0 or not ratio)]
    lo_x, hi_x = min(finite), max(finite)
    if ratio:
        ax.set_xscale("log")
        lo_x, hi_x = min(lo_x, 0.9), max(hi_x, 1.1)
        ax.set_xlim(lo_x / 1.3, hi_x * 1.3)
        null = 1.0
    else:
        span = hi_x - lo_x or 1.0
        lo_x, hi_x = min(lo_x, 0.0), max(hi_x, 0.0)
        ax.set_xlim(lo_x - 0.08 * span, hi_x + 0.08 * span)
        null = 0.0
    ax.axvline(null, color="0.3", lw=0.8)

    weights = [r.weight for r in rows if r.kind == "study" and math.isfinite(r.weight)]
    wmax = max(weights) if weights else 1.0
    ax_l.text(0.0, n + 0.8, "Study", fontweight="bold", fontsize=9, va="center")
    ax_l.text(0.98, n + 0.8, "N exp / con", fontweight="bold", fontsize=9, va="center", ha="right")
    scale = f"{result.measure}" if ratio else result.measure
    ax_r.text(
        0.03,
        n + 0.8,
        f"{scale} [{result.level:.0%} CI]",
        fontweight="bold",
        fontsize=9,
        va="center",
    )
    ax_r.text(0.97, n + 0.8, "Weight", fontweight="bold", fontsize=9, va="center", ha="right")

    for y, r in zip(ys, rows, strict=True):
        weight = "bold" if r.bold else "normal"
        if r.kind == "header":
            ax_l.text(0.0, y, r.label, fontsize=9, fontweight="bold", va="center")
        elif r.kind == "text":
            ax_l.text(0.0, y, r.label, fontsize=8, style="italic", va="center", clip_on=False)
        elif r.kind == "study":
            ax_l.text(0.02, y, r.label, fontsize=9, va="center")
            ax_l.text(0.98, y, r.arms, fontsize=9, va="center", ha="right")
            ax.plot([r.lo, r.hi], [y, y], color="black", lw=1)
            size = 4 + 10 * math.sqrt(r.weight / wmax) if math.isfinite(r.weight) else 4
            ax.plot([r.est], [y], marker="s", color="#1f4e79", markersize=size, ls="none")
            ax_r.text(0.03, y, _fmt_ci(r.est, r.lo, r.hi), fontsize=9, va="center")
            ax_r.text(0.97, y, f"{r.weight:.1f}%", fontsize=9, va="center", ha="right")
        elif r.kind == "diamond":
            ax_l.text(0.02, y, r.label, fontsize=9, va="center", fontweight=weight)
            xs = [r.lo, r.est, r.hi, r.est]
            yy = [y, y + 0.35, y, y - 0.35]
            ax.fill(xs, yy, color="#c00000" if r.label.startswith("Overall") else "#404040")
            ax_r.text(
                0.03, y, _fmt_ci(r.est, r.lo, r.hi), fontsize=9, va="center", fontweight=weight
            )
            ax_r.text(
                0.97,
                y,
                "100%" if r.label.startswith("Overall") else "",
                fontsize=9,
                va="center",
                ha="right",
            )
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", which="both", labelsize=8)
    if ratio:
        from matplotlib.ticker import FuncFormatter

        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        # Minor ticks: label only 2 and 5 times a power of ten (matplotlib's own labels overlap).
        ax.xaxis.set_minor_formatter(
            FuncFormatter(lambda v, _pos: f"{v:g}" if f"{v:.1e}"[:3] in ("2.0", "5.0") else "")
        )
    direction = "lower in experimental  <-->  higher in experimental"
    ax.set_xlabel(f"{result.measure}\n{direction}", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.subplots_adjust(left=0.02, right=0.98, top=1 - 0.3 / height, bottom=0.9 / height)
    fig.savefig(out, dpi=150)
    plt.close(fig)
    return out


def funnel_plot(
    funnel: FunnelData, path: str | Path, *, measure: str = "GEN", title: str | None = None
) -> Path:
    """Write a funnel plot: effect vs standard error (inverted axis) with pseudo CI limits."""
    out = _check_path(path)
    plt = _pyplot()
    from scipy import stats

    crit = float(stats.norm.ppf(0.5 + funnel.level / 2))
    se_top = funnel.se_max * 1.1
    fig, ax = plt.subplots(figsize=(6.5, 5.0))
    ses = [0.0, se_top]
    left = [funnel.center - crit * s for s in ses]
    right = [funnel.center + crit * s for s in ses]
    ax.fill([left[0], left[1], right[1], right[0]], [0, se_top, se_top, 0], color="0.93")
    ax.plot(left, ses, ls="--", color="0.4", lw=0.9)
    ax.plot(right, ses, ls="--", color="0.4", lw=0.9, label=f"pseudo {funnel.level:.0%} limits")
    ax.axvline(funnel.center, color="#c00000", lw=1, label="pooled estimate")
    ax.scatter(funnel.yi, funnel.sei, color="#1f4e79", edgecolor="white", zorder=3, s=40)
    ax.set_ylim(se_top, 0)
    ax.set_ylabel("Standard error")
    ratio = measure in ("OR", "RR")
    ax.set_xlabel(f"log {measure}" if ratio else measure)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out, dpi=150)
    plt.close(fig)
    return out
