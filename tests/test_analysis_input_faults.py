"""A new user's faults in the analysis commands (issue 8 follow-up), end to end through the CLI.

Each test runs the real command (typer's CliRunner on the whole app) and checks the one line a
user sees: ``FILE:LINE: column 'NAME': ...``, exit code 2, no traceback, nothing stored, and no
numpy warning (warnings are errors in this module). Right values are R metafor 3.8.1's (the R
calls are quoted next to them).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from reviewtool.analysis.bias import begg_test, egger_test, trim_and_fill
from reviewtool.errors import InvalidInput

pytestmark = pytest.mark.filterwarnings("error")  # no numpy (or other) warning may reach a user

runner = CliRunner()
BIN = "study,events_exp,total_exp,events_con,total_con"
CONT = "study,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con"
LONG = "study,outcome,time_point,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con"


def _csv(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cli(*args: str, env: dict[str, str] | None = None) -> Any:
    from reviewtool.cli import app

    return runner.invoke(app, list(args), env=env)


def _refused(res: Any, prefix: str, fragment: str) -> None:
    """Exit 2 and one line ``reviewtool: error: PREFIX...FRAGMENT...``, no traceback."""
    assert res.exit_code == 2, res.output
    errors = [line for line in res.output.splitlines() if line.startswith("reviewtool: error:")]
    assert len(errors) == 1, res.output
    assert errors[0].startswith(f"reviewtool: error: {prefix}"), errors[0]
    assert fragment in errors[0], errors[0]
    assert "Traceback" not in res.output and "Warning" not in res.output


@pytest.fixture
def review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A new review in ``tmp_path`` (the working directory) with alice as its owner."""
    monkeypatch.chdir(tmp_path)
    assert _cli("init", "--title", "T", "--as", "alice").exit_code == 0
    return tmp_path


def _runs(review: Path) -> list[dict[str, Any]]:
    res = _cli("analyze", "runs", "--format", "json", "--as", "alice")
    assert res.exit_code == 0, res.output
    runs: list[dict[str, Any]] = json.loads(res.stdout)
    return runs


# ----------------------------------------------------------------- 1. repeated rows, long format


def test_file_refuses_a_study_given_twice(tmp_path: Path) -> None:
    path = _csv(tmp_path, "dupstudy.csv", BIN, "A,1,4,3,10", "A,1,4,3,10", "B,2,20,5,20")
    res = _cli("analyze", "file", str(path), "--measure", "OR")
    _refused(res, f"{path}:3: column 'study': study 'A' is already on line 2", "one row per study")
    # Without the repeat, A and B are pooled as metafor does:
    # rma(yi, vi, data=escalc("OR", ai=c(1,2), n1i=c(4,20), ci=c(3,5), n2i=c(10,20)), method="FE")
    once = _csv(tmp_path, "once.csv", BIN, "A,1,4,3,10", "B,2,20,5,20")
    res = _cli("analyze", "file", str(once), "--measure", "OR", "--model", "fixed", "-f", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["k"] == 2
    assert out["pooled"]["estimate"] == pytest.approx(-0.8338955868, rel=1e-8)


def test_same_study_name_in_two_years_is_two_studies_but_the_same_year_is_refused(
    tmp_path: Path,
) -> None:
    rows = ("study,year,yi,vi", "Smith,2010,0.1,0.04", "Smith,2012,0.3,0.05")
    ok = _cli("analyze", "file", str(_csv(tmp_path, "ok.csv", *rows)), "-m", "GEN", "-f", "json")
    assert ok.exit_code == 0, ok.output
    assert [s["study"] for s in json.loads(ok.stdout)["studies"]] == ["Smith 2010", "Smith 2012"]
    bad = _csv(tmp_path, "bad.csv", *rows, "Smith,2010,0.2,0.06")
    _refused(
        _cli("analyze", "file", str(bad), "-m", "GEN"),
        f"{bad}:4: column 'study': study 'Smith' (2010) is already on line 2",
        "",
    )


@pytest.mark.parametrize("column", ["outcome", "time_point"])
def test_file_refuses_a_long_format_file_and_points_to_run(tmp_path: Path, column: str) -> None:
    # One study at 4 time points: "OR: 4 studies" before; a long-format file is for analyze run.
    header = f"study,{column},events_exp,total_exp,events_con,total_con"
    rows = [f"A,{tp},{3 + i},20,5,20" for i, tp in enumerate(("0", "4", "8", "12"))]
    path = _csv(tmp_path, "long.csv", header, *rows)
    res = _cli("analyze", "file", str(path), "--measure", "OR")
    _refused(res, f"{path}:1: column {column!r}: this is a long-format file", "analyze run")


# ---------------------------------------------------------------- 2. degenerate small-study tests

SAME_SE = (CONT, "A,5,2,20,3,3,20", "B,7,2,20,3,3,20", "C,4,2,20,3,3,20")


@pytest.mark.parametrize("model", ["auto", "random", "fixed"])
def test_bias_with_equal_standard_errors_is_undefined_not_a_crash(
    tmp_path: Path, model: str
) -> None:
    path = _csv(tmp_path, "samevi.csv", *SAME_SE)
    res = _cli("analyze", "file", str(path), "-m", "MD", "--bias", "--model", model, "-f", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    # metafor: regtest(res) stops ("Model matrix no longer of full rank"), ranktest(res) gives
    # Kendall's tau = NA, p = NA, trimfill(res) stops (no side): all undefined here.
    assert {out["egger"][k] for k in ("bias", "se", "t", "p", "limit_estimate")} == {None}
    assert out["begg"]["tau"] is None and out["begg"]["p"] is None
    assert "trim_fill" not in out or out["trim_fill"] is None
    assert any("same standard error" in w for w in out["warnings"])
    if model != "fixed":  # rma(yi, vi, data=d): b = 2.3333333333, tau2 = 1.6833333333
        assert out["pooled"]["estimate"] == pytest.approx(2.3333333333, rel=1e-8)
        assert out["heterogeneity"]["tau2"] == pytest.approx(1.6833333333, rel=1e-6)
    text = _cli("analyze", "file", str(path), "-m", "MD", "--bias", "--model", model)
    assert text.exit_code == 0 and "Egger's test" in text.stdout and "p = NA" in text.stdout


def test_bias_with_identical_estimates_and_equal_standard_errors(tmp_path: Path) -> None:
    rows = (CONT, "A,5,2,20,3,3,20", "B,5,2,20,3,3,20", "C,5,2,20,3,3,20", "D,5,2,20,3,3,20")
    res = _cli(
        "analyze",
        "file",
        str(_csv(tmp_path, "same.csv", *rows)),
        "-m",
        "MD",
        "--bias",
        "-f",
        "json",
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["pooled"]["estimate"] == pytest.approx(2.0, rel=1e-12)
    assert out["egger"]["p"] is None and out["begg"]["tau"] is None


def test_every_small_study_estimator_says_undefined_on_a_constant_predictor() -> None:
    yi = np.array([2.0, 4.0, 1.0])
    vi = np.full(3, 0.65)
    for model in ("lm", "rma"):
        e = egger_test(yi, vi, model=model)
        assert math.isnan(e.bias) and math.isnan(e.p) and math.isnan(e.limit_estimate)
    # The same with the sample-size predictors: every study the same size.
    e = egger_test(yi, np.array([0.6, 0.7, 0.65]), predictor="ninv", ni=np.full(3, 40.0))
    assert math.isnan(e.p)
    b = begg_test(yi, vi)
    assert math.isnan(b.tau) and math.isnan(b.p)
    with pytest.raises(InvalidInput, match="same standard error"):
        trim_and_fill(yi, vi)
    assert trim_and_fill(yi, vi, side="left").k0 >= 0  # with a side given it is defined


def test_run_with_bias_on_equal_standard_errors_is_stored(review: Path) -> None:
    # 5/20 vs 10/20, 10/20 vs 5/20, 15/20 vs 10/20: every log OR has vi = 0.4667.
    header = "study,outcome,time_point,events_exp,total_exp,events_con,total_con"
    rows = [
        "A,death,4 weeks,5,20,10,20",
        "B,death,4 weeks,10,20,5,20",
        "C,death,4 weeks,15,20,10,20",
    ]
    path = _csv(review, "binary.csv", header, *rows)
    res = _cli("analyze", "run", str(path), "--name", "m", "--bias", "--as", "alice")
    assert res.exit_code == 0, res.output
    (run,) = _runs(review)
    res = _cli(
        "analyze",
        "export",
        str(run["id"]),
        "--out",
        "x",
        "-e",
        "csv",
        "--no-plots",
        "--as",
        "alice",
    )
    assert res.exit_code == 0, res.output
    # rma(yi, vi, data=escalc("OR", ai=c(5,10,15), n1i=rep(20,3), ci=c(10,5,10), n2i=rep(20,3)))
    # b = 0.3662040962 (I² 71% > 50%: the auto rule picks random effects)
    pooled = (review / "x" / "pooled.csv").read_text().splitlines()
    assert len(pooled) == 2 and "random" in pooled[1]
    estimate = float(pooled[1].split(",")[pooled[0].split(",").index("estimate")])
    assert estimate == pytest.approx(0.3662040962, abs=5e-5)  # pooled.csv prints 4 decimals


# ------------------------------------------------------------------------ 3. time points


@pytest.mark.parametrize(
    "time_point", ["someday", "-3 weeks", "week 1e9", "week 10000", "4 fortnights", "week 4 days"]
)
def test_run_refuses_a_time_point_the_docs_do_not_allow(review: Path, time_point: str) -> None:
    path = _csv(
        review,
        "tp.csv",
        LONG,
        "A,pain,baseline,1,2,20,2,2,20",
        f"A,pain,{time_point},1,2,20,2,2,20",
    )
    res = _cli("analyze", "run", str(path), "--name", "m", "--as", "alice")
    _refused(res, f"{path}:3: column 'time_point': {time_point!r}", "(study A)")
    assert _runs(review) == []


def test_run_accepts_every_documented_time_point_form(review: Path) -> None:
    forms = ["baseline", "0 weeks", "2 weeks", "week 4", "6 months", "90 days", "3", "1 year"]
    rows = [f"{s},pain,{tp},1,2,20,2,2,20" for tp in forms for s in ("A", "B")]
    path = _csv(review, "tp.csv", LONG, *rows)
    res = _cli("analyze", "run", str(path), "--name", "m", "--as", "alice")
    assert res.exit_code == 0, res.output
    assert _runs(review)[0]["analyses"] == len(forms)
    order = ["baseline", "0 weeks", "2 weeks", "3", "week 4", "90 days", "6 months", "1 year"]
    assert [
        next(tp for tp in order if line.strip()[4:].strip().startswith(tp))
        for line in res.stdout.splitlines()
        if line.strip().startswith("pain")
    ] == order  # time order


# -------------------------------------------------------------- 4. impossible values, overflow


@pytest.mark.parametrize(("level", "ok"), [("1.5", None), ("0", None), ("100", None), ("150", None),
                                           ("95", 0.95), ("0.9", 0.9), ("99.9", 0.999)])  # fmt: skip
def test_check_validates_a_level_column(tmp_path: Path, level: str, ok: float | None) -> None:
    path = _csv(tmp_path, "rep.csv", "label,estimate,ci_low,ci_high,level", f"x,1,0.5,1.5,{level}")
    res = _cli("analyze", "check", str(path), "--format", "json")
    if ok is None:
        _refused(res, f"{path}:2: column 'level': {level} is not a confidence level", "")
    else:
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["rows"][0]["level"] == pytest.approx(ok)


@pytest.mark.parametrize("add", ["-0.5", "-2", "1e308", "nan", "inf"])
def test_file_refuses_an_impossible_continuity_correction(tmp_path: Path, add: str) -> None:
    path = _csv(tmp_path, "z.csv", BIN, "A,0,10,3,10", "B,2,20,5,20")
    res = _cli("analyze", "file", str(path), "--measure", "OR", "--add", add)
    _refused(res, "--add must be between 0 and 1 (e.g. 0.5), not ", "")


def test_file_accepts_corrections_between_0_and_1(tmp_path: Path) -> None:
    # escalc("OR", ai=c(0,2), n1i=c(10,20), ci=c(3,5), n2i=c(10,20), add=1)$yi[1]
    # = log((1*8)/(11*4)) = -1.7047480922
    path = _csv(tmp_path, "z.csv", BIN, "A,0,10,3,10", "B,2,20,5,20")
    res = _cli("analyze", "file", str(path), "-m", "OR", "--add", "1", "-f", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["studies"][0]["yi"] == pytest.approx(math.log(8 / 44), rel=1e-9)


@pytest.mark.parametrize(
    ("rows", "line", "fragment"),
    [
        (
            (CONT, "A,5,1e300,20,3,3,20", "B,5,2,20,3,3,20"),
            2,
            "column 'sd_exp': 1e300 is too large",
        ),
        ((CONT, "A,1e200,2,20,3,3,20", "B,5,2,20,3,3,20"), 2, "column 'mean_exp': 1e200"),
        ((CONT, "A,5,2,20,3,3,20", "B,5,2,1e20,3,3,20"), 3, "column 'n_exp': 1e20 is too large"),
        (
            (CONT, "A,5,1e-300,20,3,3,20", "B,5,2,20,3,3,20"),
            2,
            "column 'sd_exp': 1e-300 is too small",
        ),
        (("study,yi,vi", "A,1,1e-300", "B,2,0.1"), 2, "column 'vi': 1e-300 is too small"),
        (("study,yi,sei", "A,1e300,0.1", "B,2,0.1"), 2, "column 'yi': 1e300 is too large"),
        ((BIN, "A,1,1e300,3,10", "B,2,20,5,20"), 2, "column 'total_exp': 1e300 is too large"),
    ],
)
def test_extreme_values_are_refused_while_reading(
    tmp_path: Path, rows: tuple[str, ...], line: int, fragment: str
) -> None:
    path = _csv(tmp_path, "x.csv", *rows)
    measure = "GEN" if rows[0].startswith("study,yi") else "OR" if "events" in rows[0] else "MD"
    for extra in ([], ["--bias", "--loo", "--model", "random", "--hksj"]):
        res = _cli("analyze", "file", str(path), "-m", measure, *extra)
        _refused(res, f"{path}:{line}: {fragment}", "")


def test_run_refuses_an_sd_that_overflows_and_stores_nothing(review: Path) -> None:
    path = _csv(
        review, "o.csv", LONG, "A,pain,baseline,1,1e300,20,2,2,20", "B,pain,baseline,1,2,20,2,2,20"
    )
    res = _cli("analyze", "run", str(path), "--name", "m", "--as", "alice")
    _refused(res, f"{path}:2: column 'sd_exp': 1e300 is too large", "(study A)")
    assert _runs(review) == []


def test_largest_and_smallest_accepted_values_compute_without_warnings(tmp_path: Path) -> None:
    # At the bounds the sums of squares and inverse variances stay finite.
    rows = (CONT, "A,1e12,1e12,1000000,0,1e12,1000000", "B,0,1e-12,20,1e-12,1e-12,20",
            "C,5,2,20,3,3,20")  # fmt: skip
    res = _cli("analyze", "file", str(_csv(tmp_path, "b.csv", *rows)), "-m", "MD", "--bias",
               "--loo", "-f", "json")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert math.isfinite(json.loads(res.stdout)["pooled"]["estimate"])


def test_ratio_limits_beyond_the_float_range_are_null_not_a_crash(tmp_path: Path) -> None:
    # A near-empty arm against 1e12 participants: exp(upper limit) overflows (OverflowError before).
    rows = (BIN, "S0,0,1000000,1e12,1e12", "S1,1,1,1,20", "S2,0,1000000,0,1e12")
    path = _csv(tmp_path, "wide.csv", *rows)
    args = ("analyze", "file", str(path), "-m", "OR", "--peto", "--bias", "--loo")
    res = _cli(*args, "-f", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)  # --peto under the auto rule's random effects: IV, as noted
    assert out["pooled"]["ci_high"] > 709.78 and out["pooled"]["exp_ci_high"] is None
    assert "to inf" in _cli(*args).stdout  # the table says so
    # rma.peto(ai=c(0,1,0), n1i=c(1e6,1,1e6), ci=c(1e12,1,0), n2i=c(1e12,20,1e12)):
    # b = -920668.8477, CI -920670.7283 to -920666.9671
    res = _cli("analyze", "file", str(path), "-m", "OR", "--peto", "--model", "fixed", "-f", "json")
    pooled = json.loads(res.stdout)["pooled"]
    assert pooled["estimate"] == pytest.approx(-920668.8477, rel=1e-9)
    assert pooled["ci_low"] == pytest.approx(-920670.7283, rel=1e-9)


def test_variances_24_orders_apart_converge(tmp_path: Path) -> None:
    # Brent's method stopped after scipy's 100 iterations (RuntimeError) in the Egger/trim-and-fill
    # meta-regression. rma(yi, vi, data=d): b = -3.333333333e11, tau2 = 3.333333333e23
    # (metafor warns that the ratio of variances is extreme).
    path = _csv(tmp_path, "far.csv", "study,yi,vi", "S0,-1e12,1e-12", "S1,1,1e12", "S2,1e-12,1e12")
    res = _cli("analyze", "file", str(path), "-m", "GEN", "--model", "random", "--bias", "--loo",
               "-f", "json")  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["pooled"]["estimate"] == pytest.approx(-3.333333333e11, rel=1e-9)
    assert out["heterogeneity"]["tau2"] == pytest.approx(3.333333333e23, rel=1e-9)


def test_file_by_refuses_an_empty_group_cell(tmp_path: Path) -> None:
    path = _csv(tmp_path, "g.csv", f"{BIN},grp", "A,1,4,3,10,x", "B,2,20,5,20,", "C,2,20,5,20,y")
    res = _cli("analyze", "file", str(path), "-m", "OR", "--by", "grp")
    _refused(res, f"{path}:3: column 'grp' is empty", "(study B)")
    assert _cli("analyze", "file", str(path), "-m", "OR").exit_code == 0  # not grouping: fine


# ------------------------------------------------------------------- 5. one clear error line


def test_latin1_file_names_the_line_of_the_first_bad_byte(review: Path) -> None:
    text = f"{LONG}\nA,pain,baseline,1,2,20,2,2,20\nCaf\xe9,pain,baseline,1,2,20,2,2,20\n"
    path = review / "latin1.csv"
    path.write_bytes(text.encode("latin-1"))
    res = _cli("analyze", "run", str(path), "--name", "m", "--as", "alice")
    _refused(res, f"{path}:3: not UTF-8 text: byte 0xe9", "save the file as UTF-8")
    first = review / "first.csv"
    first.write_bytes("st\xfcdy,yi,vi\n".encode("latin-1"))
    _refused(_cli("analyze", "file", str(first)), f"{first}:1: not UTF-8 text: byte 0xfc", "")


def test_no_study_left_names_the_file(tmp_path: Path) -> None:
    path = _csv(tmp_path, "allzero.csv", BIN, "A,0,10,0,10", "B,0,20,0,20")
    res = _cli("analyze", "file", str(path), "--measure", "OR")
    _refused(res, f"{path}: no study is left to compute an OR from", "no events")
    # RD is defined on the same file: escalc("RD", ...) gives 0 for both; the pooled RD is 0.
    res = _cli("analyze", "file", str(path), "--measure", "RD", "-f", "json")
    assert res.exit_code == 0 and json.loads(res.stdout)["pooled"]["estimate"] == pytest.approx(0)


@pytest.mark.parametrize("command", ["file", "check"])
def test_level_given_as_a_percentage_is_refused_with_the_right_form(
    tmp_path: Path, command: str
) -> None:
    path = _csv(tmp_path, "g.csv", "study,yi,vi,estimate,ci_low,ci_high", "A,1,0.1,1,0.5,1.5")
    res = _cli("analyze", command, str(path), "--level", "95")
    _refused(res, "--level must be between 0 and 1 (e.g. 0.95), not 95", "")


@pytest.mark.parametrize(("sep", "name"), [(";", "';'"), ("\t", "tabs")])
def test_a_file_not_separated_by_commas_says_so(tmp_path: Path, sep: str, name: str) -> None:
    path = _csv(tmp_path, "semi.csv", sep.join(("study", "yi", "vi")), sep.join(("A", "1", "0.1")))
    _refused(_cli("analyze", "file", str(path)), f"{path}:1: the header is separated by {name}", "")
    _refused(
        _cli("analyze", "check", str(path)), f"{path}:1: the header is separated by {name}", ""
    )


# ----------------------------------------------------------------- 6. funnel below 2 studies


def test_no_funnel_for_a_single_study(tmp_path: Path) -> None:
    path = _csv(tmp_path, "k1.csv", "study,yi,vi", "A,0.5,0.1")
    funnel = tmp_path / "fu.png"
    res = _cli("analyze", "file", str(path), "-m", "GEN", "--funnel", str(funnel), "-f", "json")
    assert res.exit_code == 0, res.output
    assert not funnel.exists()
    assert json.loads(res.stdout)["k"] == 1  # the note goes to stderr: JSON stays clean
    assert "funnel plot not drawn" in res.stderr and "at least 2 studies" in res.stderr


def test_a_funnel_is_drawn_from_two_studies(tmp_path: Path) -> None:
    path = _csv(tmp_path, "k2.csv", "study,yi,vi", "A,0.5,0.1", "B,0.2,0.2")
    funnel = tmp_path / "fu.png"
    res = _cli("analyze", "file", str(path), "-m", "GEN", "--funnel", str(funnel))
    assert res.exit_code == 0, res.output
    assert funnel.stat().st_size > 0 and "not drawn" not in res.output


# --------------------------------------------------------- 7. piped tables are not truncated


def test_piped_tables_keep_their_key_columns_whole(review: Path) -> None:
    rows = [f"{s},a rather long outcome name,{tp},1,2,20,2,2,20" for tp in ("baseline", "12 weeks")
            for s in ("A", "B")]  # fmt: skip
    path = _csv(review, "o.csv", LONG, *rows)
    env = {"COLUMNS": "80"}  # what a pipe gets
    res = _cli("analyze", "run", str(path), "--name", "main analysis", "--as", "alice", env=env)
    assert res.exit_code == 0, res.output
    assert "…" not in res.stdout.split("Settings:")[0]
    assert "a rather long outcome name" in res.stdout and "baseline" in res.stdout
    listed = _cli("analyze", "runs", "--as", "alice", env=env)
    (run,) = _runs(review)
    assert run["run_at"][:19] in listed.stdout and "main analysis" in listed.stdout
    assert "…" not in listed.stdout
