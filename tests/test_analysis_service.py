"""``analysis.service``: runs stored with their input hash and audit event; exports; bad input."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from reviewtool import audit
from reviewtool.analysis.meta import Settings
from reviewtool.analysis.service import export_run, list_runs, read_outcomes, run_analysis
from reviewtool.analysis.study_table import analyse_file
from reviewtool.errors import InvalidInput, NotFound, ParseError, PermissionDenied
from reviewtool.storage.models import AnalysisRun, AuditEvent

HEADER = (
    "study,disease,outcome,time_point,mean_exp,sd_exp,n_exp,mean_con,sd_con,n_con,"
    "events_exp,total_exp,events_con,total_con"
)
# Two outcomes: MELD (baseline differs on purpose: study means far apart) and survival.
ROWS = [
    "A 2010,ACLF,MELD,baseline,20.0,4.0,40,23.0,4.0,40,,,,",
    "B 2012,ACLF,MELD,baseline,21.0,5.0,30,24.5,5.0,32,,,,",
    "C 2015,Cirrhosis,MELD,baseline,13.0,3.0,25,15.0,3.0,25,,,,",
    "A 2010,ACLF,MELD,4 weeks,17.0,4.0,38,19.0,4.5,36,,,,",
    "B 2012,ACLF,MELD,4 weeks,18.0,5.0,28,19.0,5.0,30,,,,",
    "C 2015,Cirrhosis,MELD,4 weeks,12.5,3.0,25,13.0,3.0,24,,,,",
    "A 2010,ACLF,survival,12 weeks,,,,,,,30,40,25,40",
    "B 2012,ACLF,survival,12 weeks,,,,,,,22,30,20,32",
    "C 2015,Cirrhosis,survival,12 weeks,,,,,,,25,25,24,25",
]


def _write(tmp_path: Path, rows: list[str], *, name: str = "outcomes.csv") -> Path:
    path = tmp_path / name
    path.write_text("# illustrative\n" + HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _run(review: Any, path: Path, *, actor: str = "bob", **kw: Any) -> Any:
    with review.transaction() as session:
        return run_analysis(session, actor=actor, data_path=path, name="main", **kw)


def _count_runs(review: Any) -> int:
    with review.reading() as session:
        return len(session.exec(select(AnalysisRun)).all())


def test_run_is_stored_with_input_hash_and_audit_event(fresh_review: Any, tmp_path: Path) -> None:
    path = _write(tmp_path, ROWS)
    run = _run(fresh_review, path, by=["disease"], loo=True, bias=True)
    assert run.input_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert run.run_by == "bob" and run.name == "main"
    assert run.settings["model"] == "auto" and run.settings["tau2_method"] == "REML"
    assert run.settings["by"] == ["disease"]
    with fresh_review.reading() as session:
        stored = session.get(AnalysisRun, run.id)
        assert stored is not None and stored.input_sha256 == run.input_sha256
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "analysis-run")).one()
        assert event.actor == "bob" and event.entity_id == str(run.id)
        payload = json.loads(event.payload)
        assert payload["after"]["input_sha256"] == run.input_sha256
        assert (
            payload["after"]["results_sha256"]
            == hashlib.sha256(stored.results.encode("utf-8")).hexdigest()
        )
        assert audit.verify(session).ok
        assert [r.id for r in list_runs(session)] == [run.id]


def test_review_settings_choose_the_model(fresh_review: Any, tmp_path: Path) -> None:
    from reviewtool.review.service import set_setting

    with fresh_review.transaction() as session:
        set_setting(session, actor="alice", key="analysis.model", value="random")
        set_setting(session, actor="alice", key="analysis.tau2", value="DL")
    run = _run(fresh_review, _write(tmp_path, ROWS))
    assert {a["model"] for a in run.results["analyses"]} == {"random"}
    assert {a["tau2_method"] for a in run.results["analyses"]} == {"DL"}


def _per_study_csv(tmp_path: Path, outcome: str, time_point: str) -> Path:
    lines = [r.split(",") for r in ROWS]
    cols = HEADER.split(",")
    keep = [dict(zip(cols, r, strict=True)) for r in lines]
    keep = [r for r in keep if r["outcome"] == outcome and r["time_point"] == time_point]
    binary = outcome == "survival"
    data = (
        ["events_exp", "total_exp", "events_con", "total_con"]
        if binary
        else ["mean_exp", "sd_exp", "n_exp", "mean_con", "sd_con", "n_con"]
    )
    path = tmp_path / f"{outcome}_{time_point}.csv".replace(" ", "_")
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, ["study", "disease", *data], extrasaction="ignore")
        w.writeheader()
        w.writerows(keep)
    return path


@pytest.mark.parametrize(
    ("outcome", "time_point", "measure"),
    [("MELD", "baseline", "SMD"), ("MELD", "4 weeks", "SMD"), ("survival", "12 weeks", "OR")],
)
def test_results_equal_analyse_file_on_the_same_rows(
    fresh_review: Any, tmp_path: Path, outcome: str, time_point: str, measure: str
) -> None:
    run = _run(fresh_review, _write(tmp_path, ROWS), by=["disease"], loo=True, bias=True)
    got = next(
        a
        for a in run.results["analyses"]
        if a["outcome"] == outcome and a["time_point"] == time_point
    )
    expected = analyse_file(
        _per_study_csv(tmp_path, outcome, time_point),
        measure=measure,
        settings=Settings(model="auto", tau2_method="REML"),
        by="disease",
        loo=True,
        bias=True,
    ).to_dict()
    for key in ("pooled", "heterogeneity", "studies", "model", "model_reason", "leave_one_out"):
        assert (
            got[key] == pytest.approx(expected[key])
            if key == "pooled"
            else got[key] == expected[key]
        )
    assert got["egger"] == expected["egger"] and got["begg"] == expected["begg"]
    assert got["subgroups"] == [expected["subgroups"]]


def test_baseline_differs_flags_the_later_time_points(fresh_review: Any, tmp_path: Path) -> None:
    run = _run(fresh_review, _write(tmp_path, ROWS))
    flags = {(a["outcome"], a["time_point"]): a["flag"] for a in run.results["analyses"]}
    assert flags == {
        ("MELD", "baseline"): "baseline differs",
        ("MELD", "4 weeks"): "baseline differs",
        ("survival", "12 weeks"): "",
    }
    # Time points come in time order, baseline first, whatever the order of the rows.
    shuffled = _write(tmp_path, ROWS[3:6] + ROWS[:3] + ROWS[6:], name="shuffled.csv")
    again = _run(fresh_review, shuffled)
    assert [(a["outcome"], a["time_point"]) for a in again.results["analyses"]] == list(flags)


def test_export_writes_tables_and_plots(fresh_review: Any, tmp_path: Path) -> None:
    out = tmp_path / "analysis"
    run = _run(fresh_review, _write(tmp_path, ROWS), by=["disease"], loo=True, bias=True)
    with fresh_review.reading() as session:
        first = export_run(session, run.id, out, ["csv", "md"])
    assert str(out / "plots" / "forest_MELD_baseline.svg") in first.files
    for name in ("pooled.csv", "studies.csv", "subgroups.csv", "leave_one_out.csv"):
        assert (out / name).is_file(), name
    assert (out / "small_study_effects.csv").is_file()
    with (out / "pooled.csv").open(encoding="utf-8") as fh:
        pooled = list(csv.DictReader(fh))
    assert next((r["outcome"], r["time_point"], r["flag"]) for r in pooled) == (
        "MELD",
        "baseline",
        "baseline differs",
    )
    assert {
        "k",
        "model",
        "model_reason",
        "estimate",
        "ci_low",
        "ci_high",
        "p",
        "I2",
        "tau2",
        "Q",
        "p_Q",
        "flag",
    } <= set(pooled[0])
    assert pooled[2]["exp_estimate"]  # survival: odds ratio back-transformed
    md = (out / "analysis.md").read_text(encoding="utf-8")
    assert "# Analysis run" in md and run.input_sha256 in md and "| MELD | baseline |" in md
    for ext in ("png", "svg"):
        assert (out / "plots" / f"forest_MELD_4-weeks.{ext}").stat().st_size > 1000
        # One figure per outcome, its time points as sections.
        assert (out / "plots" / f"forest_MELD.{ext}").stat().st_size > 1000
        # Funnel plots only from analysis.funnel_min_k (10) studies: MELD at 4 weeks has fewer.
        assert not (out / "plots" / f"funnel_MELD_4-weeks.{ext}").exists()
    with fresh_review.reading() as session:
        low = export_run(session, run.id, tmp_path / "low", ["csv"], funnel_min_k=2)
    assert str(tmp_path / "low" / "plots" / "funnel_MELD_4-weeks.png") in low.files
    # A later export of the stored run writes the same tables.
    again = tmp_path / "again"
    with fresh_review.reading() as session:
        report = export_run(session, run.id, again, ["csv"], plots=False)
    assert (again / "pooled.csv").read_bytes() == (out / "pooled.csv").read_bytes()
    assert not (again / "plots").exists()
    assert str(again / "pooled.csv") in report.files


def test_export_of_an_unknown_run_is_refused(fresh_review: Any, tmp_path: Path) -> None:
    with fresh_review.reading() as session, pytest.raises(NotFound, match="no analysis run 7"):
        export_run(session, 7, tmp_path / "x")


def test_xlsx_export(fresh_review: Any, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    run = _run(fresh_review, _write(tmp_path, ROWS))
    with fresh_review.reading() as session:
        export_run(session, run.id, tmp_path / "x", ["xlsx"], plots=False)
    wb = openpyxl.load_workbook(tmp_path / "x" / "analysis.xlsx")
    assert "pooled" in wb.sheetnames
    assert wb["pooled"].cell(row=2, column=1).value == "MELD"


def test_xlsx_without_openpyxl_is_refused_before_anything_is_written(
    fresh_review: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewtool.analysis import service

    monkeypatch.setattr(service, "_has_openpyxl", lambda: False)
    run = _run(fresh_review, _write(tmp_path, ROWS))
    with fresh_review.reading() as session, pytest.raises(InvalidInput, match="openpyxl"):
        export_run(session, run.id, tmp_path / "x", ["csv", "xlsx"])
    assert not (tmp_path / "x").exists()
    # Without openpyxl the default formats leave XLSX out and say so.
    with fresh_review.reading() as session:
        report = export_run(session, run.id, tmp_path / "y", plots=False)
    assert not (tmp_path / "y" / "analysis.xlsx").exists()
    assert any("openpyxl" in n for n in report.notes)


def test_cli_refuses_a_bad_export_before_storing_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reviewtool.analysis import service
    from reviewtool.cli import app

    monkeypatch.setattr(service, "_has_openpyxl", lambda: False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--title", "T", "--as", "alice"]).exit_code == 0
    args = ["analyze", "run", str(_write(tmp_path, ROWS)), "--name", "m", "--as", "alice"]
    result = runner.invoke(app, [*args, "--out", "out", "-e", "xlsx"])
    assert result.exit_code == 2
    assert "openpyxl" in result.output
    listed = runner.invoke(app, ["analyze", "runs", "--format", "json", "--as", "alice"])
    assert json.loads(listed.output) == []


BAD = [
    # (rows, line, message fragment); line 1 is the comment, 2 the header, 3 the first row.
    ([*ROWS[:1], "B 2012,ACLF,MELD,baseline,21.0,-5.0,30,24.5,5.0,32,,,,"], 4, "'sd_exp'"),
    ([*ROWS[6:7], "B 2012,ACLF,survival,12 weeks,,,,,,,31,30,20,32"], 4, "'events_exp'"),
    (["A 2010,ACLF,MELD,baseline,20.0,4.0,40,23.0,,40,,,,"], 3, "'sd_con' is empty"),
    (["A 2010,ACLF,MELD,baseline,20.0,4.0,4x,23.0,4.0,40,,,,"], 3, "'n_exp'"),
    (["A 2010,ACLF,MELD,baseline,20.0,4.0,40.5,23.0,4.0,40,,,,"], 3, "whole number"),
    (["A 2010,ACLF,MELD,baseline,20.0,4.0,40,23.0,4.0,40,1,2,1,2"], 3, "both"),
    (["A 2010,ACLF,MELD,baseline,,,,,,,,,,"], 3, "no arm-level data"),
    ([",ACLF,MELD,baseline,20.0,4.0,40,23.0,4.0,40,,,,"], 3, "'study' is empty"),
    (ROWS[:1] + ROWS[:1], 4, "already on line 3"),
    ([*ROWS[:1], "B 2012,ACLF,MELD,4 weeks,,,,,,,1,2,1,2"], 4, "binary data here"),
    (["A 2010,ACLF,MELD,baseline,20.0,4.0,40,23.0,4.0"], 3, "fields where the header has"),
]


@pytest.mark.parametrize(("rows", "line", "fragment"), BAD)
def test_bad_rows_are_refused_with_file_line_and_column(
    fresh_review: Any, tmp_path: Path, rows: list[str], line: int, fragment: str
) -> None:
    path = _write(tmp_path, rows)
    with pytest.raises(ParseError) as info:
        _run(fresh_review, path)
    assert str(info.value).startswith(f"{path}:{line}: "), str(info.value)
    assert fragment in str(info.value)
    assert _count_runs(fresh_review) == 0


def test_missing_columns_are_refused(fresh_review: Any, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("study,outcome,time_point,mean_exp,sd_exp,n_exp\nA,MELD,baseline,1,1,1\n")
    with pytest.raises(ParseError, match=r"x\.csv:1: no column 'mean_con'"):
        _run(fresh_review, path)
    path.write_text("study,outcome,mean_exp\n")
    with pytest.raises(ParseError, match=r"x\.csv:1: no column 'time_point'"):
        _run(fresh_review, path)
    with pytest.raises(ParseError, match=r"outcomes\.csv:2: no column 'route' to group by"):
        _run(fresh_review, _write(tmp_path, ROWS), by=["route"])
    assert _count_runs(fresh_review) == 0


def test_subgroup_values_must_agree_within_a_study(tmp_path: Path) -> None:
    rows = [*ROWS[:3], "A 2010,Cirrhosis,MELD,4 weeks,17.0,4.0,38,19.0,4.5,36,,,,"]
    with pytest.raises(ParseError, match=r":6: column 'disease': study 'A 2010' is 'Cirrhosis'"):
        read_outcomes(_write(tmp_path, rows), by=["disease"])
    read_outcomes(_write(tmp_path, rows))  # fine when not grouping by it


def test_adjudicator_may_not_run_an_analysis(fresh_review: Any, tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied, match="carol"):
        _run(fresh_review, _write(tmp_path, ROWS), actor="carol")
    assert _count_runs(fresh_review) == 0
    with fresh_review.reading() as session:
        refused = session.exec(select(AuditEvent).where(AuditEvent.action == "access-refused"))
        assert len(refused.all()) == 1
        assert audit.verify(session).ok


def test_cli_run_runs_and_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewtool.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--title", "T", "--as", "alice"]).exit_code == 0
    path = _write(tmp_path, ROWS)
    result = runner.invoke(
        app,
        [
            "analyze",
            "run",
            str(path),
            "--name",
            "main",
            "--by",
            "disease",
            "--loo",
            "--bias",
            "--out",
            "out",
            "-e",
            "csv",
            "--no-plots",
            "--as",
            "alice",
        ],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    assert "baseline differs" in result.output and "Stored as run 1" in result.output
    assert (tmp_path / "out" / "pooled.csv").is_file()
    listed = runner.invoke(app, ["analyze", "runs", "--format", "json", "--as", "alice"])
    assert listed.exit_code == 0
    assert json.loads(listed.output)[0]["name"] == "main"
    exported = runner.invoke(
        app, ["analyze", "export", "1", "--out", "x", "-e", "md", "--no-plots", "--as", "alice"]
    )
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "x" / "analysis.md").is_file()
    missing = runner.invoke(app, ["analyze", "export", "9", "--out", "y", "--as", "alice"])
    assert missing.exit_code == 3


def test_subgroup_forest_plots_on_request(fresh_review: Any, tmp_path: Path) -> None:
    out = tmp_path / "sg"
    run = _run(fresh_review, _write(tmp_path, ROWS), by=["disease"])
    with fresh_review.reading() as session:
        export_run(session, run.id, out, ["csv"], subgroup_plots=True)
    assert (out / "plots" / "forest_MELD_4-weeks_by_disease.png").stat().st_size > 1000
    assert (out / "plots" / "forest_survival_12-weeks_by_disease.svg").is_file()


def test_sample_sizes_print_as_integers_in_every_export(fresh_review: Any, tmp_path: Path) -> None:
    """Arm sizes are whole numbers: 40, never 40.0000 (csv, md, json, and xlsx when available),
    also for a run stored by an older version that held them as floats."""
    run = _run(fresh_review, _write(tmp_path, ROWS))
    first_study = run.results["analyses"][0]["studies"][0]
    assert (first_study["study"], first_study["n_exp"], first_study["n_con"]) == ("A 2010", 40, 40)
    assert isinstance(first_study["n_exp"], int)
    with fresh_review.transaction() as session:  # an older run: counts stored as 40.0
        row = session.get(AnalysisRun, run.id)
        results = json.loads(row.results)
        for analysis in results["analyses"]:
            for study in analysis["studies"]:
                study["n_exp"], study["n_con"] = float(study["n_exp"]), float(study["n_con"])
        row.results = json.dumps(results)
        session.add(row)
    formats = ["csv", "md", "xlsx"] if _openpyxl() else ["csv", "md"]
    with fresh_review.reading() as session:
        export_run(session, run.id, tmp_path / "x", formats, plots=False)
    with (tmp_path / "x" / "studies.csv").open(encoding="utf-8") as fh:
        studies = list(csv.DictReader(fh))
    assert [(r["study"], r["n_exp"], r["n_con"]) for r in studies[:3]] == [
        ("A 2010", "40", "40"),
        ("B 2012", "30", "32"),
        ("C 2015", "25", "25"),
    ]
    assert studies[0]["yi"] != "" and "." in studies[0]["yi"]  # effects keep their decimals
    md = (tmp_path / "x" / "analysis.md").read_text(encoding="utf-8")
    assert "| 30 | 32 |" in md and "40.0000" not in md
    if _openpyxl():
        import openpyxl

        sheet = openpyxl.load_workbook(tmp_path / "x" / "analysis.xlsx")["studies"]
        header = [c.value for c in sheet[1]]
        assert sheet.cell(row=2, column=header.index("n_exp") + 1).value == 40
        assert isinstance(sheet.cell(row=2, column=header.index("n_exp") + 1).value, int)


def _openpyxl() -> bool:
    import importlib.util

    return importlib.util.find_spec("openpyxl") is not None
