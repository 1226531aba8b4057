"""A control arm shared by two comparisons, split as the Cochrane Handbook says, against R metafor.

Cochrane Handbook v6.5 section 23.3.4 ("How to include multiple groups from one study"): when two
experimental arms of one study are each compared with its one control arm, pooling both
comparisons counts the control participants twice; one remedy is to "split the 'shared' group
into two or more groups with smaller sample size", keeping its mean and SD (continuous) or
dividing its events and total (dichotomous). Here study "Ahn 2018" has arms "MSC low" and
"MSC high" against one control arm of 21 (continuous: split 11 / 10) and 7 events of 21
(dichotomous: 4/11 and 3/10).

The per-arm rows go through ``analysis.arm_table.comparison_rows`` (as ``analyze run`` from
extraction does) and the pooled random-effects result (REML τ²; Hedges' g and log odds ratio)
must equal R metafor's ``rma(yi, vi, method = "REML")`` on the split data typed out in R below
(``escalc("SMD")`` and ``escalc("OR")``), to 1e-6 relative. Skipped with the reason when Rscript
or metafor is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reviewtool.analysis.arm_table import comparison_csv, comparison_rows
from reviewtool.analysis.meta import Settings
from reviewtool.analysis.service import analyse_outcomes_table, read_outcomes

CONTINUOUS = [
    # study, arm, mean, sd, n
    ("Ahn 2018", "MSC low", 12.1, 3.9, 20),
    ("Ahn 2018", "MSC high", 10.4, 4.2, 19),
    ("Ahn 2018", "control", 14.2, 4.0, 21),
    ("Bae 2019", "MSC", 11.0, 3.1, 30),
    ("Bae 2019", "control", 12.9, 3.5, 28),
    ("Cho 2020", "MSC", 15.2, 5.0, 15),
    ("Cho 2020", "control", 15.9, 4.6, 16),
]
DICHOTOMOUS = [
    # study, arm, events, total
    ("Ahn 2018", "MSC low", 3, 20),
    ("Ahn 2018", "MSC high", 2, 19),
    ("Ahn 2018", "control", 7, 21),
    ("Bae 2019", "MSC", 5, 30),
    ("Bae 2019", "control", 9, 28),
    ("Cho 2020", "MSC", 4, 15),
    ("Cho 2020", "control", 6, 16),
]

# The split data typed out (control of Ahn 2018: n 21 -> 11 + 10; events 7 -> 4 + 3).
R_SCRIPT = """
suppressMessages({library(metafor); library(jsonlite)})
smd <- escalc("SMD",
  m1i = c(12.1, 10.4, 11.0, 15.2), sd1i = c(3.9, 4.2, 3.1, 5.0), n1i = c(20, 19, 30, 15),
  m2i = c(14.2, 14.2, 12.9, 15.9), sd2i = c(4.0, 4.0, 3.5, 4.6), n2i = c(11, 10, 28, 16))
or <- escalc("OR", ai = c(3, 2, 5, 4), n1i = c(20, 19, 30, 15),
  ci = c(4, 3, 9, 6), n2i = c(11, 10, 28, 16))
out <- list()
for (name in c("smd", "or")) {
  fit <- rma(yi, vi, data = get(name), method = "REML",
             control = list(threshold = 1e-12, maxiter = 10000))
  out[[name]] <- list(estimate = fit$beta[1], ci_low = fit$ci.lb, ci_high = fit$ci.ub,
                      tau2 = fit$tau2, se = fit$se)
}
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
"""


def _arm_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for study, arm, mean, sd, n in CONTINUOUS:
        rows.append({"study": study, "arm": arm, "outcome": "meld", "kind": "continuous",
                     "time_point": "12 weeks", "mean": mean, "sd": sd, "n": n})  # fmt: skip
    for study, arm, events, total in DICHOTOMOUS:
        rows.append({"study": study, "arm": arm, "outcome": "death", "kind": "dichotomous",
                     "time_point": "12 weeks", "events": events, "total": total})  # fmt: skip
    return rows


@pytest.fixture(scope="module")
def metafor(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, float]]:
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.skip("Rscript is not on PATH (install r-base-core r-cran-metafor r-cran-jsonlite)")
    script = tmp_path_factory.mktemp("r") / "split.R"
    script.write_text(R_SCRIPT, encoding="utf-8")
    done = subprocess.run([rscript, str(script)], capture_output=True, text=True, timeout=180)
    if done.returncode != 0 and ("metafor" in done.stderr or "jsonlite" in done.stderr):
        pytest.skip(f"R metafor/jsonlite not installed: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr
    result: dict[str, dict[str, float]] = json.loads(done.stdout)
    return result


def test_split_shared_control_pools_as_metafor_on_the_split_data(
    metafor: dict[str, dict[str, float]], tmp_path: Path
) -> None:
    columns, rows = comparison_rows(_arm_rows(), {"meld": {}, "death": {}})
    ahn = [r for r in rows if r["study"].startswith("Ahn 2018")]
    assert [(r["study"], r["n_con"] or r["total_con"], r["events_con"]) for r in ahn] == [
        ("Ahn 2018 (low)", "11", ""),
        ("Ahn 2018 (high)", "10", ""),
        ("Ahn 2018 (low)", "11", "4"),
        ("Ahn 2018 (high)", "10", "3"),
    ]
    table = read_outcomes("split.csv", text=comparison_csv(columns, rows))
    analyses = analyse_outcomes_table(
        table,
        settings=Settings(model="random", tau2_method="REML"),
        continuous_measure="SMD",
        binary_measure="OR",
    )
    found = {a.outcome: a.analysis.main for a in analyses}
    for outcome, key in (("meld", "smd"), ("death", "or")):
        ours, want = found[outcome], metafor[key]
        assert ours.k == 4
        for name, value in (
            ("estimate", ours.pooled.estimate),
            ("se", ours.pooled.se),
            ("ci_low", ours.pooled.ci_low),
            ("ci_high", ours.pooled.ci_high),
            ("tau2", ours.heterogeneity.tau2),
        ):
            assert value == pytest.approx(want[name], rel=1e-6, abs=1e-9), (outcome, name)


def test_counting_the_control_twice_differs_from_the_split(
    metafor: dict[str, dict[str, float]],
) -> None:
    """The double count is what the split corrects: pooled with ``twice`` the SMD's SE is
    smaller than metafor's on the split data (the control arm's 21 participants counted as 42)."""
    columns, rows = comparison_rows(_arm_rows(), {"meld": {}, "death": {}}, shared_control="twice")
    table = read_outcomes("twice.csv", text=comparison_csv(columns, rows))
    analyses = analyse_outcomes_table(table, settings=Settings(model="random", tau2_method="REML"))
    meld = next(a for a in analyses if a.outcome == "meld").analysis.main
    assert meld.pooled.se < metafor["smd"]["se"]
