"""Egger's and Begg's tests pinned to metafor's published values (dat.egger2001, dat.bcg).

Sources:
- MT-PUB  wviechtb/metafor tests/testthat/test_misc_pub_bias.r (dat.egger2001, measure="OR",
          rma(yi, vi) then regtest()/ranktest()).
- MT-RANK metafor documentation example ranktest(res) on dat.bcg (RR, REML): "Kendall's tau =
          0.0256, p = 0.9524" (https://wviechtb.github.io/metafor/reference/ranktest.html).
"""

from __future__ import annotations

import numpy as np
from analysis_datasets import (
    BCG_CNEG,
    BCG_CPOS,
    BCG_TNEG,
    BCG_TPOS,
    EGGER_AI,
    EGGER_CI,
    EGGER_N1,
    EGGER_N2,
)

from reviewtool.analysis.bias import begg_test, egger_test, trim_and_fill
from reviewtool.analysis.effect_sizes import binary_effects

TOL4 = 0.5e-4 + 1e-9  # metafor's tests round to 4 decimals


def _magnesium():  # type: ignore[no-untyped-def]
    return binary_effects(EGGER_AI, EGGER_N1, EGGER_CI, EGGER_N2, measure="OR")


def test_zero_cell_study_gets_continuity_correction() -> None:
    es = _magnesium()
    assert es.corrected == ("Study 8",)  # Bertschat 1989: 0 deaths on magnesium
    assert es.k == 16


def test_egger_rma_default_matches_metafor() -> None:
    es = _magnesium()
    res = egger_test(es.yi, es.vi, model="rma")
    assert abs(res.statistic - (-4.6686)) <= TOL4  # MT-PUB: regtest(res)$zval
    assert res.statistic_name == "z"


def test_egger_lm_sqrtninv_matches_metafor() -> None:
    es = _magnesium()
    res = egger_test(es.yi, es.vi, model="lm", predictor="sqrtninv", ni=EGGER_N1 + EGGER_N2)
    # MT-PUB: regtest(res, model="lm", predictor="sqrtninv")$zval
    assert abs(res.statistic - (-5.6083)) <= TOL4
    assert res.df == 14


def test_begg_matches_metafor() -> None:
    es = _magnesium()
    res = begg_test(es.yi, es.vi)
    assert res.tau == 0.15  # MT-PUB: ranktest(res)$tau
    assert abs(res.p - 0.4503) <= TOL4  # MT-PUB: ranktest(res)$pval
    assert res.exact


def test_begg_bcg_documentation_example() -> None:
    es = binary_effects(BCG_TPOS, BCG_TPOS + BCG_TNEG, BCG_CPOS, BCG_CPOS + BCG_CNEG, measure="RR")
    res = begg_test(es.yi, es.vi)
    # Re-checked with a live R 4.2.2 + metafor 3.8.1: ranktest(rma(yi, vi, data=dat)) on
    # escalc(measure="RR", ...dat.bcg) prints "Kendall's tau = 0.0256, p = 0.9524".
    assert abs(res.tau - 0.0256) <= TOL4  # MT-RANK
    assert abs(res.p - 0.9524) <= TOL4  # MT-RANK


def test_classical_egger_equals_regression_of_standard_normal_deviate() -> None:
    # Egger (1997): regress yi/sei on 1/sei; the intercept equals our "bias" coefficient.
    es = _magnesium()
    res = egger_test(es.yi, es.vi, model="lm")
    sei = np.sqrt(es.vi)
    slope, intercept = np.polyfit(1 / sei, es.yi / sei, 1)
    assert abs(res.bias - intercept) < 1e-9
    assert abs(res.limit_estimate - slope) < 1e-9


def test_trim_and_fill_symmetric_funnel_fills_nothing() -> None:
    yi = np.array([-0.4, -0.2, 0.0, 0.2, 0.4, -0.1, 0.1])
    vi = np.array([0.04, 0.04, 0.01, 0.04, 0.04, 0.02, 0.02])
    res = trim_and_fill(yi, vi, model="fixed")
    assert res.k0 == 0
    assert abs(res.adjusted.estimate) < 1e-12


def test_trim_and_fill_imputes_on_the_sparse_side() -> None:
    es = _magnesium()
    res = trim_and_fill(es.yi, es.vi)
    assert res.side == "right"  # small trials show benefit (negative log OR)
    assert res.k0 > 0
    assert all(y > res.adjusted.estimate for y in res.filled_yi[:1])
