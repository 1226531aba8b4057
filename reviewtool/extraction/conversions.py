"""Standard conversions of reported summary statistics to the mean and SD a meta-analysis needs.

Every function is pure: it checks its inputs, computes one published formula and returns a frozen
:class:`Converted` that carries the value(s), the inputs, the formula and its source, so the
extraction stage can store a converted value's provenance as "converted: inputs + formula + source".
Impossible input (``n < 2``, an SD or SE that is not positive, a confidence interval whose upper
limit is below its lower limit, quartiles out of order ...) raises
:class:`~reviewtool.errors.InvalidInput` naming the argument.

Defaults and why
----------------
- A 95% CI of a mean or of a difference in means is turned into an SD with Student's t when the
  group is small (``n < 60``, the Cochrane Handbook's "say less than 60 in each group") and with
  the normal quantile otherwise (``distribution="auto"``); pass ``"t"`` or ``"normal"`` to say what
  the report used.
- Median with IQR or range: the **mean by Luo et al. (2018)** and the **SD by Wan et al. (2014)**.
  Both use the sample size: Luo's weights depend on n and were derived to minimise the mean
  squared error (in Luo's simulations they beat Wan's and Hozo's means), and Wan's SD replaces
  Hozo's fixed range rules by the expected range or IQR of n normal values. It is the pairing R
  metafor's ``conv.fivenum()`` uses by default ("luo/wan/shi"; Shi et al. 2020 only for the SD of
  a five-number summary) and R meta's default (``method.mean = "Luo"``). Wan's mean and Hozo et
  al. (2005) stay available as ``mean_method="wan"`` / ``"hozo"`` for sensitivity analyses and to
  reproduce older reviews.

References
----------
Higgins JPT, Li T, Deeks JJ (editors). Chapter 6: Choosing effect measures and computing estimates
of effect. In: Higgins JPT, Thomas J, Chandler J, et al. (editors). Cochrane Handbook for Systematic
Reviews of Interventions version 6.5. Cochrane, 2024 (sections 6.5.2.2, 6.5.2.3, 6.5.2.5, 6.5.2.8;
sections 7.7.3.2, 7.7.3.3 and 16.1.3.2 of version 5.1).
Wan X, Wang W, Liu J, Tong T. Estimating the sample mean and standard deviation from the sample
size, median, range and/or interquartile range. BMC Med Res Methodol 2014;14:135.
Luo D, Wan X, Liu J, Tong T. Optimally estimating the sample mean from the sample size, median,
mid-range, and/or mid-quartile range. Stat Methods Med Res 2018;27(6):1785-1805.
Hozo SP, Djulbegovic B, Hozo I. Estimating the mean and variance from the median, range, and the
size of a sample. BMC Med Res Methodol 2005;5:13.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

from reviewtool.errors import InvalidInput

HANDBOOK = (
    "Cochrane Handbook for Systematic Reviews of Interventions v6.5 (2024), chapter 6, section"
)
HANDBOOK_SE_CI = f"{HANDBOOK} 6.5.2.2 (v5.1: 7.7.3.2)"
HANDBOOK_DIFFERENCE = f"{HANDBOOK} 6.5.2.3 (v5.1: 7.7.3.3)"
HANDBOOK_CHANGE = f"{HANDBOOK} 6.5.2.8 (v5.1: 16.1.3.2)"
WAN_2014 = "Wan X, Wang W, Liu J, Tong T. BMC Med Res Methodol 2014;14:135"
LUO_2018 = "Luo D, Wan X, Liu J, Tong T. Stat Methods Med Res 2018;27(6):1785-1805"
HOZO_2005 = "Hozo SP, Djulbegovic B, Hozo I. BMC Med Res Methodol 2005;5:13"

#: Below this group size a reported CI is taken to be t-based (Cochrane Handbook 6.5.2.2:
#: "If the sample size is small (say less than 60 in each group) then confidence intervals
#: should have been calculated using a value from a t distribution").
T_BELOW_N = 60

Distribution = Literal["auto", "t", "normal"]
MeanMethod = Literal["luo", "wan", "hozo"]
SdMethod = Literal["wan", "hozo"]

_NORMAL = NormalDist()


@dataclass(frozen=True)
class Converted:
    """One conversion's result and its provenance.

    Attributes
    ----------
    values : the results as ``(name, value)`` pairs, e.g. ``(("sd", 5.04),)`` or
        ``(("mean", 4.36), ("sd", 2.21))``; read them with ``result["sd"]`` or ``result.sd``.
    inputs : the reported numbers the result was computed from, as ``(name, value)`` pairs.
    formula : the formula in words, e.g. ``"SD = √n·(upper − lower)/(2·t(0.975, n−1))"``.
    method : a stable short name of the method, e.g. ``"sd_from_ci/t"``, ``"luo_wan"``.
    source : the published source of the formula (paper or Handbook section).
    """

    values: tuple[tuple[str, float], ...]
    inputs: tuple[tuple[str, float], ...]
    formula: str
    method: str
    source: str

    def __getitem__(self, name: str) -> float:
        for key, value in self.values:
            if key == name:
                return value
        raise KeyError(name)

    @property
    def sd(self) -> float:
        """The converted standard deviation (``KeyError`` if this conversion gives none)."""
        return self["sd"]

    @property
    def mean(self) -> float:
        """The converted mean (``KeyError`` if this conversion gives none)."""
        return self["mean"]

    def as_dict(self) -> dict[str, object]:
        """Plain data for storage: values, inputs, formula, method and source."""
        return {
            "values": dict(self.values),
            "inputs": dict(self.inputs),
            "formula": self.formula,
            "method": self.method,
            "source": self.source,
        }

    def provenance(self) -> str:
        """One line: ``converted: se=1.2, n=25; SD = SE·√n; <source>``."""
        inputs = ", ".join(f"{name}={_fmt(value)}" for name, value in self.inputs)
        return f"converted: {inputs}; {self.formula}; {self.source}"


# --------------------------------------------------------------------------- input checks


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _finite(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise InvalidInput(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _positive(name: str, value: float) -> float:
    value = _finite(name, value)
    if value <= 0:
        raise InvalidInput(f"{name} must be > 0, got {_fmt(value)}")
    return value


def _size(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{name} must be a whole number of participants, got {value!r}")
    if not math.isfinite(value) or not float(value).is_integer():
        raise InvalidInput(f"{name} must be a whole number of participants, got {value!r}")
    if value < 2:
        raise InvalidInput(f"{name} must be at least 2 participants, got {_fmt(value)}")
    return int(value)


def _interval(lower_name: str, lower: float, upper_name: str, upper: float) -> tuple[float, float]:
    lower = _finite(lower_name, lower)
    upper = _finite(upper_name, upper)
    if upper <= lower:
        raise InvalidInput(
            f"{upper_name} ({_fmt(upper)}) must be greater than {lower_name} ({_fmt(lower)})"
        )
    return lower, upper


def _level(level: float) -> float:
    level = _finite("level", level)
    if not 0 < level < 1:
        raise InvalidInput(f"level must be between 0 and 1 (0.95 for a 95% CI), got {level}")
    return level


def _ordered(pairs: list[tuple[str, float]]) -> None:
    """Refuse summary values out of order (min ≤ q1 ≤ median ≤ q3 ≤ max), naming the pair."""
    for (name_a, a), (name_b, b) in itertools.pairwise(pairs):
        if a > b:
            raise InvalidInput(
                f"{name_a} ({_fmt(a)}) must not be greater than {name_b} ({_fmt(b)})"
            )
    (first_name, first), (last_name, last) = pairs[0], pairs[-1]
    if last <= first:
        raise InvalidInput(
            f"{last_name} ({_fmt(last)}) must be greater than {first_name} ({_fmt(first)})"
        )


def _t_quantile(probability: float, df: int) -> float:
    from scipy import stats  # lazy: scipy is heavy

    return float(stats.t.ppf(probability, df))


def _multiplier(
    level: float, df: int, n_smallest: int, distribution: Distribution
) -> tuple[str, float]:
    """The number of SEs from the centre to one CI limit, and which distribution gave it."""
    if distribution not in ("auto", "t", "normal"):
        raise InvalidInput(f"distribution must be auto, t or normal, got {distribution!r}")
    upper_tail = 1 - (1 - level) / 2
    use_t = distribution == "t" or (distribution == "auto" and n_smallest < T_BELOW_N)
    if use_t:
        return "t", _t_quantile(upper_tail, df)
    return "normal", _NORMAL.inv_cdf(upper_tail)


# --------------------------------------------------------------------------- SE and CI of a mean


def sd_from_se(se: float, n: int) -> Converted:
    """SD of a group from the standard error of its mean: ``SD = SE·√n``.

    Parameters
    ----------
    se : standard error of the group mean (> 0, the outcome's unit).
    n : participants in the group (≥ 2).

    Returns the SD in the outcome's unit. Source: Cochrane Handbook v6.5 section 6.5.2.2
    ("the standard deviation for each group is obtained ... SD = SE × √N").
    Raises InvalidInput naming ``se`` or ``n``.
    """
    se = _positive("se", se)
    n = _size("n", n)
    return Converted(
        values=(("sd", se * math.sqrt(n)),),
        inputs=(("se", se), ("n", n)),
        formula="SD = SE·√n",
        method="sd_from_se",
        source=HANDBOOK_SE_CI,
    )


def sd_from_ci(
    lower: float,
    upper: float,
    n: int,
    *,
    level: float = 0.95,
    distribution: Distribution = "auto",
) -> Converted:
    """SD of a group from the confidence interval of its mean.

    ``SD = √n·(upper − lower)/(2·q)`` where ``q`` is the normal quantile ``z(1 − α/2)``
    (``2q = 3.92`` for a 95% CI) for a large group and Student's ``t(1 − α/2, n − 1)`` for a small
    one: for ``n = 25`` the Handbook replaces 3.92 by ``2 × 2.0639 = 4.128``.

    Parameters
    ----------
    lower, upper : the CI limits of the group mean (upper > lower; the CI must be symmetric).
    n : participants in the group (≥ 2).
    level : the confidence level (0.95 for a 95% CI).
    distribution : ``"auto"`` (t when ``n < 60``, as the Handbook advises, else normal),
        ``"t"`` or ``"normal"`` to follow what the report says it used.

    Source: Cochrane Handbook v6.5 section 6.5.2.2. Raises InvalidInput naming the argument.
    """
    lower, upper = _interval("lower", lower, "upper", upper)
    n = _size("n", n)
    level = _level(level)
    used, q = _multiplier(level, n - 1, n, distribution)
    sd = math.sqrt(n) * (upper - lower) / (2 * q)
    if used == "t":
        formula = (
            f"SD = √n·(upper − lower)/(2·t({_fmt(1 - (1 - level) / 2)}, n−1)), 2t = {2 * q:.4f}"
        )
    else:
        formula = f"SD = √n·(upper − lower)/(2·z({_fmt(1 - (1 - level) / 2)})), 2z = {2 * q:.4f}"
    return Converted(
        values=(("sd", sd),),
        inputs=(("lower", lower), ("upper", upper), ("n", n), ("level", level)),
        formula=formula,
        method=f"sd_from_ci/{used}",
        source=HANDBOOK_SE_CI,
    )


# --------------------------------------------------------------------------- differences in means


def _pooled(se: float, n1: int, n2: int) -> float:
    return se / math.sqrt(1 / n1 + 1 / n2)


def sd_from_se_of_difference(se: float, n1: int, n2: int) -> Converted:
    """Within-group SD from the standard error of a difference between two means.

    ``SD = SE / √(1/n1 + 1/n2)``; the same SD is then used for both groups.

    Parameters
    ----------
    se : standard error of the mean difference (> 0).
    n1, n2 : participants in the experimental and the comparator group (each ≥ 2).

    Source: Cochrane Handbook v6.5 section 6.5.2.3. Raises InvalidInput naming the argument.
    """
    se = _positive("se", se)
    n1 = _size("n1", n1)
    n2 = _size("n2", n2)
    return Converted(
        values=(("sd", _pooled(se, n1, n2)),),
        inputs=(("se", se), ("n1", n1), ("n2", n2)),
        formula="SD = SE / √(1/n1 + 1/n2)",
        method="sd_from_se_of_difference",
        source=HANDBOOK_DIFFERENCE,
    )


def sd_from_ci_of_difference(
    lower: float,
    upper: float,
    n1: int,
    n2: int,
    *,
    level: float = 0.95,
    distribution: Distribution = "auto",
) -> Converted:
    """Within-group SD from the confidence interval of a difference between two means.

    ``SE = (upper − lower)/(2·q)`` with ``q = t(1 − α/2, n1 + n2 − 2)`` for small groups (either
    group under 60) or ``z(1 − α/2)`` for large ones, then ``SD = SE / √(1/n1 + 1/n2)``. Also
    returns ``se``, the standard error of the difference.

    Parameters
    ----------
    lower, upper : CI limits of the mean difference (upper > lower).
    n1, n2 : participants in the two groups (each ≥ 2).
    level, distribution : as in :func:`sd_from_ci`.

    Source: Cochrane Handbook v6.5 section 6.5.2.3 ("degrees of freedom equal to NE + NC − 2").
    Raises InvalidInput naming the argument.
    """
    lower, upper = _interval("lower", lower, "upper", upper)
    n1 = _size("n1", n1)
    n2 = _size("n2", n2)
    level = _level(level)
    used, q = _multiplier(level, n1 + n2 - 2, min(n1, n2), distribution)
    se = (upper - lower) / (2 * q)
    quantile = "t(·, n1+n2−2)" if used == "t" else "z"
    return Converted(
        values=(("sd", _pooled(se, n1, n2)), ("se", se)),
        inputs=(("lower", lower), ("upper", upper), ("n1", n1), ("n2", n2), ("level", level)),
        formula=f"SE = (upper − lower)/(2·{quantile}), 2q = {2 * q:.4f}; SD = SE/√(1/n1 + 1/n2)",
        method=f"sd_from_ci_of_difference/{used}",
        source=HANDBOOK_DIFFERENCE,
    )


def sd_from_p_of_difference(mean_difference: float, p: float, n1: int, n2: int) -> Converted:
    """Within-group SD from a two-sided t-test P value of a difference between two means.

    ``t = t⁻¹(1 − P/2, n1 + n2 − 2)``, ``SE = |MD| / t``, ``SD = SE / √(1/n1 + 1/n2)``. Also returns
    ``t`` and ``se``. An exact P value is needed: a "P < 0.05" gives at best a bound.

    Parameters
    ----------
    mean_difference : the difference in means (not 0).
    p : the exact two-sided P value, 0 < p < 1.
    n1, n2 : participants in the two groups (each ≥ 2).

    Source: Cochrane Handbook v6.5 section 6.5.2.3 (worked example: MD 3.8, P = 0.008, groups of
    25 and 22 give t = 2.78 and SE = 1.37). Raises InvalidInput naming the argument.
    """
    mean_difference = _finite("mean_difference", mean_difference)
    if mean_difference == 0:
        raise InvalidInput("mean_difference must not be 0 to be converted with its P value")
    p = _finite("p", p)
    if not 0 < p < 1:
        raise InvalidInput(f"p must be between 0 and 1, got {p}")
    n1 = _size("n1", n1)
    n2 = _size("n2", n2)
    t = _t_quantile(1 - p / 2, n1 + n2 - 2)
    se = abs(mean_difference) / t
    return Converted(
        values=(("sd", _pooled(se, n1, n2)), ("se", se), ("t", t)),
        inputs=(("mean_difference", mean_difference), ("p", p), ("n1", n1), ("n2", n2)),
        formula="t = t⁻¹(1 − P/2, n1+n2−2); SE = |MD|/t; SD = SE/√(1/n1 + 1/n2)",
        method="sd_from_p_of_difference",
        source=HANDBOOK_DIFFERENCE,
    )


# --------------------------------------------------------------------------- medians


def wan_range_divisor(n: int) -> float:
    """ξ(n) = 2·Φ⁻¹((n − 0.375)/(n + 0.25)), Wan et al. (2014), the range divisor.

    The expected range of ``n`` standard normal values (Blom's approximation); within 0.5% of the
    exact values of Wan's Table 1 from n = 10 on (4.5% at n = 2).
    """
    n = _size("n", n)
    return 2 * _NORMAL.inv_cdf((n - 0.375) / (n + 0.25))


def wan_iqr_divisor(n: int) -> float:
    """η(n) = 2·Φ⁻¹((0.75n − 0.125)/(n + 0.25)), Wan et al. (2014) equation (16), the IQR divisor.

    The expected interquartile range of ``n`` standard normal values; tends to 1.349 for large n
    and agrees with Wan's Table 2 to 0.5% for every n it lists.
    """
    n = _size("n", n)
    return 2 * _NORMAL.inv_cdf((0.75 * n - 0.125) / (n + 0.25))


def mean_sd_from_median_iqr(
    median: float,
    q1: float,
    q3: float,
    n: int,
    *,
    mean_method: Literal["luo", "wan"] = "luo",
) -> Converted:
    """Mean and SD from the median, the first and third quartiles and the size (scenario S2/C3).

    Mean (default, Luo et al. 2018, equation 15):
    ``mean = w·(q1 + q3)/2 + (1 − w)·median`` with ``w = 0.7 + 0.39/n``.
    Mean (``mean_method="wan"``, Wan et al. 2014, equation 14): ``(q1 + median + q3)/3``.
    SD (Wan et al. 2014, equation 16): ``SD = (q3 − q1)/η(n)``, see :func:`wan_iqr_divisor`.

    Luo's mean is the default because its n-dependent weight minimises the mean squared error;
    with Wan's SD this is the pairing of metafor's ``conv.fivenum`` and R meta. All three assume
    roughly normal data; a median far from the middle of the IQR signals skew.

    Parameters
    ----------
    median, q1, q3 : q1 ≤ median ≤ q3, q1 < q3 (the outcome's unit).
    n : participants (≥ 2).

    Raises InvalidInput naming the argument.
    """
    median = _finite("median", median)
    q1 = _finite("q1", q1)
    q3 = _finite("q3", q3)
    n = _size("n", n)
    _ordered([("q1", q1), ("median", median), ("q3", q3)])
    sd = (q3 - q1) / wan_iqr_divisor(n)
    if mean_method == "luo":
        w = 0.7 + 0.39 / n
        mean = w * (q1 + q3) / 2 + (1 - w) * median
        formula = (
            "mean = w·(q1+q3)/2 + (1−w)·median, w = 0.7 + 0.39/n (Luo eq. 15); "
            "SD = (q3 − q1)/η(n), η(n) = 2Φ⁻¹((0.75n − 0.125)/(n + 0.25)) (Wan eq. 16)"
        )
        source = f"{LUO_2018}; {WAN_2014}"
    elif mean_method == "wan":
        mean = (q1 + median + q3) / 3
        formula = (
            "mean = (q1 + median + q3)/3 (Wan eq. 14); "
            "SD = (q3 − q1)/η(n), η(n) = 2Φ⁻¹((0.75n − 0.125)/(n + 0.25)) (Wan eq. 16)"
        )
        source = WAN_2014
    else:
        raise InvalidInput(f"mean_method must be luo or wan, got {mean_method!r}")
    return Converted(
        values=(("mean", mean), ("sd", sd)),
        inputs=(("median", median), ("q1", q1), ("q3", q3), ("n", n)),
        formula=formula,
        method=f"median_iqr/{mean_method}_wan",
        source=source,
    )


def mean_sd_from_median_range(
    median: float,
    minimum: float,
    maximum: float,
    n: int,
    *,
    mean_method: MeanMethod = "luo",
    sd_method: SdMethod = "wan",
) -> Converted:
    """Mean and SD from the median, the minimum, the maximum and the size (scenario S1/C1).

    Mean (default, Luo et al. 2018):
    ``mean = w·(min + max)/2 + (1 − w)·median`` with ``w = 4/(4 + n^0.75)``.
    Mean (``"wan"``, Wan et al. 2014): ``(min + 2·median + max)/4``.
    Mean (``"hozo"``, Hozo et al. 2005):
    ``(min + 2·median + max)/4 + (min − 2·median + max)/(4n)``.
    SD (default, Wan et al. 2014): ``SD = (max − min)/ξ(n)``, see
    :func:`wan_range_divisor`.
    SD (``"hozo"``, Hozo et al. 2005): ``√(((min − 2·median + max)²/4 + (max − min)²)/12)`` for
    n ≤ 15, ``range/4`` for 15 < n ≤ 70, ``range/6`` for n > 70.

    Luo's mean and Wan's SD are the defaults: both use n, and their papers' simulations show
    them less biased than Hozo's, whose SD ignores n within each of its three bands.

    Parameters
    ----------
    median, minimum, maximum : minimum ≤ median ≤ maximum, minimum < maximum.
    n : participants (≥ 2).

    Raises InvalidInput naming the argument.
    """
    median = _finite("median", median)
    minimum = _finite("minimum", minimum)
    maximum = _finite("maximum", maximum)
    n = _size("n", n)
    _ordered([("minimum", minimum), ("median", median), ("maximum", maximum)])
    sources: list[str] = []
    if mean_method == "luo":
        w = 4 / (4 + n**0.75)
        mean = w * (minimum + maximum) / 2 + (1 - w) * median
        mean_formula = "mean = w·(min+max)/2 + (1−w)·median, w = 4/(4 + n^0.75) (Luo)"
        sources.append(LUO_2018)
    elif mean_method == "wan":
        mean = (minimum + 2 * median + maximum) / 4
        mean_formula = "mean = (min + 2·median + max)/4 (Wan)"
        sources.append(WAN_2014)
    elif mean_method == "hozo":
        mean = (minimum + 2 * median + maximum) / 4 + (minimum - 2 * median + maximum) / (4 * n)
        mean_formula = "mean = (min + 2·median + max)/4 + (min − 2·median + max)/(4n) (Hozo)"
        sources.append(HOZO_2005)
    else:
        raise InvalidInput(f"mean_method must be luo, wan or hozo, got {mean_method!r}")
    spread = maximum - minimum
    if sd_method == "wan":
        sd = spread / wan_range_divisor(n)
        sd_formula = "SD = (max − min)/ξ(n), ξ(n) = 2Φ⁻¹((n − 0.375)/(n + 0.25)) (Wan)"
        source = WAN_2014
    elif sd_method == "hozo":
        if n <= 15:
            sd = math.sqrt(((minimum - 2 * median + maximum) ** 2 / 4 + spread**2) / 12)
            sd_formula = "SD = √(((min − 2·median + max)²/4 + (max − min)²)/12) (Hozo, n ≤ 15)"
        elif n <= 70:
            sd = spread / 4
            sd_formula = "SD = (max − min)/4 (Hozo, 15 < n ≤ 70)"
        else:
            sd = spread / 6
            sd_formula = "SD = (max − min)/6 (Hozo, n > 70)"
        source = HOZO_2005
    else:
        raise InvalidInput(f"sd_method must be wan or hozo, got {sd_method!r}")
    if source not in sources:
        sources.append(source)
    return Converted(
        values=(("mean", mean), ("sd", sd)),
        inputs=(("median", median), ("minimum", minimum), ("maximum", maximum), ("n", n)),
        formula=f"{mean_formula}; {sd_formula}",
        method=f"median_range/{mean_method}_{sd_method}",
        source="; ".join(sources),
    )


def mean_sd_from_five_numbers(
    minimum: float,
    q1: float,
    median: float,
    q3: float,
    maximum: float,
    n: int,
    *,
    mean_method: Literal["luo", "wan"] = "luo",
) -> Converted:
    """Mean and SD from the five-number summary and the size (scenario S3/C2).

    Mean (default, Luo et al. 2018):
    ``mean = w1·(min + max)/2 + w2·(q1 + q3)/2 + (1 − w1 − w2)·median`` with
    ``w1 = 2.2/(2.2 + n^0.75)`` and ``w2 = 0.7 − 0.72/n^0.55``.
    Mean (``"wan"``, Wan et al. 2014, equation 10): ``(min + 2q1 + 2·median + 2q3 + max)/8``.
    SD (Wan et al. 2014, equation 13): ``SD = (max − min)/(2ξ(n)) + (q3 − q1)/(2η(n))``.

    Parameters
    ----------
    minimum, q1, median, q3, maximum : in that order, minimum < maximum.
    n : participants (≥ 2).

    Raises InvalidInput naming the argument.
    """
    values = [
        ("minimum", _finite("minimum", minimum)),
        ("q1", _finite("q1", q1)),
        ("median", _finite("median", median)),
        ("q3", _finite("q3", q3)),
        ("maximum", _finite("maximum", maximum)),
    ]
    n = _size("n", n)
    _ordered(values)
    lo, a, m, b, hi = (value for _, value in values)
    sd = (hi - lo) / (2 * wan_range_divisor(n)) + (b - a) / (2 * wan_iqr_divisor(n))
    sd_formula = "SD = (max − min)/(2ξ(n)) + (q3 − q1)/(2η(n)) (Wan eq. 13)"
    if mean_method == "luo":
        w1 = 2.2 / (2.2 + n**0.75)
        w2 = 0.7 - 0.72 / n**0.55
        mean = w1 * (lo + hi) / 2 + w2 * (a + b) / 2 + (1 - w1 - w2) * m
        mean_formula = (
            "mean = w1·(min+max)/2 + w2·(q1+q3)/2 + (1−w1−w2)·median, "
            "w1 = 2.2/(2.2 + n^0.75), w2 = 0.7 − 0.72/n^0.55 (Luo)"
        )
        source = f"{LUO_2018}; {WAN_2014}"
    elif mean_method == "wan":
        mean = (lo + 2 * a + 2 * m + 2 * b + hi) / 8
        mean_formula = "mean = (min + 2q1 + 2·median + 2q3 + max)/8 (Wan eq. 10)"
        source = WAN_2014
    else:
        raise InvalidInput(f"mean_method must be luo or wan, got {mean_method!r}")
    return Converted(
        values=(("mean", mean), ("sd", sd)),
        inputs=(*values, ("n", n)),
        formula=f"{mean_formula}; {sd_formula}",
        method=f"five_numbers/{mean_method}_wan",
        source=source,
    )


# --------------------------------------------------------------------------- change from baseline


def _correlation(name: str, value: float) -> float:
    value = _finite(name, value)
    if not -1 <= value <= 1:
        raise InvalidInput(f"{name} must be between -1 and 1, got {value}")
    return value


def sd_change_from_baseline(sd_baseline: float, sd_final: float, correlation: float) -> Converted:
    """SD of the change from baseline, imputed with an assumed baseline-final correlation.

    ``SD_change = √(SD_baseline² + SD_final² − 2·r·SD_baseline·SD_final)``.

    Parameters
    ----------
    sd_baseline, sd_final : the group's SD at baseline and at the final time point (> 0).
    correlation : r, the assumed correlation between baseline and final values (-1 ≤ r ≤ 1),
        typically imputed from a study that reports all three SDs
        (:func:`correlation_from_change`); it is a review setting and should be varied in a
        sensitivity analysis.

    Source: Cochrane Handbook v6.5 section 6.5.2.8. Raises InvalidInput naming the argument.
    """
    sd_baseline = _positive("sd_baseline", sd_baseline)
    sd_final = _positive("sd_final", sd_final)
    correlation = _correlation("correlation", correlation)
    variance = sd_baseline**2 + sd_final**2 - 2 * correlation * sd_baseline * sd_final
    if variance <= 0:
        raise InvalidInput(
            f"correlation {correlation} with sd_baseline {_fmt(sd_baseline)} and sd_final "
            f"{_fmt(sd_final)} gives no spread of change; use a correlation below 1"
        )
    return Converted(
        values=(("sd", math.sqrt(variance)),),
        inputs=(("sd_baseline", sd_baseline), ("sd_final", sd_final), ("correlation", correlation)),
        formula="SD_change = √(SD_baseline² + SD_final² − 2·r·SD_baseline·SD_final)",
        method="sd_change_from_baseline",
        source=HANDBOOK_CHANGE,
    )


def correlation_from_change(sd_baseline: float, sd_final: float, sd_change: float) -> Converted:
    """The baseline-final correlation implied by a study that reports all three SDs.

    ``r = (SD_baseline² + SD_final² − SD_change²)/(2·SD_baseline·SD_final)``; the inverse of
    :func:`sd_change_from_baseline`, used to choose the r to impute for other studies.

    Parameters
    ----------
    sd_baseline, sd_final, sd_change : the group's SDs (> 0), in the outcome's unit.

    Source: Cochrane Handbook v6.5 section 6.5.2.8. Raises InvalidInput naming the argument, and
    when the three SDs are inconsistent (implied r outside -1..1).
    """
    sd_baseline = _positive("sd_baseline", sd_baseline)
    sd_final = _positive("sd_final", sd_final)
    sd_change = _positive("sd_change", sd_change)
    r = (sd_baseline**2 + sd_final**2 - sd_change**2) / (2 * sd_baseline * sd_final)
    if not -1 <= r <= 1:
        raise InvalidInput(
            f"sd_change {_fmt(sd_change)} is impossible with sd_baseline {_fmt(sd_baseline)} and "
            f"sd_final {_fmt(sd_final)} (implied correlation {r:.3f} is outside -1..1)"
        )
    return Converted(
        values=(("correlation", r),),
        inputs=(("sd_baseline", sd_baseline), ("sd_final", sd_final), ("sd_change", sd_change)),
        formula="r = (SD_baseline² + SD_final² − SD_change²)/(2·SD_baseline·SD_final)",
        method="correlation_from_change",
        source=HANDBOOK_CHANGE,
    )


# --------------------------------------------------------------------------- dichotomous


def events_from_percentage(percentage: float, total: int, *, decimals: int = 0) -> Converted:
    """Number of events from a reported percentage of a group.

    ``events = round(percentage·total/100)``, halves rounded up. The percentage is taken to be
    printed with ``decimals`` decimals, so every whole number of events whose exact percentage
    ``100·events/total`` lies within half a unit of the last printed decimal fits the report;
    ``events_min`` and ``events_max`` give that range (they differ when the total is large for
    the precision printed, e.g. 10% of 1000 fits 95 to 105 events). No fitting number refuses the
    conversion (a typo, or a percentage of another denominator). Plain arithmetic, no source
    beyond the definition of a percentage; the rounding rule is ours.

    Parameters
    ----------
    percentage : the reported percentage, 0..100.
    total : participants the percentage is of (≥ 1).
    decimals : decimals the report printed the percentage with (≥ 0).

    Returns ``events`` (float, whole), ``events_min`` and ``events_max``.
    Raises InvalidInput naming the argument.
    """
    percentage = _finite("percentage", percentage)
    if not 0 <= percentage <= 100:
        raise InvalidInput(f"percentage must be between 0 and 100, got {percentage}")
    if isinstance(total, bool) or not isinstance(total, int) or total < 1:
        raise InvalidInput(f"total must be a whole number of participants ≥ 1, got {total!r}")
    if isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
        raise InvalidInput(f"decimals must be a whole number ≥ 0, got {decimals!r}")
    half = 0.5 * 10.0**-decimals + 1e-9
    fits = [e for e in range(total + 1) if abs(100 * e / total - percentage) <= half]
    if not fits:
        nearest = math.floor(percentage * total / 100 + 0.5)
        raise InvalidInput(
            f"percentage {percentage} of total {total} fits no whole number of events "
            f"({nearest} events would be {100 * nearest / total:.{decimals + 2}f}%)"
        )
    events = min(max(math.floor(percentage * total / 100 + 0.5), fits[0]), fits[-1])
    return Converted(
        values=(
            ("events", float(events)),
            ("events_min", float(fits[0])),
            ("events_max", float(fits[-1])),
        ),
        inputs=(("percentage", percentage), ("total", total), ("decimals", decimals)),
        formula="events = round(percentage·total/100), halves up; fits |100·events/total − %| ≤ ½ unit",
        method="events_from_percentage",
        source="definition of a percentage (rounding rule: reviewtool)",
    )
