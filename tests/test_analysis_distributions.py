"""The plain-Python distribution functions (``analysis.distributions``) give R's numbers.

Known answers: R 4 ``qt``, ``pt(lower.tail=FALSE)``, ``pchisq(lower.tail=FALSE)``, ``qnorm``, ``pnorm``
printed with ``sprintf("%.17g")``; and scipy.special (``stdtrit``, ``stdtr``, ``chdtrc``, ``ndtri``,
``ndtr``, ``gammaln``), which the analysis used before, over a grid of the degrees of freedom and
statistics a meta-analysis meets.
"""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from reviewtool.analysis import distributions as dist

# R: qt(0.975, df)
R_QT = [
    (1, 0.975, 12.706204736174694),
    (2, 0.975, 4.3026527297494619),
    (3, 0.975, 3.1824463052837078),
    (4, 0.975, 2.7764451051977934),
    (9, 0.975, 2.2621571627982049),
    (29, 0.975, 2.0452296421327034),
]
# R: pt(t, df, lower.tail=FALSE)
R_PT = [
    (1, 0.5, 0.35241638234956679),
    (3, 2.1, 0.063282601274842268),
    (9, 14.2, 9.070709767059224e-08),
    (29, 61, 1.7736264437614428e-32),
    (2.5, 3.3, 0.029701064389722059),
]
# R: pchisq(q, df, lower.tail=FALSE)
R_PCHISQ = [
    (1, 0.2, 0.65472084601857694),
    (2, 3.84, 0.14660696213035015),
    (5, 12.3, 0.030900464635460919),
    (11, 45.1, 4.6595784990885347e-06),
    (30, 120, 1.0202758541470044e-12),
    (4, 0, 1.0),
]


@pytest.mark.parametrize(("df", "p", "expected"), R_QT)
def test_t_quantile_is_r_qt(df: float, p: float, expected: float) -> None:
    assert dist.t_ppf(df, p) == pytest.approx(expected, rel=1e-14)
    assert dist.t_ppf(df, 1 - p) == pytest.approx(-expected, rel=1e-13)


@pytest.mark.parametrize(("df", "t", "expected"), R_PT)
def test_t_upper_tail_is_r_pt(df: float, t: float, expected: float) -> None:
    assert dist.t_sf(df, t) == pytest.approx(expected, rel=1e-13)
    assert dist.t_cdf(df, -t) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize(("df", "q", "expected"), R_PCHISQ)
def test_chi2_upper_tail_is_r_pchisq(df: float, q: float, expected: float) -> None:
    assert dist.chi2_sf(df, q) == pytest.approx(expected, rel=1e-13)


def test_normal_is_r_qnorm_and_pnorm() -> None:
    assert dist.norm_ppf(0.975) == pytest.approx(1.9599639845400536, rel=1e-15)
    assert dist.norm_sf(3.1) == pytest.approx(0.00096760321321835631, rel=1e-14)
    assert dist.norm_cdf(-9) == pytest.approx(1.1285884059538408e-19, rel=1e-13)


def test_edges() -> None:
    assert math.isnan(dist.chi2_sf(3, math.nan)) and math.isnan(dist.t_sf(3, math.nan))
    assert dist.chi2_sf(3, math.inf) == 0.0
    assert dist.t_sf(5, math.inf) == 0.0 and dist.t_sf(5, -math.inf) == 1.0
    assert dist.t_sf(7, 0.0) == 0.5 and dist.t_ppf(7, 0.5) == 0.0
    assert dist.log_gamma(0.0) == math.inf  # scipy's gammaln(0); math.lgamma raises
    with pytest.raises(ValueError, match="not in"):
        dist.t_ppf(3, 1.0)


def test_same_numbers_as_scipy_special_over_a_grid() -> None:
    special = pytest.importorskip("scipy.special")
    dfs = [1, 1.5, 2, 3, 4, 5, 7, 10, 15, 30, 100, 1000]
    stats = [0.01, 0.1, 0.5, 1, 1.96, 2, 3, 5, 10, 20, 40, 80, 150]
    for df in dfs:
        for x in stats:
            assert dist.chi2_sf(df, x) == pytest.approx(float(special.chdtrc(df, x)), rel=1e-12)
            assert dist.t_sf(df, x) == pytest.approx(float(special.stdtr(df, -x)), rel=1e-12)
        for p in (0.6, 0.9, 0.95, 0.975, 0.99, 0.995, 0.9995):
            assert dist.t_ppf(df, p) == pytest.approx(float(special.stdtrit(df, p)), rel=1e-12)
    for p in (1e-12, 0.001, 0.025, 0.5, 0.975, 0.999):
        assert dist.norm_ppf(p) == pytest.approx(float(special.ndtri(p)), rel=1e-14)
    for x in (0.5, 1.5, 3, 9.5, 41):
        assert dist.log_gamma(x) == pytest.approx(float(special.gammaln(x)), rel=1e-14)


def test_analyze_file_imports_no_scipy(tmp_path: object) -> None:
    """`reviewtool analyze file` on a small CSV loads neither scipy nor matplotlib (issue 13:
    scipy.special alone cost half a second of a read command's start-up)."""
    from pathlib import Path

    data = Path(str(tmp_path)) / "three.csv"
    data.write_text(
        "study,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con\n"
        "A,1,1,10,0.5,1,10\nB,1.2,1,20,0.4,1.1,22\nC,0.7,0.9,15,0.6,1,14\n",
        encoding="utf-8",
    )
    code = (
        "import sys\nfrom reviewtool.cli import main\n"
        f"sys.argv = ['reviewtool', 'analyze', 'file', {str(data)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('scipy', 'matplotlib', 'pandas') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Pooled" in done.stdout or "pooled" in done.stdout.lower()
    assert done.stdout.strip().splitlines()[-1] == "[]"
