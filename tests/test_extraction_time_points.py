"""Every time point a form declares can be pooled (issue 11): "end of treatment" and
"end of follow-up" are not times, so an outcomes CSV cannot use them (it could not order them),
but an analysis fed from extraction knows the form's order and puts them after every time.

Known answer: the same arm values entered at "4 weeks" and at "end of treatment" pool to the same
result; the analyses come out as 4 weeks, 12 weeks, end of treatment, end of follow-up: times in
time order whatever order the form and the values are in, then the named time points in the
form's order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reviewtool.cli import app
from reviewtool.extraction import service as x
from reviewtool.review.service import open_existing
from tests.extraction_builder import FORM, build_review

runner = CliRunner()
DECLARED = '["end of treatment", "12 weeks", "end of follow-up", "4 weeks"]'
ARMS = {  # study: (MSC mean, sd, n, control mean, sd, n)
    "Suk 2016": (12.1, 3.9, 20, 14.2, 4.0, 21),
    "Shi 2021": (11.0, 3.1, 30, 12.9, 3.5, 28),
    "Xu 2019": (15.2, 5.0, 15, 15.9, 4.6, 16),
}
TIMES = {"end of follow-up": 0.5, "end of treatment": 0.0, "4 weeks": 0.0, "12 weeks": 1.0}


def _values_csv(path: Path) -> Path:
    lines = ["study,arm,outcome,time_point,field,value"]
    for time, shift in TIMES.items():  # not in time order on purpose
        for study, (m1, s1, n1, m2, s2, n2) in ARMS.items():
            for arm, (mean, sd, n) in (("MSC", (m1, s1, n1)), ("control", (m2, s2, n2))):
                for field, value in (("mean", mean + shift), ("sd", sd), ("n", n)):
                    lines.append(f"{study},{arm},meld,{time},{field},{value}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = build_review(tmp_path / "review.db")
    form = FORM.replace(
        'time_points = ["4 weeks", "12 weeks", "24 weeks"]', f"time_points = {DECLARED}"
    )
    assert form != FORM
    review = open_existing(url)
    with review.transaction() as s:
        x.add_form(s, actor="olga", text=form, file_name="form.toml")
    review.close()
    values = _values_csv(tmp_path / "values.csv")
    for who in ("alice", "bob"):  # identical values: consensus by agreement
        done = runner.invoke(app, ["extract", "import", str(values), "--db", url, "--as", who])
        assert done.exit_code == 0, done.output
    return url


def _run(db: str, *args: str) -> Any:
    from reviewtool.analysis.service import list_runs

    done = runner.invoke(app, ["analyze", "run", "--name", "t", *args, "--db", db, "--as", "olga"])
    assert done.exit_code == 0, done.output
    review = open_existing(db)
    try:
        with review.reading() as s:
            return list_runs(s)[-1]
    finally:
        review.close()


def test_named_time_points_of_the_form_are_pooled_after_every_time(db: str) -> None:
    run = _run(db)
    analyses = run.results["analyses"]
    assert [a["time_point"] for a in analyses] == [
        "4 weeks",
        "12 weeks",
        "end of treatment",
        "end of follow-up",
    ]
    by_time = {a["time_point"]: a for a in analyses}
    for key in ("estimate", "ci_low", "ci_high"):
        assert by_time["end of treatment"]["pooled"][key] == pytest.approx(
            by_time["4 weeks"]["pooled"][key], rel=1e-12
        )
    assert by_time["end of follow-up"]["k"] == 3
    assert run.settings["input"]["named_time_points"] == ["end of treatment", "end of follow-up"]


def test_an_outcomes_csv_still_refuses_a_time_point_that_is_not_a_time(
    db: str, tmp_path: Path
) -> None:
    data = tmp_path / "outcomes.csv"
    data.write_text(
        "study,outcome,time_point,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con\n"
        "A,meld,end of treatment,1,1,10,2,1,10\n",
        encoding="utf-8",
    )
    done = runner.invoke(
        app, ["analyze", "run", str(data), "--name", "c", "--db", db, "--as", "olga"]
    )
    assert done.exit_code != 0
    assert "'end of treatment' is not a time point" in done.output


def test_shared_control_applies_to_the_extraction_only(db: str, tmp_path: Path) -> None:
    data = tmp_path / "outcomes.csv"
    data.write_text(
        "study,outcome,time_point,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con\n"
        "A,meld,4 weeks,1,1,10,2,1,10\n",
        encoding="utf-8",
    )
    done = runner.invoke(
        app,
        ["analyze", "run", str(data), "--shared-control", "twice", "-n", "c", "--db", db],
        env={"REVIEWTOOL_USER": "olga"},
    )
    assert done.exit_code != 0
    assert "--shared-control applies to --from-extraction" in done.output
    bad = runner.invoke(
        app,
        ["analyze", "run", "--shared-control", "thrice", "--name", "c", "--db", db, "--as", "olga"],
    )
    assert bad.exit_code != 0
    assert "shared control 'thrice': choose split, twice" in bad.output
