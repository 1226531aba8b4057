"""One pooled analysis end to end: model choice, pooling, subgroups and leave-one-out.

:func:`meta_analysis` takes :class:`~reviewtool.analysis.effect_sizes.EffectSizes` and the
settings, decides fixed vs random effects (always, never, or the seed paper's rule) and returns a
:class:`~reviewtool.analysis.results.MetaAnalysisResult` that says which model was used and why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reviewtool.analysis import distributions as dist
from reviewtool.analysis.effect_sizes import EffectSizes, peto_effects
from reviewtool.analysis.estimators import (
    TAU2_METHODS,
    FixedEffect,
    MantelHaenszel,
    Peto,
    RandomEffects,
    _interval,
    heterogeneity,
)
from reviewtool.analysis.results import (
    Heterogeneity,
    LeaveOneOutRow,
    MetaAnalysisResult,
    PoolingSummary,
    StudyRow,
    SubgroupAnalysis,
)
from reviewtool.errors import InvalidInput
from reviewtool.text import counted

MODEL_CHOICES: tuple[str, ...] = ("fixed", "random", "auto")
POOLING_METHODS: tuple[str, ...] = ("IV", "MH", "Peto")
# The seed review's rule: "random effects when the Q test's p < 0.1 or I² > 50%, else fixed".
AUTO_Q_P = 0.10
AUTO_I2 = 50.0
# k = 1: no model, no method, nothing pooled.
SINGLE_MODEL = "none"
SINGLE_STUDY = "single study, not pooled"


@dataclass(frozen=True)
class Settings:
    """Analysis settings; the constructor checks each against its allowed values."""

    model: str = "auto"
    tau2_method: str = "REML"
    method: str = "IV"
    hksj: bool = False
    level: float = 0.95

    def __post_init__(self) -> None:
        for name, allowed in (
            ("model", MODEL_CHOICES),
            ("tau2_method", TAU2_METHODS),
            ("method", POOLING_METHODS),
        ):
            if getattr(self, name) not in allowed:
                raise InvalidInput(
                    f"{name}={getattr(self, name)!r} is not allowed; choose {', '.join(allowed)}"
                )
        if not 0 < self.level < 1:
            raise InvalidInput(f"--level must be between 0 and 1 (e.g. 0.95), not {self.level:g}")


def whole(value: float) -> float:
    """An arm size as a number: an ``int`` when it is whole (4, not 4.0), so every table and
    export prints participants as integers; a fractional size (rare, e.g. a cluster-adjusted n)
    stays a float."""
    number = float(value)
    return int(number) if number.is_integer() else number


def choose_model(setting: str, q_p: float, i2_q_based: float) -> tuple[str, str]:
    """The model to use and the reason, given the setting and the fixed-effect heterogeneity.

    ``auto`` applies the seed paper's rule with I² = (Q - df)/Q in percent (the form the rule was
    stated in, and the only I² the analysis reports); ``q_p`` is the p-value of Cochran's Q test.
    Returns ``("fixed" | "random", reason)``; raises :class:`InvalidInput` for another setting.
    """
    if setting == "fixed":
        return "fixed", "fixed effect requested (--model fixed)"
    if setting == "random":
        return "random", "random effects requested (--model random)"
    if setting != "auto":
        raise InvalidInput(f"model={setting!r} is not allowed; choose fixed, random or auto")
    p_txt = "n/a" if math.isnan(q_p) else f"{q_p:.3g}"
    if (not math.isnan(q_p) and q_p < AUTO_Q_P) or i2_q_based > AUTO_I2:
        return "random", (
            f"auto rule: Q-test p = {p_txt} < {AUTO_Q_P} or I² (Q-based) = {i2_q_based:.1f}% > "
            f"{AUTO_I2:.0f}% -> random effects"
        )
    return "fixed", (
        f"auto rule: Q-test p = {p_txt} >= {AUTO_Q_P} and I² (Q-based) = {i2_q_based:.1f}% <= "
        f"{AUTO_I2:.0f}% -> fixed effect"
    )


def _pool(es: EffectSizes, model: str, s: Settings) -> tuple[PoolingSummary, str, list[str]]:
    notes: list[str] = []
    method = s.method
    if method in ("MH", "Peto") and es.tables is None:
        raise InvalidInput(f"{method} pooling needs 2x2 counts (events/totals per arm)")
    if method == "Peto" and es.measure != "OR":
        raise InvalidInput(f"Peto pooling gives odds ratios; the measure is {es.measure}")
    if model == "random" and method != "IV":
        notes.append(
            f"{method} is a fixed-effect method: the random-effects model pools by inverse variance"
        )
        method = "IV"
    if model == "fixed":
        if method == "MH":
            assert es.tables is not None
            summ = (
                MantelHaenszel(measure=es.measure, level=s.level, tau2_method=s.tau2_method)
                .fit(es.tables, es.yi, es.vi, pooled_only=es.dropped_tables)
                .summary()
            )
            if es.measure == "RR":
                carry = [
                    lab
                    for (lab, _), w in zip(es.dropped, mh_weighted_dropped(es), strict=True)
                    if w
                ]
                if carry:
                    share = 100.0 - sum(summ.weights)
                    notes.append(
                        "Mantel-Haenszel pools every table, as metafor's rma.mh: "
                        + ", ".join(carry)
                        + " (events in every participant of both arms, so no RR of its own)"
                        f" count in the pooled RR with {share:.1f}% of the weight, but not in Q"
                        " or the study rows"
                    )
        elif method == "Peto":
            assert es.tables is not None
            summ = Peto(level=s.level, tau2_method=s.tau2_method).fit(es.tables).summary()
        else:
            summ = (
                FixedEffect(measure=es.measure, level=s.level, tau2_method=s.tau2_method)
                .fit(es.yi, es.vi)
                .summary()
            )
        if s.hksj:
            notes.append("HKSJ applies to random-effects models only; not used")
    else:
        summ = (
            RandomEffects(tau2_method=s.tau2_method, hksj=s.hksj, measure=es.measure, level=s.level)
            .fit(es.yi, es.vi)
            .summary()
        )
    notes.extend(summ.notes)
    return summ, method, notes


def study_effects(es: EffectSizes, settings: Settings) -> EffectSizes:
    """The per-study effects an analysis shows, plots and tests for small-study effects.

    With ``method="Peto"`` (binary OR data) these are the Peto log odds ratios
    (:func:`~reviewtool.analysis.effect_sizes.peto_effects`, as ``rma.peto``), so the study rows,
    the forest plot and the funnel plot agree with the Peto diamond; otherwise ``es`` itself.
    """
    if settings.method == "Peto" and es.tables is not None and es.measure == "OR":
        return peto_effects(es)
    return es


def _rule_heterogeneity(es: EffectSizes, s: Settings) -> Heterogeneity:
    # The heterogeneity the fixed-effect analysis with the requested method reports, so that the
    # auto rule quotes the same Q and I² as the results (MH and Peto compute their own Q).
    if s.method in ("MH", "Peto"):
        return _pool(es, "fixed", s)[0].heterogeneity
    return heterogeneity(es.yi, es.vi, tau2=0.0, tau2_method=s.tau2_method, form="Q-based")


def _single_study(es: EffectSizes, s: Settings, notes: list[str]) -> MetaAnalysisResult:
    # k = 1: nothing is pooled and no model is chosen; the "pooled" block is the study's own
    # estimate and normal-theory CI (so subgroup tests and flags can use it), and there is no τ².
    y, v = float(es.yi[0]), float(es.vi[0])
    own = _interval(y, math.sqrt(v), level=s.level, df=None, ratio=es.is_ratio)
    het = heterogeneity(es.yi, es.vi, tau2=math.nan, tau2_method=s.tau2_method, form="Q-based")
    row = StudyRow(
        study=es.labels[0],
        yi=y,
        vi=v,
        se=own.se,
        ci_low=own.ci_low,
        ci_high=own.ci_high,
        weight=100.0,
        n_exp=whole(es.n_exp[0]) if es.n_exp is not None else None,
        n_con=whole(es.n_con[0]) if es.n_con is not None else None,
    )
    return MetaAnalysisResult(
        measure=es.measure,
        model=SINGLE_MODEL,
        model_reason=SINGLE_STUDY,
        method=SINGLE_MODEL,
        tau2_method=s.tau2_method,
        hksj=False,
        level=s.level,
        k=1,
        studies=(row,),
        pooled=own,
        heterogeneity=het,
        dropped=es.dropped,
        corrected=es.corrected,
        notes=tuple(notes),
    )


def mh_weighted_dropped(es: EffectSizes) -> npt.NDArray[np.bool_]:
    """Which ``es.dropped`` studies carry Mantel-Haenszel weight although they have no yi.

    Aligned with ``es.dropped``; all False when their tables are unknown. OR: a·d + b·c > 0 (never
    for the double-zero/double-all studies dropped by default); RR: a + c > 0 (events in every
    participant of both arms); RD: every table (weight n1·n2/n).
    """
    t = es.dropped_tables
    if t is None or t.ai.shape[0] != len(es.dropped):
        return np.zeros(len(es.dropped), dtype=bool)
    if es.measure == "OR":
        return np.asarray(t.ai * t.di + t.bi * t.ci > 0)
    if es.measure == "RR":
        return np.asarray(t.ai + t.ci > 0)
    return np.ones(len(es.dropped), dtype=bool)


def _data_notes(es: EffectSizes) -> list[str]:
    notes = []
    if es.dropped:
        notes.append("left out: " + "; ".join(f"{lab} ({why})" for lab, why in es.dropped))
    if es.corrected:
        notes.append(
            f"{es.continuity:g} added to every cell of studies with a zero cell: "
            + ", ".join(es.corrected)
        )
    return notes


def meta_analysis(es: EffectSizes, settings: Settings | None = None) -> MetaAnalysisResult:
    """Pool ``es`` under ``settings``; the result records the model used and why.

    The study rows are the effects that are pooled: with ``method="Peto"`` they are Peto log
    odds ratios (:func:`~reviewtool.analysis.effect_sizes.peto_effects`, as ``rma.peto``); with
    ``"MH"`` they are the ``escalc`` rows (continuity-corrected log OR/RR or RD, as ``rma.mh``),
    since a Mantel-Haenszel pool has no per-study estimate of its own. The ``auto`` model rule
    uses the Q and Q-based I² of the fixed-effect fit with the requested method, which are the
    ones reported. With a single study nothing is pooled: ``model`` and ``method`` are
    ``"none"``, the reason says "single study, not pooled", ``pooled`` holds the study's own
    estimate, and there is no τ² (NaN).

    Raises :class:`InvalidInput` when ``es`` is empty or the method does not fit the data.
    """
    s = settings or Settings()
    if es.k < 1:
        raise InvalidInput("no studies to pool")
    es = study_effects(es, s)
    # One study is not pooled -- unless Mantel-Haenszel also pools tables without a yi (rma.mh).
    mh_more = s.method == "MH" and s.model != "random" and bool(mh_weighted_dropped(es).any())
    if es.k == 1 and not mh_more:
        return _single_study(es, s, _data_notes(es))
    fe_het = _rule_heterogeneity(es, s)
    model, reason = choose_model(s.model, fe_het.p, fe_het.i2)
    if s.model == "auto" and s.method != "IV":
        name = "Mantel-Haenszel" if s.method == "MH" else "Peto"
        reason += f" (Q and I² of the {name} fixed-effect fit)"
    summ, method, notes = _pool(es, model, s)
    crit = dist.norm_ppf(0.5 + s.level / 2)
    se = np.sqrt(es.vi)
    studies = tuple(
        StudyRow(
            study=lab,
            yi=float(y),
            vi=float(v),
            se=float(e),
            ci_low=float(y - crit * e),
            ci_high=float(y + crit * e),
            weight=w,
            n_exp=whole(es.n_exp[i]) if es.n_exp is not None else None,
            n_con=whole(es.n_con[i]) if es.n_con is not None else None,
        )
        for i, (lab, y, v, e, w) in enumerate(
            zip(es.labels, es.yi, es.vi, se, summ.weights, strict=True)
        )
    )
    notes.extend(_data_notes(es))
    return MetaAnalysisResult(
        measure=es.measure,
        model=model,
        model_reason=reason,
        method=method,
        tau2_method=s.tau2_method,
        hksj=bool(s.hksj and model == "random"),
        level=s.level,
        k=es.k,
        studies=studies,
        pooled=summ.pooled,
        heterogeneity=summ.heterogeneity,
        dropped=es.dropped,
        corrected=es.corrected,
        notes=tuple(notes),
    )


def leave_one_out(es: EffectSizes, settings: Settings | None = None) -> tuple[LeaveOneOutRow, ...]:
    """The analysis repeated with each study left out in turn (metafor ``leave1out``).

    The model is the one the full analysis used (so ``auto`` does not flip between rows). A
    subset that cannot be pooled (``InvalidInput``, e.g. a Mantel-Haenszel or Peto estimate that is
    undefined without the omitted study) gives a row of NaN with ``note`` saying why, as metafor
    gives an NA row; the full analysis must itself be estimable. Under Mantel-Haenszel, studies
    that are pooled without a yi of their own (see ``EffectSizes.dropped_tables``) and carry
    weight get a row too, after the others.
    """
    s = settings or Settings()
    if es.k < 2:
        return ()
    full = meta_analysis(es, s)
    fixed = Settings(
        model=full.model if full.model in MODEL_CHOICES else s.model,
        tau2_method=s.tau2_method,
        method=s.method,
        hksj=s.hksj,
        level=s.level,
    )
    rows = []
    nan = float("nan")
    subsets = []
    for i, lab in enumerate(es.labels):
        keep = np.ones(es.k, dtype=bool)
        keep[i] = False
        subsets.append((lab, es.subset(keep)))
    if full.method == "MH" and es.dropped_tables is not None:
        # Studies with no yi of their own that Mantel-Haenszel still pools (RR: events in every
        # participant of both arms) get a row too, as in metafor's leave1out of rma.mh.
        carries = mh_weighted_dropped(es)
        for j, (lab, _) in enumerate(es.dropped):
            if carries[j]:
                keep_dropped = np.ones(len(es.dropped), dtype=bool)
                keep_dropped[j] = False
                subsets.append((lab, es.subset(np.ones(es.k, dtype=bool), keep_dropped)))
    for lab, sub in subsets:
        try:
            r = meta_analysis(sub, fixed)
        except InvalidInput as exc:
            # metafor's leave1out gives an NA row; the other rows are still computed.
            rows.append(LeaveOneOutRow(lab, nan, nan, nan, nan, nan, nan, nan, nan, note=str(exc)))
            continue
        p = r.pooled
        rows.append(
            LeaveOneOutRow(
                omitted=lab,
                estimate=p.estimate,
                se=p.se,
                ci_low=p.ci_low,
                ci_high=p.ci_high,
                p=p.p,
                q=r.heterogeneity.q,
                i2=r.heterogeneity.i2,
                tau2=r.heterogeneity.tau2,
                exp_estimate=p.exp_estimate,
                exp_ci_low=p.exp_ci_low,
                exp_ci_high=p.exp_ci_high,
            )
        )
    return tuple(rows)


def subgroup_analysis(
    es: EffectSizes,
    groups: Sequence[str],
    *,
    variable: str = "subgroup",
    settings: Settings | None = None,
) -> SubgroupAnalysis:
    """Pool within each subgroup and test for subgroup differences.

    A subgroup that cannot be pooled (``InvalidInput``, e.g. an undefined Mantel-Haenszel OR) is
    listed in ``undefined`` with the reason, as metafor gives NA for it; the test uses the others.
    Each subgroup is pooled with the model of the overall analysis (with its own τ² when that
    model is random, as RevMan and R meta do by default). The test for subgroup differences is
    Cochran's Q across the subgroup estimates, Q_between = Σ (θ̂_g - θ̄)² / SE_g², on G - 1 df
    (Borenstein et al. 2009, ch. 19; Cochrane Handbook 10.11.3.1).
    """
    s = settings or Settings()
    if len(groups) != es.k:
        raise InvalidInput(f"{counted(len(groups), 'subgroup value')} for {counted(es.k, 'study')}")
    full = meta_analysis(es, s)
    fixed = Settings(
        model=full.model if full.model in MODEL_CHOICES else s.model,
        tau2_method=s.tau2_method,
        method=s.method,
        hksj=s.hksj,
        level=s.level,
    )
    labels = np.asarray([str(g) for g in groups])
    # Dropped studies (no yi/vi, still pooled by Mantel-Haenszel) go with their own subgroup.
    dropped_groups = es.dropped_extra.get(variable)
    if dropped_groups is not None and len(dropped_groups) != len(es.dropped):
        dropped_groups = None
    d_labels = np.asarray([str(g) for g in dropped_groups or ()], dtype=object)
    results: list[tuple[str, MetaAnalysisResult]] = []
    undefined: list[tuple[str, str]] = []
    for name in dict.fromkeys(labels):  # first-seen order
        # a dropped study whose subgroup is unknown goes with none of them
        keep_dropped = (
            d_labels == name if dropped_groups is not None else np.zeros(len(es.dropped), bool)
        )
        try:
            results.append(
                (str(name), meta_analysis(es.subset(labels == name, keep_dropped), fixed))
            )
        except InvalidInput as exc:
            # metafor gives NA for such a subgroup; the others are still pooled and tested.
            undefined.append((str(name), str(exc)))
    usable = [
        (n, r)
        for n, r in results
        if math.isfinite(r.pooled.estimate) and math.isfinite(r.pooled.se) and r.pooled.se > 0
    ]
    est = np.array([r.pooled.estimate for _, r in usable])
    var = np.array([r.pooled.se**2 for _, r in usable])
    g = len(usable)
    if g < 2:  # no test: Q = 0 on 0 df with one subgroup, undefined with none
        q_b, p = (0.0 if g == 1 else float("nan")), float("nan")
    else:
        w = 1.0 / var
        mean = float(np.sum(w * est) / np.sum(w))
        q_b = float(np.sum(w * (est - mean) ** 2))
        p = dist.chi2_sf(g - 1, float(q_b))
    note = f"Q between subgroups from the {fixed.model}-effect subgroup estimates" + (
        " (separate tau² per subgroup)" if fixed.model == "random" else ""
    )
    left_out = [n for n, _ in undefined] + [n for n, r in results if (n, r) not in usable]
    if left_out:
        note += "; not in the test (no estimate or SE 0): " + ", ".join(left_out)
    return SubgroupAnalysis(
        variable=variable,
        groups=tuple(results),
        q_between=q_b,
        df=max(g - 1, 0),
        p=p,
        method_note=note,
        undefined=tuple(undefined),
    )
