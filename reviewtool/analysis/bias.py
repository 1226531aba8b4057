"""Small-study effects: Egger's regression test, Begg's rank test, funnel data, trim-and-fill.

Each function mirrors the metafor function named in its docstring, with the same defaults.

References
----------
Egger, M., Davey Smith, G., Schneider, M., & Minder, C. (1997). Bias in meta-analysis detected by
a simple, graphical test. BMJ, 315(7109), 629-634.
Begg, C. B., & Mazumdar, M. (1994). Operating characteristics of a rank correlation test for
publication bias. Biometrics, 50(4), 1088-1101.
Duval, S., & Tweedie, R. (2000). Trim and fill: A simple funnel-plot-based method of testing and
adjusting for publication bias in meta-analysis. Biometrics, 56(2), 455-463.
Sterne, J. A. C., & Egger, M. (2005). Regression methods to detect publication and other bias in
meta-analysis. In Rothstein, Sutton & Borenstein (eds.), Publication Bias in Meta-Analysis.
"""

from __future__ import annotations

import math

import numpy as np

from reviewtool.analysis import distributions as dist
from reviewtool.analysis.effect_sizes import FloatArray
from reviewtool.analysis.estimators import (
    FixedEffect,
    RandomEffects,
    _converged,
    _first_root,
    _interval,
    _others,
    all_identical,
    estimate_tau2,
)
from reviewtool.analysis.results import BeggResult, EggerResult, FunnelData, TrimFillResult
from reviewtool.errors import InvalidInput

EGGER_PREDICTORS: tuple[str, ...] = ("sei", "vi", "ninv", "sqrtninv")
EGGER_MODELS: tuple[str, ...] = ("lm", "rma")


def _design(vi: FloatArray, predictor: str, ni: FloatArray | None) -> FloatArray:
    if predictor == "sei":
        x = np.sqrt(vi)
    elif predictor == "vi":
        x = vi
    elif predictor in ("ninv", "sqrtninv"):
        if ni is None:
            raise InvalidInput(f"predictor {predictor!r} needs the total sample size per study")
        x = 1.0 / ni if predictor == "ninv" else 1.0 / np.sqrt(ni)
    else:
        raise InvalidInput(
            f"Egger predictor {predictor!r} is not one of {', '.join(EGGER_PREDICTORS)}"
        )
    return np.column_stack([np.ones_like(x), x])


def _reml_metareg_tau2(y: FloatArray, v: FloatArray, x: FloatArray) -> float:
    """REML τ² of a meta-regression: Fisher scoring as metafor, to a relative tolerance of 1e-12;
    if it does not converge, Brent's method on the REML score equation."""
    k, p = x.shape

    def p_matrix(tau2: float) -> FloatArray:
        w = 1.0 / (v + tau2)
        wx = x * w[:, None]
        inv = np.linalg.inv(x.T @ wx)
        result: FloatArray = np.diag(w) - wx @ inv @ wx.T
        return result

    # Start from the residual-heterogeneity moment estimate (metafor's default start is similar).
    w0 = 1.0 / v
    wx0 = x * w0[:, None]
    b0 = np.linalg.solve(x.T @ wx0, wx0.T @ y)
    q_res = float(np.sum(w0 * (y - x @ b0) ** 2))
    trp = float(np.trace(p_matrix(0.0)))
    tau2 = max(0.0, (q_res - (k - p)) / trp) if trp > 0 else 0.0
    for _ in range(1000):
        pm = p_matrix(tau2)
        py = pm @ y
        step = (float(py @ py) - float(np.trace(pm))) / float(np.sum(pm * pm))
        new = max(0.0, tau2 + step)
        if _converged(new, tau2, 1e-12):  # relative: scale-invariant, as for tau2_reml
            return new
        tau2 = new

    def score(t: float) -> float:
        pm = p_matrix(t)
        py = pm @ y
        return float(py @ py) - float(np.trace(pm))

    return _first_root(score, 0.0, float(np.var(y)) + float(np.max(v)), 1e-12)


def egger_test(
    yi: FloatArray,
    vi: FloatArray,
    *,
    model: str = "lm",
    predictor: str = "sei",
    ni: FloatArray | None = None,
    level: float = 0.95,
) -> EggerResult:
    """Regression test for funnel-plot asymmetry (metafor ``regtest``).

    ``model="lm"`` is the classical Egger test: weighted least squares of yi on the predictor with
    weights 1/vi and a multiplicative dispersion term, t-test on k - 2 df (metafor
    ``regtest(res, model="lm")``). ``model="rma"`` is metafor's default: a mixed-effects
    meta-regression with REML τ² and a z-test. With ``predictor="sei"`` the tested coefficient is
    the intercept of Egger's original regression of yi/sei on 1/sei. When the predictor is the
    same for every study (equal SEs) the regression is not estimable: every number is NaN.

    References
    ----------
    Egger et al. (1997); Sterne & Egger (2005).
    """
    if model not in EGGER_MODELS:
        raise InvalidInput(f"Egger model {model!r} is not one of {', '.join(EGGER_MODELS)}")
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    k = y.shape[0]
    if k < 3:
        raise InvalidInput(f"Egger's test needs at least 3 studies (got {k})")
    x = _design(v, predictor, ni)
    if all_identical(x[:, 1]):
        # A constant predictor (every study has the same SE, or the same n) makes the design
        # singular: the slope is not estimable. metafor stops ("Model matrix no longer of full
        # rank"); here every statistic is undefined (NaN), never a crash.
        nan = float("nan")
        return EggerResult(
            model=model,
            predictor=predictor,
            bias=nan,
            se=nan,
            statistic=nan,
            statistic_name="t" if model == "lm" else "z",
            df=k - 2 if model == "lm" else None,
            p=nan,
            limit_estimate=nan,
            limit_ci_low=nan,
            limit_ci_high=nan,
        )
    identical = all_identical(y)
    tau2 = _reml_metareg_tau2(y, v, x) if model == "rma" and not identical else 0.0
    w = 1.0 / (v + tau2)
    wx = x * w[:, None]
    inv = np.linalg.inv(x.T @ wx)
    # Identical estimates fit exactly: intercept y, slope 0, residuals 0 (not rounding noise).
    b = np.array([float(y[0]), 0.0]) if identical else inv @ (wx.T @ y)
    if model == "lm":
        df: int | None = k - 2
        resid = np.zeros(k) if identical else y - x @ b
        sigma2 = float(np.sum(w * resid**2)) / (k - 2)
        vcov = sigma2 * inv
        stat_name = "t"
    else:
        df = None
        vcov = inv
        stat_name = "z"
    se = np.sqrt(np.diag(vcov))
    # With identical estimates the lm residual variance is 0: t = 0/0 is undefined (NaN).
    stat = float(b[1] / se[1]) if se[1] > 0 else float("nan")
    if df is None:
        p = 2 * dist.norm_sf(abs(float(stat)))
        crit = dist.norm_ppf(0.5 + level / 2)
    else:
        p = 2 * dist.t_sf(df, abs(float(stat)))
        crit = dist.t_ppf(df, 0.5 + level / 2)
    return EggerResult(
        model=model,
        predictor=predictor,
        bias=float(b[1]),
        se=float(se[1]),
        statistic=stat,
        statistic_name=stat_name,
        df=df,
        p=p,
        limit_estimate=float(b[0]),
        limit_ci_low=float(b[0] - crit * se[0]),
        limit_ci_high=float(b[0] + crit * se[0]),
    )


def begg_test(yi: FloatArray, vi: FloatArray) -> BeggResult:
    """Begg and Mazumdar's rank correlation test (metafor ``ranktest``).

    Kendall's τ between the standardised deviates (yi - θ̂_FE)/√(vi - Var(θ̂_FE)) and vi; the p-value
    is exact when k < 50 and there are no ties (as R's ``cor.test``), asymptotic otherwise.
    When every estimate or every variance is the same, τ and p are NaN (metafor: ``NA``).
    """
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    k = y.shape[0]
    if k < 3:
        raise InvalidInput(f"Begg's test needs at least 3 studies (got {k})")
    if all_identical(y) or all_identical(v):
        # Every study with the same variance: one of the two ranked variables is constant.
        # Every deviate is 0: Kendall's τ is undefined (metafor/R warn "standard deviation is
        # zero"); never a τ computed from rounding noise.
        return BeggResult(tau=float("nan"), p=float("nan"), exact=False)
    fe = FixedEffect().fit(y, v)
    # vi - Var(θ̂_FE) = vi (Σ_{j≠i} w_j)/Σw: written so, it does not cancel to 0 (then 1/0) for
    # a study that carries nearly all the weight.
    w = 1.0 / v
    y_star = (y - fe.estimate_) / np.sqrt(v * _others(w) / np.sum(w))
    ties = len(np.unique(y_star)) < k or len(np.unique(v)) < k
    exact = k < 50 and not ties
    tau, p = kendall_tau(y_star, v, exact=exact)
    return BeggResult(tau=tau, p=p, exact=exact)


def kendall_tau(x: FloatArray, y: FloatArray, *, exact: bool) -> tuple[float, float]:
    """Kendall's τ_b of ``x`` and ``y`` (two arrays of n ≥ 2 numbers) and its two-sided p-value:
    exact (``exact=True``, only without ties) or from the normal approximation with the
    variance corrected for ties. The numbers of scipy ``stats.kendalltau(x, y, method=...)``
    (τ_b, Kendall 1970, *Rank Correlation Methods*, 4th ed.: the exact null distribution of the
    number of concordant pairs by the recurrence of §7.3 and, with ties, the variance of eq. 4.4),
    without importing scipy.stats (over a second of start-up for Begg's test). ValueError when
    ``exact`` is asked with ties; (nan, nan) when every x or every y is the same.
    """
    a = np.asarray(x, dtype=float).ravel()
    b = np.asarray(y, dtype=float).ravel()
    size = a.shape[0]
    upper = np.triu_indices(size, k=1)
    sx = np.sign(a[:, None] - a[None, :])[upper]
    sy = np.sign(b[:, None] - b[None, :])[upper]
    tot = size * (size - 1) // 2
    xtie, x0, x1 = _tie_counts(a)
    ytie, y0, y1 = _tie_counts(b)
    if xtie == tot or ytie == tot:
        return float("nan"), float("nan")
    con_minus_dis = int(np.sum(sx * sy))
    tau = con_minus_dis / np.sqrt(tot - xtie) / np.sqrt(tot - ytie)
    tau = float(min(1.0, max(-1.0, tau)))
    if exact:
        if xtie or ytie:
            raise ValueError("ties found: the exact distribution of Kendall's tau needs none")
        concordant = (tot + con_minus_dis) // 2
        return tau, _kendall_p_exact(size, concordant)
    m = size * (size - 1.0)
    var = (
        (m * (2 * size + 5) - x1 - y1) / 18 + (2 * xtie * ytie) / m + x0 * y0 / (9 * m * (size - 2))
    )
    z = con_minus_dis / np.sqrt(var)
    return tau, 2 * dist.norm_sf(abs(float(z)))


def _tie_counts(values: FloatArray) -> tuple[int, int, int]:
    """Σ t(t-1)/2, Σ t(t-1)(t-2) and Σ t(t-1)(2t+5) over the groups of t > 1 equal values."""
    _, counts = np.unique(values, return_counts=True)
    cnt = counts[counts > 1].astype("int64")
    return (
        int((cnt * (cnt - 1) // 2).sum()),
        int((cnt * (cnt - 1.0) * (cnt - 2)).sum()),
        int((cnt * (cnt - 1.0) * (2 * cnt + 5)).sum()),
    )


def _kendall_p_exact(n: int, concordant: int) -> float:
    """Two-sided exact p-value of ``concordant`` of the n(n-1)/2 pairs being concordant under
    independence: twice the probability of a count at most as far from the middle, by the
    recurrence for the number of permutations of n with c inversions (Kendall 1970, §7.3; scipy
    ``_kendall_p_exact``, whose arithmetic this repeats step for step)."""
    c = min(concordant, n * (n - 1) // 2 - concordant)
    if n <= 2:
        return 1.0
    if c == 0:
        prob = 2.0 / math.factorial(n) if n < 171 else 0.0
    elif c == 1:
        prob = 2.0 / math.factorial(n - 1) if n < 172 else 0.0
    elif 4 * c == n * (n - 1):
        prob = 1.0
    elif n < 171:
        new = np.zeros(c + 1)
        new[0:2] = 1.0
        for j in range(3, n + 1):
            new = np.cumsum(new)
            if j <= c:
                new[j:] -= new[: c + 1 - j]
        prob = 2.0 * float(np.sum(new)) / math.factorial(n)
    else:
        new = np.zeros(c + 1)
        new[0:2] = 1.0
        for j in range(3, n + 1):
            new = np.cumsum(new) / j
            if j <= c:
                new[j:] -= new[: c + 1 - j]
        prob = float(np.sum(new))
    return float(min(1.0, max(0.0, prob)))


def funnel_data(
    yi: FloatArray, vi: FloatArray, labels: tuple[str, ...], *, center: float, level: float = 0.95
) -> FunnelData:
    """Points of a funnel plot (effect vs standard error) and its pseudo confidence region."""
    se = np.sqrt(np.asarray(vi, dtype=float))
    return FunnelData(
        yi=tuple(float(x) for x in yi),
        sei=tuple(float(x) for x in se),
        labels=labels,
        center=center,
        level=level,
        se_max=float(np.max(se)),
    )


def trim_and_fill(
    yi: FloatArray,
    vi: FloatArray,
    *,
    model: str = "random",
    tau2_method: str = "REML",
    side: str | None = None,
    measure: str = "GEN",
    level: float = 0.95,
    max_iter: int = 100,
) -> TrimFillResult:
    """Duval and Tweedie's trim-and-fill with the L0 estimator (metafor ``trimfill`` defaults).

    ``side`` is where studies are missing; by default it is chosen as metafor does, from the sign
    of the slope of a meta-regression of yi on sei (positive slope: missing on the left).
    Raises :class:`InvalidInput` with fewer than 3 studies, or when ``side`` is not given and
    every study has the same standard error (the slope is undefined; metafor stops too).

    References
    ----------
    Duval & Tweedie (2000).
    """
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    k = y.shape[0]
    if k < 3:
        raise InvalidInput(f"trim-and-fill needs at least 3 studies (got {k})")

    def fit(yy: FloatArray, vv: FloatArray) -> float:
        if model == "random":
            return RandomEffects(tau2_method=tau2_method).fit(yy, vv).estimate_
        return FixedEffect().fit(yy, vv).estimate_

    if side is None and all_identical(y):
        side = "left"  # no asymmetry to read a side from; nothing will be imputed
    if side is None and all_identical(np.sqrt(v)):
        # The side comes from the slope on sei, which a constant sei leaves undefined (metafor
        # stops: "missing value where TRUE/FALSE needed").
        raise InvalidInput(
            "trim-and-fill is undefined: every study has the same standard error, so the side "
            "of the missing studies cannot be estimated"
        )
    if side is None:
        x = np.column_stack([np.ones(k), np.sqrt(v)])
        tau2 = _reml_metareg_tau2(y, v, x) if model == "random" else 0.0
        w = 1.0 / (v + tau2)
        wx = x * w[:, None]
        slope = float(np.linalg.solve(x.T @ wx, wx.T @ y)[1])
        side = "right" if slope < 0 else "left"
    if side not in ("left", "right"):
        raise InvalidInput(f"side {side!r} must be left or right")
    flip = -1.0 if side == "right" else 1.0
    ys = flip * y
    order = np.argsort(ys, kind="stable")
    ys, vs = ys[order], v[order]
    k0 = 0
    beta = fit(ys, vs)
    for _ in range(max_iter if not all_identical(y) else 0):  # identical: nothing to impute
        beta = fit(ys[: k - k0], vs[: k - k0])
        dev = ys - beta
        # Ordinal ranks (ties broken by position, as scipy's rankdata(method="ordinal")).
        ranks = np.empty(dev.shape[0])
        ranks[np.argsort(np.abs(dev), kind="stable")] = np.arange(1, dev.shape[0] + 1)
        s_r = float(np.sum(ranks[dev > 0]))
        new = max(0, round((4 * s_r - k * (k + 1)) / (2 * k - 1)))
        new = min(new, k - 1)
        if new == k0:
            break
        k0 = new
    fill_y = 2 * beta - ys[k - k0 :] if k0 > 0 else np.array([])
    fill_v = vs[k - k0 :] if k0 > 0 else np.array([])
    all_y = np.concatenate([ys, fill_y]) * flip
    all_v = np.concatenate([vs, fill_v])
    if model == "random":
        tau2 = estimate_tau2(all_y, all_v, tau2_method)
        w = 1.0 / (all_v + tau2)
    else:
        tau2 = 0.0
        w = 1.0 / all_v
    est = float(np.sum(w * all_y) / np.sum(w))
    se = math.sqrt(1.0 / float(np.sum(w)))
    adjusted = _interval(
        est,
        se,
        level=level,
        df=None,
        ratio=measure in ("OR", "RR"),
        tau2=tau2 if model == "random" else None,
    )
    return TrimFillResult(
        side=side,
        k0=int(k0),
        estimator="L0",
        filled_yi=tuple(float(a) for a in fill_y * flip),
        filled_vi=tuple(float(a) for a in fill_v),
        adjusted=adjusted,
    )
