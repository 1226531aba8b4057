"""Per-arm values (as extraction gives them) to the comparisons ``analyze run`` pools.

Known answers: a 3-arm trial (Suk 2016: two MSC arms, one control arm) is two comparisons labelled
as the seed review labels them ("Suk 2016 (one injection)", "Suk 2016 (two injections)") that share
the control arm's values; refusals name study, outcome, time point and arm.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from reviewtool.analysis.arm_table import (
    SharedControlSplit,
    comparison_csv,
    comparison_labels,
    comparison_rows,
    split_count,
)
from reviewtool.errors import InvalidInput

SAMPLE_CSV = Path(__file__).resolve().parents[1] / "sample_project" / "outcomes.csv"
OUTCOMES = {"meld": {"title": "MELD score", "unit": "points", "better": "lower"}}


def _arm(study: str, arm: str, mean: float | None, sd: float, n: int) -> dict[str, Any]:
    return {
        "study": study,
        "arm": arm,
        "outcome": "meld",
        "kind": "continuous",
        "time_point": "baseline",
        "mean": mean,
        "sd": sd,
        "n": n,
        "events": None,
        "total": None,
    }


def test_labels_of_a_three_arm_trial_are_the_seeds() -> None:
    assert comparison_labels(
        "Suk 2016", ["MSC one injection", "control", "MSC two injections"]
    ) == {
        "MSC one injection": "Suk 2016 (one injection)",
        "MSC two injections": "Suk 2016 (two injections)",
    }
    assert comparison_labels("Xu 2019", ["MSC", "Control"]) == {"MSC": "Xu 2019"}
    # nothing in common: the whole arm names
    assert comparison_labels("X 2020", ["low dose", "high dose", "control"]) == {
        "low dose": "X 2020 (low dose)",
        "high dose": "X 2020 (high dose)",
    }


def test_a_three_arm_trial_is_two_comparisons_sharing_the_control_arm() -> None:
    rows = [
        _arm("Suk 2016", "MSC one injection", 14.5, 4.3, 18),
        _arm("Suk 2016", "control", 14.5, 3.8, 18),
        _arm("Suk 2016", "MSC two injections", 12.1, 4.3, 19),
        _arm("Xu 2019", "MSC", 24.7, 5.4, 30),
        _arm("Xu 2019", "control", 21.9, 5.4, 30),
    ]
    columns, table = comparison_rows(
        rows,
        OUTCOMES,
        {"Suk 2016": {"liver_disease": "Decompensated cirrhosis"}, "Xu 2019": {"liver_disease": "ACLF"}},
        {("Suk 2016", "MSC one injection"): {"times_of_treatment": "1"},
         ("Suk 2016", "MSC two injections"): {"times_of_treatment": "2"},
         ("Xu 2019", "MSC"): {"times_of_treatment": "4"}},
    )  # fmt: skip
    assert columns[:3] == ("study", "liver_disease", "times_of_treatment")
    got = [(r["study"], r["mean_exp"], r["n_exp"], r["mean_con"], r["sd_con"], r["n_con"],
            r["times_of_treatment"], r["better"]) for r in table]  # fmt: skip
    # The shared control arm's 18 participants are split 9 / 9 (Handbook 23.3.4); mean and SD kept.
    assert got == [
        ("Suk 2016 (one injection)", "14.5", "18", "14.5", "3.8", "9", "1", "lower"),
        ("Suk 2016 (two injections)", "12.1", "19", "14.5", "3.8", "9", "2", "lower"),
        ("Xu 2019", "24.7", "30", "21.9", "5.4", "30", "4", "lower"),
    ]
    text = comparison_csv(columns, table)
    assert list(csv.DictReader(io.StringIO(text)))[1]["arm_exp"] == "MSC two injections"
    # --shared-control twice: both comparisons take the whole control arm (the seed's way).
    _, twice = comparison_rows(rows, OUTCOMES, shared_control="twice")
    assert [r["n_con"] for r in twice] == ["18", "18", "30"]


def _events(study: str, arm: str, events: int, total: int) -> dict[str, Any]:
    return {"study": study, "arm": arm, "outcome": "survival", "kind": "dichotomous",
            "time_point": "24 weeks", "mean": None, "sd": None, "n": None,
            "events": events, "total": total}  # fmt: skip


def test_a_shared_control_arm_is_split_between_the_comparisons_and_reported() -> None:
    """Cochrane Handbook 23.3.4: events and total of a dichotomous control arm are divided, in
    whole parts as equal as possible (the first comparisons take the remainder)."""
    rows = [
        _events("Lin 2017", "low dose", 8, 20),
        _events("Lin 2017", "mid dose", 9, 21),
        _events("Lin 2017", "high dose", 10, 19),
        _events("Lin 2017", "control", 7, 31),
    ]
    splits: list[SharedControlSplit] = []
    _, table = comparison_rows(rows, {"survival": {}}, splits=splits)
    got = [(r["study"], r["events_con"], r["total_con"]) for r in table]
    assert got == [
        ("Lin 2017 (low dose)", "3", "11"),
        ("Lin 2017 (mid dose)", "2", "10"),
        ("Lin 2017 (high dose)", "2", "10"),
    ]
    (split,) = splits
    assert (split.n, split.events) == (31, 7)
    assert split.line() == (
        "Lin 2017: shared control arm events/total 7/31 split 3/11 (Lin 2017 (low dose)) + 2/10 "
        "(Lin 2017 (mid dose)) + 2/10 (Lin 2017 (high dose)) (Cochrane Handbook v6.5 section "
        "23.3.4)"
    )
    assert split_count(21, 2) == [11, 10]
    with pytest.raises(InvalidInput, match=r"control arm's total \(1\) cannot be split between 3"):
        comparison_rows([*rows[:3], _events("Lin 2017", "control", 0, 1)], {"survival": {}})


def test_a_study_without_a_control_arm_is_refused_by_name() -> None:
    rows = [_arm("Lin 2017", "MSC", 1.0, 1.0, 5), _arm("Lin 2017", "placebo", 1.0, 1.0, 5)]
    with pytest.raises(InvalidInput) as caught:
        comparison_rows(rows, OUTCOMES)
    assert str(caught.value) == (
        "extraction: study 'Lin 2017', outcome 'meld' at 'baseline': no control arm (the arm "
        "named 'control') among MSC, placebo"
    )


def test_a_missing_statistic_is_refused_naming_the_arm() -> None:
    rows = [_arm("Lin 2017", "MSC", None, 1.0, 5), _arm("Lin 2017", "control", 1.0, 1.0, 5)]
    with pytest.raises(InvalidInput) as caught:
        comparison_rows(rows, OUTCOMES)
    assert str(caught.value) == (
        "extraction: study 'Lin 2017', outcome 'meld' at 'baseline': arm 'MSC' has no consensus mean"
    )


def test_a_control_arm_alone_is_refused() -> None:
    with pytest.raises(InvalidInput, match="the control arm has values but no other arm has"):
        comparison_rows([_arm("Lin 2017", "control", 1.0, 1.0, 5)], OUTCOMES)


def test_no_values_at_all_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no consensus outcome values to analyse"):
        comparison_rows([], OUTCOMES)


def _cli(db: Path, *args: str) -> Any:
    from typer.testing import CliRunner

    from reviewtool.cli import app

    return CliRunner().invoke(app, ["--db", str(db), *args], terminal_width=200)


def test_analyze_run_sources_on_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    assert _cli(db, "init", "--title", "T", "--as", "alice").exit_code == 0
    no_form = _cli(db, "analyze", "run", "--name", "x", "--as", "alice")
    assert no_form.exit_code != 0
    assert no_form.output.strip().endswith(
        "no extraction form yet; an owner adds one with `reviewtool extract form add FORM.toml`"
    )
    both = _cli(
        db, "analyze", "run", str(SAMPLE_CSV), "--from-extraction", "-n", "x", "--as", "alice"
    )
    assert both.exit_code != 0 and "choose one of --from-extraction and --from-csv" in both.output
    first = _cli(db, "analyze", "run", "--from-csv", str(SAMPLE_CSV), "-n", "x", "--as", "alice")
    assert first.exit_code == 0, first.output
    assert "Input unchanged" not in first.output
    again = _cli(db, "analyze", "run", str(SAMPLE_CSV), "-n", "y", "--as", "alice")
    assert again.exit_code == 0 and "Input unchanged since run 1." in again.output
    assert "Traceback" not in no_form.output + both.output


def test_a_comparison_is_matched_to_its_study_by_the_label_before_the_bracket() -> None:
    from reviewtool.analysis.arm_table import study_of_comparison

    studies = ["Suk 2016", "Xu 2019"]
    assert study_of_comparison("Suk 2016 (one injection)", studies) == "Suk 2016"
    assert study_of_comparison("Xu 2019", studies) == "Xu 2019"
    assert study_of_comparison("Xu 2014", studies) is None


def test_with_risk_of_bias_leaves_out_and_labels() -> None:
    from reviewtool.analysis.arm_table import with_risk_of_bias

    columns = ("study", "outcome")
    rows = [{"study": s, "outcome": "meld"}
            for s in ("Suk 2016 (one injection)", "Suk 2016 (two injections)", "Peng 2011", "New 2020")]  # fmt: skip
    overall = {"Suk 2016": "Low", "Peng 2011": "High"}
    cols, kept, dropped, unrated = with_risk_of_bias(
        columns, rows, overall, exclude="high", add_column=True
    )
    assert cols == ("study", "rob_overall", "outcome")
    assert [(r["study"], r["rob_overall"]) for r in kept] == [
        ("Suk 2016 (one injection)", "Low"),
        ("Suk 2016 (two injections)", "Low"),
        ("New 2020", "not assessed"),
    ]
    assert dropped == ["Peng 2011"] and unrated == ["New 2020"]
    with pytest.raises(InvalidInput, match="every comparison is left out"):
        with_risk_of_bias(columns, rows[2:3], overall, exclude="High")
