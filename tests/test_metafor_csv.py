"""The metafor-ready CSV of every analysis export (issue 13, Exports): R's metafor reads the file
and gives back our pooled estimate, its SE and τ².

Known answers: ``rma(yi, vi, data = read.csv(FILE), method = ...)`` (the call the file itself
holds in ``rma_call``), run by ``Rscript`` on every file of four exports of the sample's outcomes
(model fixed, and random with REML, DL and PM), and ``escalc`` on the file's per-arm columns giving
its ``yi``/``vi``. Skips (with the reason) where Rscript or metafor is missing, as
tests/test_metafor_differential.py does; the file's layout is checked without R.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewtool.analysis.service import export_run, run_analysis
from reviewtool.cli import app

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_project" / "outcomes.csv"
runner = CliRunner()

BINARY = """study,outcome,time_point,events_exp,total_exp,events_con,total_con
A 2001,death,12 weeks,3,40,9,41
B 2004,death,12 weeks,0,25,4,24
C 2007,death,12 weeks,0,30,0,30
D 2010,death,12 weeks,7,52,12,50
=cmd 2012,death,12 weeks,5,33,6,35
"""


def _export(review: Any, url: str, tmp_path: Path, model: str, tau2: str, data: Path,
            by: tuple[str, ...]) -> Path:  # fmt: skip
    for key, value in (("analysis.model", model), ("analysis.tau2", tau2)):
        done = runner.invoke(app, ["--db", url, "settings", "set", key, value, "--as", "alice"])
        assert done.exit_code == 0, done.output
    with review.transaction() as session:
        run = run_analysis(
            session, actor="bob", data_path=data, name=f"{model} {tau2} {data.name}", by=by
        )
    out = tmp_path / f"{data.stem}_{model}_{tau2}"
    with review.reading() as session:
        export_run(session, run.id, out, ["csv"], plots=False)
    return out


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def exports(fresh_review: Any, review_url: str, tmp_path: Path) -> list[Path]:
    binary = tmp_path / "binary.csv"
    binary.write_text(BINARY, encoding="utf-8")
    folders = []
    for model, tau2 in (("fixed", "REML"), ("random", "REML"), ("random", "DL"), ("random", "PM")):
        folders.append(
            _export(fresh_review, review_url, tmp_path, model, tau2, SAMPLE, ("disease",))
        )
        folders.append(_export(fresh_review, review_url, tmp_path, model, tau2, binary, ()))
    return folders


def test_each_analysis_gets_an_escalc_file_with_every_study(exports: list[Path]) -> None:
    folder = exports[2]  # sample outcomes, random effects, REML (exports[3]: binary)
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    files = sorted((folder / "metafor").glob("*.csv"))
    assert len(files) == len(results["analyses"]) > 10
    meld = _read(folder / "metafor" / "MELD_12-weeks.csv")
    assert list(meld[0])[:8] == ["study", "yi", "vi", "sei", "measure", "ni", "outcome",
                                 "time_point"]  # fmt: skip
    assert list(meld[0])[8] == "disease" and list(meld[0])[-2:] == ["rma_call", "note"]
    analysis = next(
        a for a in results["analyses"] if (a["outcome"], a["time_point"]) == ("MELD", "12 weeks")
    )
    assert [r["study"] for r in meld] == [s["study"] for s in analysis["arms"]]
    for row, study in zip(meld, analysis["studies"], strict=True):
        assert float(row["yi"]) == study["yi"] and float(row["vi"]) == study["vi"]  # every digit
        assert float(row["sei"]) == pytest.approx(study["vi"] ** 0.5, rel=1e-15)
        assert row["ni"] == str(study["n_exp"] + study["n_con"])  # an integer
        assert row["measure"] == "SMD" and row["note"] == ""
    assert meld[0]["rma_call"] == 'rma(yi, vi, data = d, method = "REML")'
    # The binary file: the double-zero study is a row without numbers, saying why; a study name
    # that a spreadsheet would run is neutralised, as in every CSV the tool writes.
    death = _read(exports[3] / "metafor" / "death_12-weeks.csv")  # random REML, binary
    by_study = {r["study"]: r for r in death}
    assert by_study["C 2007"]["yi"] == "" and by_study["C 2007"]["note"].startswith("not estimable")
    assert by_study["'=cmd 2012"]["events_exp"] == "5" and by_study["A 2001"]["measure"] == "OR"
    fixed = _read(exports[0] / "metafor" / "MELD_12-weeks.csv")
    assert fixed[0]["rma_call"] == 'rma(yi, vi, data = d, method = "EE")'


_R = r"""
suppressMessages(library(metafor))
files <- commandArgs(TRUE)[-1]
out <- NULL
for (f in files) {
  d <- read.csv(f, check.names = FALSE)
  call <- d$rma_call[1]
  if (is.na(call) || call == "") next
  as_is <- suppressWarnings(eval(parse(text = call)))
  # metafor's iterations tightened, as tests/r/metafor_oracle.R does (its REML stops at a change
  # in tau^2 below 1e-5, PM's uniroot at 1.2e-4): the fit both converge to
  tight <- if (grepl("method = \"(REML|PM|DL)\"", call)) {
    sub(")$", ", control = list(threshold = 1e-13, tol = 1e-15, maxiter = 10000))", call)
  } else call
  fit <- suppressWarnings(eval(parse(text = tight)))
  # escalc on the per-arm columns gives the file's yi and vi
  m <- d$measure[1]
  es <- if (m %in% c("OR", "RR", "RD")) {
    escalc(m, ai = events_exp, n1i = total_exp, ci = events_con, n2i = total_con, data = d)
  } else {
    escalc(m, m1i = mean_exp, sd1i = sd_exp, n1i = n_exp, m2i = mean_con, sd2i = sd_con,
           n2i = n_con, data = d)
  }
  ok <- !is.na(d$yi)
  out <- rbind(out, data.frame(file = f, estimate = as.numeric(fit$beta), se = fit$se,
                               tau2 = fit$tau2, k = fit$k, as_is = as.numeric(as_is$beta),
                               yi_diff = max(abs(es$yi[ok] - d$yi[ok])),
                               vi_diff = max(abs(es$vi[ok] - d$vi[ok]))))
}
write.csv(out, commandArgs(TRUE)[1], row.names = FALSE)
"""


def _r_unavailable() -> str | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return "Rscript is not on PATH (install r-base-core r-cran-metafor)"
    probe = subprocess.run([rscript, "-e", "suppressMessages(library(metafor))"],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    if probe.returncode != 0:
        return f"R package metafor does not load: {probe.stderr.strip()[-300:]}"
    return None


def test_metafor_reads_the_files_and_gives_our_pooled_results(
    exports: list[Path], tmp_path: Path
) -> None:
    why = _r_unavailable()
    if why is not None:
        pytest.skip(why)
    files = [f for folder in exports for f in sorted((folder / "metafor").glob("*.csv"))]
    script, answer = tmp_path / "rma.R", tmp_path / "rma.csv"
    script.write_text(_R, encoding="utf-8")
    done = subprocess.run(["Rscript", str(script), str(answer), *map(str, files)],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    fits = {row["file"]: row for row in _read(answer)}
    compared = set()
    for folder in exports:
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        for a in results["analyses"]:
            path = str(folder / "metafor" / _name(a))
            if a["model"] not in ("fixed", "random"):
                assert path not in fits  # one study: nothing pooled, no call
                continue
            fit = fits[path]
            assert int(fit["k"]) == a["k"], path
            assert float(fit["estimate"]) == pytest.approx(
                a["pooled"]["estimate"], rel=1e-6, abs=1e-9
            ), path
            assert float(fit["se"]) == pytest.approx(a["pooled"]["se"], rel=1e-6), path
            expected_tau2 = a["heterogeneity"]["tau2"] if a["model"] == "random" else 0.0
            assert float(fit["tau2"]) == pytest.approx(expected_tau2, rel=1e-5, abs=1e-9), path
            # The call as the file gives it (metafor's default convergence): the same to the
            # 4th decimal, as a journal prints it.
            assert abs(float(fit["as_is"]) - a["pooled"]["estimate"]) < 5e-5, path
            assert float(fit["yi_diff"]) < 1e-12 and float(fit["vi_diff"]) < 1e-12, path
            compared.add((folder.name, a["model"]))
    assert len(fits) > 40
    assert {m for _, m in compared} == {"fixed", "random"}


def _name(analysis: dict[str, Any]) -> str:
    from reviewtool.analysis.metafor_csv import file_name

    return file_name(analysis)
