"""The normal, χ² and Student t distribution functions the analysis needs, in plain Python.

Importing ``scipy.special`` costs about half a second (it pulls numpy's testing, f2py and array-API
layers), which made ``reviewtool analyze file`` on a three-study CSV take well over a second for a
millisecond of arithmetic. These functions give the same numbers as the scipy/Cephes routines they
replace (``ndtr``, ``ndtri``, ``chdtrc``, ``stdtr``, ``stdtrit``; agreement to ~1e-13 relative,
checked against scipy in ``tests/test_analysis_distributions.py``) and as R's ``pnorm``, ``qnorm``,
``pchisq``, ``pt`` and ``qt`` that metafor calls.

Sources: the normal tail is ``math.erfc`` (C99 ``erfc``); the normal quantile is
``statistics.NormalDist.inv_cdf`` (Wichura 1988, algorithm AS 241, accurate to about 1e-16); the
regularised incomplete gamma and beta functions are evaluated by their power series and
continued fractions with the modified Lentz method (Press, Teukolsky, Vetterling & Flannery,
*Numerical Recipes*, 3rd ed., §6.2 and §6.4); the t quantile by safeguarded Newton steps on
the t upper tail, with the closed forms for 1 and 2 degrees of freedom (Hill 1970, CACM 13:617).
"""

from __future__ import annotations

import math
from statistics import NormalDist

_EPS = 1e-16
_TINY = 1e-300
_MAX_ITERATIONS = 10_000
_STANDARD_NORMAL = NormalDist()


def log_gamma(x: float) -> float:
    """log |Γ(x)| (scipy ``gammaln``, R ``lgamma``): ``math.lgamma``, with +inf at the poles
    (0, -1, -2, …) where ``math.lgamma`` raises."""
    try:
        return math.lgamma(x)
    except ValueError:
        return math.inf


def norm_sf(x: float) -> float:
    """Upper tail of the standard normal, P(Z > x) (scipy ``ndtr(-x)``, R ``pnorm(x, lower=FALSE)``)."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def norm_cdf(x: float) -> float:
    """P(Z ≤ x) of the standard normal (scipy ``ndtr``, R ``pnorm``)."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def norm_ppf(p: float) -> float:
    """The standard normal quantile for probability ``p`` in (0, 1) (scipy ``ndtri``, R ``qnorm``);
    ValueError outside (0, 1)."""
    return _STANDARD_NORMAL.inv_cdf(p)


def _gamma_q(a: float, x: float) -> float:
    """The regularised upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a), a > 0, x ≥ 0."""
    if x <= 0.0:
        return 1.0
    front = math.exp(-x + a * math.log(x) - math.lgamma(a))
    if x < a + 1.0:  # power series for P(a, x), Q = 1 - P
        term = total = 1.0 / a
        ap = a
        for _ in range(_MAX_ITERATIONS):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return max(0.0, 1.0 - total * front)
    # Continued fraction for Q(a, x) (modified Lentz).
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITERATIONS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return front * h


def chi2_sf(df: float, x: float) -> float:
    """P(X > x) for X ~ χ² with ``df`` > 0 degrees of freedom (scipy ``chdtrc``, R
    ``pchisq(x, df, lower.tail=FALSE)``): Q(df/2, x/2). NaN for a NaN ``x``."""
    if math.isnan(x) or math.isnan(df):
        return math.nan
    if math.isinf(x):
        return 0.0
    return _gamma_q(df / 2.0, x / 2.0)


def _beta_cf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = _TINY if abs(d) < _TINY else d
    d = 1.0 / d
    h = d
    for m in range(1, _MAX_ITERATIONS):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1.0 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1.0 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def _beta_i(a: float, b: float, x: float, y: float) -> float:
    """The regularised incomplete beta function I_x(a, b), with ``y`` = 1 - x given exactly."""
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(y)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_cf(a, b, x) / a
    return 1.0 - front * _beta_cf(b, a, y) / b


def t_sf(df: float, t: float) -> float:
    """P(T > t) for Student's t with ``df`` > 0 degrees of freedom (scipy ``stdtr(df, -t)``, R
    ``pt(t, df, lower.tail=FALSE)``): ½ I_{df/(df+t²)}(df/2, ½) for t ≥ 0."""
    if math.isnan(t) or math.isnan(df):
        return math.nan
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    t2 = t * t
    tail = 0.5 * _beta_i(df / 2.0, 0.5, df / (df + t2), t2 / (df + t2))
    return tail if t >= 0 else 1.0 - tail


def t_cdf(df: float, t: float) -> float:
    """P(T ≤ t) for Student's t with ``df`` degrees of freedom (scipy ``stdtr``, R ``pt``)."""
    return t_sf(df, -t)


def _t_pdf(df: float, t: float) -> float:
    log_c = math.lgamma((df + 1.0) / 2.0) - math.lgamma(df / 2.0) - 0.5 * math.log(df * math.pi)
    return math.exp(log_c - (df + 1.0) / 2.0 * math.log1p(t * t / df))


def t_ppf(df: float, p: float) -> float:
    """The quantile of Student's t with ``df`` > 0 degrees of freedom for ``p`` in (0, 1) (scipy
    ``stdtrit``, R ``qt``); ValueError outside (0, 1)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"probability {p} is not in (0, 1)")
    if p < 0.5:
        return -t_ppf(df, 1.0 - p)
    q = 1.0 - p  # the upper tail to reach
    if q == 0.5:
        return 0.0
    if df == 1.0:  # Cauchy: tan(π(p - ½)) = 1/tan(πq), without the cancellation near p = 1
        return 1.0 / math.tan(math.pi * q)
    if df == 2.0:
        return (2.0 * p - 1.0) / math.sqrt(2.0 * p * q)
    t = max(norm_ppf(p), 1e-3)
    lo = 0.0
    while t_sf(df, t) > q:  # bracket: t_sf is decreasing
        lo, t = t, 2.0 * t
    hi = t
    for _ in range(200):
        excess = t_sf(df, t) - q
        if excess > 0:
            lo = t
        else:
            hi = t
        step = excess / _t_pdf(df, t)
        nxt = t + step
        if not lo < nxt < hi:
            nxt = (lo + hi) / 2.0
        if abs(nxt - t) <= 4e-16 * abs(nxt):
            return nxt
        t = nxt
    return t
