"""Check that a reported estimate, confidence interval and p-value agree with each other.

For a Wald-type result, est ± z·SE gives the CI, so the CI fixes both the estimate (its midpoint,
on the log scale for ratios) and the p-value. Printed numbers are rounded, so every comparison
allows for rounding to the printed number of decimals.

References
----------
Altman, D. G., & Bland, J. M. (2011). How to obtain the P value from a confidence interval. BMJ,
343, d2304.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from scipy import stats

from reviewtool.analysis.results import CheckResult
from reviewtool.errors import InvalidInput

Z95 = float(stats.norm.ppf(0.975))


def _decimals(text: str) -> int:
    try:
        exponent = Decimal(text.strip()).as_tuple().exponent
    except InvalidOperation:
        return 2
    return max(0, -int(exponent)) if isinstance(exponent, int) else 2


def parse_p(text: str) -> tuple[str, float]:
    """``"<0.001"`` -> (``"<"``, 0.001); ``"0.04"`` -> (``"="``, 0.04)."""
    t = text.strip().replace(" ", "").lower().lstrip("p")
    for sign in ("<=", "≤", "<", ">=", ">", "="):
        if t.startswith(sign):
            rel = "<" if sign in ("<", "<=", "≤") else ">" if sign in (">", ">=") else "="
            return rel, float(t[len(sign) :])
    return "=", float(t)


def check_reported(
    estimate: str | float,
    ci_low: str | float,
    ci_high: str | float,
    p: str | float | None = None,
    *,
    ratio: bool = False,
    level: float = 0.95,
    label: str = "",
) -> CheckResult:
    """Say whether estimate, CI and p are consistent, listing each problem found.

    Parameters
    ----------
    estimate, ci_low, ci_high, p : as printed (strings keep the number of decimals; ``p`` may be
        ``"<0.001"``).
    ratio : True for OR/RR/HR, which are symmetric on the log scale.
    """
    texts = [str(estimate), str(ci_low), str(ci_high)]
    try:
        est, lo, hi = (float(t) for t in texts)
    except ValueError:
        raise InvalidInput(f"{label or 'result'}: estimate and CI must be numbers") from None
    digits = (
        min(_decimals(t) for t in texts)
        if not all(isinstance(x, float) for x in (estimate, ci_low, ci_high))
        else 4
    )
    half_unit = 0.5 * 10.0 ** (-digits)
    crit = float(stats.norm.ppf(0.5 + level / 2))
    problems: list[str] = []
    if lo > hi:
        problems.append(f"CI lower bound {lo:g} is above the upper bound {hi:g}")
        lo, hi = hi, lo
    if not lo - half_unit <= est <= hi + half_unit:
        problems.append(f"estimate {est:g} lies outside its CI ({lo:g} to {hi:g})")
    if ratio:
        if min(est, lo, hi) <= 0:
            return CheckResult(label, False, ("ratio estimate or CI is not positive",), None, None)

        # Rounding bounds move on the log scale by about half_unit / value.
        def tr(x: float) -> float:
            return math.log(x)

        slack = [half_unit / max(abs(x), 1e-12) for x in (est, lo, hi)]
        null = 0.0
    else:

        def tr(x: float) -> float:
            return x

        slack = [half_unit] * 3
        null = 0.0
    t_est, t_lo, t_hi = tr(est), tr(lo), tr(hi)
    mid = (t_lo + t_hi) / 2
    half = (t_hi - t_lo) / 2
    implied_est = math.exp(mid) if ratio else mid
    # The midpoint may move by the rounding of both bounds; allow that plus the estimate's own.
    tol_mid = slack[0] + (slack[1] + slack[2]) / 2 + 1e-9
    if abs(t_est - mid) > tol_mid and not any("outside" in pr for pr in problems):
        problems.append(
            f"estimate {est:g} is not at the centre of its CI (expected about {implied_est:.3g})"
        )
    implied_p: float | None = None
    if half > 0:
        se = half / crit
        implied_p = float(2 * stats.norm.sf(abs(t_est - null) / se))
        if p is not None and str(p).strip() != "":
            rel, p_val = parse_p(str(p))
            # Range of p-values the rounded numbers allow.
            se_lo = max((half - (slack[1] + slack[2]) / 2), 1e-12) / crit
            se_hi = (half + (slack[1] + slack[2]) / 2) / crit
            z_hi = (abs(t_est - null) + slack[0]) / se_lo
            z_lo = max(abs(t_est - null) - slack[0], 0.0) / se_hi
            p_min = float(2 * stats.norm.sf(z_hi))
            p_max = float(2 * stats.norm.sf(z_lo))
            p_digits = _decimals(str(p).split("<")[-1].split(">")[-1].split("=")[-1])
            p_half = 0.5 * 10.0 ** (-p_digits)
            if rel == "<":
                ok = p_min < p_val + p_half
            elif rel == ">":
                ok = p_max > p_val - p_half
            else:
                ok = p_min - p_half <= p_val <= p_max + p_half
            if not ok:
                problems.append(
                    f"p {rel} {p_val:g} does not match the CI, which implies p ≈ {implied_p:.2g}"
                )
            excludes_null = not (t_lo <= null <= t_hi)
            alpha = 1 - level
            if rel in ("<", "=") and excludes_null != (p_val < alpha) and ok:
                problems.append(
                    "the CI and the p-value disagree about significance at "
                    f"{alpha:g} (CI {'excludes' if excludes_null else 'includes'} the null)"
                )
    return CheckResult(
        label=label,
        consistent=not problems,
        problems=tuple(problems),
        implied_p=implied_p,
        implied_estimate=implied_est,
    )
