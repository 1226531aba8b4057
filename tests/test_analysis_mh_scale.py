"""Issue 8 C6: Mantel-Haenszel pools every table, tolerances are relative, degenerate subsets.

Every right value below was computed with R 4 and metafor 3.8.1; the R code is quoted next to it.
Values are printed by R to 12-15 significant digits, so they are compared to 1e-9 relative.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from reviewtool.analysis.bias import _reml_metareg_tau2, egger_test
from reviewtool.analysis.effect_sizes import binary_effects, continuous_effects
from reviewtool.analysis.estimators import tau2_pm, tau2_reml
from reviewtool.analysis.meta import Settings, leave_one_out, meta_analysis, subgroup_analysis
from reviewtool.analysis.service import _loo_rows, _subgroup_rows
from reviewtool.cli.analyze import app

runner = CliRunner()
MH = Settings(model="fixed", method="MH")


def close(actual: float | None, expected: float, rel: float = 1e-9) -> None:
    assert actual is not None
    assert abs(actual - expected) <= rel * abs(expected) + 1e-12, f"{actual!r} != {expected!r}"


# --- Mantel-Haenszel keeps studies with events in every participant of both arms -------------


def test_mh_rr_pools_a_study_with_events_in_every_participant() -> None:
    # R: r <- rma.mh(measure="RR", ai=c(4,3,5), n1i=c(10,12,5), ci=c(8,6,5), n2i=c(10,12,5))
    #    c(r$beta, r$se, r$ci.lb, r$ci.ub, r$zval, r$pval, r$QE, r$QEp, r$k, r$k.yi); weights(r)
    es = binary_effects([4, 3, 5], [10, 12, 5], [8, 6, 5], [10, 12, 5], measure="RR")
    r = meta_analysis(es, MH)
    close(r.pooled.estimate, -0.4595323293784)  # without study 3 it would be -0.693147180560
    close(r.pooled.se, 0.2255597326263)
    close(r.pooled.ci_low, -0.9016212816885)
    close(r.pooled.ci_high, -0.0174433770684)
    close(r.pooled.statistic, -2.0372977216627)
    close(r.pooled.p, 0.0416202160223)
    # Q from the two studies with an RR of their own (k.yi = 2; drop00 acts on Q only)
    close(r.heterogeneity.q, 0.4755899743209)
    close(r.heterogeneity.p, 0.4904266969839)
    assert r.heterogeneity.df == 1
    # weights(r): 42.1052631579 31.5789473684 26.3157894737 (study 3 has no row of its own)
    assert [s.study for s in r.studies] == ["Study 1", "Study 2"]
    close(r.studies[0].weight, 42.1052631579, 1e-11)
    close(r.studies[1].weight, 31.5789473684, 1e-11)
    assert any(
        "Study 3" in n and "count in the pooled RR with 26.3% of the weight" in n for n in r.notes
    )
    # R: leave1out(r) -- the row without study 3 is rma.mh on studies 1-2:
    #    rma.mh(measure="RR", ai=c(4,3), n1i=c(10,12), ci=c(8,6), n2i=c(10,12))
    loo = {row.omitted: row for row in leave_one_out(es, MH)}
    assert list(loo) == ["Study 1", "Study 2", "Study 3"]
    close(loo["Study 3"].estimate, -0.693147180560)
    close(loo["Study 3"].se, 0.344045559394)


def test_mh_or_gives_no_weight_to_a_study_with_events_in_every_participant() -> None:
    # R: r <- rma.mh(measure="OR", ai=c(4,3,5), n1i=c(10,12,5), ci=c(8,6,5), n2i=c(10,12,5))
    #    c(r$beta, r$se, r$QE); weights(r)   # 51.6129032258 48.3870967742 0.0000000000
    es = binary_effects([4, 3, 5], [10, 12, 5], [8, 6, 5], [10, 12, 5], measure="OR")
    r = meta_analysis(es, MH)
    close(r.pooled.estimate, -1.397105277224)
    close(r.pooled.se, 0.662789928353)
    close(r.heterogeneity.q, 0.264076508009)
    close(r.studies[0].weight, 51.6129032258, 1e-11)
    close(r.studies[1].weight, 48.3870967742, 1e-11)
    assert not any("count in the pooled" in n for n in r.notes)


def test_mh_rr_subgroups_keep_the_all_event_study_in_its_own_subgroup(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    path.write_text(
        "study,events_exp,total_exp,events_con,total_con,arm\n"
        "S1,4,10,8,10,X\nS2,3,12,6,12,Y\nS3,5,5,5,5,X\nS4,6,20,9,20,Y\n"
    )
    res = runner.invoke(
        app,
        ["file", str(path), "-m", "RR", "--model", "fixed", "--mh", "--by", "arm", "-f", "json"],
    )
    assert res.exit_code == 0, res.output
    groups = {g["group"]: g for g in json.loads(res.output)["subgroups"]["groups"]}
    # R: x <- rma.mh(measure="RR", ai=c(4,5), n1i=c(10,5), ci=c(8,5), n2i=c(10,5))
    close(groups["X"]["pooled"]["estimate"], -0.367724780125317)
    close(groups["X"]["pooled"]["se"], 0.218776707771298)
    # R: y <- rma.mh(measure="RR", ai=c(3,6), n1i=c(12,20), ci=c(6,9), n2i=c(12,20))
    close(groups["Y"]["pooled"]["estimate"], -0.510825623765991)
    close(groups["Y"]["pooled"]["se"], 0.339934634239519)
    # R: rma(yi=c(x$beta, y$beta), sei=c(x$se, y$se), method="EE")$QE, $QEp
    t = json.loads(res.output)["subgroups"]["test_for_subgroup_differences"]
    close(t["Q_between"], 0.125309028228487)
    close(t["p"], 0.723346263038015)


# --- Iterative τ² estimators: relative tolerance, invariant under rescaling -------------------

DIFF = np.array([3.1e-5, 9.4e-5, -4.2e-5, 1.21e-4, 0.5e-5, 6.6e-5, -2.0e-5, 1.47e-4])
M2 = np.array(
    [0.9981e-3, 0.9990e-3, 1.0001e-3, 0.9952e-3, 0.9969e-3, 1.0010e-3, 0.9975e-3, 0.9991e-3]
)
SD1 = np.array([1.1e-4, 0.9e-4, 1.3e-4, 1.0e-4, 0.8e-4, 1.2e-4, 1.1e-4, 0.95e-4])
SD2 = np.array([1.0e-4, 1.05e-4, 1.2e-4, 0.9e-4, 1.0e-4, 1.1e-4, 1.15e-4, 1.0e-4])
N1 = np.array([20, 35, 18, 42, 25, 30, 22, 40], dtype=float)
N2 = np.array([22, 33, 20, 40, 27, 28, 24, 38], dtype=float)


def _tiny_md(scale: float = 1.0):  # type: ignore[no-untyped-def]
    # R: m2 <- c(0.9981e-3, ...); m1 <- m2 + c(3.1e-5, ...); sd1, sd2, n1, n2 as above
    #    es <- escalc("MD", m1i=m1, sd1i=sd1, n1i=n1, m2i=m2, sd2i=sd2, n2i=n2)
    return continuous_effects(
        (M2 + DIFF) * scale, SD1 * scale, N1, M2 * scale, SD2 * scale, N2, measure="MD"
    )


@pytest.mark.parametrize(
    ("method", "tau2"),
    [
        # R: rma(yi, vi, data=es, method="REML", control=list(threshold=1e-22, maxiter=10000))$tau2
        #    (metafor's default threshold=1e-5 stops at 3.73730102769421e-09)
        ("REML", 3.73709634999245e-09),
        # R: rma(yi, vi, data=es, method="PM", control=list(tol=1e-30))$tau2
        #    (the default uniroot tol=1.2e-4 gives 7.95209649747049e-05)
        ("PM", 3.75278858104858e-09),
    ],
)
def test_tau2_on_small_scale_data_matches_metafor_run_to_convergence(
    method: str, tau2: float
) -> None:
    es = _tiny_md()
    got = meta_analysis(es, Settings(model="random", tau2_method=method)).heterogeneity.tau2
    close(got, tau2, 1e-8)


@pytest.mark.parametrize("method", ["REML", "PM", "DL"])
def test_tau2_scales_with_the_square_of_the_data(method: str) -> None:
    small, big = _tiny_md(), _tiny_md(1e4)
    s = meta_analysis(small, Settings(model="random", tau2_method=method))
    b = meta_analysis(big, Settings(model="random", tau2_method=method))
    close(b.heterogeneity.tau2, s.heterogeneity.tau2 * 1e8, 1e-8)
    close(b.pooled.estimate, s.pooled.estimate * 1e4, 1e-8)
    close(b.pooled.se, s.pooled.se * 1e4, 1e-8)
    close(b.heterogeneity.i2, s.heterogeneity.i2, 1e-8)


def test_reml_fallback_root_finder_is_scale_invariant_too() -> None:
    # max_iter=0 skips Fisher scoring and goes straight to Brent's method on the REML score.
    small, big = _tiny_md(), _tiny_md(1e4)
    for es, want in ((small, 3.73709634999245e-09), (big, 0.373709634999245)):
        close(tau2_reml(es.yi, es.vi, max_iter=0), want, 1e-8)
        close(tau2_reml(es.yi, es.vi), want, 1e-8)
    close(tau2_pm(big.yi, big.vi), tau2_pm(small.yi, small.vi) * 1e8, 1e-8)


def test_egger_meta_regression_reml_is_scale_invariant() -> None:
    # R: t <- rma(yi, vi, mods=sqrt(vi), data=es, method="REML",
    #             control=list(threshold=1e-22, maxiter=10000, evtol=1e-300))
    #    c(t$tau2, t$zval[2], t$pval[2])   # 1.03965962579538e-09 -3.41113643703530 6.46927112485569e-04
    # (with es scaled by 1e4: tau2 0.103965962579537524, same z and p)
    for scale, tau2 in ((1.0, 1.03965962579538e-09), (1e4, 0.103965962579537524)):
        es = _tiny_md(scale)
        x = np.column_stack([np.ones(es.k), np.sqrt(es.vi)])
        close(_reml_metareg_tau2(es.yi, es.vi, x), tau2, 1e-8)
        res = egger_test(es.yi, es.vi, model="rma")
        close(res.statistic, -3.41113643703530, 1e-8)
        close(res.p, 6.46927112485569e-04, 1e-8)


# --- Degenerate leave-one-out subsets and subgroups give a row that says why -------------------

# S1 and S3 have no events in the experimental arm; without S2 no study has a*d > 0.
SPARSE = "study,events_exp,total_exp,events_con,total_con,grp\nS1,0,10,3,10,A\nS2,2,10,1,10,B\nS3,0,10,2,10,A\n"

# R: r <- rma.mh(measure=M, ai=c(0,2,0), n1i=c(10,10,10), ci=c(3,1,2), n2i=c(10,10,10))
#    leave1out(r)    (row 2 is NA)
#    rma.mh(measure=M, ai=c(0,0), ..., subset A) -> NA;  rma.mh(measure=M, ai=2, n1i=10, ci=1, n2i=10)
LOO_R = {
    "OR": {
        "S1": (
            -0.4418327523,
            0.9546104856,
            -2.3128349232,
            1.4291694187,
            0.6434784302,
            1.6316861308,
        ),
        "S3": (
            -0.7472144018,
            0.8954245723,
            -2.5022143144,
            1.0077855107,
            0.4040102354,
            2.3357613053,
        ),
        "B": (0.810930216216, 1.317615691737),
    },
    "RR": {
        "S1": (
            -0.4054651081,
            0.8755950358,
            -2.1215998433,
            1.3106696270,
            0.6433114792,
            1.5819081648,
        ),
        "S3": (
            -0.6931471806,
            0.8366600265,
            -2.3329706999,
            0.9466763388,
            0.4074047512,
            2.2242735045,
        ),
        "B": (0.69314718056, 1.14017542510),
    },
}


@pytest.mark.parametrize("measure", ["OR", "RR"])
def test_mh_leave_one_out_and_subgroups_with_a_degenerate_subset(measure: str) -> None:
    es = binary_effects(
        [0, 2, 0], [10, 10, 10], [3, 1, 2], [10, 10, 10], measure=measure, labels=["S1", "S2", "S3"]
    )  # type: ignore[arg-type]
    rows = {r.omitted: r for r in leave_one_out(es, MH)}
    for lab in ("S1", "S3"):
        est, se, lo, hi, p, q = LOO_R[measure][lab]
        row = rows[lab]
        for got, want in ((row.estimate, est), (row.se, se), (row.ci_low, lo), (row.ci_high, hi)):
            close(got, want, 1e-9)
        close(row.p, p, 1e-8)
        close(row.q, q, 1e-9)
        assert row.note is None
    bad = rows["S2"]
    assert math.isnan(bad.estimate) and math.isnan(bad.se) and math.isnan(bad.p)
    assert bad.note and f"Mantel-Haenszel {measure} is undefined" in bad.note
    assert bad.to_dict()["estimate"] is None and bad.to_dict()["note"] == bad.note

    sub = subgroup_analysis(es, ["A", "B", "A"], variable="grp", settings=MH)
    assert [g for g, _ in sub.undefined] == ["A"]
    assert f"Mantel-Haenszel {measure} is undefined" in sub.undefined[0][1]
    ((name, b),) = sub.groups
    assert name == "B"
    close(b.pooled.estimate, LOO_R[measure]["B"][0], 1e-9)
    close(b.pooled.se, LOO_R[measure]["B"][1], 1e-9)
    assert sub.q_between == 0.0 and sub.df == 0 and math.isnan(sub.p)
    assert "A" in sub.method_note


@pytest.mark.parametrize("measure", ["OR", "RR"])
def test_cli_mh_loo_and_by_report_the_degenerate_rows(measure: str, tmp_path: Path) -> None:
    path = tmp_path / "sparse.csv"
    path.write_text(SPARSE)
    base = ["file", str(path), "-m", measure, "--model", "fixed", "--mh", "--loo", "--by", "grp"]
    res = runner.invoke(app, [*base, "-f", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    loo = {r["omitted"]: r for r in out["leave_one_out"]}
    assert loo["S2"]["estimate"] is None and "undefined" in loo["S2"]["note"]
    close(loo["S1"]["estimate"], LOO_R[measure]["S1"][0], 1e-9)
    assert out["subgroups"]["not_estimable"][0]["group"] == "A"
    close(out["subgroups"]["groups"][0]["pooled"]["estimate"], LOO_R[measure]["B"][0], 1e-9)

    table = runner.invoke(app, base, env={"COLUMNS": "250"})
    assert table.exit_code == 0, table.output
    text = " ".join(table.output.split())
    assert f"Subgroup A not estimable: Mantel-Haenszel {measure} is undefined" in text
    assert f"Without S2 not estimable: Mantel-Haenszel {measure} is undefined" in text

    csv_out = runner.invoke(app, [*base, "-f", "csv"])
    assert csv_out.exit_code == 0, csv_out.output
    assert "without S2 (not estimable: Mantel-Haenszel" in csv_out.output
    assert "A (not estimable: Mantel-Haenszel" in csv_out.output

    forest = tmp_path / "forest.svg"
    plotted = runner.invoke(app, [*base, "--forest", str(forest)])
    assert plotted.exit_code == 0, plotted.output
    assert forest.stat().st_size > 0


def test_export_rows_carry_the_reason() -> None:
    es = binary_effects(
        [0, 2, 0], [10, 10, 10], [3, 1, 2], [10, 10, 10], measure="OR", labels=["S1", "S2", "S3"]
    )
    sub = subgroup_analysis(es, ["A", "B", "A"], variable="grp", settings=MH)
    loo = leave_one_out(es, MH)
    results = {
        "analyses": [
            {
                "outcome": "death",
                "time_point": "12 weeks",
                "subgroups": [sub.to_dict()],
                "leave_one_out": [r.to_dict() for r in loo],
            }
        ]
    }
    sg_rows = _subgroup_rows(results)
    assert [r["subgroup"] for r in sg_rows] == ["B", "A"]
    assert sg_rows[0]["note"] is None
    assert sg_rows[1]["estimate"] is None and sg_rows[1]["note"].startswith("not estimable: ")
    assert list(sg_rows[0]) == list(sg_rows[1])  # one CSV header fits both
    loo_rows = _loo_rows(results)
    assert loo_rows[1]["omitted"] == "S2" and loo_rows[1]["estimate"] is None
    assert "undefined" in loo_rows[1]["note"]


def test_cli_peto_by_with_a_subgroup_of_double_zero_studies(tmp_path: Path) -> None:
    path = tmp_path / "peto.csv"
    path.write_text(
        "study,events_exp,total_exp,events_con,total_con,grp\n"
        "S1,0,10,0,10,Z\nS2,0,12,0,11,Z\nS3,3,10,6,10,W\nS4,1,10,4,10,W\n"
    )
    base = ["file", str(path), "-m", "OR", "--model", "fixed", "--peto", "--keep-double-zero"]
    res = runner.invoke(app, [*base, "--by", "grp", "--loo", "-f", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    # R: rma.peto(ai=c(0,0), n1i=c(10,12), ci=c(0,0), n2i=c(10,11)) stops: "One of the two
    #    outcomes never occurred in any of the tables. Peto's method cannot be used."
    (bad,) = out["subgroups"]["not_estimable"]
    assert bad["group"] == "Z" and "Peto OR is undefined" in bad["reason"]
    # R: rma.peto(ai=c(3,1), n1i=c(10,10), ci=c(6,4), n2i=c(10,10))  -> -1.310344827586207
    (w,) = out["subgroups"]["groups"]
    assert w["group"] == "W"
    close(w["pooled"]["estimate"], -1.310344827586207)
    close(w["pooled"]["se"], 0.660894552251267)
    # R: leave1out(rma.peto(ai=c(0,0,3,1), n1i=c(10,12,10,10), ci=c(0,0,6,4), n2i=c(10,11,10,10)))
    #    rows 3 and 4: -1.5200 (se 1.0066), -1.1515 (se 0.8762)
    loo = {r["omitted"]: r for r in out["leave_one_out"]}
    close(loo["S3"]["estimate"], -1.5200, 0.5e-4 / 1.52)
    close(loo["S4"]["estimate"], -1.1515, 0.5e-4 / 1.1515)
    close(loo["S1"]["estimate"], -1.310344827586207)


def test_mh_q_is_zero_when_one_study_has_a_yi() -> None:
    # One study with a yi plus one with events in every participant of both arms: Mantel-Haenszel
    # pools both tables (so this is not a single unpooled study), Q has k.yi - 1 = 0 df.
    # R: x <- rma.mh(measure="RR", ai=c(4,5), n1i=c(10,5), ci=c(8,5), n2i=c(10,5))
    #    c(x$beta, x$se, x$QE, x$QEp, x$k, x$k.yi)  -> -0.367724780125317 0.218776707771298 0 1 2 1
    es = binary_effects([4, 5], [10, 5], [8, 5], [10, 5], measure="RR", labels=["A", "B"])
    r = meta_analysis(es, MH)
    assert (r.model, r.method, r.k) == ("fixed", "MH", 1)
    close(r.pooled.estimate, -0.367724780125317)
    close(r.pooled.se, 0.218776707771298)
    assert r.heterogeneity.q == 0.0 and r.heterogeneity.df == 0


def test_mh_leave_one_out_down_to_one_study_shows_that_study() -> None:
    # Without B one study is left: it is shown, not pooled (issue 8 C4), i.e. its escalc row.
    # R: escalc(measure="RR", ai=10, n1i=10, ci=5, n2i=10)  -> yi 0.646627164925052,
    #    vi 0.095238095238095  (rma.mh of that one raw table would give 0.693147180559945)
    es = binary_effects([10, 3], [10, 12], [5, 6], [10, 12], measure="RR", labels=["A", "B"])
    rows = {r.omitted: r for r in leave_one_out(es, MH)}
    close(rows["B"].estimate, 0.646627164925052)
    close(rows["B"].se, 0.095238095238095**0.5)
    assert rows["B"].q == 0.0
    # R: rma.mh(measure="RR", ai=c(10,3), n1i=c(10,12), ci=c(5,6), n2i=c(10,12))$QE
    close(meta_analysis(es, MH).heterogeneity.q, 4.6347372128489983)
