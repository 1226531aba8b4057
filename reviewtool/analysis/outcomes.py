"""Several outcomes at several time points: one analysis per outcome × time point.

As in the seed review, when the baseline comparison of an outcome is significant (p < 0.05), the
arms differed before treatment and every later comparison of that outcome is flagged
``"baseline differs"``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reviewtool.analysis.effect_sizes import continuous_effects
from reviewtool.analysis.meta import Settings, meta_analysis
from reviewtool.analysis.results import MetaAnalysisResult
from reviewtool.errors import InvalidInput

BASELINE_NAMES = frozenset({"baseline", "0", "week 0", "0 weeks"})
BASELINE_ALPHA = 0.05
_UNIT_WEEKS = {"d": 1 / 7, "day": 1 / 7, "w": 1.0, "wk": 1.0, "week": 1.0, "m": 52 / 12,
               "mo": 52 / 12, "month": 52 / 12, "y": 52.0, "yr": 52.0, "year": 52.0}  # fmt: skip
_TIME = re.compile(r"^(?:(?P<u1>[a-z]+)\s*)?(?P<n>\d+(?:\.\d+)?)\s*(?P<u2>[a-z]+)?$")


def is_baseline(time_point: str) -> bool:
    """Whether ``time_point`` names the pre-treatment comparison ("baseline", "week 0", ...)."""
    return time_point.strip().lower() in BASELINE_NAMES


def time_point_weeks(time_point: str) -> float | None:
    """``time_point`` in weeks ("4 weeks", "week 4", "6 months", "90 days"); None when unknown."""
    text = time_point.strip().lower()
    if is_baseline(text):
        return 0.0
    m = _TIME.match(text)
    if m is None:
        return None
    unit = (m["u1"] or m["u2"] or "week").rstrip("s")
    if (m["u1"] and m["u2"]) or unit not in _UNIT_WEEKS:
        return None
    return float(m["n"]) * _UNIT_WEEKS[unit]


def named_time_points(declared: Iterable[Sequence[str]]) -> list[str]:
    """The time points of ``declared`` (each outcome's, in the form's order) that are not times
    ("end of treatment", "end of follow-up"), once each in order of first declaration."""
    return [
        tp
        for tp in dict.fromkeys(tp for group in declared for tp in group)
        if time_point_weeks(tp) is None
    ]


def order_time_points(time_points: Sequence[str], named: Sequence[str] = ()) -> list[str]:
    """Baseline first, then by time in weeks; time points that are not times ("end of
    treatment", "end of follow-up") after every time, in the order of ``named`` (the form's
    declared order, for an analysis fed from extraction), else in their own order."""
    seen = list(dict.fromkeys(time_points))
    rank = {tp: i for i, tp in enumerate(dict.fromkeys(named))}

    def key(item: tuple[int, str]) -> tuple[int, float, int, int]:
        i, tp = item
        weeks = time_point_weeks(tp)
        return (
            0 if is_baseline(tp) else 1,
            math.inf if weeks is None else weeks,
            rank.get(tp, len(rank)),
            i,
        )

    return [tp for _, tp in sorted(enumerate(seen), key=key)]


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
    ordered = [
        (outcome, tp)
        for outcome in dict.fromkeys(k[0] for k in groups)
        for tp in order_time_points([k[1] for k in groups if k[0] == outcome])
    ]
    for outcome, time_point in ordered:
        members = groups[(outcome, time_point)]
        es = continuous_effects(
            *([float(r[c]) for r in members] for c in need),
            measure=measure,  # type: ignore[arg-type]
            labels=[str(r["study"]) for r in members],
        )
        res = meta_analysis(es, settings)
        if is_baseline(time_point):
            baseline_differs[outcome] = res.pooled.p < BASELINE_ALPHA
            flag = "baseline differs" if baseline_differs[outcome] else ""
        else:
            flag = "baseline differs" if baseline_differs.get(outcome) else ""
        results.append(OutcomeTimeResult(outcome, time_point, res, flag))
    return tuple(results)
