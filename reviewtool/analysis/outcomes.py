"""Several outcomes at several time points: one analysis per outcome × time point.

As in the seed review, when the baseline comparison of an outcome is significant (p < 0.05), the
arms differed before treatment and every later comparison of that outcome is flagged
``"baseline differs"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reviewtool.analysis.effect_sizes import continuous_effects
from reviewtool.analysis.meta import Settings, meta_analysis
from reviewtool.analysis.results import MetaAnalysisResult
from reviewtool.errors import InvalidInput

BASELINE_NAMES = frozenset({"baseline", "0", "week 0", "0 weeks"})
BASELINE_ALPHA = 0.05


@dataclass(frozen=True)
class OutcomeTimeResult:
    """The pooled result of one outcome at one time point, with the baseline flag."""

    outcome: str
    time_point: str
    result: MetaAnalysisResult
    flag: str  # "" or "baseline differs"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "outcome": self.outcome,
            "time_point": self.time_point,
            "flag": self.flag,
            **self.result.to_dict(),
        }


def analyse_outcomes(
    rows: Sequence[Mapping[str, Any]],
    *,
    measure: str = "SMD",
    settings: Settings | None = None,
) -> tuple[OutcomeTimeResult, ...]:
    """Pool arm-level rows (keys: study, outcome, time_point, mean/sd/n per arm) per outcome × time.

    Rows missing any arm value are skipped; groups with no complete study are left out.
    """
    need = ("mean_exp", "sd_exp", "n_exp", "mean_con", "sd_con", "n_con")
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for row in rows:
        if any(str(row.get(c, "")).strip() == "" for c in need):
            continue
        key = (str(row["outcome"]), str(row["time_point"]))
        groups.setdefault(key, []).append(row)
    if not groups:
        raise InvalidInput("no outcome row has mean, SD and n for both arms")
    baseline_differs: dict[str, bool] = {}
    results: list[OutcomeTimeResult] = []
    ordered = sorted(groups, key=lambda k: (k[0], k[1].lower() not in BASELINE_NAMES))
    for outcome, time_point in ordered:
        members = groups[(outcome, time_point)]
        es = continuous_effects(
            *([float(r[c]) for r in members] for c in need),
            measure=measure,  # type: ignore[arg-type]
            labels=[str(r["study"]) for r in members],
        )
        res = meta_analysis(es, settings)
        is_baseline = time_point.lower() in BASELINE_NAMES
        if is_baseline:
            baseline_differs[outcome] = res.pooled.p < BASELINE_ALPHA
            flag = "baseline differs" if baseline_differs[outcome] else ""
        else:
            flag = "baseline differs" if baseline_differs.get(outcome) else ""
        results.append(OutcomeTimeResult(outcome, time_point, res, flag))
    return tuple(results)
