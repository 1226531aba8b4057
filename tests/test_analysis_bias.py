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


def test_kendall_tau_gives_scipys_numbers_without_scipy_stats() -> None:
    """Begg's test computes Kendall's τ_b and its p-value itself (scipy.stats cost over a second of
    `analyze run`): the exact p-value is scipy's bit for bit, the tie-corrected normal one to 1e-12,
    over random samples with and without ties (seeded); and begg_test loads no scipy."""
    import subprocess
    import sys

    import pytest

    from reviewtool.analysis.bias import kendall_tau

    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(20261129)
    exact_seen = tied_seen = 0
    for trial in range(600):
        n = int(rng.integers(3, 120 if trial % 10 == 0 else 40))
        x, y = rng.normal(size=n), rng.normal(size=n)
        if trial % 3 == 0:  # ties in both
            x, y = np.round(x, 1), np.round(y * 2) / 2
        ties = len(np.unique(x)) < n or len(np.unique(y)) < n
        exact = n < 50 and not ties and trial % 2 == 0
        want = stats.kendalltau(x, y, method="exact" if exact else "asymptotic")
        tau, p = kendall_tau(x, y, exact=exact)
        assert tau == float(want.statistic)
        if exact:
            exact_seen += 1
            assert p == float(want.pvalue)
        else:
            tied_seen += ties
            assert abs(p - float(want.pvalue)) <= 1e-12 * max(float(want.pvalue), 1e-300)
    assert exact_seen > 100 and tied_seen > 100
    assert np.isnan(kendall_tau(np.ones(5), np.arange(5.0), exact=False)).all()
    probe = (
        "import sys\nfrom reviewtool.analysis.bias import begg_test\n"
        "begg_test([0.1, 0.5, 0.3, 0.9], [0.1, 0.2, 0.05, 0.3])\n"
        "print('scipy.stats' in sys.modules)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "False"
