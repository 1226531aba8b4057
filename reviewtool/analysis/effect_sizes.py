"""Per-study effect sizes and sampling variances, computed as R metafor's ``escalc`` does.

Measures: ``MD`` (raw mean difference), ``SMD`` (Hedges' g with the exact small-sample
correction), ``OR`` (log odds ratio), ``RR`` (log risk ratio), ``RD`` (risk difference) and ``GEN``
(precomputed ``yi`` with ``vi`` or ``sei``). The experimental arm is always arm 1, so a positive
MD/SMD or a ratio above 1 favours larger values in the experimental arm.

References
----------
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package. Journal of
Statistical Software, 36(3), 1-48.
Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and related
estimators. Journal of Educational Statistics, 6(2), 107-128.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from reviewtool.analysis.distributions import log_gamma
from reviewtool.errors import InvalidInput
from reviewtool.text import counted

Measure = Literal["MD", "SMD", "OR", "RR", "RD", "GEN"]
MEASURES: tuple[str, ...] = ("MD", "SMD", "OR", "RR", "RD", "GEN")
RATIO_MEASURES: frozenset[str] = frozenset({"OR", "RR"})
BINARY_MEASURES: frozenset[str] = frozenset({"OR", "RR", "RD"})
CONTINUOUS_MEASURES: frozenset[str] = frozenset({"MD", "SMD"})

FloatArray = npt.NDArray[np.float64]
#: Largest continuity correction accepted (metafor's default is 1/2; 1 is the largest in use).
MAX_ADD = 1.0


@dataclass(frozen=True)
class TwoByTwo:
    """Arm-level counts kept for Mantel-Haenszel and Peto pooling (no continuity correction)."""

    ai: FloatArray  # events, experimental
    bi: FloatArray  # non-events, experimental
    ci: FloatArray  # events, control
    di: FloatArray  # non-events, control

    def subset(self, keep: npt.NDArray[np.bool_]) -> TwoByTwo:
        """The tables of the studies where ``keep`` is true."""
        return TwoByTwo(self.ai[keep], self.bi[keep], self.ci[keep], self.di[keep])


@dataclass(frozen=True)
class EffectSizes:
    """Per-study effect sizes ready for pooling.

    Attributes
    ----------
    measure : the effect measure (``MD``, ``SMD``, ``OR``, ``RR``, ``RD``, ``GEN``).
    labels : study labels, in input order, after dropped studies were removed.
    yi, vi : effect sizes (log scale for OR/RR) and sampling variances.
    tables : 2x2 counts (binary measures only), used by Mantel-Haenszel and Peto.
    n_exp, n_con : arm sizes when known (used for the forest plot and ``sqrtninv`` Egger tests).
    dropped : labels of studies left out (double-zero studies for OR/RR) with the reason.
    corrected : labels of studies that got the continuity correction.
    extra : per-study columns to carry along (e.g. subgroup variables), aligned with ``labels``.
    dropped_tables : 2x2 counts of the ``dropped`` studies (aligned with ``dropped``). Their OR/RR
        is undefined, so they have no yi/vi, but Mantel-Haenszel pools them as ``rma.mh`` does
        (its ``drop00`` removes them from Q only): a study with events in every participant of
        both arms contributes to the MH risk ratio.
    dropped_extra : the ``extra`` columns of the dropped studies (aligned with ``dropped``).
    """

    measure: str
    labels: tuple[str, ...]
    yi: FloatArray
    vi: FloatArray
    tables: TwoByTwo | None = None
    n_exp: FloatArray | None = None
    n_con: FloatArray | None = None
    dropped: tuple[tuple[str, str], ...] = ()
    corrected: tuple[str, ...] = ()
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)
    continuity: float = 0.5
    dropped_tables: TwoByTwo | None = None
    dropped_extra: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def k(self) -> int:
        """Number of studies."""
        return int(self.yi.shape[0])

    @property
    def is_ratio(self) -> bool:
        """True when results are on the log scale and are exponentiated for reporting."""
        return self.measure in RATIO_MEASURES

    def subset(
        self,
        keep: Sequence[bool] | npt.NDArray[np.bool_],
        keep_dropped: Sequence[bool] | npt.NDArray[np.bool_] | None = None,
    ) -> EffectSizes:
        """The same effect sizes restricted to the studies where ``keep`` is true.

        ``keep_dropped`` (aligned with ``dropped``) selects the dropped studies that go along
        (e.g. those of one subgroup); by default all of them do.
        """
        mask = np.asarray(keep, dtype=bool)
        idx = np.flatnonzero(mask)
        dropped, dropped_tables, dropped_extra = (
            self.dropped,
            self.dropped_tables,
            self.dropped_extra,
        )
        if keep_dropped is not None:
            dmask = np.asarray(keep_dropped, dtype=bool)
            if dmask.shape != (len(self.dropped),):
                raise InvalidInput(
                    f"{dmask.shape[0]} flags for {len(self.dropped)} dropped studies"
                )
            dropped = tuple(x for x, kp in zip(self.dropped, dmask, strict=True) if kp)
            if dropped_tables is not None:
                dropped_tables = dropped_tables.subset(dmask)
            dropped_extra = {
                key: tuple(v for v, kp in zip(col, dmask, strict=True) if kp)
                for key, col in dropped_extra.items()
            }
        return EffectSizes(
            measure=self.measure,
            labels=tuple(self.labels[i] for i in idx),
            yi=self.yi[mask],
            vi=self.vi[mask],
            tables=self.tables.subset(mask) if self.tables is not None else None,
            n_exp=self.n_exp[mask] if self.n_exp is not None else None,
            n_con=self.n_con[mask] if self.n_con is not None else None,
            dropped=dropped,
            corrected=tuple(c for c in self.corrected if c in {self.labels[i] for i in idx}),
            extra={key: tuple(col[i] for i in idx) for key, col in self.extra.items()},
            continuity=self.continuity,
            dropped_tables=dropped_tables,
            dropped_extra=dropped_extra,
        )


def _as_float(values: Sequence[float] | npt.ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise InvalidInput(f"{name} must be one value per study")
    if not np.all(np.isfinite(arr)):
        raise InvalidInput(f"{name} has a missing or non-numeric value")
    return arr


def _labels(labels: Sequence[str] | None, k: int) -> tuple[str, ...]:
    if labels is None:
        return tuple(f"Study {i + 1}" for i in range(k))
    if len(labels) != k:
        raise InvalidInput(f"{counted(len(labels), 'study label')} for {counted(k, 'study')}")
    return tuple(str(x) for x in labels)


def hedges_correction(df: FloatArray) -> FloatArray:
    """Exact small-sample bias correction J(m) = Γ(m/2) / (√(m/2) Γ((m-1)/2)).

    metafor's ``escalc(measure="SMD")`` uses this exact form (its internal ``.cmicalc``), not the
    common approximation 1 - 3/(4m - 1); the two differ in the 4th decimal for small trials.
    """
    # math.lgamma per study (analysis.distributions): importing scipy.special costs 0.5 s.
    half = np.asarray(df, dtype=float) / 2.0
    log_num = np.array([log_gamma(float(x)) for x in half.ravel()]).reshape(half.shape)
    log_den = np.array([log_gamma(float(x) - 0.5) for x in half.ravel()]).reshape(half.shape)
    return np.asarray(np.exp(log_num - 0.5 * np.log(half) - log_den), dtype=float)


def continuous_effects(
    m1: Sequence[float] | npt.ArrayLike,
    sd1: Sequence[float] | npt.ArrayLike,
    n1: Sequence[float] | npt.ArrayLike,
    m2: Sequence[float] | npt.ArrayLike,
    sd2: Sequence[float] | npt.ArrayLike,
    n2: Sequence[float] | npt.ArrayLike,
    *,
    measure: Literal["MD", "SMD"] = "SMD",
    labels: Sequence[str] | None = None,
) -> EffectSizes:
    """Mean differences or standardised mean differences (Hedges' g) from arm summaries.

    Parameters
    ----------
    m1, sd1, n1 : mean, standard deviation and size of the experimental arm.
    m2, sd2, n2 : the same for the control arm.
    measure : ``"MD"`` (variance sd1²/n1 + sd2²/n2, metafor's default ``vtype="HO"`` for MD) or
        ``"SMD"`` (g = J·(m1-m2)/s_pooled, vi = 1/n1 + 1/n2 + g²/(2(n1+n2)), metafor's
        ``vtype="LS"``).

    References
    ----------
    Hedges, L. V. (1981); Borenstein et al. (2009) Introduction to Meta-Analysis, ch. 4.
    """
    a_m1, a_sd1, a_n1 = _as_float(m1, "mean_exp"), _as_float(sd1, "sd_exp"), _as_float(n1, "n_exp")
    a_m2, a_sd2, a_n2 = _as_float(m2, "mean_con"), _as_float(sd2, "sd_con"), _as_float(n2, "n_con")
    k = a_m1.shape[0]
    if not all(a.shape[0] == k for a in (a_sd1, a_n1, a_m2, a_sd2, a_n2)):
        raise InvalidInput("arm columns have different lengths")
    names = _labels(labels, k)

    def refuse(bad: npt.NDArray[np.bool_], why: str) -> None:
        if bad.any():
            raise InvalidInput(
                f"{why}: {', '.join(n for n, b in zip(names, bad, strict=True) if b)}"
            )

    # The same rules as the CSV reader (reviewtool.analysis.table_input.check_arms).
    refuse((a_n1 < 1) | (a_n2 < 1), "every arm needs at least 1 participant")
    refuse(a_n1 + a_n2 < 3, "an SD needs at least 3 participants in the two arms together")
    refuse((a_sd1 < 0) | (a_sd2 < 0), "a standard deviation is negative")
    refuse((a_sd1 == 0) & (a_sd2 == 0), "SD 0 in both arms (the effect has no variance)")
    if measure == "MD":
        yi = a_m1 - a_m2
        vi = a_sd1**2 / a_n1 + a_sd2**2 / a_n2
    elif measure == "SMD":
        df = a_n1 + a_n2 - 2.0
        sdp = np.sqrt(((a_n1 - 1) * a_sd1**2 + (a_n2 - 1) * a_sd2**2) / df)
        refuse(sdp == 0, "pooled standard deviation is 0: the SMD is undefined")
        yi = hedges_correction(df) * (a_m1 - a_m2) / sdp
        vi = 1.0 / a_n1 + 1.0 / a_n2 + yi**2 / (2.0 * (a_n1 + a_n2))
    else:
        raise InvalidInput(f"measure {measure!r} is not a continuous measure; use MD or SMD")
    return EffectSizes(
        measure=measure,
        labels=names,
        yi=yi,
        vi=vi,
        n_exp=a_n1,
        n_con=a_n2,
    )


def binary_effects(
    events_exp: Sequence[float] | npt.ArrayLike,
    total_exp: Sequence[float] | npt.ArrayLike,
    events_con: Sequence[float] | npt.ArrayLike,
    total_con: Sequence[float] | npt.ArrayLike,
    *,
    measure: Literal["OR", "RR", "RD"] = "OR",
    labels: Sequence[str] | None = None,
    add: float = 0.5,
    to: Literal["only0", "all", "if0all", "none"] = "only0",
    drop_double_zero: bool = True,
) -> EffectSizes:
    """Log odds ratios, log risk ratios or risk differences from 2x2 counts.

    Parameters
    ----------
    events_exp, total_exp, events_con, total_con : counts per study.
    measure : ``"OR"``, ``"RR"`` or ``"RD"``.
    add, to : continuity correction, with metafor's meaning: ``to="only0"`` adds ``add`` to every
        cell of the studies that have a zero cell (the default, as in metafor and RevMan);
        ``"all"`` to every study; ``"if0all"`` to every study when any has a zero; ``"none"``.
        As in metafor's ``escalc`` (``add=1/2, to="only0"``), the correction applies to OR, RR
        *and* RD: a risk difference from a table with a zero cell (a 0% or 100% arm) is computed
        from the corrected counts, so its variance is never 0 (e.g. 2/2 vs 0/2 gives RD 0.6667,
        vi 0.0926; 0/10 vs 0/12 gives RD 0.0070, vi 0.0068).
    drop_double_zero : leave out studies with no events (or only events) in both arms for OR/RR,
        whose ratio is undefined (Cochrane Handbook 10.4.4.1). metafor's ``escalc`` keeps them
        (``drop00=FALSE``) while ``rma.mh``/``rma.peto`` drop them; we drop by default and report
        the dropped studies. RD keeps them (a difference of 0 is defined). Mantel-Haenszel
        pooling still uses the dropped tables (``EffectSizes.dropped_tables``), as ``rma.mh`` does.

    A study whose effect or variance is still undefined or 0 (only possible without a correction,
    ``add=0`` or ``to="none"``) is left out and listed in ``dropped`` with the reason; it never
    stops the analysis of the others.

    Returns
    -------
    EffectSizes with one yi (log OR, log RR or RD) and vi per kept study, the raw 2x2 ``tables``
    of the kept studies, and the ``dropped`` and ``corrected`` labels.

    Raises
    ------
    InvalidInput : counts that are not one per study, negative, above the arm total, an empty arm,
        a correction ``add`` outside 0 to :data:`MAX_ADD`, or no study left to analyse.

    References
    ----------
    Higgins, J. P. T. et al. (eds.) Cochrane Handbook for Systematic Reviews of Interventions,
    section 10.4.4 (studies with zero-cell counts).
    """
    ai = _as_float(events_exp, "events_exp")
    n1 = _as_float(total_exp, "total_exp")
    ci = _as_float(events_con, "events_con")
    n2 = _as_float(total_con, "total_con")
    k = ai.shape[0]
    if not all(a.shape[0] == k for a in (n1, ci, n2)):
        raise InvalidInput("count columns have different lengths")
    if np.any(ai < 0) or np.any(ci < 0) or np.any(ai > n1) or np.any(ci > n2):
        raise InvalidInput("events must lie between 0 and the arm total")
    if np.any(n1 <= 0) or np.any(n2 <= 0):
        raise InvalidInput("every arm needs at least one participant")
    if measure not in BINARY_MEASURES:
        raise InvalidInput(f"measure {measure!r} is not a binary measure; use OR, RR or RD")
    if not (math.isfinite(add) and 0 <= add <= MAX_ADD):
        raise InvalidInput(
            f"the continuity correction must be between 0 and {MAX_ADD:g} (e.g. 0.5), not {add:g}"
        )
    all_labels = _labels(labels, k)
    bi, di = n1 - ai, n2 - ci

    keep = np.ones(k, dtype=bool)
    dropped: list[tuple[str, str]] = []
    if drop_double_zero and measure in RATIO_MEASURES:
        no_events = (ai == 0) & (ci == 0)
        all_events = (bi == 0) & (di == 0)
        for i in np.flatnonzero(no_events | all_events):
            why = "no events in either arm" if no_events[i] else "all participants had the event"
            dropped.append((all_labels[i], f"{why}: {measure} undefined"))
        keep = ~(no_events | all_events)
    if not keep.any():
        raise InvalidInput(
            f"no study is left to compute an {measure} from: every study has no events (or only "
            f"events) in both arms, where the {measure} is undefined (use RD, or --keep-double-zero)"
        )

    dropped_tables = TwoByTwo(ai[~keep], bi[~keep], ci[~keep], di[~keep])
    ai, bi, ci, di = ai[keep], bi[keep], ci[keep], di[keep]
    kept_labels = tuple(lab for lab, kp in zip(all_labels, keep, strict=True) if kp)
    tables = TwoByTwo(ai, bi, ci, di)

    has_zero = (ai == 0) | (bi == 0) | (ci == 0) | (di == 0)
    if to == "only0":
        inc = np.where(has_zero, add, 0.0)
    elif to == "all":
        inc = np.full(ai.shape, add)
    elif to == "if0all":
        inc = np.full(ai.shape, add if has_zero.any() else 0.0)
    elif to == "none":
        inc = np.zeros(ai.shape)
    else:
        raise InvalidInput(f"continuity option {to!r} is not one of only0, all, if0all, none")
    a, b, c, d = ai + inc, bi + inc, ci + inc, di + inc
    m1, m2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            yi = np.log(a * d / (b * c))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        elif measure == "RR":
            yi = np.log((a / m1) / (c / m2))
            vi = 1 / a - 1 / m1 + 1 / c - 1 / m2
        else:
            p1, p2 = a / m1, c / m2
            yi = p1 - p2
            vi = p1 * (1 - p1) / m1 + p2 * (1 - p2) / m2
    usable = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
    if not usable.all():
        for i in np.flatnonzero(~usable):
            why = "is undefined" if not np.isfinite(yi[i]) else "has variance 0"
            dropped.append(
                (kept_labels[i], f"{measure} {why} without a continuity correction (zero cell)")
            )
        if not usable.any():
            raise InvalidInput(
                f"{measure} is undefined for every study without a continuity correction: "
                "add 0.5 to the cells of zero-cell studies (the default)"
            )
        yi, vi, inc = yi[usable], vi[usable], inc[usable]
        # their raw tables still enter Mantel-Haenszel pooling (aligned with ``dropped``)
        unusable = tables.subset(~usable)
        dropped_tables = TwoByTwo(
            *(
                np.concatenate([getattr(dropped_tables, f), getattr(unusable, f)])
                for f in ("ai", "bi", "ci", "di")
            )
        )
        tables = tables.subset(usable)
        ai, bi, ci, di = tables.ai, tables.bi, tables.ci, tables.di
        kept_labels = tuple(lab for lab, ok in zip(kept_labels, usable, strict=True) if ok)
    corrected = tuple(lab for lab, x in zip(kept_labels, inc, strict=True) if x > 0)
    return EffectSizes(
        measure=measure,
        labels=kept_labels,
        yi=yi,
        vi=vi,
        tables=tables,
        n_exp=ai + bi,
        n_con=ci + di,
        dropped=tuple(dropped),
        corrected=corrected,
        continuity=add,
        dropped_tables=dropped_tables,
    )


def peto_effects(es: EffectSizes) -> EffectSizes:
    """The per-study Peto log odds ratios shown beside a Peto pooled estimate (``rma.peto``'s rows).

    yi = (O - E)/V and vi = 1/V, with O the events in the experimental arm, E = (a + c)·n1/n
    their expectation under no effect and V = (a + c)(b + d)·n1·n2/(n²(n - 1)) the hypergeometric
    variance, computed as metafor's ``escalc(measure="PETO")`` (the ``yi``/``vi`` that
    ``rma.peto`` stores and its forest plot shows): the studies in ``es.corrected`` get
    ``es.continuity`` added to every cell first (``add=1/2, to="only0"``), the others use the raw
    counts. The pooled estimate, weights and Q stay those of :class:`~reviewtool.analysis.
    estimators.Peto` on the raw tables. A row with V = 0 (only possible without a correction)
    carries no information and is moved to ``dropped``.

    Raises :class:`InvalidInput` when ``es`` has no 2x2 tables or is not an OR analysis.

    References
    ----------
    Yusuf, Peto, Lewis, Collins & Sleight (1985); metafor ``escalc(measure="PETO")``.
    """
    if es.tables is None or es.measure != "OR":
        raise InvalidInput(f"Peto odds ratios need 2x2 counts and measure OR (not {es.measure})")
    t = es.tables
    corrected = set(es.corrected)
    inc = np.array([es.continuity if lab in corrected else 0.0 for lab in es.labels])
    a, b, c, d = t.ai + inc, t.bi + inc, t.ci + inc, t.di + inc
    n1, n2 = a + b, c + d
    n = n1 + n2
    v = (a + c) * (b + d) * n1 * n2 / (n**2 * (n - 1.0))
    informative = v > 0
    o_e = a - (a + c) * n1 / n
    dropped = list(es.dropped) + [
        (lab, "no events (or only events) in both arms: no information for the Peto OR")
        for lab, ok in zip(es.labels, informative, strict=True)
        if not ok
    ]
    if not informative.any():
        raise InvalidInput("Peto OR is undefined: no study has both events and non-events")
    kept = es.subset(informative)
    return EffectSizes(
        measure=es.measure,
        labels=kept.labels,
        yi=o_e[informative] / v[informative],
        vi=1.0 / v[informative],
        tables=kept.tables,
        n_exp=kept.n_exp,
        n_con=kept.n_con,
        dropped=tuple(dropped),
        corrected=kept.corrected,
        extra=kept.extra,
        continuity=es.continuity,
    )


def generic_effects(
    yi: Sequence[float] | npt.ArrayLike,
    *,
    vi: Sequence[float] | npt.ArrayLike | None = None,
    sei: Sequence[float] | npt.ArrayLike | None = None,
    labels: Sequence[str] | None = None,
    measure: str = "GEN",
) -> EffectSizes:
    """Precomputed effect sizes with their variances (``vi``) or standard errors (``sei``).

    ``measure`` may name the scale of ``yi`` (e.g. ``"OR"`` when ``yi`` are log odds ratios) so that
    results are back-transformed; it defaults to ``"GEN"`` (no transformation).
    """
    y = _as_float(yi, "yi")
    if (vi is None) == (sei is None):
        raise InvalidInput("give exactly one of vi or sei with yi")
    if vi is not None:
        v = _as_float(vi, "vi")
    else:
        assert sei is not None
        v = _as_float(sei, "sei") ** 2
    if v.shape != y.shape:
        raise InvalidInput("yi and vi/sei have different lengths")
    if np.any(v <= 0):
        raise InvalidInput("every sampling variance (vi or sei) must be positive")
    return EffectSizes(measure=measure, labels=_labels(labels, y.shape[0]), yi=y, vi=v)
