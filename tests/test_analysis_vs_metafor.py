"""Effect sizes and pooled estimates pinned to numbers published by R metafor.

Sources (all public; the R calls are quoted next to each block):
- MT-UNI  wviechtb/metafor tests/testthat/test_misc_metan_vs_rma.uni_with_dat.bcg.r
- MT-MH   wviechtb/metafor tests/testthat/test_misc_metan_vs_rma.mh_with_dat.bcg.r
- MT-PETO wviechtb/metafor tests/testthat/test_misc_metan_vs_rma.peto_with_dat.bcg.r
- MT-ESC  wviechtb/metafor tests/testthat/test_misc_escalc.r
- MT-RMA  wviechtb/metafor tests/testthat/test_misc_rma_uni.r
- MT-NORM wviechtb/metafor tests/testthat/test_analysis_example_normand1999.r
          (also https://www.metafor-project.org/doku.php/analyses:normand1999)
- JSS2010 Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
          J Stat Softw 36(3), section 4 output of rma(yi, vi, data=dat) on dat.bcg (RR, REML)
          and predict(res, transf=exp).

Tolerances: metafor's tests compare values rounded to 4 decimals (their ``.tol`` settings), so we
check |ours - published| <= 0.5e-4 (half a unit in the last published digit) plus a hair for
floating point; values published with fewer digits get the matching half-unit tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest
from analysis_datasets import (
    BCG_CNEG,
    BCG_CPOS,
    BCG_TNEG,
    BCG_TPOS,
    NORMAND_M1,
    NORMAND_M2,
    NORMAND_N1,
    NORMAND_N2,
    NORMAND_SD1,
    NORMAND_SD2,
)

from reviewtool.analysis.effect_sizes import binary_effects, continuous_effects
from reviewtool.analysis.estimators import FixedEffect, MantelHaenszel, Peto, RandomEffects

TOL4 = 0.5e-4 + 1e-9  # published to 4 decimals
TOL2 = 0.5e-2 + 1e-9  # published to 2 decimals
TOL1 = 0.5e-1 + 1e-9  # published to 1 decimal


def bcg(measure: str):  # type: ignore[no-untyped-def]
    return binary_effects(
        BCG_TPOS,
        BCG_TPOS + BCG_TNEG,
        BCG_CPOS,
        BCG_CPOS + BCG_CNEG,
        measure=measure,  # type: ignore[arg-type]
    )


def close(actual: float, expected: float, tol: float = TOL4) -> None:
    assert abs(actual - expected) <= tol, f"{actual} != {expected} (tol {tol})"


# --- escalc -----------------------------------------------------------------------------------


def test_escalc_rr_first_study() -> None:
    es = bcg("RR")
    close(es.yi[0], -0.8893)  # MT-ESC: escalc(measure="RR", ..., data=dat.bcg)$yi[1]
    close(es.vi[0], 0.3256)  # MT-ESC: $vi[1]


def test_escalc_smd_normand_hedges_g_exact_correction() -> None:
    es = continuous_effects(
        NORMAND_M1[:4],
        NORMAND_SD1[:4],
        NORMAND_N1[:4],
        NORMAND_M2[:4],
        NORMAND_SD2[:4],
        NORMAND_N2[:4],
        measure="SMD",
    )
    # MT-ESC: escalc(measure="SMD", ..., data=dat.normand1999, subset=1:4)
    for got, want in zip(es.yi, [-0.3552, -0.3479, -2.3176, -1.8880], strict=True):
        close(got, want)
    for got, want in zip(es.vi, [0.0131, 0.0645, 0.0458, 0.1606], strict=True):
        close(got, want)
    # MT-RMA: rma(yi, vi) on those four SMDs (REML) gives tau2 = 1.0090
    close(RandomEffects(tau2_method="REML").fit(es.yi, es.vi).tau2_, 1.0090)


# --- dat.bcg: inverse variance ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "est", "lo", "hi", "z", "q", "exp_est", "exp_lo", "exp_hi"),
    [
        # MT-UNI "FE model, measure='RR'": rma(yi, vi, data=dat, method="FE"), predict(transf=exp)
        ("RR", -0.4303, -0.5097, -0.3509, -10.6247, 152.2330, 0.6503, 0.6007, 0.7040),
        # MT-UNI "FE model, measure='OR'"
        ("OR", -0.4361, -0.5190, -0.3533, -10.3190, 163.1649, 0.6465, 0.5951, 0.7024),
        # MT-UNI "FE model, measure='RD'"
        ("RD", -0.0009, -0.0014, -0.0005, -4.0448, 276.4737, None, None, None),
    ],
)
def test_bcg_fixed_effect(
    measure: str,
    est: float,
    lo: float,
    hi: float,
    z: float,
    q: float,
    exp_est: float | None,
    exp_lo: float | None,
    exp_hi: float | None,
) -> None:
    es = bcg(measure)
    s = FixedEffect(measure=measure).fit(es.yi, es.vi).summary()
    close(s.pooled.estimate, est)
    close(s.pooled.ci_low, lo)
    close(s.pooled.ci_high, hi)
    close(s.pooled.statistic, z)
    close(s.heterogeneity.q, q)
    assert s.heterogeneity.df == 12
    if exp_est is not None:
        assert s.pooled.exp_estimate is not None
        close(s.pooled.exp_estimate, exp_est)
        close(s.pooled.exp_ci_low or 0.0, exp_lo or 0.0)
        close(s.pooled.exp_ci_high or 0.0, exp_hi or 0.0)


@pytest.mark.parametrize(
    ("measure", "est", "lo", "hi", "z", "tau2", "i2", "exp_est", "exp_lo", "exp_hi"),
    [
        # MT-UNI "RE model w/ DL estimator, measure='RR'": rma(yi, vi, data=dat, method="DL")
        ("RR", -0.7141, -1.0644, -0.3638, -3.9952, 0.3088, 92.1173, 0.4896, 0.3449, 0.6950),
        # MT-UNI "RE model w/ DL estimator, measure='OR'"
        ("OR", -0.7474, -1.1242, -0.3706, -3.8873, 0.3663, 92.6455, 0.4736, 0.3249, 0.6903),
        # MT-UNI "RE model w/ DL estimator, measure='RD'"
        ("RD", -0.0071, -0.0101, -0.0040, -4.5128, 0.0000, 95.6596, None, None, None),
    ],
)
def test_bcg_dersimonian_laird(
    measure: str,
    est: float,
    lo: float,
    hi: float,
    z: float,
    tau2: float,
    i2: float,
    exp_est: float | None,
    exp_lo: float | None,
    exp_hi: float | None,
) -> None:
    es = bcg(measure)
    s = RandomEffects(tau2_method="DL", measure=measure).fit(es.yi, es.vi).summary()
    close(s.pooled.estimate, est)
    close(s.pooled.ci_low, lo)
    close(s.pooled.ci_high, hi)
    close(s.pooled.statistic, z)
    close(s.heterogeneity.tau2, tau2)
    # For DL the tau²-based I² (metafor's print) and the Q-based I² (ours) coincide.
    close(s.heterogeneity.i2_tau2 or 0.0, i2)
    close(s.heterogeneity.i2, i2)
    assert s.heterogeneity.i2_form == "Q-based"
    if exp_est is not None:
        close(s.pooled.exp_estimate or 0.0, exp_est)
        close(s.pooled.exp_ci_low or 0.0, exp_lo or 0.0)
        close(s.pooled.exp_ci_high or 0.0, exp_hi or 0.0)


def test_bcg_reml_as_printed_in_viechtbauer_2010() -> None:
    es = bcg("RR")
    s = RandomEffects(tau2_method="REML", measure="RR").fit(es.yi, es.vi).summary()
    # JSS2010: res <- rma(yi, vi, data=dat); print(res)
    # Re-checked with a live R 4.2.2 + metafor 3.8.1: dat <- escalc(measure="RR", ai=tpos,
    # bi=tneg, ci=cpos, di=cneg, data=dat.bcg); print(rma(yi, vi, data=dat), digits=4) and
    # predict(res, transf=exp) print exactly the values below.
    close(s.heterogeneity.tau2, 0.3132)  # "tau^2 (estimated amount of total heterogeneity): 0.3132"
    close(s.heterogeneity.tau, 0.5597)  # "tau (square root ...): 0.5597"
    # metafor prints the tau²-based I² and H² for random-effects models: our i2_tau2/h2_tau2.
    close(
        s.heterogeneity.i2_tau2 or 0.0, 92.22, TOL2
    )  # "I^2 (total heterogeneity / total variability): 92.22%"
    close(
        s.heterogeneity.h2_tau2 or 0.0, 12.86, TOL2
    )  # "H^2 (total variability / sampling variability): 12.86"
    close(s.heterogeneity.q, 152.2330)  # "Q(df = 12) = 152.2330, p-val < .0001"
    # The reported I² and H² are Q-based (one I² per analysis): from the printed Q on 12 df.
    close(s.heterogeneity.i2, 100 * (152.2330 - 12) / 152.2330, 1e-4)
    close(s.heterogeneity.h2, 152.2330 / 12, 1e-4)
    close(s.pooled.estimate, -0.7145)  # "estimate -0.7145"
    close(s.pooled.se, 0.1798)  # "se 0.1798"
    close(s.pooled.statistic, -3.9744)  # "zval -3.9744"
    close(s.pooled.ci_low, -1.0669)  # "ci.lb -1.0669"
    close(s.pooled.ci_high, -0.3622)  # "ci.ub -0.3622"
    # JSS2010: predict(res, transf = exp): pred 0.4894, ci 0.3441-0.6962, cr 0.1546-1.5490
    close(s.pooled.exp_estimate or 0.0, 0.4894)
    close(s.pooled.exp_ci_low or 0.0, 0.3441)
    close(s.pooled.exp_ci_high or 0.0, 0.6962)
    close(s.pooled.exp_pi_low or 0.0, 0.1546)
    close(s.pooled.exp_pi_high or 0.0, 1.5490)


def test_bcg_paule_mandel() -> None:
    es = bcg("RR")
    r = RandomEffects(tau2_method="PM", measure="RR").fit(es.yi, es.vi)
    # MT-RMA: rma(yi, vi, data=dat, method="DLIT") and method="SJIT" both give tau2 = 0.3181.
    # Iterated DL/SJ converge to the root of Q(tau2) = k - 1, which is the Paule-Mandel estimator.
    close(r.tau2_, 0.3181)


# --- dat.bcg: Mantel-Haenszel and Peto ---------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "est", "lo", "hi", "z", "q"),
    [
        # MT-MH: rma.mh(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)
        ("RR", -0.4537, -0.5308, -0.3766, -11.5338, 152.5676),
        # MT-MH: rma.mh(measure="OR", ...)
        ("OR", -0.4734, -0.5538, -0.3930, -11.5444, 163.9426),
        # MT-MH: rma.mh(measure="RD", ...)  (Sato-Greenland-Robins variance)
        ("RD", -0.0033, -0.0039, -0.0027, -11.4708, 386.7759),
    ],
)
def test_bcg_mantel_haenszel(
    measure: str, est: float, lo: float, hi: float, z: float, q: float
) -> None:
    es = bcg(measure)
    assert es.tables is not None
    s = MantelHaenszel(measure=measure).fit(es.tables, es.yi, es.vi).summary()
    close(s.pooled.estimate, est)
    close(s.pooled.ci_low, lo)
    close(s.pooled.ci_high, hi)
    close(s.pooled.statistic, z)
    close(s.heterogeneity.q, q)


def test_bcg_mh_back_transformed() -> None:
    es = bcg("OR")
    assert es.tables is not None
    s = MantelHaenszel(measure="OR").fit(es.tables, es.yi, es.vi).summary()
    close(s.pooled.exp_estimate or 0.0, 0.6229)  # MT-MH: predict(res, transf=exp)$pred
    close(s.pooled.exp_ci_low or 0.0, 0.5748)  # MT-MH: $ci.lb
    close(s.pooled.exp_ci_high or 0.0, 0.6750)  # MT-MH: $ci.ub


def test_bcg_peto() -> None:
    es = bcg("OR")
    assert es.tables is not None
    s = Peto().fit(es.tables).summary()
    # MT-PETO: rma.peto(ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)
    close(s.pooled.estimate, -0.4744)
    close(s.pooled.ci_low, -0.5541)
    close(s.pooled.ci_high, -0.3948)
    close(s.pooled.statistic, -11.6689)
    close(s.heterogeneity.q, 167.7302)
    close(s.pooled.exp_estimate or 0.0, 0.6222)  # predict(res, transf=exp)
    close(s.pooled.exp_ci_low or 0.0, 0.5746)
    close(s.pooled.exp_ci_high or 0.0, 0.6738)


# --- dat.normand1999: mean differences (continuous) --------------------------------------------


def _normand_md():  # type: ignore[no-untyped-def]
    # MT-NORM: escalc(measure="MD") with the pooled SD in both arms (Normand's Table VIII)
    df = NORMAND_N1 + NORMAND_N2 - 2
    sdp = np.sqrt(((NORMAND_N1 - 1) * NORMAND_SD1**2 + (NORMAND_N2 - 1) * NORMAND_SD2**2) / df)
    return continuous_effects(
        NORMAND_M1, sdp, NORMAND_N1, NORMAND_M2, sdp, NORMAND_N2, measure="MD"
    )


def test_normand_md_effects() -> None:
    es = _normand_md()
    np.testing.assert_array_equal(es.yi, [-20, -2, -55, -71, -4, 1, 11, -10, 7])  # MT-NORM
    want_vi = [40.59, 2.05, 15.28, 150.22, 20.19, 1.22, 95.38, 8.03, 20.69]  # MT-NORM
    for got, want in zip(es.vi, want_vi, strict=True):
        close(got, want, TOL2)


def test_normand_md_pooled() -> None:
    es = _normand_md()
    fe = FixedEffect().fit(es.yi, es.vi).summary().pooled
    # MT-NORM "page 352 (Table IX)": FE -3.49 [-5.03, -1.96]
    close(fe.estimate, -3.49, TOL2)
    close(fe.ci_low, -5.03, TOL2)
    close(fe.ci_high, -1.96, TOL2)
    dl = RandomEffects(tau2_method="DL").fit(es.yi, es.vi)
    # MT-NORM: DL -14.10 [-24.45, -3.75], tau2 218.72
    close(dl.summary().pooled.estimate, -14.10, TOL2)
    close(dl.summary().pooled.ci_low, -24.45, TOL2)
    close(dl.summary().pooled.ci_high, -3.75, TOL2)
    close(dl.tau2_, 218.72, TOL2)
    reml = RandomEffects(tau2_method="REML").fit(es.yi, es.vi)
    # MT-NORM: REML -15.12 [-32.67, 2.43], tau2 685.20
    close(reml.summary().pooled.estimate, -15.12, TOL2)
    close(reml.summary().pooled.ci_low, -32.67, TOL2)
    close(reml.summary().pooled.ci_high, 2.43, TOL2)
    close(reml.tau2_, 685.20, TOL2)
