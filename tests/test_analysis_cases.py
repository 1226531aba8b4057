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
    es = binary_effects(
        [5, 10, 0, 12], [5, 20, 15, 12], [2, 4, 3, 12], [6, 20, 14, 12], measure="RD"
    )
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


# --- C2: Peto study rows are the Peto log odds ratios that are pooled --------------------------


def test_peto_rows_case_matches_metafor(shared_dir: Path) -> None:
    """cases/peto_rows.csv: rma.peto(...)$yi/$vi (escalc "PETO", 1/2 added to zero-cell tables)."""
    d = _json(str(shared_dir / "cases" / "peto_rows.csv"), "-m", "OR", "--peto", "--model", "fixed")
    rows = {s["study"]: (s["yi"], s["vi"]) for s in d["studies"]}
    for study, (yi, vi) in {
        "Trial B": (-1.4017, 1.4017),
        "Trial C": (-0.7647, 0.7647),
        "Trial D": (-1.4578, 0.5831),
    }.items():
        _close(rows[study][0], yi)
        _close(rows[study][1], vi)
    _close(d["pooled"]["estimate"], -1.2821)
    _close(d["pooled"]["se"], 0.5338)
    assert d["method"] == "Peto"


def test_peto_rows_beyond_the_example() -> None:
    """Four trials, one with a zero cell (corrected row) and one favouring the experimental arm.

    R: ai=c(4,9,15,3); n1=c(40,60,120,25); ci=c(8,14,22,0); n2=c(41,58,118,26)
       rp <- rma.peto(ai=ai, n1i=n1, ci=ci, n2i=n2); rp$yi; rp$vi; rp$beta; rp$se; rp$QE;
       weights(rp)
    """
    es = binary_effects([4, 9, 15, 3], [40, 60, 120, 25], [8, 14, 22, 0], [41, 58, 118, 26])
    res = meta_analysis(es, Settings(model="fixed", method="Peto"))
    yi = [r.yi for r in res.studies]
    vi = [r.vi for r in res.studies]
    np.testing.assert_allclose(
        yi, [-0.7444326617, -0.5773834136, -0.4659974293, 1.6324640967], rtol=0, atol=1e-9
    )
    np.testing.assert_allclose(
        vi, [0.3865323436, 0.2142491912, 0.1274797565, 1.0616024187], rtol=0, atol=1e-9
    )
    assert res.pooled.estimate == pytest.approx(-0.4265143663, abs=1e-9)
    assert res.pooled.se == pytest.approx(0.2514287671, abs=1e-9)
    assert res.heterogeneity.q == pytest.approx(5.0655113178, abs=1e-9)
    np.testing.assert_allclose(
        [r.weight for r in res.studies],
        [16.3547568433, 29.5060273327, 49.5893831658, 4.5498326582],
        atol=1e-8,
    )
    # The leave-one-out and subgroup analyses use the same rows: Peto again, never IV ORs.
    sub = meta_analysis(es.subset([True, True, True, False]), Settings(method="Peto"))
    assert [r.yi for r in sub.studies] == pytest.approx(yi[:3])


def test_mh_rows_are_escalc_rows_as_rma_mh_shows() -> None:
    """Mantel-Haenszel has no per-study estimate: rows are escalc's log ORs (rma.mh()$yi).

    R: rma.mh(ai=c(0,2,1), n1i=c(20,20,150), ci=c(2,4,6), n2i=c(20,20,150))$yi
       -1.7120921 -0.8109302 -1.8258925  (printed above with cases/peto_rows.csv)
    """
    es = binary_effects([0, 2, 1], [20, 20, 150], [2, 4, 6], [20, 20, 150])
    res = meta_analysis(es, Settings(model="fixed", method="MH"))
    assert [r.yi for r in res.studies] == pytest.approx(
        [-1.7120921, -0.8109302, -1.8258925], abs=1e-7
    )


# --- C3: one I² per analysis -------------------------------------------------------------------

# R: y=c(0.10,0.35,-0.20,0.60,0.05,0.45); v=c(0.02,0.03,0.025,0.04,0.015,0.05)
#    r <- rma(y, v, method="REML"); r$QE; (r$QE-5)/r$QE*100    13.8851063830  63.9901930739
#    The tau²-based I²/H² with metafor's REML converged fully (its default threshold 1e-5 stops
#    at 66.3870): rma(y, v, method="REML", control=list(threshold=1e-12, maxiter=1000))
#    tau2 0.0520974911, I2 66.3868315421, H2 2.9750245094
RE_Y = [0.10, 0.35, -0.20, 0.60, 0.05, 0.45]
RE_V = [0.02, 0.03, 0.025, 0.04, 0.015, 0.05]


def _re_csv(tmp_path: Path) -> Path:
    p = tmp_path / "re.csv"
    p.write_text(
        "study,yi,vi\n"
        + "".join(f"S{i},{y},{v}\n" for i, (y, v) in enumerate(zip(RE_Y, RE_V, strict=True)))
    )
    return p


def test_one_i2_in_rule_table_json_and_plot(tmp_path: Path) -> None:
    p = _re_csv(tmp_path)
    d = _json(str(p), "-m", "GEN", "--model", "auto", "--tau2", "REML")
    h = d["heterogeneity"]
    assert d["model"] == "random"
    assert h["Q"] == pytest.approx(13.8851063830, abs=1e-8)
    assert h["I2"] == pytest.approx(63.9901930739, abs=1e-8)  # Q-based, the rule's
    assert h["I2_form"] == "Q-based"
    assert h["H2"] == pytest.approx(13.8851063830 / 5, abs=1e-8)
    # metafor's tau²-based forms, kept but labelled as such
    assert h["tau2"] == pytest.approx(0.0520974911, abs=1e-9)
    assert h["I2_tau2"] == pytest.approx(66.3868315421, abs=1e-8)
    assert h["H2_tau2"] == pytest.approx(2.9750245094, abs=1e-8)
    assert "I² (Q-based) = 64.0%" in d["model_reason"]
    text = runner.invoke(app, ["file", str(p), "-m", "GEN", "--tau2", "REML"]).stdout
    flat = " ".join(text.split())
    assert "I² (Q-based) = 64.0%" in flat
    assert "I² = 64.0% (Q-based)" in flat
    assert "66.4" not in flat  # the tau²-based value is never printed unlabelled


def test_rule_quotes_the_q_the_mh_analysis_reports() -> None:
    """With --mh, Q is computed around the MH estimate; the rule must quote that Q's I²."""
    es = binary_effects([4, 9, 15, 3], [40, 60, 120, 25], [8, 14, 22, 1], [41, 58, 118, 26])
    res = meta_analysis(es, Settings(model="auto", method="MH"))
    assert res.model == "fixed"
    assert f"I² (Q-based) = {res.heterogeneity.i2:.1f}%" in res.model_reason
    p_txt = f"{res.heterogeneity.p:.3g}"
    assert f"Q-test p = {p_txt}" in res.model_reason
    assert "Mantel-Haenszel" in res.model_reason


# --- C4 and C6 (k = 1): a single study is not a pooled result ----------------------------------

# R: r1 <- rma(yi=0.3, vi=0.04, method="REML")
#    beta 0.3, se 0.2, ci -0.0919927969 to 0.6919927969, pval 0.1336144025,
#    QE 0, QEp 1, I2 0, H2 1 (tau2 0: no heterogeneity can be estimated)


def test_single_study_library_result() -> None:
    from reviewtool.analysis.effect_sizes import generic_effects

    for s in (Settings(), Settings(model="random", hksj=True), Settings(model="fixed")):
        res = meta_analysis(generic_effects([0.3], vi=[0.04], labels=["Solo"]), s)
        assert res.k == 1
        assert res.model == "none" and res.method == "none"
        assert res.model_reason == "single study, not pooled"
        assert res.pooled.estimate == pytest.approx(0.3)
        assert res.pooled.se == pytest.approx(0.2)
        assert res.pooled.ci_low == pytest.approx(-0.0919927969, abs=1e-9)
        assert res.pooled.ci_high == pytest.approx(0.6919927969, abs=1e-9)
        assert res.pooled.p == pytest.approx(0.1336144025, abs=1e-9)
        assert res.pooled.pi_low is None and res.pooled.df is None
        h = res.heterogeneity
        assert (h.q, h.df, h.p, h.i2, h.h2) == (0.0, 0, 1.0, 0.0, 1.0)
        assert np.isnan(h.tau2)


def test_single_study_cli_json_text_and_csv(tmp_path: Path) -> None:
    p = tmp_path / "one.csv"
    p.write_text("study,yi,vi\nSolo,0.3,0.04\n")
    d = _json(str(p), "-m", "GEN")
    assert (d["model"], d["model_reason"], d["k"]) == ("none", "single study, not pooled", 1)
    assert d["heterogeneity"]["p"] == 1.0 and d["heterogeneity"]["H2"] == 1.0
    assert d["heterogeneity"]["tau2"] is None
    text = runner.invoke(app, ["file", str(p), "-m", "GEN"]).stdout
    assert "Single study, not pooled" in text
    assert "Pooled" not in text and "Heterogeneity" not in text and "tau²" not in text
    assert "Model:" not in text
    csv_out = runner.invoke(app, ["file", str(p), "-m", "GEN", "--format", "csv"]).stdout
    assert "single study (not pooled),Solo,0.3," in csv_out
    assert "overall" not in csv_out


def test_single_study_left_after_dropping_is_not_pooled(tmp_path: Path) -> None:
    """Beyond the example: k = 1 because the other studies were left out (--add 0, RD)."""
    p = tmp_path / "rd.csv"
    p.write_text("study,events_exp,total_exp,events_con,total_con\nA,2,2,0,2\nB,3,10,1,10\n")
    d = _json(str(p), "-m", "RD", "--add", "0", "--model", "random")
    assert d["k"] == 1 and d["model"] == "none"
    assert d["pooled"]["estimate"] == pytest.approx(0.2)
    assert d["pooled"]["pi_low"] is None


def test_single_study_forest_has_no_diamond(tmp_path: Path) -> None:
    from reviewtool.analysis import plots
    from reviewtool.analysis.effect_sizes import generic_effects
    from reviewtool.analysis.forest import forest_figure, forest_text, main_sections

    res = meta_analysis(generic_effects([0.3], vi=[0.04], labels=["Solo"]), Settings())
    fig = forest_figure(main_sections(res), measure=res.measure)
    texts = forest_text(fig)
    assert "Single study, not pooled" in texts and "0.30 [-0.09, 0.69]" in texts
    assert not any(t.startswith(("Total", "Heterogeneity", "Test for")) for t in texts)
    assert not fig.axes[0].patches  # no diamond
    plots.save(fig, [])
    out = plots.forest_plot(res, tmp_path / "one.png")
    assert out.stat().st_size > 0


# --- C6 (k = 1 bullet): identical estimates give no statistics built from rounding noise -------

# R: rma(yi=rep(0.3, 4), vi=c(.02,.05,.04,.1), method="REML", test="knha")
#    beta 0.3, se 0, zval Inf, pval 0, ci.lb 0.3 (regtest warns "essentially perfect fit",
#    ranktest warns "the standard deviation is zero")
IDENTICAL_V = [0.02, 0.05, 0.04, 0.1]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("y", [[0.3, 0.3, 0.3, 0.3], [0.3, 0.1 + 0.2, 0.3, 0.15 * 2]])
def test_identical_estimates_hksj_is_metafors_exact_zero(y: list[float]) -> None:
    from reviewtool.analysis.estimators import RandomEffects

    s = RandomEffects(tau2_method="REML", hksj=True).fit(y, IDENTICAL_V).summary()
    assert s.pooled.estimate == pytest.approx(0.3, abs=1e-15)
    assert s.pooled.se == 0.0  # exactly: not 1e-17 of rounding noise
    assert s.pooled.statistic == float("inf") and s.pooled.p == 0.0
    assert s.pooled.ci_low == s.pooled.ci_high == s.pooled.estimate
    assert s.heterogeneity.q == 0.0 and s.heterogeneity.tau2 == 0.0
    assert any("identical" in n for n in s.notes)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("y", [[0.3, 0.3, 0.3, 0.3], [0.3, 0.1 + 0.2, 0.3, 0.15 * 2]])
def test_identical_estimates_egger_begg_trimfill_undefined(y: list[float]) -> None:
    from reviewtool.analysis.bias import begg_test, egger_test, trim_and_fill

    yy, vv = np.array(y), np.array(IDENTICAL_V)
    e = egger_test(yy, vv, model="lm")
    assert e.bias == 0.0 and np.isnan(e.statistic) and np.isnan(e.p)
    assert e.limit_estimate == pytest.approx(0.3, abs=1e-15)
    e_rma = egger_test(yy, vv, model="rma")
    assert e_rma.bias == 0.0 and e_rma.statistic == 0.0 and e_rma.p == 1.0
    b = begg_test(yy, vv)
    assert np.isnan(b.tau) and np.isnan(b.p)
    tf = trim_and_fill(yy, vv)
    assert tf.k0 == 0


def test_identical_estimates_cli_prints_na_and_warns(tmp_path: Path) -> None:
    p = tmp_path / "same.csv"
    p.write_text("study,yi,vi\nA,0.3,0.02\nB,0.3,0.05\nC,0.3,0.04\nD,0.3,0.1\n")
    d = _json(str(p), "-m", "GEN", "--model", "random", "--hksj", "--bias")
    assert d["egger"]["t"] is None and d["egger"]["p"] is None
    assert d["begg"]["tau"] is None and d["begg"]["p"] is None
    assert any("identical" in w for w in d["warnings"])
    assert any("identical" in n for n in d["notes"])


# --- C5: analyze file validates while reading, as analyze run does -----------------------------


def _cli(*args: str) -> object:
    from reviewtool.cli import app as root

    return runner.invoke(root, list(args))


def _one_error_line(res: object) -> str:
    """The single stderr line of a refused command (exit 2, no traceback, nothing on stdout)."""
    assert res.exit_code == 2, (res.exit_code, res.output)  # type: ignore[attr-defined]
    assert res.stdout == ""  # type: ignore[attr-defined]
    lines = res.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0] and "Warning" not in lines[0]
    return lines[0]


@pytest.mark.filterwarnings("error")
def test_md_sd_zero_case_is_refused_while_reading(shared_dir: Path) -> None:
    path = shared_dir / "cases" / "md_sd_zero.csv"
    for measure in ("MD", "SMD"):
        line = _one_error_line(_cli("analyze", "file", str(path), "-m", measure))
        assert f"{path}:4: column 'sd_exp': " in line
        assert line.endswith("(study Castellanos)")


BAD_FILE_ROWS = [
    # (measure, header, rows, line, fragment): the header is line 1
    (
        "MD",
        "study,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con",
        ["A,1,2,10,1,2,10", "B,1,0,10,2,0,12"],
        3,
        "column 'sd_exp': 0, and sd_con is 0 too",
    ),
    (
        "SMD",
        "study,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con",
        ["A,1,-2,10,1,2,10"],
        2,
        "column 'sd_exp': -2 is negative (study A)",
    ),
    (
        "SMD",
        "study,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con",
        ["A,1,2,-4,1,2,10"],
        2,
        "column 'n_exp': -4 is less than 1 (study A)",
    ),
    (
        "MD",
        "study,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con",
        ["A,1,2,10.5,1,2,10"],
        2,
        "column 'n_exp': 10.5 is not a whole number",
    ),
    (
        "MD",
        "study,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con",
        ["A,1,2,1,1,2,1"],
        2,
        "column 'n_exp': n_exp + n_con must be at least 3",
    ),
    (
        "MD",
        "study,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con",
        ["A,1,2,10,,2,10"],
        2,
        "column 'mean_con' is empty (study A)",
    ),
    (
        "OR",
        "study,events_exp,total_exp,events_con,total_con",
        ["A,3,10,2,10", "B,12,10,2,10"],
        3,
        "column 'events_exp': 12 events but total_exp is 10 (study B)",
    ),
    (
        "RR",
        "study,events_exp,total_exp,events_con,total_con",
        ["A,3,10,-1,10"],
        2,
        "column 'events_con': -1 is less than 0",
    ),
    (
        "RD",
        "study,events_exp,total_exp,events_con,total_con",
        ["A,0,0,1,10"],
        2,
        "column 'total_exp': 0 is less than 1",
    ),
    (
        "GEN",
        "study,yi,vi",
        ["A,0.1,0.02", "B,0.2,0"],
        3,
        "column 'vi': 0 is not positive (study B)",
    ),
    ("GEN", "study,yi,sei", ["A,0.1,-0.2"], 2, "column 'sei': -0.2 is not positive"),
    ("GEN", "study,yi,vi", ["A,inf,0.2"], 2, "column 'yi': 'inf' is not a finite number"),
    # a comment line and a quoted study name over two lines keep line numbers true
    (
        "GEN",
        "# typed from the papers\nstudy,yi,vi",
        ['"A\nsecond line",0.1,0.02', "B,x,0.1"],
        5,
        "column 'yi': 'x' is not a number (study B)",
    ),
    ("GEN", "study,yi,vi", ["A,0.1,0.02", "B,0.2"], 3, "2 fields where the header has 3"),
    ("GEN", "study,yi,vi,yi", ["A,0.1,0.02,0.1"], 1, "column 'yi' appears twice"),
    ("GEN", "study,yi,vi", [",0.1,0.02"], 2, "column 'study' is empty"),
]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(("measure", "header", "rows", "line", "fragment"), BAD_FILE_ROWS)
def test_analyze_file_refuses_bad_values_with_file_line_column_study(
    tmp_path: Path, measure: str, header: str, rows: list[str], line: int, fragment: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    msg = _one_error_line(_cli("analyze", "file", str(path), "-m", measure))
    assert msg == f"reviewtool: error: {path}:{line}: " + msg.split(f"{path}:{line}: ", 1)[1]
    assert fragment in msg


def test_file_and_run_report_a_bad_row_in_the_same_words(tmp_path: Path) -> None:
    """One validator: the same bad row gives the same message from analyze file and analyze run."""
    from reviewtool.analysis.service import read_outcomes
    from reviewtool.analysis.study_table import analyse_file
    from reviewtool.errors import ParseError

    file_csv = tmp_path / "file.csv"
    file_csv.write_text("study,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con\nZed,1,0,10,2,0,12\n")
    run_csv = tmp_path / "run.csv"
    run_csv.write_text(
        "study,outcome,time_point,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con\n"
        "Zed,pain,baseline,1,0,10,2,0,12\n"
    )
    with pytest.raises(ParseError) as a:
        analyse_file(file_csv, measure="MD")
    with pytest.raises(ParseError) as b:
        read_outcomes(run_csv)
    assert str(a.value).split(":2: ", 1)[1] == str(b.value).split(":2: ", 1)[1]
    assert str(a.value).endswith("(study Zed)")


EDGE_FILES = [
    # inputs that used to raise numpy RuntimeWarnings or stop the analysis; all must run quietly
    (
        "RD",
        "study,events_exp,total_exp,events_con,total_con\nA,2,2,0,2\nB,0,10,0,12\nC,5,9,3,9\n",
        ["--add", "0"],
    ),
    (
        "OR",
        "study,events_exp,total_exp,events_con,total_con\nA,0,10,3,10\nB,2,10,0,10\nC,1,20,4,20\n",
        ["--add", "0"],
    ),
    (
        "OR",
        "study,events_exp,total_exp,events_con,total_con\nA,0,10,0,10\nB,10,10,10,10\nC,3,20,4,20\nD,2,30,7,30\n",
        ["--keep-double-zero", "--peto", "--bias", "--loo"],
    ),
    (
        "SMD",
        "study,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con\nA,1,0,10,2,1,10\nB,1,1,1,2,1,2\nC,3,2,20,1,2,20\n",
        ["--model", "random", "--hksj", "--loo"],
    ),
    (
        "GEN",
        "study,yi,vi\nA,0.3,0.02\nB,0.3,0.05\nC,0.3,0.04\n",
        ["--model", "random", "--hksj", "--bias", "--tau2", "PM"],
    ),
    ("GEN", "study,yi,vi\nSolo,0.3,0.02\n", ["--model", "random", "--hksj", "--bias", "--loo"]),
]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(("measure", "text", "extra"), EDGE_FILES)
def test_edge_inputs_raise_no_numpy_warning(
    tmp_path: Path, measure: str, text: str, extra: list[str]
) -> None:
    path = tmp_path / "edge.csv"
    path.write_text(text)
    for fmt in ("table", "json", "csv"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = _cli("analyze", "file", str(path), "-m", measure, *extra, "--format", fmt)
        assert res.exit_code == 0, (res.output, res.exception)  # type: ignore[attr-defined]
        assert "Warning:" not in res.stderr  # type: ignore[attr-defined]


# --- C7: analyze check REPORTED.csv ------------------------------------------------------------


def test_check_command_on_the_seed_reported_results(shared_dir: Path) -> None:
    path = shared_dir / "seed" / "reported_results.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    res = _cli("analyze", "check", str(path), "--format", "json")
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    d = json.loads(res.stdout)  # type: ignore[attr-defined]
    bad = {r["label"] for r in d["rows"] if not r["consistent"]}
    # the rows the file's note marks, plus PTA and AST baseline (CI implies p ≈ 0.31 and 0.62)
    assert bad == {
        "MELD 24 weeks",
        "PTA baseline",
        "PTA 12 weeks",
        "PTA 24 weeks",
        "PTA 48 weeks",
        "AST baseline",
    }
    assert d["checked"] == 20 and d["inconsistent"] == 6
    assert [s["line"] for s in d["skipped"]] == [12, 13]  # TBIL rows with no estimate
    ast = next(r for r in d["rows"] if r["label"] == "AST baseline")
    assert ast["line"] == 23 and ast["implied_p"] == pytest.approx(0.62, abs=0.005)


def test_check_command_known_answers(tmp_path: Path) -> None:
    """Altman & Bland (2011) BMJ 343:d2304: RR 0.81 (95% CI 0.70 to 0.94) gives P = 0.005."""
    path = tmp_path / "reported.csv"
    path.write_text(
        "label,measure,estimate,ci_low,ci_high,p\n"
        "Altman-Bland RR,RR,0.81,0.70,0.94,0.005\n"
        "same RR with a wrong p,RR,0.81,0.70,0.94,0.05\n"
        "mean difference,MD,1.2,0.2,2.2,0.02\n"
        "CI reversed,MD,1.2,2.2,0.2,\n"
    )
    d = json.loads(_cli("analyze", "check", str(path), "-f", "json").stdout)  # type: ignore[attr-defined]
    rows = {r["label"]: r for r in d["rows"]}
    ab = rows["Altman-Bland RR"]
    assert ab["consistent"] and ab["ratio"]
    assert ab["implied_p"] == pytest.approx(0.005, abs=0.0005)
    assert not rows["same RR with a wrong p"]["consistent"]
    # MD 1.2 (0.2 to 2.2): SE = 1/1.96, z = 2.352, p = 0.0187 -> "0.02" agrees
    assert rows["mean difference"]["consistent"]
    assert rows["mean difference"]["implied_p"] == pytest.approx(0.01867, abs=1e-4)
    assert "above the upper bound" in rows["CI reversed"]["problems"][0]
    csv_out = _cli("analyze", "check", str(path), "-f", "csv").stdout  # type: ignore[attr-defined]
    assert csv_out.splitlines()[0].startswith("line,label,estimate,ci_low,ci_high,p,ratio")
    assert csv_out.splitlines()[1].startswith("2,Altman-Bland RR,0.81,0.70,0.94,0.005,True,True")
    table = _cli("analyze", "check", str(path)).stdout  # type: ignore[attr-defined]
    assert "2 of 4 results do not add up as printed" in " ".join(table.split())
    # --no-ratio overrides the measure column: 0.81 (0.70 to 0.94) as a difference is off-centre
    d2 = json.loads(_cli("analyze", "check", str(path), "--no-ratio", "-f", "json").stdout)  # type: ignore[attr-defined]
    assert not d2["rows"][0]["ratio"]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("label,estimate,ci_low,ci_high\nA,1.0,x,2.0\n", 2, "column 'ci_low': 'x' is not a number"),
        (
            "label,estimate,ci_low,ci_high,p\nA,1.0,0.5,1.5,abc\n",
            2,
            "column 'p': 'abc' is not a p-value",
        ),
        ("label,estimate,ci_low,ci_high,p\nA,1.0,0.5,1.5,1.7\n", 2, "'1.7' is not between 0 and 1"),
        (
            "label,estimate,ci_low,ci_high\nA,1.0,0.5,1.5\nB,1.0,,1.5\n",
            3,
            "column 'ci_low' is empty",
        ),
        ("label,estimate,ci_low\nA,1.0,0.5\n", 1, "no column 'ci_high' in the header"),
        (
            "label,estimate,ci_low,ci_high,level\nA,1.0,0.5,1.5,150\n",
            2,
            "is not a confidence level",
        ),
    ],
)
def test_check_command_bad_input_is_one_line(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    path = tmp_path / "reported.csv"
    path.write_text(text)
    msg = _one_error_line(_cli("analyze", "check", str(path)))
    assert f"{path}:{line}: " in msg and fragment in msg


def test_analyze_run_single_study_time_point_and_one_i2_in_exports(tmp_path: Path) -> None:
    """analyze run: a time point with one study is not pooled; pooled.csv's I² is Q-based."""
    from reviewtool.analysis.service import analyse_outcomes_table, pooled_rows, read_outcomes

    path = tmp_path / "outcomes.csv"
    path.write_text(
        "study,outcome,time_point,yi_note,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con\n"
        "A,MELD,baseline,,20,4,40,23,4,40\n"
        "B,MELD,baseline,,21,5,30,24.5,5,32\n"
        "C,MELD,baseline,,13,3,25,17,3,25\n"
        "A,MELD,4 weeks,,17,4,38,19,4.5,36\n"
    )
    analyses = analyse_outcomes_table(
        read_outcomes(path), settings=Settings(model="random", tau2_method="REML")
    )
    rows = pooled_rows({"analyses": [a.to_dict() for a in analyses]})
    base, single = rows
    assert single["k"] == 1 and single["model"] == "none"
    assert single["model_reason"] == "single study, not pooled"
    assert single["tau2"] is None and single["p_Q"] == 1.0
    assert base["I2_form"] == "Q-based"
    assert base["I2"] == pytest.approx(100 * (base["Q"] - base["Q_df"]) / base["Q"])


def test_peto_funnel_and_bias_use_the_peto_rows(shared_dir: Path) -> None:
    """The funnel plot and Egger's test read the rows the forest shows (Peto rows, not IV ORs)."""
    from reviewtool.analysis.study_table import analyse_file

    fa = analyse_file(
        shared_dir / "cases" / "peto_rows.csv",
        measure="OR",
        settings=Settings(model="fixed", method="Peto"),
        bias=True,
    )
    assert fa.funnel is not None
    assert fa.funnel.yi == pytest.approx([-1.4017094, -0.7647059, -1.4578255], abs=1e-7)
    assert fa.funnel.sei == pytest.approx(np.sqrt([1.4017094, 0.7647059, 0.5831302]), abs=1e-7)
    assert fa.funnel.center == pytest.approx(-1.2821409, abs=1e-7)
