"""Funnel plots: each study's effect against its standard error, with pseudo confidence limits
and the small-study tests (Egger's regression, Begg's rank correlation) printed on the plot.

Drawn by default only where an analysis has at least ``analysis.funnel_min_k`` studies (10: the
Cochrane Handbook, chapter 13.3.5.4, advises against asymmetry tests with fewer). matplotlib is
imported inside the functions.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

from reviewtool.analysis.forest import RATIO_MEASURES, fmt_p, pyplot

if TYPE_CHECKING:
    from reviewtool.analysis.results import BeggResult, EggerResult, FunnelData

#: Fewest studies for a funnel plot by default (Cochrane Handbook 13.3.5.4).
FUNNEL_MIN_K = 10


def egger_line(egger: EggerResult) -> str:
    """``Egger's test: bias = 1.23 (SE 0.45), t = 2.73, df = 8, P = 0.026``."""
    if not math.isfinite(egger.statistic):
        return "Egger's test: not estimable (all estimates identical)"
    df = f", df = {egger.df}" if egger.df is not None else ""
    return (
        f"Egger's test: bias = {egger.bias:.2f} (SE {egger.se:.2f}), "
        f"{egger.statistic_name} = {egger.statistic:.2f}{df}, {fmt_p(egger.p)}"
    )


def begg_line(begg: BeggResult) -> str:
    """``Begg's test: Kendall's τ = 0.20, P = 0.48 (exact)``."""
    if not math.isfinite(begg.tau):
        return "Begg's test: not estimable (no variation to rank)"
    return f"Begg's test: Kendall's τ = {begg.tau:.2f}, {fmt_p(begg.p)}" + (
        " (exact)" if begg.exact else ""
    )


def funnel_figure(
    funnel: FunnelData,
    *,
    measure: str = "GEN",
    title: str = "",
    egger: EggerResult | None = None,
    begg: BeggResult | None = None,
) -> Any:
    """Build the funnel plot (matplotlib ``Figure``): effect (log scale for OR/RR, labelled with
    the ratio) against standard error (inverted axis), the pooled estimate, pseudo
    ``funnel.level`` limits, and the Egger/Begg lines when given."""
    plt = pyplot()
    crit = NormalDist().inv_cdf(0.5 + funnel.level / 2)
    se_top = funnel.se_max * 1.1
    lines = ([egger_line(egger)] if egger is not None else []) + (
        [begg_line(begg)] if begg is not None else []
    )
    fig, ax = plt.subplots(figsize=(6.0, 4.6 + 0.2 * len(lines)))
    ses = [0.0, se_top]
    left = [funnel.center - crit * s for s in ses]
    right = [funnel.center + crit * s for s in ses]
    ax.fill([left[0], left[1], right[1], right[0]], [0, se_top, se_top, 0], color="0.93")
    ax.plot(left, ses, ls="--", color="0.4", lw=0.9)
    ax.plot(right, ses, ls="--", color="0.4", lw=0.9, label=f"pseudo {funnel.level:.0%} limits")
    ax.axvline(funnel.center, color="black", lw=1, label="pooled estimate")
    ax.scatter(funnel.yi, funnel.sei, color="#1f4e79", edgecolor="white", zorder=3, s=36)
    ax.set_ylim(se_top, 0)
    ax.set_ylabel("Standard error", fontsize=9)
    ratio = measure in RATIO_MEASURES
    if ratio:
        from matplotlib.ticker import FuncFormatter

        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{math.exp(v):.3g}"))
        ax.set_xlabel(f"{measure} (log scale)", fontsize=9)
    else:
        ax.set_xlabel(measure, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=10, fontweight="bold", loc="left")
    height = fig.get_figheight()
    for i, line in enumerate(lines):
        fig.text(0.03, (0.12 + 0.2 * (len(lines) - 1 - i)) / height, line, fontsize=8, ha="left")
    fig.tight_layout(rect=(0, (0.05 + 0.2 * len(lines)) / height, 1, 1))
    return fig
