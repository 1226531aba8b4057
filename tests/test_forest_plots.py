"""Forest and funnel plots as a journal expects them, read back from the figure's text artists.

Every number printed on a plot must be the stored result's (which the metafor tests pin), so
these tests read the texts of the matplotlib figure (never pixels) and compare them with the
stored analysis of the sample review's outcomes; one test has R metafor format the heterogeneity
and overall-effect lines of a sample outcome and compares them with the plot's.
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from reviewtool.analysis import plots
from reviewtool.analysis.forest import forest_text
from reviewtool.analysis.meta import Settings
from reviewtool.analysis.service import (
    analyse_outcomes_table,
    plot_jobs,
    read_outcomes,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_project" / "outcomes.csv"


@pytest.fixture(scope="module")
def sample() -> dict[tuple[str, str], dict[str, Any]]:
    """The sample outcomes pooled as `analyze run` stores them (JSON round trip)."""
    table = read_outcomes(SAMPLE, by=["disease"])
    analyses = analyse_outcomes_table(
        table, settings=Settings(model="auto", tau2_method="REML"), by=["disease"], bias=True
    )
    return {
        (a.outcome, a.time_point): json.loads(json.dumps(a.to_dict(), allow_nan=False))
        for a in analyses
    }


def _figure(job: dict[str, Any]) -> Any:
    fig = plots.figure_for(job)
    return fig


def _texts(job: dict[str, Any]) -> list[str]:
    fig = _figure(job)
    try:
        return forest_text(fig)
    finally:
        plots.save(fig, [])


def _rows(job: dict[str, Any]) -> dict[float, list[str]]:
    """The texts on each table row (same y in the plot's data coordinates), left to right."""
    fig = _figure(job)
    try:
        rows: dict[float, list[tuple[float, str]]] = defaultdict(list)
        for t in fig.axes[0].texts:
            x, y = t.get_transform().transform(t.get_position())
            rows[round(y, 1)].append((x, t.get_text()))
        return {y: [s for _, s in sorted(r)] for y, r in rows.items()}
    finally:
        plots.save(fig, [])


def _p(p: float) -> str:
    return "P < 0.001" if p < 0.001 else f"P = {p:.3f}"


def test_a_random_effects_plot_prints_the_stored_numbers(sample: Any) -> None:
    a = sample[("MELD", "24 weeks")]
    assert a["model"] == "random" and a["k"] == 7
    rows = _rows({"kind": "forest", "analysis": a})
    by_label = {r[0]: r for r in rows.values()}
    for s, arm in zip(a["studies"], a["arms"], strict=True):
        assert s["study"] == arm["study"]
        assert isinstance(arm["n_exp"], int) and isinstance(arm["n_con"], int)  # stored as counts
        row = by_label[s["study"]]
        # Mean, SD, total per arm as typed (totals as integers), weight (%), estimate [CI].
        assert row[1:] == [
            f"{arm['mean_exp']:.1f}",
            f"{arm['sd_exp']:.1f}",
            f"{arm['n_exp']:.0f}",
            f"{arm['mean_con']:.1f}",
            f"{arm['sd_con']:.1f}",
            f"{arm['n_con']:.0f}",
            f"{s['weight']:.1f}%",
            f"{s['yi']:.2f} [{s['ci_low']:.2f}, {s['ci_high']:.2f}]",
        ]
    p, h = a["pooled"], a["heterogeneity"]
    total = by_label["Total (95% CI)"]
    assert total[-1] == f"{p['estimate']:.2f} [{p['ci_low']:.2f}, {p['ci_high']:.2f}]"
    assert total[-2] == "100.0%"
    assert total[1:3] == [
        str(sum(int(x["n_exp"]) for x in a["arms"])),
        str(sum(int(x["n_con"]) for x in a["arms"])),
    ]
    # The prediction interval is drawn (random effects), on its own row.
    assert by_label["Prediction interval"][-1] == f"[{p['pi_low']:.2f}, {p['pi_high']:.2f}]"
    texts = _texts({"kind": "forest", "analysis": a})
    assert (
        f"Heterogeneity: τ² = {h['tau2']:.2f}; χ² = {h['Q']:.2f}, df = {h['df']} "
        f"({_p(h['p'])}); I² = {h['I2']:.0f}%"
    ) in texts
    assert f"Test for overall effect: Z = {abs(p['z']):.2f} ({_p(p['p'])})" in texts
    # Title with the outcome's name and unit, not its code.
    assert "MELD score (points), 24 weeks" in texts


def test_the_prediction_interval_is_drawn_as_a_line(sample: Any) -> None:
    a = sample[("MELD", "24 weeks")]
    fig = _figure({"kind": "forest", "analysis": a})
    try:
        xs = [tuple(line.get_xdata()) for line in fig.axes[0].lines]
    finally:
        plots.save(fig, [])
    p = a["pooled"]
    assert (pytest.approx(p["pi_low"]), pytest.approx(p["pi_high"])) in xs


def test_a_fixed_effect_plot_prints_no_tau2_and_no_prediction_interval(sample: Any) -> None:
    a = sample[("AST", "baseline")]
    assert a["model"] == "fixed"
    texts = _texts({"kind": "forest", "analysis": a})
    h = a["heterogeneity"]
    assert not any("τ²" in t or "Tau" in t for t in texts)
    assert "Prediction interval" not in texts
    assert (
        f"Heterogeneity: χ² = {h['Q']:.2f}, df = {h['df']} ({_p(h['p'])}); I² = {h['I2']:.0f}%"
        in texts
    )


def test_favours_labels_name_the_arms_on_the_side_the_outcome_favours(sample: Any) -> None:
    def sides(a: dict[str, Any]) -> tuple[str, str]:
        fig = _figure({"kind": "forest", "analysis": a})
        try:
            fav = [t for t in fig.axes[0].texts if t.get_text().startswith("Favours")]
            fav.sort(key=lambda t: t.get_position()[0])
            return fav[0].get_text(), fav[1].get_text()
        finally:
            plots.save(fig, [])

    # MELD: lower is better, so a negative SMD (left) favours MSC therapy.
    assert sides(sample[("MELD", "24 weeks")]) == ("Favours MSC therapy", "Favours control")
    # Albumin: higher is better, so the right side favours MSC therapy.
    assert sides(sample[("ALB", "24 weeks")]) == ("Favours control", "Favours MSC therapy")
    # Without arm names or direction: RevMan's default layout.
    bare = dict(sample[("ALB", "24 weeks")], labels={})
    assert sides(bare) == ("Favours experimental", "Favours control")


def test_a_study_without_an_estimate_is_a_not_estimable_row(sample: Any) -> None:
    a = sample[("survival", "4 weeks")]
    gone = {d["study"] for d in a["dropped"]}
    assert gone == {"Suk 2016 (one injection)", "Suk 2016 (two injections)"}
    rows = _rows({"kind": "forest", "analysis": a})
    by_label = {r[0]: r for r in rows.values()}
    for study in gone:
        arm = next(x for x in a["arms"] if x["study"] == study)
        assert by_label[study] == [
            study,
            f"{arm['events_exp']:.0f}",
            f"{arm['total_exp']:.0f}",
            f"{arm['events_con']:.0f}",
            f"{arm['total_con']:.0f}",
            "Not estimable",
        ]
    # The totals count every study's participants (RevMan), the events row too.
    total = by_label["Total (95% CI)"]
    assert total[1] == str(sum(int(x["total_exp"]) for x in a["arms"]))
    events = by_label["Total events"]
    assert events[1:] == [
        str(sum(int(x["events_exp"]) for x in a["arms"])),
        str(sum(int(x["events_con"]) for x in a["arms"])),
    ]
    # Odds ratios print back-transformed.
    s = a["studies"][0]
    assert by_label[s["study"]][-1] == (
        f"{math.exp(s['yi']):.2f} [{math.exp(s['ci_low']):.2f}, {math.exp(s['ci_high']):.2f}]"
    )


def test_studies_csv_keeps_not_estimable_studies(fresh_review: Any, tmp_path: Path) -> None:
    from reviewtool.analysis.service import export_run, run_analysis

    with fresh_review.transaction() as session:
        run = run_analysis(session, actor="bob", data_path=SAMPLE, name="sample")
    with fresh_review.reading() as session:
        export_run(session, run.id, tmp_path / "x", ["csv"], plots=False)
    with (tmp_path / "x" / "studies.csv").open(encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["outcome"] == "survival"]
    suk = [r for r in rows if r["time_point"] == "4 weeks" and r["study"].startswith("Suk")]
    assert [(r["study"], r["yi"], r["weight (%)"], r["n_exp"], r["n_con"]) for r in suk] == [
        ("Suk 2016 (one injection)", "", "", "18", "18"),
        ("Suk 2016 (two injections)", "", "", "19", "18"),
    ]
    assert all(r["note"].startswith("not estimable: ") for r in suk)


def _weights(rows: dict[float, list[str]], studies: set[str]) -> dict[str, float]:
    return {r[0]: float(r[-2].rstrip("%")) for r in rows.values() if r[0] in studies}


def test_subgroup_plot_weights_add_to_100_over_all_subgroups(sample: Any) -> None:
    a = sample[("MELD", "24 weeks")]
    sg = a["subgroups"][0]
    studies = {s["study"] for s in a["studies"]}
    job = {"kind": "subgroup", "analysis": a, "variable": "disease"}
    overall = _weights(_rows(job), studies)
    assert sum(overall.values()) == pytest.approx(100.0, abs=0.05 * len(studies))
    # Within a subgroup the overall weights keep the subgroup's own proportions.
    within = _weights(_rows({**job, "subgroup_weights": "within"}), studies)
    for g in sg["groups"]:
        names = [s["study"] for s in g["studies"]]
        assert sum(within[n] for n in names) == pytest.approx(100.0, abs=0.05 * len(names))
        for s in g["studies"]:
            assert within[s["study"]] == pytest.approx(s["weight"], abs=0.05)
            share = sum(overall[n] for n in names) / 100
            assert overall[s["study"]] == pytest.approx(s["weight"] * share, abs=0.1)
    texts = _texts(job)
    t = sg["test_for_subgroup_differences"]
    i2 = max(0.0, (t["Q_between"] - t["df"]) / t["Q_between"]) * 100
    assert (
        f"Test for subgroup differences: χ² = {t['Q_between']:.2f}, df = {t['df']} "
        f"({_p(t['p'])}), I² = {i2:.0f}%"
    ) in texts
    # One subtotal diamond per estimable subgroup with more than one study, one total.
    pooled = [g for g in sg["groups"] if g["k"] > 1]
    assert sum(s.startswith("Subtotal") for s in texts) == len(pooled)
    assert sum(s.startswith("Total (") for s in texts) == 1
    for g in pooled:
        p = g["pooled"]
        assert f"{p['estimate']:.2f} [{p['ci_low']:.2f}, {p['ci_high']:.2f}]" in texts


def test_subgroup_weights_for_fixed_effect_subgroups_are_inverse_variance() -> None:
    """Hand-computed: two fixed-effect subgroups, weights 1/vi over the grand sum."""
    from reviewtool.analysis.effect_sizes import generic_effects
    from reviewtool.analysis.forest import subgroup_sections
    from reviewtool.analysis.meta import subgroup_analysis

    es = generic_effects([0.1, 0.3, 0.2, 0.5], vi=[0.1, 0.2, 0.05, 0.5], labels=list("ABCD"))
    sg = subgroup_analysis(es, ("x", "x", "y", "y"), variable="g", settings=Settings("fixed"))
    sections = subgroup_sections(sg)
    w = {s.study: s.weight * sec.weight_share for sec in sections for s in sec.result.studies}
    # Σ 1/vi = 10 + 5 + 20 + 2 = 37; each study 100/(vi·37) %.
    assert w == pytest.approx({"A": 1000 / 37, "B": 500 / 37, "C": 2000 / 37, "D": 200 / 37})


def test_one_figure_per_outcome_has_its_time_points_as_sections(sample: Any) -> None:
    analyses = [a for (o, _), a in sample.items() if o == "INR"]
    texts = _texts({"kind": "outcome", "analyses": analyses})
    heads = [f"{a['time_point']} (baseline differs)" if a["flag"] else a["time_point"]
             for a in analyses]  # fmt: skip
    assert [t for t in texts if t in heads] == heads
    pooled = [a for a in analyses if a["k"] > 1]
    assert sum(t.startswith("Subtotal") for t in texts) == len(pooled)
    assert texts.count("Single study, not pooled") == len(analyses) - len(pooled)
    for a in pooled:
        p = a["pooled"]
        assert f"{p['estimate']:.2f} [{p['ci_low']:.2f}, {p['ci_high']:.2f}]" in texts
    assert "International normalised ratio (ratio)" in texts


def test_funnel_plots_print_egger_and_begg_and_need_ten_studies(
    sample: Any, tmp_path: Path
) -> None:
    a = sample[("TBIL", "baseline")]
    assert a["k"] == 10
    fig = plots.figure_for({"kind": "funnel", "analysis": a})
    texts = forest_text(fig)
    plots.save(fig, [])
    e, b = a["egger"], a["begg"]
    assert (
        f"Egger's test: bias = {e['bias']:.2f} (SE {e['se']:.2f}), t = {e['t']:.2f}, "
        f"df = {e['df']}, {_p(e['p'])}"
    ) in texts
    assert f"Begg's test: Kendall's τ = {b['tau']:.2f}, {_p(b['p'])} (exact)" in texts
    results = {"analyses": list(sample.values())}
    funnels = [j for j in plot_jobs(results, tmp_path) if j["kind"] == "funnel"]
    big = [(a["outcome"], a["time_point"]) for a in sample.values() if a["k"] >= 10]
    assert [(j["analysis"]["outcome"], j["analysis"]["time_point"]) for j in funnels] == big
    assert len(big) >= 1
    three = [j for j in plot_jobs(results, tmp_path, funnel_min_k=3) if j["kind"] == "funnel"]
    assert len(three) == sum(a["k"] >= 3 for a in sample.values())


def test_the_funnel_threshold_is_a_review_setting(fresh_review: Any, tmp_path: Path) -> None:
    from reviewtool.analysis.service import export_run, run_analysis
    from reviewtool.review.service import set_setting

    with fresh_review.transaction() as session:
        run = run_analysis(session, actor="bob", data_path=SAMPLE, name="sample", bias=True)
    with fresh_review.reading() as session:
        report = export_run(session, run.id, tmp_path / "a", ["csv"])
    default = [f for f in report.files if "/funnel_" in f and f.endswith(".png")]
    with fresh_review.transaction() as session:
        set_setting(session, actor="alice", key="analysis.funnel_min_k", value="8")
    with fresh_review.reading() as session:
        report = export_run(session, run.id, tmp_path / "b", ["csv"])
    lower = [f for f in report.files if "/funnel_" in f and f.endswith(".png")]
    ks = [a["k"] for a in run.results["analyses"]]
    assert len(default) == sum(k >= 10 for k in ks)
    assert len(lower) == sum(k >= 8 for k in ks) > len(default)


def test_plots_drawn_in_a_pool_are_the_files_of_every_job(sample: Any, tmp_path: Path) -> None:
    results = {"analyses": [a for (o, _), a in sample.items() if o == "PTA"]}
    jobs = plot_jobs(results, tmp_path, subgroup_plots=True)
    files = plots.draw_all(jobs, workers=2)
    assert sorted(files) == sorted(p for j in jobs for p in j["paths"])
    assert len(files) == 2 * (6 + 6 + 1)  # forest, by disease, the outcome's figure; png+svg
    for f in files:
        head = Path(f).read_bytes()[:200]
        assert head.startswith(b"\x89PNG") if f.endswith(".png") else b"<svg" in head


# ------------------------------------------------------------- metafor formats the same line


_R = r"""
suppressMessages(library(metafor))
d <- read.csv(commandArgs(TRUE)[1], comment.char = "#")
d <- d[d$outcome == "MELD" & d$time_point == "24 weeks", ]
es <- escalc("SMD", m1i = mean_exp, sd1i = sd_exp, n1i = n_exp, m2i = mean_con, sd2i = sd_con,
             n2i = n_con, data = d, vtype = "LS")
fit <- rma(yi, vi, data = es, method = "REML")
i2 <- max(0, (fit$QE - (fit$k - 1)) / fit$QE) * 100
p <- function(x) if (x < 0.001) "P < 0.001" else sprintf("P = %.3f", x)
cat(sprintf("Heterogeneity: τ² = %.2f; χ² = %.2f, df = %d (%s); I² = %.0f%%\n",
            fit$tau2, fit$QE, fit$k - 1L, p(fit$QEp), i2))
cat(sprintf("Test for overall effect: Z = %.2f (%s)\n", abs(fit$zval), p(fit$pval)))
cat(sprintf("%.2f [%.2f, %.2f]\n", fit$beta[1], fit$ci.lb, fit$ci.ub))
pr <- predict(fit)
cat(sprintf("[%.2f, %.2f]\n", pr$pi.lb, pr$pi.ub))
"""


def test_metafor_prints_the_same_heterogeneity_and_overall_effect_lines(
    sample: Any, tmp_path: Path
) -> None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.skip("Rscript is not on PATH (install r-base-core r-cran-metafor)")
    script = tmp_path / "line.R"
    script.write_text(_R, encoding="utf-8")
    done = subprocess.run(
        [rscript, str(script), str(SAMPLE)], capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0 and "metafor" in done.stderr:
        pytest.skip(f"R metafor is not installed: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr
    het, overall, total, pi = done.stdout.strip().splitlines()
    assert re.match(r"Heterogeneity: τ² = \d", het)
    rows = _rows({"kind": "forest", "analysis": sample[("MELD", "24 weeks")]})
    texts = [t for r in rows.values() for t in r]
    assert het in texts and overall in texts
    by_label = {r[0]: r for r in rows.values()}
    assert by_label["Total (95% CI)"][-1] == total
    assert by_label["Prediction interval"][-1] == pi


def test_analyze_file_keeps_a_double_zero_study_in_every_output(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from reviewtool.cli.analyze import app

    data = tmp_path / "zero.csv"
    data.write_text(
        "study,events_exp,total_exp,events_con,total_con,arm_exp,arm_con,better\n"
        "A,0,10,0,12,MSCs,usual care,higher\nB,3,10,1,10,MSCs,usual care,higher\n"
        "C,4,12,2,11,MSCs,usual care,higher\n",
        encoding="utf-8",
    )
    forest = tmp_path / "f.svg"
    runner = CliRunner()
    table = runner.invoke(app, ["file", str(data), "-m", "OR", "--forest", str(forest)])
    assert table.exit_code == 0, table.output
    assert "not estimable" in table.output
    csv_out = runner.invoke(app, ["file", str(data), "-m", "OR", "-f", "csv"])
    assert "study,A (not estimable: no events in either arm: OR undefined),,,,,," in (
        csv_out.output.splitlines()
    )
    svg = forest.read_text(encoding="utf-8")  # SVG text stays text
    for text in ("Not estimable", "Favours usual care", "Favours MSCs", "Total events"):
        assert f">{text}<" in svg, text
