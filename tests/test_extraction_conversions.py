"""Each conversion pinned to its published worked example (reviewtool.extraction.conversions).

Sources of the known answers (quoted where the number comes from):

- Cochrane Handbook v5.1 section 7.7.3.2 (v6.5 section 6.5.2.2), SD from the CI of a group mean:
  "the t value for a 95% confidence interval from a sample size of 25 can be obtained by typing
  =tinv(1-0.95,25-1) ... (the result is 2.0639). The divisor, 3.92, in the formula above would be
  replaced by 2 × 2.0639 = 4.128"; "For 90% confidence intervals 3.92 should be replaced by 3.29,
  and for 99% confidence intervals it should be replaced by 5.15."
- Handbook v5.1 section 7.7.3.3 (v6.5 section 6.5.2.3), a difference in means between groups of
  25 and 22: "degrees of freedom equal to NE + NC – 2"; from P = 0.008 "a table of the t
  distribution with 45 degrees of freedom ... =tinv(0.008, 45)" gives t = 2.78, and "the standard
  error of the difference in means is obtained by dividing 3.8 by 2.78, which gives 1.37".
- Handbook v5.1 section 16.1.3.2 (v6.5 section 6.5.2.8), change from baseline: a study reporting
  baseline SD 6.4, final SD 7.1 and change SD 4.5 (experimental) and 7.0, 6.9, 4.2 (control)
  implies correlations 0.78 and 0.82.
- R package metaBLUE 1.0.0 (Yang, Hutson, Wang; CRAN), the printed example output of
  ``Luo.mean(c(1, 4, 10), 30, "S1")`` ($muhat 4.356748) and ``Wan.std(c(1, 4, 10), 30, "S1")``
  ($sigmahat 2.205578), the implementations of Luo et al. (2018) and Wan et al. (2014).
- Wan et al. (2014) Table 1 (expected range ξ(n) of n normal values, n = 1..50) and Table 2
  (expected IQR η(n), n = 4Q + 1, Q = 1..50), as transcribed in R meta's ``meta-internal.R``
  (``Wan2014.Table1``, ``Wan2014.Table2``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from reviewtool.errors import InvalidInput
from reviewtool.extraction import conversions as cv

# Wan et al. (2014) Table 1: xi(n) for n = 1..50; Table 2: eta(4Q + 1) for Q = 1..50.
WAN_TABLE_1 = (
    0.000, 1.128, 1.693, 2.059, 2.326, 2.534, 2.704, 2.847, 2.970, 3.078,
    3.173, 3.259, 3.336, 3.407, 3.472, 3.532, 3.588, 3.640, 3.689, 3.735,
    3.778, 3.819, 3.858, 3.895, 3.931, 3.964, 3.997, 4.027, 4.057, 4.086,
    4.113, 4.139, 4.165, 4.189, 4.213, 4.236, 4.259, 4.280, 4.301, 4.322,
    4.341, 4.361, 4.379, 4.398, 4.415, 4.433, 4.450, 4.466, 4.482, 4.498,
)  # fmt: skip
WAN_TABLE_2 = (
    0.990, 1.144, 1.206, 1.239, 1.260, 1.274, 1.284, 1.292, 1.298, 1.303,
    1.307, 1.311, 1.313, 1.316, 1.318, 1.320, 1.322, 1.323, 1.324, 1.326,
    1.327, 1.328, 1.329, 1.330, 1.330, 1.331, 1.332, 1.332, 1.333, 1.333,
    1.334, 1.334, 1.335, 1.335, 1.336, 1.336, 1.336, 1.337, 1.337, 1.337,
    1.338, 1.338, 1.338, 1.338, 1.339, 1.339, 1.339, 1.339, 1.339, 1.340,
)  # fmt: skip


# --------------------------------------------------------------------------- SE and CI of a mean


def test_sd_from_se_is_se_times_root_n() -> None:
    result = cv.sd_from_se(1.2, 25)
    assert result.sd == pytest.approx(6.0)
    assert result.method == "sd_from_se"
    assert "6.5.2.2" in result.source
    assert result.provenance() == ("converted: se=1.2, n=25; SD = SE·√n; " + result.source)


def test_sd_from_ci_small_group_uses_the_handbook_t_divisor_4_128() -> None:
    # Handbook: n = 25, the divisor 3.92 becomes 2 x 2.0639 = 4.128.
    width = 4.2
    result = cv.sd_from_ci(30.0, 30.0 + width, 25)
    implied_divisor = math.sqrt(25) * width / result.sd
    assert implied_divisor == pytest.approx(4.128, abs=5e-4)
    assert result.method == "sd_from_ci/t"
    assert "4.1278" in result.formula


@pytest.mark.parametrize(("level", "divisor"), [(0.95, 3.92), (0.90, 3.29), (0.99, 5.15)])
def test_sd_from_ci_large_group_uses_the_handbook_normal_divisors(
    level: float, divisor: float
) -> None:
    result = cv.sd_from_ci(10.0, 12.0, 400, level=level)
    assert result.method == "sd_from_ci/normal"
    assert math.sqrt(400) * 2.0 / result.sd == pytest.approx(divisor, abs=5e-3)


def test_sd_from_ci_auto_switches_at_60_and_can_be_forced() -> None:
    assert cv.sd_from_ci(1.0, 2.0, 59).method == "sd_from_ci/t"
    assert cv.sd_from_ci(1.0, 2.0, 60).method == "sd_from_ci/normal"
    forced = cv.sd_from_ci(1.0, 2.0, 25, distribution="normal")
    assert forced.sd == pytest.approx(5 * 1.0 / 3.919928, rel=1e-6)
    assert cv.sd_from_ci(1.0, 2.0, 200, distribution="t").method == "sd_from_ci/t"


# --------------------------------------------------------------------------- differences in means


def test_sd_from_p_of_difference_reproduces_the_handbook_example() -> None:
    result = cv.sd_from_p_of_difference(3.8, 0.008, 25, 22)
    assert round(result["t"], 2) == 2.78
    assert round(result["se"], 2) == 1.37
    # SD = SE / sqrt(1/25 + 1/22); with the Handbook's rounded SE 1.37 that is 4.69.
    assert result.sd == pytest.approx(1.37 / math.sqrt(1 / 25 + 1 / 22), abs=0.01)
    assert "6.5.2.3" in result.source


def test_sd_from_ci_of_difference_uses_t_with_n1_plus_n2_minus_2_df() -> None:
    result = cv.sd_from_ci_of_difference(1.2, 6.4, 25, 22)
    # t(0.975, 45) = 2.0141 (R: qt(0.975, 45) = 2.014103).
    assert (6.4 - 1.2) / (2 * result["se"]) == pytest.approx(2.014103, abs=1e-6)
    assert result.sd == pytest.approx(result["se"] / math.sqrt(1 / 25 + 1 / 22))
    large = cv.sd_from_ci_of_difference(1.2, 6.4, 100, 120)
    assert large.method == "sd_from_ci_of_difference/normal"
    assert (6.4 - 1.2) / large["se"] == pytest.approx(3.92, abs=1e-3)


def test_sd_from_se_of_difference() -> None:
    result = cv.sd_from_se_of_difference(1.37, 25, 22)
    assert result.sd == pytest.approx(4.6866, abs=1e-4)


# --------------------------------------------------------------------------- medians


def test_median_range_matches_metablue_printed_examples() -> None:
    # metaBLUE: Luo.mean(c(1,4,10), 30, "S1") -> 4.356748; Wan.std(...) -> 2.205578.
    result = cv.mean_sd_from_median_range(4.0, 1.0, 10.0, 30)
    assert result.mean == pytest.approx(4.356748, abs=5e-7)
    assert result.sd == pytest.approx(2.205578, abs=5e-7)
    assert result.method == "median_range/luo_wan"
    assert "Luo" in result.source and "Wan" in result.source


def test_range_divisor_agrees_with_wan_table_1() -> None:
    # Blom's approximation (the closed form Wan recommends) is within 0.5% of the exact
    # expected range from n = 10 on; at n = 2 it is 4.5% high (1.179 against 1.128).
    for n in range(10, 51):
        assert cv.wan_range_divisor(n) == pytest.approx(WAN_TABLE_1[n - 1], rel=5e-3), n
    assert cv.wan_range_divisor(2) == pytest.approx(1.179, abs=1e-3)


def test_iqr_divisor_agrees_with_wan_table_2() -> None:
    for q, tabled in enumerate(WAN_TABLE_2, start=1):
        assert cv.wan_iqr_divisor(4 * q + 1) == pytest.approx(tabled, rel=5e-3), q


def test_median_iqr_luo_mean_and_wan_sd() -> None:
    # Luo et al. (2018) eq. 15, as in R meta (mean_sd_iqr) and metaBLUE (Luo.mean "S2"):
    # (0.7 + 0.39/n)(q1 + q3)/2 + (0.3 - 0.39/n) median; Wan eq. 16: (q3 - q1)/eta(n).
    # n = 29 = 4*7 + 1, so Wan's Table 2 gives the divisor: eta = 1.284.
    result = cv.mean_sd_from_median_iqr(4.0, 1.0, 10.0, 29)
    w = 0.7 + 0.39 / 29
    assert result.mean == pytest.approx(w * 5.5 + (1 - w) * 4.0)
    assert result.sd == pytest.approx(9.0 / 1.284, rel=5e-3)
    wan = cv.mean_sd_from_median_iqr(4.0, 1.0, 10.0, 29, mean_method="wan")
    assert wan.mean == pytest.approx(5.0)
    assert wan.sd == result.sd


def test_median_iqr_large_n_tends_to_the_handbook_1_35_rule() -> None:
    # Handbook 6.5.2.5: for large samples and normal data the IQR is about 1.35 SDs.
    result = cv.mean_sd_from_median_iqr(50.0, 40.0, 60.0, 100_000)
    assert result.sd == pytest.approx(20.0 / 1.349, rel=1e-3)
    # Luo's weight tends to 0.7 on the mid-quartile range
    assert result.mean == pytest.approx(50.0)


def test_five_numbers_luo_weights_and_wan_sd() -> None:
    n = 30
    result = cv.mean_sd_from_five_numbers(1.0, 3.0, 4.0, 6.0, 10.0, n)
    w1 = 2.2 / (2.2 + n**0.75)
    w2 = 0.7 - 0.72 / n**0.55
    assert result.mean == pytest.approx(w1 * 5.5 + w2 * 4.5 + (1 - w1 - w2) * 4.0)
    assert result.sd == pytest.approx(
        9.0 / (2 * cv.wan_range_divisor(n)) + 3.0 / (2 * cv.wan_iqr_divisor(n))
    )
    wan = cv.mean_sd_from_five_numbers(1.0, 3.0, 4.0, 6.0, 10.0, n, mean_method="wan")
    assert wan.mean == pytest.approx((1 + 6 + 8 + 12 + 10) / 8)


def test_hozo_options() -> None:
    # Hozo et al. (2005): mean (a + 2m + b)/4 + (a - 2m + b)/(4n); SD by n band.
    small = cv.mean_sd_from_median_range(4.0, 1.0, 10.0, 10, mean_method="hozo", sd_method="hozo")
    assert small.mean == pytest.approx(19 / 4 + 3 / 40)
    assert small.sd == pytest.approx(math.sqrt((9 / 4 + 81) / 12))
    assert cv.mean_sd_from_median_range(4.0, 1.0, 10.0, 40, sd_method="hozo").sd == 9 / 4
    assert cv.mean_sd_from_median_range(4.0, 1.0, 10.0, 71, sd_method="hozo").sd == 9 / 6
    assert "Hozo" in small.source


# --------------------------------------------------------------------------- change from baseline


def test_correlation_from_change_reproduces_the_handbook_example() -> None:
    experimental = cv.correlation_from_change(6.4, 7.1, 4.5)
    control = cv.correlation_from_change(7.0, 6.9, 4.2)
    assert round(experimental["correlation"], 2) == 0.78
    assert round(control["correlation"], 2) == 0.82
    assert "6.5.2.8" in experimental.source


def test_sd_change_is_the_inverse_of_the_imputed_correlation() -> None:
    r = cv.correlation_from_change(6.4, 7.1, 4.5)["correlation"]
    assert cv.sd_change_from_baseline(6.4, 7.1, r).sd == pytest.approx(4.5)
    # r = 0 adds the variances; r = 0.5 with equal SDs gives that SD back.
    assert cv.sd_change_from_baseline(3.0, 4.0, 0.0).sd == pytest.approx(5.0)
    assert cv.sd_change_from_baseline(4.0, 4.0, 0.5).sd == pytest.approx(4.0)


# --------------------------------------------------------------------------- dichotomous


def test_events_from_percentage_rounds_and_reports_the_fitting_range() -> None:
    assert cv.events_from_percentage(33.3, 30, decimals=1)["events"] == 10
    result = cv.events_from_percentage(10, 1000)
    assert (result["events"], result["events_min"], result["events_max"]) == (100, 95, 105)
    assert cv.events_from_percentage(12.5, 8, decimals=1)["events"] == 1
    with pytest.raises(InvalidInput, match="fits no whole number of events"):
        cv.events_from_percentage(40, 7)  # 2/7 = 28.6%, 3/7 = 42.9%


# --------------------------------------------------------------------------- impossible input


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: cv.sd_from_se(1.0, 1), "n"),
        (lambda: cv.sd_from_se(0.0, 10), "se"),
        (lambda: cv.sd_from_se(-1.0, 10), "se"),
        (lambda: cv.sd_from_se(float("nan"), 10), "se"),
        (lambda: cv.sd_from_se(1.0, 10.5), "n"),  # type: ignore[arg-type]
        (lambda: cv.sd_from_ci(5.0, 4.0, 10), "upper"),
        (lambda: cv.sd_from_ci(4.0, 5.0, 10, level=95), "level"),
        (lambda: cv.sd_from_ci(4.0, 5.0, 10, distribution="z"), "distribution"),  # type: ignore[arg-type]
        (lambda: cv.sd_from_ci_of_difference(1.0, 2.0, 1, 20), "n1"),
        (lambda: cv.sd_from_p_of_difference(3.8, 1.5, 25, 22), "p"),
        (lambda: cv.sd_from_p_of_difference(0.0, 0.5, 25, 22), "mean_difference"),
        (lambda: cv.mean_sd_from_median_iqr(5.0, 6.0, 9.0, 20), "q1"),
        (lambda: cv.mean_sd_from_median_iqr(9.5, 6.0, 9.0, 20), "median"),
        (lambda: cv.mean_sd_from_median_iqr(5.0, 5.0, 5.0, 20), "q3"),
        (lambda: cv.mean_sd_from_median_range(11.0, 1.0, 10.0, 20), "median"),
        (lambda: cv.mean_sd_from_median_range(4.0, 1.0, 10.0, 20, mean_method="x"), "mean_method"),  # type: ignore[arg-type]
        (lambda: cv.mean_sd_from_five_numbers(1.0, 5.0, 4.0, 6.0, 10.0, 20), "q1"),
        (lambda: cv.sd_change_from_baseline(0.0, 4.0, 0.5), "sd_baseline"),
        (lambda: cv.sd_change_from_baseline(3.0, 4.0, 1.5), "correlation"),
        (lambda: cv.sd_change_from_baseline(4.0, 4.0, 1.0), "correlation"),
        (lambda: cv.correlation_from_change(1.0, 1.0, 5.0), "sd_change"),
        (lambda: cv.events_from_percentage(101, 10), "percentage"),
        (lambda: cv.events_from_percentage(10, 0), "total"),
    ],
)
def test_impossible_input_is_refused_naming_the_argument(
    call: Callable[[], object], argument: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        call()
    assert argument in str(caught.value)
    assert "\n" not in str(caught.value)


def test_results_are_frozen_and_carry_their_provenance() -> None:
    result = cv.mean_sd_from_median_iqr(4.0, 1.0, 10.0, 30)
    with pytest.raises(AttributeError):
        result.values = ()  # type: ignore[misc]
    data = result.as_dict()
    assert set(data) == {"values", "inputs", "formula", "method", "source"}
    assert data["inputs"] == {"median": 4.0, "q1": 1.0, "q3": 10.0, "n": 30}
    assert hash(result) == hash(cv.mean_sd_from_median_iqr(4.0, 1.0, 10.0, 30))
    with pytest.raises(KeyError):
        _ = cv.sd_from_se(1.0, 4).mean


# --------------------------------------------------------------------------- R as a live oracle


def test_quantiles_agree_with_r() -> None:
    """The t and normal quantiles behind the conversions, against R's qt/qnorm (an independent
    implementation). metafor's conv.fivenum (metafor >= 4.0) would check Luo/Wan directly, but the
    R here may be older; the formulas themselves are pinned to published outputs above."""
    import shutil
    import subprocess

    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.skip("Rscript is not installed: the R oracle cannot run")
    script = (
        "cat(sprintf('%.10f', c(qt(0.975, 24), qt(1 - 0.008/2, 45), qt(0.95, 9),"
        " 2*qnorm((30 - 0.375)/(30 + 0.25)), 2*qnorm((0.75*29 - 0.125)/(29 + 0.25)),"
        " 2*qnorm(0.975))), sep='\\n')"
    )
    out = subprocess.run([rscript, "-e", script], capture_output=True, text=True, check=True)
    t24, t45, t9_90, xi30, eta29, z = (float(v) for v in out.stdout.split())
    assert math.sqrt(25) * 1.0 / cv.sd_from_ci(0.0, 1.0, 25).sd == pytest.approx(2 * t24, rel=1e-9)
    assert cv.sd_from_p_of_difference(3.8, 0.008, 25, 22)["t"] == pytest.approx(t45, rel=1e-9)
    ninety = cv.sd_from_ci(0.0, 1.0, 10, level=0.90)
    assert math.sqrt(10) / ninety.sd == pytest.approx(2 * t9_90, rel=1e-9)
    assert cv.wan_range_divisor(30) == pytest.approx(xi30, rel=1e-9)
    assert cv.wan_iqr_divisor(29) == pytest.approx(eta29, rel=1e-9)
    assert math.sqrt(400) / cv.sd_from_ci(0.0, 1.0, 400).sd == pytest.approx(z, rel=1e-9)
