"""Pooling estimators with the PyMARE shape: validate in ``__init__``, ``fit`` returns ``self``.

Classes: :class:`FixedEffect` (inverse variance), :class:`RandomEffects` (τ² by DerSimonian-Laird,
REML or Paule-Mandel, optional Hartung-Knapp-Sidik-Jonkman CIs), :class:`MantelHaenszel` (OR, RR,
RD) and :class:`Peto` (OR). Fitted values live in trailing-underscore attributes; ``summary()``
returns an immutable :class:`~reviewtool.analysis.results.PoolingSummary`. The numbers are those
R metafor prints (``rma``, ``rma.mh``, ``rma.peto``); ``METAFOR_NAMES`` maps our option names to
metafor's spellings in one place.

References
----------
DerSimonian, R., & Laird, N. (1986). Meta-analysis in clinical trials. Controlled Clinical Trials,
7(3), 177-188.
Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators in the
random-effects model. Journal of Educational and Behavioral Statistics, 30(3), 261-293.
Paule, R. C., & Mandel, J. (1982). Consensus values and weighting factors. Journal of Research of
the National Bureau of Standards, 87(5), 377-385.
Hartung, J., & Knapp, G. (2001). A refined method for the meta-analysis of controlled clinical
trials with binary outcome. Statistics in Medicine, 20(24), 3875-3889.
Sidik, K., & Jonkman, J. N. (2002). A simple confidence interval for meta-analysis. Statistics in
Medicine, 21(21), 3153-3159.
Mantel, N., & Haenszel, W. (1959). Statistical aspects of the analysis of data from retrospective
studies of disease. Journal of the National Cancer Institute, 22(4), 719-748.
Robins, J., Breslow, N., & Greenland, S. (1986). Estimators of the Mantel-Haenszel variance
consistent in both sparse data and large-strata limiting models. Biometrics, 42(2), 311-323.
Sato, T., Greenland, S., & Robins, J. M. (1989). On the variance estimator for the Mantel-Haenszel
risk difference. Biometrics, 45(4), 1323-1324.
Yusuf, S., Peto, R., Lewis, J., Collins, R., & Sleight, P. (1985). Beta blockade during and after
myocardial infarction. Progress in Cardiovascular Diseases, 27(5), 335-371.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from reviewtool.analysis import distributions as dist
from reviewtool.analysis.effect_sizes import RATIO_MEASURES, FloatArray, TwoByTwo
from reviewtool.analysis.results import Heterogeneity, Pooled, PoolingSummary
from reviewtool.errors import InvalidInput, ReviewtoolError

TAU2_METHODS: tuple[str, ...] = ("DL", "REML", "PM")
# Our option value -> (metafor spelling, what it is). The one place where names are mapped.
METAFOR_NAMES: dict[str, str] = {
    "fixed": 'rma(method="EE") (metafor < 3.0: method="FE")',
    "DL": 'rma(method="DL")',
    "REML": 'rma(method="REML")',
    "PM": 'rma(method="PM")',
    "hksj": 'rma(test="knha")',
    "MH": "rma.mh()",
    "Peto": "rma.peto()",
}


class NotFittedError(ReviewtoolError):
    """``summary()`` was called on an estimator that has not been fitted."""


# ---------------------------------------------------------------------------------------------
# Pure numeric kernels
# ---------------------------------------------------------------------------------------------


def _check_inputs(yi: Any, vi: Any) -> tuple[FloatArray, FloatArray]:
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    if y.ndim != 1 or y.shape != v.shape:
        raise InvalidInput("yi and vi must be one-dimensional and of equal length")
    if y.shape[0] < 1:
        raise InvalidInput("at least one study is needed to pool")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
        raise InvalidInput("yi and vi must be finite")
    if np.any(v <= 0):
        raise InvalidInput("sampling variances must be positive")
    return y, v


def all_identical(y: FloatArray) -> bool:
    """True when every value equals the others up to floating-point rounding (16 ulps).

    Estimates computed from equal data by different routes (e.g. 3/10 and 6/20) may differ in the
    last bit; deviations of that size are rounding noise, not heterogeneity or asymmetry, and
    statistics built from them (an HKSJ SE, Egger's t, Begg's τ) must not be reported.
    """
    scale = float(np.max(np.abs(y))) if y.size else 0.0
    return float(np.ptp(y)) <= 16.0 * float(np.finfo(float).eps) * scale if y.size else True


def _weighted_mean(y: FloatArray, w: FloatArray) -> tuple[float, float]:
    # Centred on the first value, so identical estimates give exactly that value (no rounding
    # noise in the residuals y - mu).
    sw = float(np.sum(w))
    ref = float(y[0])
    return ref + float(np.sum(w * (y - ref)) / sw), 1.0 / sw


def _cochran_q(y: FloatArray, v: FloatArray) -> float:
    if all_identical(y):
        return 0.0
    w = 1.0 / v
    mu, _ = _weighted_mean(y, w)
    return float(np.sum(w * (y - mu) ** 2))


def _others(a: FloatArray) -> FloatArray:
    """``others[i]`` = the sum of every element of ``a`` but the i-th, from prefix and suffix sums:
    ``sum(a) - a[i]`` cancels to 0 when ``a[i]`` dominates (weights 1e25 and 1e-18)."""
    prefix = np.concatenate([[0.0], np.cumsum(a)[:-1]])
    suffix = np.concatenate([np.cumsum(a[::-1])[::-1][1:], [0.0]])
    result: FloatArray = prefix + suffix
    return result


def _trace_p(w: FloatArray) -> float:
    """tr(P) = Σw - Σw²/Σw for P = W - ww'/Σw, as Σ w_i (Σ_{j≠i} w_j) / Σw: no cancellation, so it is
    positive for k ≥ 2 positive weights however far apart they are (DerSimonian-Laird's c)."""
    return float(np.sum(w * _others(w)) / np.sum(w))


def _trace_pp(w: FloatArray) -> float:
    """tr(P²) = Σw² - 2Σw³/Σw + (Σw²/Σw)², from P_ii = w_i (Σ_{j≠i} w_j)/Σw and
    P_ij = -w_i w_j/Σw (i ≠ j), every term positive (no cancellation)."""
    sw = float(np.sum(w))
    diag = float(np.sum((w * _others(w) / sw) ** 2))
    w2 = (w / sw) * w
    off = float(np.sum(w2 * _others(w2))) if w.shape[0] > 1 else 0.0
    # Σ_{i≠j} (w_i w_j / Σw)² = Σ_i (w_i²/Σw) Σ_{j≠i} (w_j²/Σw)
    return diag + off


def tau2_dl(y: FloatArray, v: FloatArray) -> float:
    """DerSimonian-Laird moment estimator, truncated at 0."""
    k = y.shape[0]
    if k < 2:
        return 0.0
    w = 1.0 / v
    q = _cochran_q(y, v)
    c = _trace_p(w)
    return max(0.0, (q - (k - 1)) / c)


def _converged(new: float, old: float, tol: float) -> bool:
    """Relative convergence test for an iterate of τ² (scale-free: τ² and c²·τ² stop alike)."""
    return abs(new - old) <= tol * max(new, old)


def _reml_score(tau2: float, y: FloatArray, v: FloatArray) -> float:
    # Derivative of the restricted log-likelihood (times 2): y'P²y - tr(P).
    w = 1.0 / (v + tau2)
    sw = float(np.sum(w))
    mu = float(np.sum(w * y) / sw)
    return float(np.sum((w * (y - mu)) ** 2)) - _trace_p(w)


def _first_root(score: Any, lower: float, scale: float, tol: float) -> float:
    """A τ² ≥ ``lower`` where ``score`` (positive below the estimate) crosses zero.

    ``score(lower) <= 0`` means the estimate is ``lower`` (the boundary). The bracket grows from
    ``scale`` by doubling until the score is negative; Brent's method then stops at a *relative*
    tolerance ``tol``, so the result scales exactly with the data.
    """
    if score(lower) <= 0:
        return lower
    upper = max(scale, lower)
    while score(upper) > 0:
        upper *= 2.0
    # maxiter: a bracket spanning 24 orders of magnitude (variances 1e-12 to 1e12) needs more
    # than scipy's default 100 bisection-like steps at this tolerance.
    from scipy import optimize  # only PM and Egger's REML need a root finder (0.3 s to import)

    return float(
        optimize.brentq(score, lower, upper, xtol=1e-300, rtol=max(tol, 4e-16), maxiter=2000)
    )


def tau2_reml(y: FloatArray, v: FloatArray, *, tol: float = 1e-12, max_iter: int = 1000) -> float:
    """Restricted maximum-likelihood estimator by Fisher scoring, as metafor does.

    Starts from the DerSimonian-Laird value; negative iterates are truncated at 0 as in metafor.
    Iteration stops when τ² changes by less than ``tol`` *relative* to its value, so the result is
    invariant under rescaling of the data (multiplying yi by c multiplies τ² by c²); metafor's own
    test is absolute (``threshold = 1e-5``), which stops early on small-scale data. If the scoring
    does not converge, the first root of the REML score equation is found by Brent's method.

    References
    ----------
    Viechtbauer (2005), eq. 13 (Fisher scoring for REML).
    """
    k = y.shape[0]
    if k < 2:
        return 0.0
    tau2 = tau2_dl(y, v)
    for _ in range(max_iter):
        w = 1.0 / (v + tau2)
        sw = float(np.sum(w))
        mu = float(np.sum(w * y) / sw)
        py = w * (y - mu)
        tr_p, tr_pp = _trace_p(w), _trace_pp(w)
        step = (float(np.sum(py**2)) - tr_p) / tr_pp
        new = max(0.0, tau2 + step)
        if _converged(new, tau2, tol):
            return new
        tau2 = new
    scale = float(np.var(y)) + float(np.max(v))
    return _first_root(lambda t: _reml_score(t, y, v), 0.0, scale, tol)


def _generalised_q(tau2: float, y: FloatArray, v: FloatArray) -> float:
    w = 1.0 / (v + tau2)
    mu = float(np.sum(w * y) / np.sum(w))
    return float(np.sum(w * (y - mu) ** 2))


def tau2_pm(y: FloatArray, v: FloatArray, *, tol: float = 1e-12) -> float:
    """Paule-Mandel estimator: τ² at which the generalised Q equals k - 1 (0 if Q(0) < k - 1).

    The root is found by Brent's method to a *relative* tolerance ``tol`` (scale-invariant; metafor's
    ``uniroot`` default is an absolute 1.2e-4).

    References
    ----------
    Paule & Mandel (1982); DerSimonian & Kacker (2007) Contemp Clin Trials 28:105-114.
    """
    k = y.shape[0]
    if k < 2:
        return 0.0
    target = k - 1.0
    scale = float(np.var(y)) + float(np.max(v))
    return _first_root(lambda t: _generalised_q(t, y, v) - target, 0.0, scale, tol)


_TAU2_FUNCS = {"DL": tau2_dl, "REML": tau2_reml, "PM": tau2_pm}


def estimate_tau2(y: FloatArray, v: FloatArray, method: str) -> float:
    """τ² by the named method (``DL``, ``REML`` or ``PM``)."""
    try:
        return float(_TAU2_FUNCS[method](y, v))
    except KeyError:
        raise InvalidInput(
            f"tau2 method {method!r} is not supported; choose one of {', '.join(TAU2_METHODS)}"
        ) from None


def _typical_variance(v: FloatArray) -> float:
    # Higgins & Thompson's "typical" within-study variance, as metafor uses for I²/H² under RE.
    w = 1.0 / v
    k = v.shape[0]
    denom = float(np.sum(w * _others(w)))  # (Σw)² - Σw², without cancellation
    return (k - 1) * float(np.sum(w)) / denom if denom > 0 else float(v[0])


def heterogeneity(
    y: FloatArray,
    v: FloatArray,
    *,
    tau2: float,
    tau2_method: str,
    form: str,
    q: float | None = None,
) -> Heterogeneity:
    """Q (around the inverse-variance fixed-effect estimate unless given), I², H², τ².

    ``i2``/``h2`` are always the Q-based forms, I² = max(0, (Q - df)/Q) and H² = Q/df (Higgins &
    Thompson 2002; what RevMan and Stata print, what the model-choice rule uses, and what metafor
    prints for fixed-effect models), so one analysis has one I². With ``form="tau2-based"``
    (random-effects models) metafor's τ²-based forms are added as ``i2_tau2`` = τ²/(τ² + ṽ) and
    ``h2_tau2`` = (τ² + ṽ)/ṽ, with ṽ the typical within-study variance (metafor ``rma`` prints
    these for random-effects models). With one study (df = 0) Q = 0, its p = 1, I² = 0 and
    H² = 1, as metafor reports.

    ``y``, ``v``: effects and sampling variances, one per study; ``q``: Q computed elsewhere
    (Mantel-Haenszel, Peto). Raises nothing; p is computed from the χ²(df) distribution.
    """
    if form not in ("Q-based", "tau2-based"):
        raise InvalidInput(f"heterogeneity form {form!r}: choose Q-based or tau2-based")
    k = y.shape[0]
    df = k - 1
    q_val = _cochran_q(y, v) if q is None else q
    if df > 0:
        # Plain-Python χ² tail (analysis.distributions): same numbers as scipy, no 0.5 s import.
        p = dist.chi2_sf(df, float(q_val))
        i2 = 100.0 * max(0.0, (q_val - df) / q_val) if q_val > 0 else 0.0
        h2 = q_val / df
    else:
        q_val, p, i2, h2 = 0.0, 1.0, 0.0, 1.0  # metafor, k = 1: QE 0, QEp 1, I² 0, H² 1
    i2_tau2 = h2_tau2 = None
    if form == "tau2-based" and df > 0:
        vt = _typical_variance(v)
        i2_tau2 = 100.0 * tau2 / (vt + tau2)
        h2_tau2 = (tau2 + vt) / vt
    return Heterogeneity(
        q=q_val,
        df=df,
        p=p,
        i2=i2,
        h2=h2,
        tau2=tau2,
        tau=math.sqrt(tau2) if tau2 >= 0 else float("nan"),
        i2_form="Q-based",
        tau2_method=tau2_method,
        i2_tau2=i2_tau2,
        h2_tau2=h2_tau2,
    )


def _interval(
    estimate: float,
    se: float,
    *,
    level: float,
    df: float | None,
    ratio: bool,
    tau2: float | None = None,
) -> Pooled:
    if se > 0:
        stat = estimate / se
    else:  # a zero SE (HKSJ with identical estimates): metafor gives ±Inf and p = 0
        stat = math.copysign(math.inf, estimate) if estimate != 0 else float("nan")
    if df is None:
        crit = dist.norm_ppf(0.5 + level / 2)
        p = 2 * dist.norm_sf(abs(float(stat)))
        name = "z"
    else:
        crit = dist.t_ppf(df, 0.5 + level / 2)
        p = 2 * dist.t_sf(df, abs(float(stat)))
        name = "t"
    lo, hi = estimate - crit * se, estimate + crit * se
    pi_lo = pi_hi = None
    if tau2 is not None:
        # metafor predict(): same critical value as the CI (normal, or t(k-1) under knha).
        half = crit * math.sqrt(se**2 + tau2)
        pi_lo, pi_hi = estimate - half, estimate + half
    exp = exp_ratio if ratio else None
    return Pooled(
        estimate=estimate,
        se=se,
        ci_low=lo,
        ci_high=hi,
        statistic=stat,
        statistic_name=name,
        p=p,
        df=df,
        pi_low=pi_lo,
        pi_high=pi_hi,
        exp_estimate=exp(estimate) if exp else None,
        exp_ci_low=exp(lo) if exp else None,
        exp_ci_high=exp(hi) if exp else None,
        exp_pi_low=exp(pi_lo) if exp and pi_lo is not None else None,
        exp_pi_high=exp(pi_hi) if exp and pi_hi is not None else None,
    )


def exp_ratio(x: float) -> float:
    """``exp(x)`` for a log ratio, ``inf`` where it overflows (x > 709.78) instead of raising
    ``OverflowError``: a CI limit of a near-empty arm can be that wide; JSON shows it as null."""
    return math.exp(x) if x <= 709.78 else math.inf


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise InvalidInput(
            f"confidence level {level} must lie strictly between 0 and 1 (e.g. 0.95)"
        )


# ---------------------------------------------------------------------------------------------
# Estimators
# ---------------------------------------------------------------------------------------------


class _Estimator:
    """Shared validation and the fitted-or-not guard."""

    _parameter_constraints: ClassVar[dict[str, tuple[Any, ...]]] = {}
    _summary: PoolingSummary | None

    def _validate(self) -> None:
        for name, allowed in self._parameter_constraints.items():
            value = getattr(self, name)
            if value not in allowed:
                options = ", ".join(repr(a) for a in allowed)
                raise InvalidInput(
                    f"{type(self).__name__}: {name}={value!r} is not allowed; choose {options}"
                )

    def summary(self) -> PoolingSummary:
        """The fitted result; raises :class:`NotFittedError` before ``fit``."""
        if getattr(self, "_summary", None) is None:
            raise NotFittedError(f"{type(self).__name__} has not been fitted: call fit() first")
        assert self._summary is not None
        return self._summary


class FixedEffect(_Estimator):
    """Inverse-variance fixed-effect (metafor: equal-effects) model.

    Parameters
    ----------
    measure : effect measure; ratios (OR, RR) are also reported exponentiated.
    level : confidence level.
    tau2_method : estimator of the descriptive τ² reported with the heterogeneity statistics
        (it does not enter the weights of a fixed-effect model).

    References
    ----------
    Viechtbauer (2010), metafor ``rma(method="EE")``.
    """

    _parameter_constraints: ClassVar[dict[str, tuple[Any, ...]]] = {"tau2_method": TAU2_METHODS}

    def __init__(self, *, measure: str = "GEN", level: float = 0.95, tau2_method: str = "DL"):
        self.measure, self.level, self.tau2_method = measure, level, tau2_method
        self._validate()
        _check_level(level)
        self._summary = None

    def fit(self, yi: Any, vi: Any) -> FixedEffect:
        """Pool ``yi`` with weights 1/``vi``; sets ``estimate_``, ``se_``, ``weights_``."""
        y, v = _check_inputs(yi, vi)
        w = 1.0 / v
        self.estimate_, var = _weighted_mean(y, w)
        self.se_ = math.sqrt(var)
        self.weights_ = 100.0 * w / np.sum(w)
        self.tau2_ = estimate_tau2(y, v, self.tau2_method)
        het = heterogeneity(y, v, tau2=self.tau2_, tau2_method=self.tau2_method, form="Q-based")
        pooled = _interval(
            self.estimate_,
            self.se_,
            level=self.level,
            df=None,
            ratio=self.measure in RATIO_MEASURES,
        )
        self._summary = PoolingSummary(
            model="fixed",
            method="IV",
            pooled=pooled,
            heterogeneity=het,
            weights=tuple(float(x) for x in self.weights_),
        )
        return self


class RandomEffects(_Estimator):
    """Inverse-variance random-effects model with τ² by DL, REML or PM.

    Parameters
    ----------
    tau2_method : ``"DL"``, ``"REML"`` (metafor's default) or ``"PM"``.
    hksj : use the Hartung-Knapp-Sidik-Jonkman standard error and a t(k-1) distribution
        (metafor ``test="knha"``, without the ad hoc truncation).
    measure, level : as for :class:`FixedEffect`.

    Notes
    -----
    I² and H² are the Q-based forms; metafor's τ²-based forms (what ``rma`` prints for
    random-effects models) are given as ``i2_tau2``/``h2_tau2``. The prediction interval is
    μ̂ ± c·√(SE² + τ²) with c the normal quantile, or the t(k-1) quantile under HKSJ, exactly as
    metafor's ``predict()`` (the Cochrane Handbook suggests t(k-2); we follow metafor).

    References
    ----------
    DerSimonian & Laird (1986); Viechtbauer (2005); Paule & Mandel (1982); Hartung & Knapp (2001);
    Sidik & Jonkman (2002); Riley, Higgins & Deeks (2011) BMJ 342:d549 (prediction intervals).
    """

    _parameter_constraints: ClassVar[dict[str, tuple[Any, ...]]] = {
        "tau2_method": TAU2_METHODS,
        "hksj": (True, False),
    }

    def __init__(
        self,
        *,
        tau2_method: str = "REML",
        hksj: bool = False,
        measure: str = "GEN",
        level: float = 0.95,
    ):
        self.tau2_method, self.hksj, self.measure, self.level = tau2_method, hksj, measure, level
        self._validate()
        _check_level(level)
        self._summary = None

    def fit(self, yi: Any, vi: Any) -> RandomEffects:
        """Estimate τ², pool with weights 1/(vi + τ²); sets ``tau2_``, ``estimate_``, ``se_``."""
        y, v = _check_inputs(yi, vi)
        k = y.shape[0]
        self.tau2_ = estimate_tau2(y, v, self.tau2_method)
        w = 1.0 / (v + self.tau2_)
        self.estimate_, var = _weighted_mean(y, w)
        df: float | None = None
        notes: tuple[str, ...] = ()
        if self.hksj and k >= 2:
            if all_identical(y):
                var = 0.0  # exactly, as metafor: no rounding noise as a standard error
                notes = (
                    "all study estimates are identical: the HKSJ standard error is 0, so its "
                    "interval has no width and its test is not informative",
                )
            else:
                var = float(np.sum(w * (y - self.estimate_) ** 2)) / ((k - 1) * float(np.sum(w)))
            df = float(k - 1)
        elif self.hksj:
            notes = ("HKSJ needs at least 2 studies; the z-based interval is shown",)
        self.se_ = math.sqrt(var)
        self.weights_ = 100.0 * w / np.sum(w)
        het = heterogeneity(y, v, tau2=self.tau2_, tau2_method=self.tau2_method, form="tau2-based")
        pooled = _interval(
            self.estimate_,
            self.se_,
            level=self.level,
            df=df,
            ratio=self.measure in RATIO_MEASURES,
            tau2=self.tau2_,
        )
        self._summary = PoolingSummary(
            model="random",
            method="IV",
            pooled=pooled,
            heterogeneity=het,
            weights=tuple(float(x) for x in self.weights_),
            notes=notes,
        )
        return self


def _mh_pool(t: TwoByTwo, measure: str) -> tuple[float, float, FloatArray]:
    ai, bi, ci, di = t.ai, t.bi, t.ci, t.di
    n1, n2 = ai + bi, ci + di
    n = n1 + n2
    if measure == "OR":
        r, s = ai * di / n, bi * ci / n
        big_r, big_s = float(np.sum(r)), float(np.sum(s))
        if big_r == 0:
            raise InvalidInput(
                "Mantel-Haenszel OR is undefined: no study has both an event in the experimental "
                "arm and a non-event in the control arm (sum of a*d/n is 0)"
            )
        if big_s == 0:
            raise InvalidInput(
                "Mantel-Haenszel OR is undefined: no study has both a non-event in the "
                "experimental arm and an event in the control arm (sum of b*c/n is 0)"
            )
        est = math.log(big_r / big_s)
        p_, q_ = (ai + di) / n, (bi + ci) / n
        var = (
            float(np.sum(p_ * r)) / (2 * big_r**2)
            + float(np.sum(p_ * s + q_ * r)) / (2 * big_r * big_s)
            + float(np.sum(q_ * s)) / (2 * big_s**2)
        )
        weights = s
    elif measure == "RR":
        r, s = ai * n2 / n, ci * n1 / n
        big_r, big_s = float(np.sum(r)), float(np.sum(s))
        if big_r == 0 or big_s == 0:
            arm = "experimental" if big_r == 0 else "control"
            raise InvalidInput(f"Mantel-Haenszel RR is undefined: no events in the {arm} arm")
        est = math.log(big_r / big_s)
        var = float(np.sum((n1 * n2 * (ai + ci) - ai * ci * n) / n**2)) / (big_r * big_s)
        weights = s
    elif measure == "RD":
        wts = n1 * n2 / n
        big_w = float(np.sum(wts))
        est = float(np.sum((ai * n2 - ci * n1) / n)) / big_w
        p_sum = float(np.sum((n1**2 * ci - n2**2 * ai + n1 * n2 * (n2 - n1) / 2) / n**2))
        q_sum = float(np.sum((ai * (n2 - ci) + ci * (n1 - ai)) / (2 * n)))
        var = (est * p_sum + q_sum) / big_w**2
        weights = wts
    else:
        raise InvalidInput(f"Mantel-Haenszel pooling needs OR, RR or RD, not {measure!r}")
    return est, var, weights


class MantelHaenszel(_Estimator):
    """Mantel-Haenszel fixed-effect pooling of 2x2 tables (metafor ``rma.mh``).

    Variances: Robins-Breslow-Greenland (OR), Greenland-Robins (RR), Sato-Greenland-Robins (RD).
    Every table is pooled, including those with no events (or events in every participant) in
    both arms: such a study has no OR/RR of its own but still adds to the MH risk ratio (and to
    the RD's weights), as in ``rma.mh``. Q is computed, as in metafor, from the per-study yi/vi
    (continuity-corrected) around the MH estimate, leaving out those double-zero/double-all
    studies (``rma.mh``'s ``drop00=TRUE`` acts on Q only); I² and H² are Q-based.

    References
    ----------
    Mantel & Haenszel (1959); Robins, Breslow & Greenland (1986); Greenland & Robins (1985)
    Biometrics 41:55-68; Sato, Greenland & Robins (1989).
    """

    _parameter_constraints: ClassVar[dict[str, tuple[Any, ...]]] = {"measure": ("OR", "RR", "RD")}

    def __init__(self, *, measure: str = "OR", level: float = 0.95, tau2_method: str = "DL"):
        self.measure, self.level, self.tau2_method = measure, level, tau2_method
        self._validate()
        _check_level(level)
        self._summary = None

    def fit(
        self, tables: TwoByTwo, yi: Any, vi: Any, *, pooled_only: TwoByTwo | None = None
    ) -> MantelHaenszel:
        """Pool the raw ``tables`` (one per ``yi``/``vi``, the per-study effects used for Q).

        ``pooled_only`` are further tables that enter the MH pooling but have no yi/vi (studies
        whose OR/RR is undefined). ``weights_`` (percent, one per ``yi``) are shares of the
        total MH weight including those tables, so they sum to less than 100 when such tables
        carry weight. Raises :class:`InvalidInput` when the MH estimate is undefined (OR: Σ a·d/n or
        Σ b·c/n is 0; RR: no events in one arm of every study), where metafor gives NA.
        """
        y, v = _check_inputs(yi, vi)
        k = y.shape[0]
        allt = tables
        if pooled_only is not None and pooled_only.ai.shape[0] > 0:
            allt = TwoByTwo(
                np.concatenate([tables.ai, pooled_only.ai]),
                np.concatenate([tables.bi, pooled_only.bi]),
                np.concatenate([tables.ci, pooled_only.ci]),
                np.concatenate([tables.di, pooled_only.di]),
            )
        est, var, raw_w = _mh_pool(allt, self.measure)
        self.estimate_, self.se_ = est, math.sqrt(var)
        self.weights_ = 100.0 * raw_w[:k] / np.sum(raw_w)
        # rma.mh: escalc(drop00=TRUE) for Q, so double-zero/double-all studies are left out.
        in_q = ~(((tables.ai == 0) & (tables.ci == 0)) | ((tables.bi == 0) & (tables.di == 0)))
        yq, vq = y[in_q], v[in_q]
        if yq.shape[0] == 0:  # no study with a yi of its own: Q on 0 df, as k.yi <= 1
            yq, vq = y[:1], v[:1]
        # rma.mh: QE = 0 when at most one study has a yi (the MH estimate need not equal it)
        q = float(np.sum((yq - est) ** 2 / vq)) if yq.shape[0] > 1 else 0.0
        het = heterogeneity(
            yq,
            vq,
            tau2=estimate_tau2(yq, vq, self.tau2_method),
            tau2_method=self.tau2_method,
            form="Q-based",
            q=q,
        )
        pooled = _interval(
            est, self.se_, level=self.level, df=None, ratio=self.measure in RATIO_MEASURES
        )
        self._summary = PoolingSummary(
            model="fixed",
            method="MH",
            pooled=pooled,
            heterogeneity=het,
            weights=tuple(float(x) for x in self.weights_),
        )
        return self


class Peto(_Estimator):
    """Peto's one-step odds ratio (metafor ``rma.peto``).

    log OR = Σ(O - E) / ΣV with variance 1/ΣV; Q = Σ(O - E)²/V - (Σ(O - E))²/ΣV.

    References
    ----------
    Yusuf, Peto, Lewis, Collins & Sleight (1985).
    """

    def __init__(self, *, level: float = 0.95, tau2_method: str = "DL"):
        self.measure, self.level, self.tau2_method = "OR", level, tau2_method
        _check_level(level)
        self._summary = None

    def fit(self, tables: TwoByTwo, yi: Any | None = None, vi: Any | None = None) -> Peto:
        """Pool the raw ``tables``; ``yi``/``vi`` (optional) give the descriptive τ²."""
        ai, bi, ci, di = tables.ai, tables.bi, tables.ci, tables.di
        n1, n2 = ai + bi, ci + di
        n = n1 + n2
        e = (ai + ci) * n1 / n
        var_i = (ai + ci) * (bi + di) * n1 * n2 / (n**2 * (n - 1))
        if float(np.sum(var_i)) <= 0:
            raise InvalidInput("Peto OR is undefined: no study has both events and non-events")
        o_e = ai - e
        self.estimate_ = float(np.sum(o_e) / np.sum(var_i))
        self.se_ = math.sqrt(1.0 / float(np.sum(var_i)))
        self.weights_ = 100.0 * var_i / np.sum(var_i)
        ok = var_i > 0
        q = float(np.sum(o_e[ok] ** 2 / var_i[ok]) - np.sum(o_e) ** 2 / np.sum(var_i))
        yp, vp = o_e[ok] / var_i[ok], 1.0 / var_i[ok]
        het = heterogeneity(
            yp,
            vp,
            tau2=estimate_tau2(yp, vp, self.tau2_method),
            tau2_method=self.tau2_method,
            form="Q-based",
            q=q,
        )
        pooled = _interval(self.estimate_, self.se_, level=self.level, df=None, ratio=True)
        self._summary = PoolingSummary(
            model="fixed",
            method="Peto",
            pooled=pooled,
            heterogeneity=het,
            weights=tuple(float(x) for x in self.weights_),
        )
        return self
