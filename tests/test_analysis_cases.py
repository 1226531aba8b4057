"""Issue 8, section C: analysis faults pinned to R metafor 3.8.1 and the shared cases.

Right values come from ``../shared/cases/README.md`` (R metafor 3.8.1) or from the R code quoted
next to each test (run with metafor 3.8.1; printed with ``formatC(x, digits=10, format="f")``).
These tests do not need R.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from reviewtool.analysis.effect_sizes import binary_effects
from reviewtool.analysis.meta import Settings, meta_analysis
from reviewtool.analysis.study_table import analyse_file
from reviewtool.cli.analyze import app

runner = CliRunner()


def _close(actual: float, expected: float, tol: float = 0.5e-4 + 1e-9) -> None:
    assert abs(actual - expected) <= tol, f"{actual} != {expected} (tol {tol})"


def _json(*args: str) -> dict:  # type: ignore[type-arg]
    res = runner.invoke(app, ["file", *args, "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


# --- C1: risk difference with zero cells ------------------------------------------------------


def test_rd_zero_cells_case_matches_metafor(shared_dir: Path) -> None:
    """cases/rd_zero_cells.csv: escalc("RD", add=1/2, to="only0") then rma(method="EE")."""
    d = _json(str(shared_dir / "cases" / "rd_zero_cells.csv"), "-m", "RD", "--model", "fixed")
    rows = {s["study"]: (s["yi"], s["vi"]) for s in d["studies"]}
    expected = {
        "S1": (0.8250, 0.0160),
        "S2": (0.6667, 0.0926),
        "S3": (0.0070, 0.0068),
        "S4": (0.1364, 0.0523),
    }
    assert set(rows) == set(expected)
    for study, (yi, vi) in expected.items():
        _close(rows[study][0], yi)
        _close(rows[study][1], vi)
    _close(d["pooled"]["estimate"], 0.2599)
    _close(d["pooled"]["se"], 0.0646)
    _close(d["pooled"]["ci_low"], 0.1332)
    _close(d["pooled"]["ci_high"], 0.3865)
    assert d["continuity_corrected"] == ["S2", "S3"]
    assert d["dropped"] == []


def test_rd_correction_beyond_the_example() -> None:
    """A 100% arm, a 0% arm and an all-events study, pooled with DL.

    R: ai=c(5,10,0,12); n1=c(5,20,15,12); ci=c(2,4,3,12); n2=c(6,20,14,12)
       e <- escalc("RD", ai=ai, n1i=n1, ci=ci, n2i=n2); rma(yi, vi, data=e, method="DL")
    """
    es = binary_effects([5, 10, 0, 12], [5, 20, 15, 12], [2, 4, 3, 12], [6, 20, 14, 12], measure="RD")
    want_yi = [0.5595238095, 0.3, -0.2020833333, 0.0]
    want_vi = [0.0455303153, 0.0205, 0.0138180158, 0.0056895767]
    np.testing.assert_allclose(es.yi, want_yi, rtol=0, atol=1e-10)
    np.testing.assert_allclose(es.vi, want_vi, rtol=0, atol=1e-10)
    res = meta_analysis(es, Settings(model="random", tau2_method="DL"))
    assert res.pooled.estimate == pytest.approx(0.1216543868, rel=1e-8)
    assert res.pooled.se == pytest.approx(0.1355142421, rel=1e-8)
    assert res.heterogeneity.tau2 == pytest.approx(0.0546668863, rel=1e-8)
    assert res.heterogeneity.q == pytest.approx(13.7473064641, rel=1e-8)


def test_zero_variance_study_without_correction_is_left_out_not_fatal(tmp_path: Path) -> None:
    """--add 0: 2/2 vs 0/2 and 0/10 vs 0/12 have RD variance 0; the rest is still analysed."""
    p = tmp_path / "rd.csv"
    p.write_text(
        "study,events_exp,total_exp,events_con,total_con\nA,2,2,0,2\nB,3,10,1,10\n"
        "C,0,10,0,12\nD,4,10,2,10\n"
    )
    d = _json(str(p), "-m", "RD", "--add", "0", "--model", "fixed")
    assert [s["study"] for s in d["studies"]] == ["B", "D"]
    assert [x["study"] for x in d["dropped"]] == ["A", "C"]
    assert "variance 0" in d["dropped"][0]["reason"]
    # B and D pooled by inverse variance from the raw counts: 0.2 with vi .0250 and .0400.
    w = np.array([1 / 0.025, 1 / 0.04])
    assert d["pooled"]["estimate"] == pytest.approx(float(np.sum(w * 0.2) / np.sum(w)))
